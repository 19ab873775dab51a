/**
 * Redaction of known secrets from any text that may leave the process (errors, logs, audit).
 *
 * Secrets are registered when they are decrypted or read from config; every error message and
 * log line passes through `redact`. Besides exact values we also mask the encodings a secret
 * takes on its way to git (base64 of `user:secret` in an Authorization header) and credentials
 * embedded in URLs.
 */
const MASK = '***';
const registered = new Set<string>();
let generation = 0;

/** Minimum length worth masking: shorter values would mangle ordinary text. */
const MIN_SECRET_LENGTH = 6;

export function registerSecret(secret: string | null | undefined): void {
  if (!secret || secret.length < MIN_SECRET_LENGTH) return;
  if (registered.has(secret)) return;
  registered.add(secret);
  generation += 1;
}

/** Changes whenever what `redact` does changes (a secret registered or the set cleared): lets a caller keep redacted text. */
export function redactionGeneration(): number {
  return generation;
}

/** Base64 forms under which a secret reaches git's `http.extraHeader` (Basic auth). */
export function registerBasicAuthSecret(username: string, secret: string): void {
  registerSecret(secret);
  registerSecret(Buffer.from(`${username}:${secret}`).toString('base64'));
}

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(?::([^/@\s]*))?@/gi;
// The value, unless it is a placeholder such as `<token>` (as in "send Authorization: Bearer <token>").
const AUTH_HEADER = /(authorization:\s*(?:basic|bearer|token)\s+)(?!<[^>\s]*>)[^\s"']+/gi;

const AUTH_MARKER = /authorization/i;

export function redact(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  // Both patterns need their marker ('://…@', 'authorization:'); most log strings have neither.
  if (out.includes('@')) out = out.replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${MASK}@`);
  if (AUTH_MARKER.test(out)) out = out.replace(AUTH_HEADER, (_m, prefix: string) => `${prefix}${MASK}`);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!value || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Redacts every string inside a JSON-like value (audit details, log objects). Only plain
 * objects and arrays are walked (never class instances such as requests or sockets), to a
 * bounded depth, so it is safe on anything a logger is handed. Copy on write: a value with
 * nothing to redact is returned as it is (the same object), a changed one is a new object
 * (the input is never modified).
 */
export function redactDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redact(value) as T;
  if (depth > 20) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = redactDeep(v, depth + 1);
      if (c !== v) (out ??= [...value])[i] = c;
    }
    return (out ?? value) as T;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | null = null;
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      const v = value[k];
      const c = redactDeep(v, depth + 1);
      if (c !== v) (out ??= { ...value })[k] = c;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** For tests only: forget registered secrets. */
export function clearRegisteredSecrets(): void {
  registered.clear();
  generation += 1;
}
