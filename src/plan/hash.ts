/**
 * Canonical JSON and content hashes.
 *
 * canonicalJson: object keys sorted by UTF-16 code unit, no whitespace, numbers and strings as
 * JSON.stringify writes them, `undefined` object members omitted. Anything that is not plain JSON
 * (functions, symbols, bigints, NaN / Infinity, class instances such as Date or Buffer,
 * `undefined` in an array) throws a TypeError — a hash must never paper over a bad value.
 */
import crypto from 'node:crypto';
import type { ResourceContent } from './types.js';

export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

/** Characters JSON.stringify writes escaped: `"`, `\`, controls, and surrogates (when lone). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string: the same text, without the call for strings with nothing to escape. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * `keys.sort()`, in place: the same order (object keys are distinct strings, compared by code
 * unit). A few keys are sorted by insertion here: Array.prototype.sort allocates its work arrays
 * for every call, and hashing 10,000 documents sorts ~50,000 small key lists.
 */
export function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > k) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = k;
  }
}

/** `"key":` per object key (a kind's documents repeat the same few keys), up to QUOTED_KEYS_MAX keys. */
const QUOTED_KEYS_MAX = 10_000;
const quotedKeys = new Map<string, string>();

function write(value: unknown, depth: number): string {
  if (depth > 1000) throw new TypeError('canonicalJson: value nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      // Built by concatenation (no array of parts per object or list): the same text.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (v === undefined) throw new TypeError('canonicalJson: undefined in an array');
          if (i > 0) out += ',';
          out += write(v, depth + 1);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${(value as object).constructor?.name ?? 'object'} is not plain JSON`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      sortKeys(keys);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        let key = quotedKeys.get(k);
        if (key === undefined) {
          key = `${JSON.stringify(k)}:`;
          if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(k, key);
        }
        out += key + write(v, depth + 1);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
}

/** sha256 (hex) of the canonical JSON of `{kind, name, spec, metadata}`; independent of key order. */
export function contentHash(resource: ResourceContent): string {
  const body = canonicalJson({
    kind: resource.kind,
    name: resource.name,
    spec: resource.spec,
    metadata: resource.metadata ?? {},
  });
  // One-shot hash: the same digest as createHash().update(body, 'utf8').digest('hex'), cheaper.
  return crypto.hash('sha256', body, 'hex');
}
