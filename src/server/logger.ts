import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { symbols, type DestinationStream, type LoggerOptions } from 'pino';
import { redact, redactDeep, redactionGeneration } from '../security/redact.js';

/** What a request log line says about the request: never its headers (no credentials, no cookies). */
interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string | string[] | undefined>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/**
 * pino options shared by the server and CLI: every string and object passes through secret
 * redaction before it is written, and request lines carry an allowlist of request fields (never
 * headers, so `Authorization`, `Cookie` and webhook tokens cannot reach a log line).
 *
 * Cheap on the hot path (two lines per request): the hook copies nothing when there is nothing
 * to redact, and requests are described by the `req` serializer below instead of pino's
 * path-based redaction, which cloned every request object to mask headers the serializer never
 * wrote.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    hooks: {
      logMethod(args, method) {
        let clean: unknown[] | null = null;
        for (let i = 0; i < args.length; i++) {
          const a: unknown = args[i];
          const c = typeof a === 'string' ? redact(a) : a && typeof a === 'object' && !(a instanceof Error) ? redactDeep(a) : a;
          if (c !== a) (clean ??= [...args])[i] = c;
        }
        return method.apply(this, (clean ?? args) as Parameters<typeof method>);
      },
    },
    serializers: {
      // Fastify's own `req` serializer (same fields), plus redaction of the URL.
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: typeof req.url === 'string' ? redact(req.url) : undefined,
        version: req.headers?.['accept-version'],
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket ? req.socket.remotePort : undefined,
      }),
      err: (err: Error & { code?: string }) => ({
        type: err?.name,
        code: err?.code,
        message: redact(String(err?.message ?? err)),
        stack: err?.stack ? redact(err.stack) : undefined,
      }),
    },
  };
}

export type LogDestination = DestinationStream;

/** What the access line reads of a pino logger (public `pino.symbols`). */
interface PinoInternals {
  levelVal: number;
  [key: symbol]: unknown;
}

const INFO = 30;
const COMPLETED_MSG = 'request completed';

/**
 * The `request completed` line, formatted here rather than by pino's generic path: the same
 * bytes pino writes for `info({ req, res, responseTime }, 'request completed')` with
 * loggerOptions() (level, time, the child's bindings, the `req` allowlist with its URL redacted,
 * `res.statusCode`, `responseTime`, `msg`), without building the intermediate objects, running
 * the serializers and JSON.stringify over them (~2 µs of a config read's ~25). Strings that could
 * carry a secret (URL, host) are redacted as the serializer and the hook would. Returns false,
 * having written nothing, when the logger is not the plain pino this formats for (a mixin, a
 * message prefix, formatters, nested key, a stream hook or a multistream that wants the line's
 * metadata): the caller then logs through pino as usual.
 */
export function writeAccessLine(log: FastifyBaseLogger, request: LoggedRequest, statusCode: number, responseTime: number): boolean {
  const l = log as unknown as PinoInternals;
  if (l.levelVal > INFO) return true; // info is off: nothing to write, and nothing to fall back to
  const stream = l[symbols.streamSym] as (DestinationStream & { [key: symbol]: unknown }) | undefined;
  const time = l[symbols.timeSym] as (() => string) | undefined;
  const lsCache = l[symbols.lsCacheSym] as Record<number, string> | undefined;
  const chindings = l[symbols.chindingsSym];
  const end = l[symbols.endSym];
  if (
    !stream ||
    typeof time !== 'function' ||
    !lsCache ||
    typeof chindings !== 'string' ||
    typeof end !== 'string' ||
    stream[symbols.needsMetadataGsym] === true ||
    l[symbols.mixinSym] ||
    (log as { msgPrefix?: string }).msgPrefix ||
    l[symbols.nestedKeySym] ||
    l[symbols.messageKeySym] !== 'msg' ||
    (l[symbols.formattersSym] as { log?: unknown } | undefined)?.log ||
    (l[symbols.hooksSym] as { streamWrite?: unknown } | undefined)?.streamWrite ||
    Object.keys(l[symbols.stringifiersSym] as object).length > 0
  ) {
    return false;
  }
  const req = requestJson(request);
  const rt = Number.isFinite(responseTime) ? responseTime : null;
  stream.write(`${lsCache[INFO]}${time()}${chindings},"req":${req},"res":{"statusCode":${statusCode}},"responseTime":${rt},"msg":"${COMPLETED_MSG}"${end}`);
  return true;
}

/** The `req` part of an access line last written for a connection, and what it was made of. */
interface RequestJsonMemo {
  method: string | undefined;
  url: string | undefined;
  version: string | string[] | undefined;
  host: string | undefined;
  ip: string | undefined;
  port: number | undefined;
  generation: number;
  json: string;
}

const REQUEST_JSON = Symbol('syncline.accessLineRequest');

/**
 * The access line's `req` object as JSON. A keep-alive connection sends the same request over and
 * over (a config client polling one resource), so the last one's JSON is kept on the socket and
 * reused when every field it was made of is the same (and no secret was registered since, which
 * would change the URL's redaction): no redaction and no escaping per line then.
 */
function requestJson(request: LoggedRequest): string {
  const socket = request.socket as ({ remotePort?: number; [REQUEST_JSON]?: RequestJsonMemo } & object) | null | undefined;
  const method = request.method;
  const url = request.url;
  const version = request.headers?.['accept-version'];
  const host = request.host;
  const ip = request.ip;
  const port = socket ? socket.remotePort : undefined;
  const memo = socket ? socket[REQUEST_JSON] : undefined;
  const generation = redactionGeneration();
  if (
    memo &&
    memo.url === url &&
    memo.method === method &&
    memo.version === version &&
    memo.host === host &&
    memo.ip === ip &&
    memo.port === port &&
    memo.generation === generation
  ) {
    return memo.json;
  }
  let req = '{';
  let sep = '';
  if (method !== undefined) {
    req += `"method":${JSON.stringify(method)}`;
    sep = ',';
  }
  if (typeof url === 'string') {
    req += `${sep}"url":${JSON.stringify(redact(url))}`;
    sep = ',';
  }
  if (version !== undefined) {
    req += `${sep}"version":${JSON.stringify(version)}`;
    sep = ',';
  }
  if (host !== undefined) {
    req += `${sep}"host":${JSON.stringify(redact(host))}`;
    sep = ',';
  }
  if (ip !== undefined) {
    req += `${sep}"remoteAddress":${JSON.stringify(ip)}`;
    sep = ',';
  }
  if (port !== undefined) req += `${sep}"remotePort":${JSON.stringify(port)}`;
  req += '}';
  if (socket && typeof socket === 'object') socket[REQUEST_JSON] = { method, url, version, host, ip, port, generation, json: req };
  return req;
}

/**
 * One info line per request, when it completes (`request completed`, or `request errored`),
 * carrying the request (method, URL, host, remote address), the status and the response time:
 * an access log. `incoming request` is logged at debug level only: two lines per request cost
 * config reads, the hottest path, a fifth of their CPU.
 */
export class RequestLogController extends LogController {
  /**
   * Called first for every completed request (the request metrics, see server/metrics.ts): Fastify
   * calls requestCompleted for every routed request, so the metrics need no onResponse hook (and
   * no hook runner per request) of their own.
   */
  onCompleted: ((request: FastifyRequest, reply: FastifyReply) => void) | null = null;

  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.onCompleted) this.onCompleted(request, reply);
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else if (!writeAccessLine(reply.log, request, reply.statusCode, reply.elapsedTime)) {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, COMPLETED_MSG);
    }
  }
}
