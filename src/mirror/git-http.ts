/**
 * Read-only git smart HTTP for mirrors: the two upload-pack endpoints, nothing else.
 *
 *   GET  /{slug}[.git]/info/refs?service=git-upload-pack   → `git upload-pack --advertise-refs`
 *   POST /{slug}[.git]/git-upload-pack                       → `git upload-pack --stateless-rpc`
 *
 * Registered by the server under the `/git` prefix. Every other method, path or service
 * (receive-pack above all) is a 404 decided before any git process starts.
 *
 * One git process per request, streamed both ways with backpressure: request body (gunzipped
 * when the client compressed it) → git stdin, git stdout → socket. Nothing is buffered, so
 * memory does not grow with the repository or the size of the request. Fastify's body parsing
 * is bypassed for this plugin (a pass-through content-type parser), so `bodyLimit` does not
 * apply and chunked bodies without Content-Length work.
 *
 * The process dies with the response: when the client goes away before the response finished,
 * git (and pack-objects under it, same process group) is killed. Note it is the RESPONSE's
 * 'close' that means "client gone": the request's fires as soon as its body has been read.
 */
import { createGunzip } from 'node:zlib';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { MIRROR_SLUG_RE } from '../contracts/common.js';
import type { ErrorCode } from '../contracts/errors.js';
import { isCompleteMirror, spawnGit, type GitConfigEntry, type GitExit } from '../git/index.js';
import { errorPayload } from '../errors.js';
import { redact } from '../security/redact.js';
import { ConcurrencyLimiter, LimiterRejectedError } from './limiter.js';
import { REACHABILITY_HOOK } from './reachability-hook.js';

export interface MirrorTarget {
  /** Absolute path of the bare mirror (`<mirrorsDir>/<source>.git`). */
  dir: string;
  access: 'token' | 'public';
  /** Source name, passed to `authorizeBasic`. */
  source: string;
}

export interface MirrorGitRoutesOptions {
  /** The registered mirror for a slug, or null (→ 404). Only called with well-formed slugs. */
  resolve(slug: string): Promise<MirrorTarget | null>;
  /** Whether `password` is a token allowed to read `source` (viewer or better). */
  authorizeBasic(password: string, source: string): Promise<boolean>;
  /** upload-pack processes at once. Default 2 × CPUs. */
  maxConcurrent?: number;
  /** Requests waiting for a slot beyond that; more get 503. Default 4 × maxConcurrent. */
  maxQueue?: number;
  /** Longest wait for a slot before 503. Default 30 s. */
  queueTimeoutMs?: number;
  /** `Retry-After` on 503. Default 5 s. */
  retryAfterSeconds?: number;
  /** Use this limiter instead of a private one (e.g. to share slots with other git work). */
  limiter?: ConcurrencyLimiter;
  /** Kill git when it produced no output for this long (a stalled client). Default 120 s. */
  idleTimeoutMs?: number;
  /** Kill git after this long whatever happens. Default 1 h. */
  totalTimeoutMs?: number;
  /** Largest request body accepted (after gunzip). Default 64 MiB. */
  maxRequestBytes?: number;
  /** Where to log; defaults to the request's logger. */
  logger?: FastifyBaseLogger;
}

/** Syntax a source slug may have (API.md, Mirrors). Anything else is a 404 without lookup. */
const PATH = /^([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack)$/;
/** `Git-Protocol` values passed to git (the same rule git http-backend applies). */
const GIT_PROTOCOL = /^[0-9a-zA-Z]+=[0-9a-zA-Z]+(:[0-9a-zA-Z]+=[0-9a-zA-Z]+)*$/;
const MAX_GIT_PROTOCOL_LENGTH = 256;

const REQUEST_TYPE = 'application/x-git-upload-pack-request';
const ADVERTISEMENT_TYPE = 'application/x-git-upload-pack-advertisement';
const RESULT_TYPE = 'application/x-git-upload-pack-result';
const NO_CACHE_HEADERS = {
  'Cache-Control': 'no-cache, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
} as const;
/** pkt-line `# service=git-upload-pack\n` followed by a flush-pkt. */
const SERVICE_PREFIX = Buffer.from('001e# service=git-upload-pack\n0000');

/**
 * Config for every upload-pack, passed through the environment like all our git config.
 * v0 refuses unadvertised wants unless reachable; the hook enforces reachability for v2 too.
 */
export const UPLOAD_PACK_CONFIG: readonly GitConfigEntry[] = [
  { key: 'uploadpack.allowFilter', value: 'true' },
  { key: 'uploadpack.allowAnySHA1InWant', value: 'false' },
  { key: 'uploadpack.allowTipSHA1InWant', value: 'false' },
  // A v0 client whose advertisement predates a fast-forward can still fetch the old tip.
  { key: 'uploadpack.allowReachableSHA1InWant', value: 'true' },
  { key: 'uploadpack.packObjectsHook', value: REACHABILITY_HOOK },
];

export type MirrorOperation = 'info-refs' | 'upload-pack';

/** The slug and operation of a request path (relative to the plugin prefix), or null. */
export function parseMirrorPath(path: string): { slug: string; operation: MirrorOperation } | null {
  // Percent-encoding is never needed for a valid slug; refusing it outright closes every
  // encoded variant of `..`, `/` and `\` whatever the router decodes.
  if (path.includes('%') || path.includes('\\')) return null;
  const match = PATH.exec(path);
  if (!match) return null;
  const slug = match[1] ?? '';
  if (!MIRROR_SLUG_RE.test(slug) || slug.includes('..')) return null;
  return { slug, operation: match[2] === 'info/refs' ? 'info-refs' : 'upload-pack' };
}

/** The `Git-Protocol` header if it is safe to hand to git as GIT_PROTOCOL, else undefined. */
export function acceptedGitProtocol(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length > MAX_GIT_PROTOCOL_LENGTH) return undefined;
  return GIT_PROTOCOL.test(header) ? header : undefined;
}

/** The password of an HTTP Basic `Authorization` header (any user), or null. */
export function basicPassword(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const password = decoded.slice(colon + 1);
  return password.length > 0 ? password : null;
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).send(errorPayload('not_found', 'Repository not found'));
}

/** Stops the body at `limit` bytes (counted after decompression). */
class ByteLimit extends Transform {
  #seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.limit) cb(new RequestTooLargeError(this.limit));
    else cb(null, chunk);
  }
}

class RequestTooLargeError extends Error {
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

const plugin: FastifyPluginAsync<MirrorGitRoutesOptions> = async (app, opts) => {
  const maxConcurrent = opts.maxConcurrent ?? Math.max(2, 2 * availableParallelism());
  const limiter =
    opts.limiter ??
    new ConcurrencyLimiter({
      maxConcurrent,
      maxQueue: opts.maxQueue ?? 4 * maxConcurrent,
      queueTimeoutMs: opts.queueTimeoutMs ?? 30_000,
      retryAfterSeconds: opts.retryAfterSeconds ?? 5,
    });
  const idleMs = opts.idleTimeoutMs ?? 120_000;
  const totalMs = opts.totalTimeoutMs ?? 3_600_000;
  const maxRequestBytes = opts.maxRequestBytes ?? 64 * 1024 * 1024;

  // Shutdown: stop serving at once rather than wait for every clone in flight to finish
  // (hijacked responses are invisible to Fastify's own connection draining).
  const active = new Set<() => void>();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const stop of active) stop();
  });

  // Bodies stay raw streams (no bodyLimit, no buffering); the handler checks the type itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const log = opts.logger ?? request.log;
    const wildcard = (request.params as Record<string, string | undefined>)['*'] ?? '';
    const rawPath = request.url.split('?', 1)[0] ?? '';
    // The router decodes the wildcard; the raw URL must not have needed decoding at all.
    if (rawPath.includes('%')) return notFound(reply);
    const parsed = parseMirrorPath(wildcard);
    if (!parsed) return notFound(reply);

    const isGet = request.method === 'GET';
    if (isGet !== (parsed.operation === 'info-refs')) return notFound(reply);
    if (isGet) {
      const service = (request.query as Record<string, unknown> | undefined)?.service;
      // No service means the dumb protocol; receive-pack means push. Neither is served.
      if (service !== 'git-upload-pack') return notFound(reply);
    }

    const resolved = await opts.resolve(parsed.slug);
    if (!resolved) return notFound(reply);
    const target = { ...resolved, dir: resolvePath(resolved.dir) };

    if (target.access !== 'public') {
      const password = basicPassword(request.headers.authorization);
      if (password === null || !(await opts.authorizeBasic(password, target.source))) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Basic realm="syncline"')
          .send(errorPayload('unauthorized', 'A viewer token is required (HTTP Basic, token as password)'));
      }
    }

    // resolve() is meant to return complete mirrors only; a half-made one must never be served.
    if (!(await isCompleteMirror(target.dir))) return notFound(reply);

    let body: Readable | undefined;
    let gzip = false;
    if (!isGet) {
      const type = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
      if (type !== REQUEST_TYPE) {
        return reply.code(415).send(errorPayload('unsupported_media_type', `Expected ${REQUEST_TYPE}`));
      }
      const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
        return reply.code(415).send(errorPayload('unsupported_media_type', `Unsupported Content-Encoding '${encoding}'`));
      }
      const stream = request.body as Readable | undefined;
      if (!stream || typeof stream.pipe !== 'function') {
        return reply.code(400).send(errorPayload('invalid_request', 'Missing request body'));
      }
      body = stream;
      gzip = encoding !== 'identity';
    }

    // A queued request whose client left gives its place up.
    const res = reply.raw;
    const gone = new AbortController();
    const onEarlyClose = (): void => gone.abort();
    res.once('close', onEarlyClose);
    let release: (() => void) | undefined;
    try {
      release = await limiter.acquire(gone.signal);
    } catch (err) {
      res.off('close', onEarlyClose);
      if (err instanceof LimiterRejectedError) {
        if (err.reason === 'aborted') return reply.hijack();
        log.warn({ slug: parsed.slug, reason: err.reason, active: limiter.active, queued: limiter.queued }, 'mirror busy');
        return reply
          .code(503)
          .header('Retry-After', String(err.retryAfterSeconds))
          .send(errorPayload('busy', 'Too many concurrent mirror requests; retry later', { retry_after: err.retryAfterSeconds }));
      }
      throw err;
    }
    res.off('close', onEarlyClose);
    if (res.destroyed || gone.signal.aborted) {
      release();
      return reply.hijack();
    }
    if (closing) {
      release();
      return reply
        .code(503)
        .header('Retry-After', String(limiter.retryAfterSeconds))
        .send(errorPayload('busy', 'The server is shutting down; retry later', { retry_after: limiter.retryAfterSeconds }));
    }

    reply.hijack();
    serve({
      request,
      res,
      body,
      gzip,
      dir: target.dir,
      slug: parsed.slug,
      advertise: isGet,
      protocol: acceptedGitProtocol(request.headers['git-protocol']),
      log,
      idleMs,
      totalMs,
      maxRequestBytes,
      active,
    })
      .catch((err: unknown) => log.error({ slug: parsed.slug, err: redact(String(err)) }, 'mirror request failed'))
      .finally(release);
    return reply;
  };

  // Wildcards rather than `/:slug/...`: the router's maxParamLength (100) would cut long slugs,
  // and every path under the prefix — valid or not — is answered here without starting git.
  const routeOptions = { exposeHeadRoute: false } as const;
  app.get('/*', routeOptions, handler);
  app.post('/*', routeOptions, handler);
};

interface ServeParams {
  request: FastifyRequest;
  res: ServerResponse;
  body: Readable | undefined;
  /** The body is gzip-compressed (git compresses large requests). */
  gzip: boolean;
  dir: string;
  slug: string;
  advertise: boolean;
  protocol: string | undefined;
  log: FastifyBaseLogger;
  idleMs: number;
  totalMs: number;
  maxRequestBytes: number;
  /** Stop functions of every request being served, for shutdown. */
  active: Set<() => void>;
}

/** Runs one upload-pack and streams it; resolves when git has exited (never rejects). */
async function serve(p: ServeParams): Promise<void> {
  const { res, log } = p;
  const args = ['upload-pack', '--strict', '--stateless-rpc', ...(p.advertise ? ['--advertise-refs'] : []), '--', p.dir];
  let proc: ReturnType<typeof spawnGit>;
  try {
    proc = spawnGit(args, {
      cwd: p.dir,
      config: [...UPLOAD_PACK_CONFIG],
      env: p.protocol ? { GIT_PROTOCOL: p.protocol } : {},
      idleMs: p.idleMs,
      totalMs: p.totalMs,
    });
  } catch (err) {
    log.error({ slug: p.slug, err: redact(String(err)) }, 'could not start git upload-pack');
    failBeforeHeaders(res, 500);
    return;
  }

  let clientGone = false;
  const onClose = (): void => {
    if (res.writableFinished) return;
    clientGone = true;
    proc.kill();
  };
  res.on('close', onClose);
  const stop = (): void => {
    proc.kill();
    res.destroy();
  };
  p.active.add(stop);

  let tooLarge = false;
  let badBody = false;
  if (p.body) {
    const limit = new ByteLimit(p.maxRequestBytes);
    const onBodyDone = (err: NodeJS.ErrnoException | null): void => {
      if (!err) return;
      if (err instanceof RequestTooLargeError) tooLarge = true;
      else if (typeof err.code === 'string' && err.code.startsWith('Z_')) badBody = true;
      // A broken upload (client gone, bad gzip, too large) leaves git waiting for input.
      if (!res.writableFinished) proc.kill();
    };
    if (p.gzip) pipeline(p.body, createGunzip(), limit, proc.stdin, onBodyDone);
    else pipeline(p.body, limit, proc.stdin, onBodyDone);
  } else {
    proc.stdin.end();
  }

  // Headers wait for git's first byte, so a git that fails at once can still get a real status.
  const hasOutput = await firstOutput(proc.stdout, proc.done);

  const writeHead = (): void => {
    res.writeHead(200, { 'Content-Type': p.advertise ? ADVERTISEMENT_TYPE : RESULT_TYPE, ...NO_CACHE_HEADERS });
    // Like git http-backend: v0/v1 advertisements start with the service line, v2's do not.
    const v2 = /(^|:)version=2(:|$)/.test(p.protocol ?? '');
    if (p.advertise && !v2) res.write(SERVICE_PREFIX);
  };

  let exit: GitExit;
  if (!hasOutput || res.destroyed) {
    proc.stdout.resume();
    exit = await proc.done;
    if (!res.destroyed) {
      if (exit.code === 0 && !exit.killedFor && !tooLarge && !badBody) {
        // Legitimately empty: e.g. the flush-only probe git sends before a chunked request.
        writeHead();
        res.end();
      } else {
        failBeforeHeaders(res, tooLarge ? 413 : badBody ? 400 : 500);
      }
    }
  } else {
    writeHead();
    pipeline(proc.stdout, res, () => {
      // Errors here mean the client went away; onClose already killed git.
    });
    exit = await proc.done;
  }
  res.off('close', onClose);
  p.active.delete(stop);

  const failed = exit.code !== 0 || exit.killedFor !== undefined || exit.spawnError !== undefined;
  if (clientGone) {
    log.info({ slug: p.slug, operation: p.advertise ? 'info-refs' : 'upload-pack' }, 'mirror client disconnected; git stopped');
  } else if (failed) {
    log.warn(
      {
        slug: p.slug,
        operation: p.advertise ? 'info-refs' : 'upload-pack',
        exitCode: exit.code,
        signal: exit.signal,
        killedFor: exit.killedFor,
        tooLarge,
        stderr: redact(exit.stderr),
        spawnError: exit.spawnError ? redact(exit.spawnError.message) : undefined,
      },
      'git upload-pack failed',
    );
  }
}

/**
 * Resolves once `stdout` has a first byte buffered (true) or the process ended without one
 * (false). Only a 'readable' listener is attached, and removed again, so the stream can be piped.
 */
function firstOutput(stdout: Readable, done: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      stdout.off('readable', finish);
      resolve(stdout.readableLength > 0);
    };
    stdout.on('readable', finish);
    void done.then(finish);
  });
}

function failBeforeHeaders(res: ServerResponse, status: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const [code, message]: [ErrorCode, string] =
    status === 413
      ? ['payload_too_large', 'Request body too large']
      : status === 400
        ? ['invalid_request', 'Request body is not valid gzip']
        : ['internal', 'git upload-pack failed'];
  const payload = JSON.stringify(errorPayload(code, message));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * The mirror endpoints as a Fastify plugin. Register it (not wrapped in fastify-plugin; it must
 * stay encapsulated because it replaces the content-type parsers of its scope) under `/git`:
 *
 *     app.register(mirrorGitRoutes, { prefix: '/git', resolve, authorizeBasic })
 *
 * It answers every GET and POST under the prefix itself. Register it outside any scope whose
 * hooks demand a bearer token: this endpoint authenticates with HTTP Basic on its own.
 */
export const mirrorGitRoutes = plugin;
export default mirrorGitRoutes;
