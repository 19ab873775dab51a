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
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { MIRROR_SLUG_RE } from '../contracts/common.js';
import type { ErrorCode } from '../contracts/error-codes.js';
import { isCompleteMirror, KEEP_REFS_PREFIX, spawnGit, type GitConfigEntry, type GitExit } from '../git/index.js';
import { readLocalRefs } from '../git/local-refs.js';
import { errorPayload } from '../errors.js';
import { redact } from '../security/redact.js';
import { ConcurrencyLimiter, LimiterRejectedError } from './limiter.js';
import { UploadPackCache, type CacheHit, type CacheWriter } from './pack-cache.js';
import { relay } from './relay.js';
import { AnswerMemo, isLsRefs, capabilityState, refState } from './answer-memo.js';
import { REACHABILITY_HOOK } from './reachability-hook.js';
import { pipeBody, readBody, type BodyLimits, type BodyProblem, type BodyRead, type BodyState } from './request-body.js';
import { cacheableRequest } from './upload-pack-request.js';

export interface MirrorTarget {
  /** Absolute path of the bare mirror (`<mirrorsDir>/<source>.git`). */
  dir: string;
  access: 'token' | 'public';
  /** Source name, passed to `authorizeBasic`. */
  source: string;
  /** The upstream URL, named in the answer to a push. */
  upstream?: string;
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
  /** The whole request body must arrive within this. Default 30 s. */
  bodyTimeoutMs?: number;
  /** Below this average rate (bytes/s, checked after the first 2 s) the body counts as stalled. Default 1024. */
  minBodyBytesPerSecond?: number;
  /** Upload-packs (active or queued) per client address. Default half the slots. */
  maxPerClient?: number;
  /** Where to log; defaults to the request's logger. */
  logger?: FastifyBaseLogger;
  /**
   * Answers of upload-pack to clone-like requests (every want a branch or tag tip, no haves),
   * reused for identical requests at the same tips (pack-cache.ts). Off when not given.
   */
  packCache?: UploadPackCache;
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
  // Previous tips kept through a mirror update (see git/mirror-cache.ts) are never advertised,
  // but count as reachable: a clone that listed refs before the update still completes.
  { key: 'uploadpack.hideRefs', value: KEEP_REFS_PREFIX },
];

/**
 * The same config without the reachability hook, for a request Syncline has itself found to want
 * only current branch and tag tips (`cacheableRequest`, against the refs read just before): the
 * hook's own shortcut for exactly those requests is to run pack-objects unchecked, so it would add
 * a shell, a `cat` and a pipeline (four process starts) and check nothing.
 */
export const UPLOAD_PACK_CONFIG_TIPS_CHECKED: readonly GitConfigEntry[] = UPLOAD_PACK_CONFIG.filter((e) => e.key !== 'uploadpack.packObjectsHook');

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

/** git's complaints about what the client sent (as opposed to a broken repository). */
const CLIENT_PROTOCOL_ERROR = /protocol error|unexpected|expected|invalid|unknown (command|capability|argument)|bad (line|pkt|object)|not our ref|malformed|flush packet|delim/i;

/** Status for an upload-pack that failed before sending anything. */
function failureStatus(problem: BodyProblem, advertise: boolean, exit: GitExit): number {
  if (problem === 'too_large') return 413;
  if (problem === 'slow') return 408;
  if (problem === 'malformed') return 400;
  if (!advertise && exit.code !== null && exit.code !== 0 && !exit.killedFor && CLIENT_PROTOCOL_ERROR.test(exit.stderr)) return 400;
  return 500;
}

type Route =
  | { kind: 'not_found' }
  | { kind: 'push_refused'; slug: string }
  | { kind: 'upload_pack'; slug: string; operation: MirrorOperation };

/** Step 1: what the request asks for, from its method, path and service (nothing looked up yet). */
export function routeMirrorRequest(method: string, url: string, wildcard: string, service: unknown): Route {
  const rawPath = url.split('?', 1)[0] ?? '';
  // The router decodes the wildcard; the raw URL must not have needed decoding at all.
  if (rawPath.includes('%')) return { kind: 'not_found' };
  if (method === 'GET' && service === 'git-receive-pack') {
    // A push: answered with a clear ERR packet (no process), once the mirror is known.
    const m = /^([^/]+?)(?:\.git)?\/info\/refs$/.exec(wildcard);
    const slug = m?.[1] ?? '';
    return MIRROR_SLUG_RE.test(slug) && !slug.includes('..') ? { kind: 'push_refused', slug } : { kind: 'not_found' };
  }
  const parsed = parseMirrorPath(wildcard);
  if (!parsed) return { kind: 'not_found' };
  const isGet = method === 'GET';
  if (isGet !== (parsed.operation === 'info-refs')) return { kind: 'not_found' };
  // No service means the dumb protocol. Not served.
  if (isGet && service !== 'git-upload-pack') return { kind: 'not_found' };
  return { kind: 'upload_pack', slug: parsed.slug, operation: parsed.operation };
}

/** One pkt-line (length prefix + payload). */
function pktLine(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

/**
 * `info/refs?service=git-receive-pack`: a smart advertisement whose first packet is `ERR …`,
 * which git prints as "remote error: read-only mirror of <upstream>; push there". No process.
 */
export function receivePackRefusal(upstream: string | undefined): Buffer {
  const where = upstream ? ` of ${upstream.replace(/[\x00-\x1f\x7f]/g, '')}` : '';
  return Buffer.concat([
    pktLine('# service=git-receive-pack\n'),
    Buffer.from('0000'),
    pktLine(`ERR read-only mirror${where}; push there\n`),
  ]);
}

/** Step 2: the mirror behind the slug, if the caller may read it (else the reply is sent). */
async function authorizeMirror(
  opts: MirrorGitRoutesOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  slug: string,
): Promise<MirrorTarget | null> {
  const resolved = await opts.resolve(slug);
  if (!resolved) {
    notFound(reply);
    return null;
  }
  const target = { ...resolved, dir: resolvePath(resolved.dir) };
  if (target.access !== 'public') {
    const password = basicPassword(request.headers.authorization);
    if (password === null || !(await opts.authorizeBasic(password, target.source))) {
      reply
        .code(401)
        .header('WWW-Authenticate', 'Basic realm="syncline"')
        .send(errorPayload('unauthorized', 'A viewer token is required (HTTP Basic, token as password)'));
      return null;
    }
  }
  // resolve() is meant to return complete mirrors only; a half-made one must never be served.
  if (!(await isCompleteMirror(target.dir))) {
    notFound(reply);
    return null;
  }
  return target;
}

/** Step 3 (POST): the request body as a stream, after checking its type and encoding. */
function requestBody(request: FastifyRequest, reply: FastifyReply): { body: Readable; gzip: boolean } | null {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== REQUEST_TYPE) {
    reply.code(415).send(errorPayload('unsupported_media_type', `Expected ${REQUEST_TYPE}`));
    return null;
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    reply.code(415).send(errorPayload('unsupported_media_type', `Unsupported Content-Encoding '${encoding}'`));
    return null;
  }
  const stream = request.body as Readable | undefined;
  if (!stream || typeof stream.pipe !== 'function') {
    reply.code(400).send(errorPayload('invalid_request', 'Missing request body'));
    return null;
  }
  return { body: stream, gzip: encoding !== 'identity' };
}

/** Upload-packs per client address (active or waiting), so one client cannot take every slot. */
class PerClientLimit {
  readonly #count = new Map<string, number>();
  constructor(readonly max: number) {}
  take(client: string): (() => void) | null {
    const n = this.#count.get(client) ?? 0;
    if (n >= this.max) return null;
    this.#count.set(client, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#count.get(client) ?? 1) - 1;
      if (left <= 0) this.#count.delete(client);
      else this.#count.set(client, left);
    };
  }
}

function busy(reply: FastifyReply, message: string, retryAfter: number): FastifyReply {
  return reply
    .code(503)
    .header('Retry-After', String(retryAfter))
    .send(errorPayload('busy', message, { retry_after: retryAfter }));
}

/**
 * Step 4: a per-client slot, then a global one (waiting in line if need be). Resolves with the
 * release function, or null when the reply was already sent (busy) or the client left. The
 * per-client slot is given back as soon as the response has gone (or the client left), not when
 * git has exited and the cache has been written: a client sends its next request (ls-refs, then
 * the fetch) the moment it has read an answer, and must not find its previous one still counted.
 * The global slot, which bounds git processes, is held until `release`.
 */
async function acquireSlots(
  limiter: ConcurrencyLimiter,
  perClient: PerClientLimit,
  request: FastifyRequest,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  slug: string,
): Promise<(() => void) | null> {
  const client = request.socket.remoteAddress ?? 'unknown';
  const releaseClient = perClient.take(client);
  if (!releaseClient) {
    log.warn({ slug, client }, 'mirror: too many requests from one client');
    busy(reply, `Too many concurrent mirror requests from this address (at most ${perClient.max}); retry later`, limiter.retryAfterSeconds);
    return null;
  }
  // A queued request whose client left gives its place up.
  const res = reply.raw;
  const gone = new AbortController();
  const onEarlyClose = (): void => gone.abort();
  res.once('close', onEarlyClose);
  try {
    const release = await limiter.acquire(gone.signal);
    res.once('finish', releaseClient);
    res.once('close', releaseClient);
    return () => {
      release();
      releaseClient();
    };
  } catch (err) {
    releaseClient();
    if (err instanceof LimiterRejectedError) {
      if (err.reason === 'aborted') {
        reply.hijack();
        return null;
      }
      log.warn({ slug, reason: err.reason, active: limiter.active, queued: limiter.queued }, 'mirror busy');
      busy(reply, 'Too many concurrent mirror requests; retry later', err.retryAfterSeconds);
      return null;
    }
    throw err;
  } finally {
    res.off('close', onEarlyClose);
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
  const perClient = new PerClientLimit(opts.maxPerClient ?? Math.max(1, Math.ceil(maxConcurrent / 2)));
  const limits: BodyLimits = {
    maxBytes: opts.maxRequestBytes ?? 64 * 1024 * 1024,
    deadlineMs: opts.bodyTimeoutMs ?? 30_000,
    minBytesPerSecond: opts.minBodyBytesPerSecond ?? 1024,
  };
  const idleMs = opts.idleTimeoutMs ?? 120_000;
  const totalMs = opts.totalTimeoutMs ?? 3_600_000;

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
    const service = (request.query as Record<string, unknown> | undefined)?.service;
    const route = routeMirrorRequest(request.method, request.url, wildcard, service);
    if (route.kind === 'not_found') return notFound(reply);

    const target = await authorizeMirror(opts, request, reply, route.slug);
    if (!target) return reply;
    if (route.kind === 'push_refused') {
      return reply
        .code(200)
        .header('Content-Type', 'application/x-git-receive-pack-advertisement')
        .headers(NO_CACHE_HEADERS)
        .send(receivePackRefusal(target.upstream));
    }

    const isGet = route.operation === 'info-refs';
    const upload = isGet ? null : requestBody(request, reply);
    if (!isGet && !upload) return reply;

    const release = await acquireSlots(limiter, perClient, request, reply, log, route.slug);
    if (!release) return reply;
    const res = reply.raw;
    if (res.destroyed) {
      release();
      return reply.hijack();
    }
    if (closing) {
      release();
      return busy(reply, 'The server is shutting down; retry later', limiter.retryAfterSeconds);
    }

    reply.hijack();
    serve({
      request,
      res,
      body: upload?.body,
      gzip: upload?.gzip ?? false,
      dir: target.dir,
      slug: route.slug,
      advertise: isGet,
      protocol: acceptedGitProtocol(request.headers['git-protocol']),
      log,
      idleMs,
      totalMs,
      limits,
      active,
      cache: opts.packCache,
    })
      .catch((err: unknown) => log.error({ slug: route.slug, err: redact(String(err)) }, 'mirror request failed'))
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
  limits: BodyLimits;
  /** Stop functions of every request being served, for shutdown. */
  active: Set<() => void>;
  cache: UploadPackCache | undefined;
}

/** Tips passed to the reachability hook at most (an environment value stays well under 128 KiB). */
const MAX_HOOK_TIPS = 1000;
interface MirrorRefs {
  /** Every branch and tag (name and id), canonical text: the ref state in a cache key. */
  snapshot: string;
  /** Their unique ids. */
  tips: Set<string>;
}

/**
 * The mirror's branches and tags, read from its ref files just before upload-pack starts; null
 * when they cannot be read that way (the hook then checks every want, nothing is cached).
 */
async function mirrorRefs(dir: string): Promise<MirrorRefs | null> {
  try {
    const { refs, snapshot } = await readLocalRefs(dir, async () => '');
    if (refs.size === 0) return null;
    return { snapshot, tips: new Set(refs.values()) };
  } catch {
    return null;
  }
}

/** SYNCLINE_MIRROR_TIPS for the reachability hook's shortcut (see reachability-hook.ts), or null. */
function hookTips(refs: MirrorRefs | null): string | null {
  if (!refs || refs.tips.size > MAX_HOOK_TIPS) return null;
  return [...refs.tips].join(' ');
}

const NO_EXIT: GitExit = { code: 0, signal: null, stderr: '' };

/** Runs one upload-pack (or answers from the cache) and streams it; resolves when done (never rejects). */
async function serve(p: ServeParams): Promise<void> {
  const { res, log } = p;
  const refs = p.advertise ? null : await mirrorRefs(p.dir);
  const v2 = /(^|:)version=2(:|$)/.test(p.protocol ?? '');
  const state: BodyState = { problem: null };
  let input: BodyRead | null = null;
  let writer: CacheWriter | null = null;
  let cacheKey: string | null = null;
  if (p.cache && p.body) {
    // Shutdown ends a request still sending its body too (no git runs yet to be stopped).
    const stopReading = (): void => {
      res.destroy();
    };
    p.active.add(stopReading);
    input = await readBody(p, p.body, state);
    p.active.delete(stopReading);
    if (input.kind === 'failed') {
      if (!res.destroyed && !res.headersSent) failBeforeHeaders(res, failureStatus(state.problem, false, NO_EXIT));
      return;
    }
    if (input.kind === 'buffer' && refs && cacheableRequest(input.body, refs.tips, v2)) {
      cacheKey = UploadPackCache.key({ mirrorDir: p.dir, protocol: p.protocol, refs: refs.snapshot, body: input.body });
      const cached = await fromCache(p, p.cache, cacheKey);
      if (cached === 'served') return;
      writer = cached;
    }
  }

  // Advertisements and ls-refs: answered from memory at the same ref state (answer-memo.ts).
  let memo: { key: string; state: string; chunks: Buffer[]; bytes: number } | null = null;
  const lsRefs = !p.advertise && v2 && input?.kind === 'buffer' && isLsRefs(input.body);
  // v2's info/refs is the capability list: keyed by the config, not by the refs (capabilityState).
  const stateOf = p.advertise && v2 ? capabilityState : refState;
  if (p.cache && (p.advertise || lsRefs)) {
    const st = await stateOf(p.dir);
    if (st !== null) {
      const operation = p.advertise ? 'info-refs' : 'ls-refs';
      const key = AnswerMemo.key({ mirrorDir: p.dir, protocol: p.protocol, operation, state: st, ...(lsRefs && input?.kind === 'buffer' ? { body: input.body } : {}) });
      const known = p.cache.answers.get(key);
      if (known) {
        if (!res.destroyed) sendAnswer(res, p.advertise, v2, known);
        return;
      }
      memo = { key, state: st, chunks: [], bytes: 0 };
    }
  }

  const args = ['upload-pack', '--strict', '--stateless-rpc', ...(p.advertise ? ['--advertise-refs'] : []), '--', p.dir];
  let proc: ReturnType<typeof spawnGit>;
  try {
    // cacheKey is set only for a request whose every want is one of `refs`' tips (checked above).
    const tipsChecked = cacheKey !== null;
    const tips = tipsChecked ? null : hookTips(refs);
    proc = spawnGit(args, {
      cwd: p.dir,
      config: [...(tipsChecked ? UPLOAD_PACK_CONFIG_TIPS_CHECKED : UPLOAD_PACK_CONFIG)],
      env: { ...(p.protocol ? { GIT_PROTOCOL: p.protocol } : {}), ...(tips ? { SYNCLINE_MIRROR_TIPS: tips } : {}) },
      idleMs: p.idleMs,
      totalMs: p.totalMs,
    });
  } catch (err) {
    log.error({ slug: p.slug, err: redact(String(err)) }, 'could not start git upload-pack');
    await writer?.end(false);
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

  let upload: { problem: BodyProblem };
  if (!input) {
    upload = pipeBody(p, proc);
  } else {
    upload = state;
    if (input.kind === 'buffer') {
      proc.stdin.end(input.body);
    } else if (input.kind === 'stream') {
      state.onError = () => {
        if (!res.writableFinished) proc.kill();
        if (state.problem === 'slow' && res.headersSent) res.destroy();
      };
      if (state.problem !== null) state.onError();
      pipeline(input.stream, proc.stdin, () => {
        // Body errors are handled by readBody's pipeline (state.onError); EPIPE shows in git's exit.
      });
    }
  }
  // Headers wait for git's first byte, so a git that fails at once can still get a real status.
  const hasOutput = await firstOutput(proc.stdout, proc.done);

  const writeHead = (): void => {
    res.writeHead(200, { 'Content-Type': p.advertise ? ADVERTISEMENT_TYPE : RESULT_TYPE, ...NO_CACHE_HEADERS });
    // Like git http-backend: v0/v1 advertisements start with the service line, v2's do not.
    if (p.advertise && !v2) res.write(SERVICE_PREFIX);
  };

  let exit: GitExit;
  let streamed = false;
  if (!hasOutput || res.destroyed) {
    proc.stdout.resume();
    exit = await proc.done;
    if (!res.destroyed) {
      if (exit.code === 0 && !exit.killedFor && upload.problem === null) {
        // Legitimately empty: e.g. the flush-only probe git sends before a chunked request.
        writeHead();
        res.end();
      } else {
        failBeforeHeaders(res, failureStatus(upload.problem, p.advertise, exit));
      }
    }
  } else {
    writeHead();
    // Batched writes, the cache copy beside them (relay.ts). A failure here means the client went
    // away; onClose already killed git.
    const m = memo;
    const keep = m
      ? {
          write: (chunk: Buffer) => {
            m.bytes += chunk.length;
            if (m.bytes <= p.cache!.answers.maxEntryBytes) m.chunks.push(chunk);
          },
        }
      : null;
    [exit, streamed] = await Promise.all([proc.done, relay(proc.stdout, res, writer ?? keep)]);
  }
  res.off('close', onClose);
  p.active.delete(stop);

  const failed = exit.code !== 0 || exit.killedFor !== undefined || exit.spawnError !== undefined;
  if (writer) {
    // Kept only when the whole answer went out and the refs it was keyed with did not move meanwhile.
    const keep = streamed && !failed && !clientGone && upload.problem === null && (await mirrorRefs(p.dir))?.snapshot === refs?.snapshot;
    await writer.end(keep);
  }
  if (memo && p.cache && streamed && !failed && !clientGone && upload.problem === null && memo.bytes <= p.cache.answers.maxEntryBytes) {
    // Kept only when the ref state read again now is the one the answer was keyed with. Checked
    // after this request gave its slots back: the client's next request (ls-refs, then the fetch)
    // may arrive at once, and must not find its own previous request still counted.
    const { key, state: keyed, chunks, bytes } = memo;
    const answers = p.cache.answers;
    void stateOf(p.dir).then(
      (now) => {
        if (now === keyed) answers.set(key, Buffer.concat(chunks, bytes));
      },
      () => undefined,
    );
  }
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
        bodyProblem: upload.problem,
        stderr: redact(exit.stderr),
        spawnError: exit.spawnError ? redact(exit.spawnError.message) : undefined,
      },
      'git upload-pack failed',
    );
  }
}

/** A remembered advertisement or ls-refs answer: what git's would have been, in one write with its length. */
function sendAnswer(res: ServerResponse, advertise: boolean, v2: boolean, answer: Buffer): void {
  const body = advertise && !v2 ? Buffer.concat([SERVICE_PREFIX, answer]) : answer;
  res.writeHead(200, { 'Content-Type': advertise ? ADVERTISEMENT_TYPE : RESULT_TYPE, ...NO_CACHE_HEADERS, 'Content-Length': String(body.length) });
  res.end(body);
}

/**
 * A cached answer for `key` (sent: 'served'), else the writer that stores this request's answer
 * (null when another identical request is still storing one, or the cache is unusable). An
 * identical request in progress is waited for first (at most the cache's follower wait).
 */
async function fromCache(p: ServeParams, cache: UploadPackCache, key: string): Promise<CacheWriter | null | 'served'> {
  let hit = await cache.lookup(key);
  // Checked and claimed (begin) with no await in between, so two identical misses never both run git for the cache.
  if (!hit && cache.inFlight(key)) {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    p.res.once('close', onClose);
    if (await cache.awaitInFlight(key, gone.signal)) hit = await cache.lookup(key);
    p.res.off('close', onClose);
  }
  if (hit) {
    await sendCached(p, hit);
    return 'served';
  }
  if (p.res.destroyed) return 'served';
  return cache.begin(key);
}

/** A cached answer is sent in pieces of this size, from a few buffers reused in turn. */
const CACHED_CHUNK = 256 * 1024;
const CACHED_BUFFERS = 4;

/**
 * Streams a cached answer (no git process), with the same idle and total limits as git. The file
 * is read into a few reused buffers (each reused once the socket took its previous piece), not a
 * fresh one per read: on this VM, faulting in new buffer pages cost more than the copies.
 */
async function sendCached(p: ServeParams, hit: CacheHit): Promise<void> {
  const { res } = p;
  let stopped = res.destroyed;
  const stop = (): void => {
    stopped = true;
    res.destroy();
  };
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  p.active.add(stop);
  // A client that stops reading holds the slot no longer than it would hold git.
  let last = -1;
  let lastMove = Date.now();
  const idle = setInterval(
    () => {
      const written = res.socket?.bytesWritten ?? 0;
      if (written !== last) {
        last = written;
        lastMove = Date.now();
      } else if (Date.now() - lastMove >= p.idleMs) stop();
    },
    Math.max(10, Math.min(1000, Math.floor(p.idleMs / 5))),
  );
  const total = setTimeout(stop, p.totalMs);
  try {
    if (stopped) return;
    res.writeHead(200, { 'Content-Type': RESULT_TYPE, ...NO_CACHE_HEADERS, 'Content-Length': String(hit.size) });
    const buffers = Array.from({ length: CACHED_BUFFERS }, () => Buffer.allocUnsafeSlow(CACHED_CHUNK));
    const flushed: Array<Promise<unknown> | undefined> = [];
    let pos = 0;
    for (let i = 0; pos < hit.size; i++) {
      const slot = i % CACHED_BUFFERS;
      await Promise.race([flushed[slot], closed]);
      if (stopped || res.destroyed) return;
      const buf = buffers[slot]!;
      const { bytesRead } = await hit.handle.read(buf, 0, Math.min(CACHED_CHUNK, hit.size - pos), pos);
      if (bytesRead === 0 || stopped || res.destroyed) {
        // The file shrank under us (it never should): cut the answer off rather than send a short one.
        res.destroy();
        return;
      }
      pos += bytesRead;
      flushed[slot] = new Promise<void>((resolve) => res.write(buf.subarray(0, bytesRead), () => resolve()));
    }
    res.end();
    await Promise.race([Promise.all(flushed), closed]);
  } catch {
    res.destroy();
  } finally {
    clearInterval(idle);
    clearTimeout(total);
    p.active.delete(stop);
    await hit.handle.close().catch(() => undefined);
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
