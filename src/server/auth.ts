import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, SynclineError, UnauthorizedError } from '../errors.js';
import { isUnscoped, roleAtLeast, scopeAllows } from '../security/roles.js';
import { type Role } from '../contracts/common.js';
import { hashToken, sameHash } from '../security/tokens.js';
import { findSessionTokenHash } from '../store/sessions.js';
import { findTokenByHash, touchToken, type AuthenticatedToken } from '../store/tokens.js';
import { KeyedCache } from '../cache/keyed-cache.js';

export interface Principal extends AuthenticatedToken {}

export const ROOT_PRINCIPAL: Principal = { id: 'root', name: 'admin', role: 'admin', namespaces: [] };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** onRequest hook: 401 without a known token, 403 below `role` or outside the namespace scope. */
    requireRole(role: Role, opts?: RequireRoleOptions): onRequestHookHandler;
    /** Looks up a token value (bearer or mirror Basic password). */
    principalFor(token: string): Promise<Principal | null>;
    /** Looks up a token by its SHA-256 (what a web session keeps). */
    principalForHash(tokenHash: string): Promise<Principal | null>;
  }
}

/** The web UI's session cookie (HttpOnly, SameSite=Strict; see routes/session.ts). */
export const SESSION_COOKIE = 'syncline_session';
/** Header a cookie-authenticated write must carry; other origins cannot send it (no CORS). */
export const CSRF_HEADER = 'x-syncline-request';

/** A cookie-authenticated write without the CSRF header. */
export class CsrfError extends SynclineError {
  constructor() {
    super('csrf', `Requests authenticated by the session cookie must send the header 'X-Syncline-Request: 1' to change anything`, {
      header: 'X-Syncline-Request',
    });
  }
}

/** Reads one cookie from the Cookie header (no cookie library needed for one value). */
export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** Longest a cached token lookup is trusted without asking the database again. */
export const TOKEN_CACHE_MS = 1000;
/** A cached lookup at least this old is reloaded in the background (still answered from the cache). */
export const TOKEN_REFRESH_MS = 500;

/** Known tokens whose SHA-256 is remembered (see `hashes` in authPlugin). */
const HASH_MEMO_MAX = 10_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequireRoleOptions {
  /** Route param holding the namespace the request acts on; checked against the token's scope. */
  namespaceParam?: string;
  /**
   * The action reaches beyond any one namespace (tokens, sources, kinds, audit, mirrors), so a
   * token scoped to namespace patterns is refused: otherwise a `shop.*` admin could mint an
   * unscoped token, or change a kind or a source that other namespaces depend on.
   */
  unscoped?: boolean;
}

/** Throws 403 unless the principal may act on `namespace` (or, with `unscoped`, on everything) with `role`. */
export function authorize(principal: Principal, role: Role, namespace?: string, opts: { unscoped?: boolean } = {}): void {
  if (!roleAtLeast(principal.role, role)) {
    throw new ForbiddenError(`Token '${principal.name}' has role '${principal.role}'; this needs '${role}'`, {
      required_role: role,
    });
  }
  if (opts.unscoped && !isUnscoped(principal.namespaces)) {
    throw new ForbiddenError(
      `Token '${principal.name}' is limited to namespaces ${principal.namespaces.join(', ')}; this needs a token that is not`,
      { namespaces: principal.namespaces },
    );
  }
  if (namespace !== undefined && !scopeAllows(principal.namespaces, namespace)) {
    throw new ForbiddenError(`Token '${principal.name}' is not scoped to namespace '${namespace}'`, { namespace });
  }
}

/** Whether a principal may see a namespace at all (used to filter lists). */
export function canSee(principal: Principal, namespace: string): boolean {
  return scopeAllows(principal.namespaces, namespace);
}

/** `Bearer <token>`: what `/^Bearer\s+(\S+)\s*$/i` takes, without a regular expression in the common case. */
export function bearer(req: { headers: { authorization?: string | undefined } }): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  // Fast path: exactly `Bearer ` and a token of token characters (base64url, as generated, or
  // any other printable ASCII but space): the same answer as the expression, which is the fallback.
  if (h.length > 7 && h.charCodeAt(6) === 32 && h.startsWith('Bearer')) {
    let plain = true;
    for (let i = 7; i < h.length; i++) {
      const c = h.charCodeAt(i);
      if (c <= 32 || c >= 127) {
        plain = false;
        break;
      }
    }
    if (plain) return h.slice(7);
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}

export interface AuthOptions {
  /** SYNCLINE_ADMIN_TOKEN: the root token, acting as 'admin'. */
  adminToken?: string | undefined;
  /** The CLI's in-process admin (local mode), acting under its own name. */
  localAdmin?: { token: string; name: string } | undefined;
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: AuthOptions) => {
    app.decorateRequest('principal', null);
    const fixed: { token: string; principal: Principal }[] = [];
    if (opts.adminToken) fixed.push({ token: opts.adminToken, principal: ROOT_PRINCIPAL });
    if (opts.localAdmin) {
      fixed.push({ token: opts.localAdmin.token, principal: { ...ROOT_PRINCIPAL, id: opts.localAdmin.name, name: opts.localAdmin.name } });
    }

    // Token lookups are cached (config reads authenticate every request). A revocation drops the
    // cache at once through the invalidation bus (other replicas: their NOTIFY wiring), and no
    // entry is older than TOKEN_CACHE_MS, so a replica that missed it refuses within that time.
    // Unknown tokens are never cached: a token created a moment ago works at once.
    const tokens = new KeyedCache<{ principal: Principal | null }>({ maxAgeMs: TOKEN_CACHE_MS, maxEntries: 10_000 });
    // Each known token's SHA-256, so a token in use is not hashed again on every request. A pure
    // function of the token, so it needs no invalidation for correctness: who the hash belongs to
    // is still looked up (and invalidated) above. Only tokens that were found are kept (unknown
    // ones are hashed every time, so guessing fills nothing); bounded, and emptied with the token
    // cache, so a revoked token's value does not stay in memory.
    const hashes = new Map<string, string>();
    const hashOf = (token: string): string => hashes.get(token) ?? hashToken(token);
    const rememberHash = (token: string, tokenHash: string): void => {
      if (hashes.size >= HASH_MEMO_MAX) hashes.clear();
      hashes.set(token, tokenHash);
    };
    const offBus = app.ctx.cache.subscribe('token', () => {
      tokens.clear();
      hashes.clear();
    });
    app.addHook('onClose', async () => offBus());
    // last_used_at is best-effort, at most once a minute per token (as touchToken itself).
    const lastTouched = new Map<string, number>();
    const touch = (principal: Principal | null, now: number): void => {
      if (!principal || now - (lastTouched.get(principal.id) ?? 0) < 60_000) return;
      if (lastTouched.size >= 10_000) lastTouched.clear();
      lastTouched.set(principal.id, now);
      void touchToken(app.ctx.db.db, principal.id).catch(() => undefined);
    };
    const loadEntry = async (tokenHash: string) => ({ principal: await findTokenByHash(app.ctx.db.db, tokenHash) });
    const stored = (e: { principal: Principal | null }) => e.principal !== null;
    const load = async (tokenHash: string): Promise<Principal | null> => {
      const entry = await tokens.getOrLoad('', tokenHash, () => loadEntry(tokenHash), stored);
      touch(entry.principal, Date.now());
      return entry.principal;
    };

    // The fixed tokens are compared by their SHA-256 (hex, equal lengths) in constant time.
    const fixedHashes = fixed.map((f) => ({ hash: hashToken(f.token), principal: f.principal }));
    const fixedFor = (tokenHash: string): Principal | undefined => {
      let match: Principal | undefined;
      // Every fixed token is compared (no early exit), so timing does not say which one matched.
      for (const f of fixedHashes) if (sameHash(tokenHash, f.hash)) match = f.principal;
      return match;
    };
    /** Without a query: the fixed token's or a cached principal, else undefined (ask the database). */
    const known = (tokenHash: string): Principal | undefined => {
      const fixedMatch = fixedFor(tokenHash);
      if (fixedMatch) return fixedMatch;
      // A cached lookup is reloaded in the background once it is TOKEN_REFRESH_MS old, so a token
      // in use never waits for the database (nor for a sync's transaction on SQLite).
      const now = Date.now();
      const entry = tokens.peek('', tokenHash, TOKEN_REFRESH_MS, () => loadEntry(tokenHash), stored, now);
      if (!entry) return undefined;
      touch(entry.principal, now);
      return entry.principal ?? undefined;
    };
    const byHash = async (tokenHash: string): Promise<Principal | null> => known(tokenHash) ?? load(tokenHash);
    app.decorate('principalFor', async (token: string): Promise<Principal | null> => {
      const tokenHash = hashOf(token);
      const principal = await byHash(tokenHash);
      if (principal) rememberHash(token, tokenHash);
      return principal;
    });
    app.decorate('principalForHash', byHash);

    /** A bearer request or a session cookie's principal (the slow path: a query may be needed). */
    const authenticate = async (req: FastifyRequest, token: string | null): Promise<Principal> => {
      if (token) {
        const principal = await app.principalFor(token);
        if (!principal) throw new UnauthorizedError('Unknown or revoked token');
        return principal;
      }
      const session = readCookie(req, SESSION_COOKIE);
      if (!session) throw new UnauthorizedError('Missing bearer token (Authorization: Bearer <token>)');
      const tokenHash = await findSessionTokenHash(app.ctx.db.db, session);
      const principal = tokenHash ? await app.principalForHash(tokenHash) : null;
      if (!principal) throw new UnauthorizedError('Session expired or its token was revoked; sign in again');
      if (!SAFE_METHODS.has(req.method) && req.headers[CSRF_HEADER] !== '1') throw new CsrfError();
      return principal;
    };

    app.decorate('requireRole', (role: Role, ropts: RequireRoleOptions = {}): onRequestHookHandler => {
      /** Sets the principal and checks the role and scope; the refusal, if any, is returned. */
      const admit = (req: FastifyRequest, principal: Principal): Error | undefined => {
        req.principal = principal;
        const ns = ropts.namespaceParam ? (req.params as Record<string, string>)[ropts.namespaceParam] : undefined;
        try {
          authorize(principal, role, ns, { unscoped: ropts.unscoped ?? false });
          return undefined;
        } catch (err) {
          return err as Error;
        }
      };
      // A callback hook, not an async one: a bearer token that is fixed or cached is admitted
      // synchronously (no promise, no query) — what config reads hit all day.
      return function requireRoleHook(req, _reply, done) {
        const token = bearer(req);
        let cached: Principal | null | undefined = null;
        if (token) {
          const remembered = hashes.get(token);
          const tokenHash = remembered ?? hashToken(token);
          cached = known(tokenHash);
          if (cached && remembered === undefined) rememberHash(token, tokenHash);
        }
        if (cached) {
          done(admit(req, cached));
          return;
        }
        authenticate(req, token).then(
          (principal) => done(admit(req, principal)),
          (err: Error) => done(err),
        );
      };
    });
  },
  { name: 'syncline-auth', dependencies: ['syncline-context'] },
);
