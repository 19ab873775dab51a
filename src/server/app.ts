import crypto from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { authPlugin, ROOT_PRINCIPAL } from './auth.js';
import { streamsPlugin } from './streams.js';
import type { AppContext } from '../app-context.js';
import { contextPlugin } from './context.js';
import { installErrorHandler } from './error-handler.js';
import { installJsonBodyParser, urlNulError } from './json-body.js';
import { loggerOptions, RequestLogController } from './logger.js';
import { metricsPlugin } from './metrics.js';
import { registerApiRoutes } from './routes/index.js';
import { healthRoutes } from './routes/health.js';
import { mirrorGitRoutes } from '../mirror/git-http.js';
import { UploadPackCache } from '../mirror/pack-cache.js';
import { mirrorDirFor } from '../mirror/sync.js';
import { roleAtLeast } from '../security/roles.js';
import { findMirrorSource } from '../store/sources.js';

export interface BuildAppOptions {
  ctx: AppContext;
  /** Where logs go; defaults to stdout. Tests pass a capture stream. */
  logStream?: DestinationStream;
  /** Extra plugins registered after the core (e.g. mirror git routes), so tests can compose. */
  extend?: (app: FastifyInstance) => Promise<void> | void;
  /** An extra in-process admin token (the CLI's local mode). */
  localAdmin?: { token: string; name: string };
  /** The built web UI; found next to the package by default (tests point it at a fixture). */
  uiDir?: string | null;
  /**
   * `api`: only /api/v1 and the health routes — no OpenAPI document or /docs, no web UI, no /git.
   * The CLI's local mode injects one API call and exits, so it skips loading and building the rest.
   */
  surface?: 'full' | 'api';
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,100}$/;

type ValidatorCompiler = typeof validatorCompiler;
const PARAMS_MEMO_MAX = 10_000;

/**
 * zod validation, with each route's path parameters remembered: validating them is a pure
 * function of a few strings, and config reads validate the same (ns, kind, name) all day. Valid
 * results only (an invalid one goes through zod each time, for its error); the memo is bounded
 * (dropped when full), keyed by length-prefixed values so no two inputs share a key.
 */
const memoizedParamsCompiler: ValidatorCompiler = (route) => {
  const validate = validatorCompiler(route);
  if (route.httpPart !== 'params') return validate;
  type Result = { error?: Error | FastifySchemaValidationError[]; value?: unknown };
  const memo = new Map<string, Result>();
  return (data: unknown): Result => {
    let key = '';
    for (const k in data as Record<string, unknown>) {
      const v = (data as Record<string, unknown>)[k];
      if (typeof v !== 'string') return validate(data) as Result;
      key += `${k.length}:${k}${v.length}:${v}`;
    }
    const hit = memo.get(key);
    if (hit) return hit;
    const result = validate(data) as Result;
    if (!result.error && result.value && typeof result.value === 'object') {
      // Shared by every request with these parameters: frozen, so no handler can change another's.
      Object.freeze(result.value);
      if (memo.size >= PARAMS_MEMO_MAX) memo.clear();
      memo.set(key, result);
    }
    return result;
  };
};

/** Builds the Fastify app without listening, so tests use `app.inject` and the CLI adds `listen`. */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const { settings } = opts.ctx;
  const logger = { ...loggerOptions(settings.log_level), ...(opts.logStream ? { stream: opts.logStream } : {}) };
  const logController = new RequestLogController();
  const app = Fastify({
    logger,
    bodyLimit: settings.body_limit,
    // Not `requestIdHeader`: Fastify would then take the header verbatim; genReqId vets it.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : crypto.randomUUID();
    },
    logController,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(memoizedParamsCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const full = opts.surface !== 'api';
  // Every response carries the request id and (full surface, which serves the web UI)
  // `X-Frame-Options: DENY` unless a route sets its own (nothing Syncline serves may be framed).
  // Set when the request arrives, by the first onRequest hook: every routed request runs it before
  // anything can answer, error answers keep a reply's headers, and a route's own X-Frame-Options
  // replaces this one. (Before, an onSend hook set them: one more hook runner on every response.)
  // The same hook refuses a URL with a NUL (json-body.ts): one global hook, not two.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    if (full) reply.header('x-frame-options', 'DENY');
    done(urlNulError(req.url));
  });
  installErrorHandler(app);
  installJsonBodyParser(app);

  await app.register(contextPlugin, opts.ctx);
  app.addHook('onClose', async () => opts.ctx.events.close());
  await app.register(authPlugin, { adminToken: settings.admin_token, localAdmin: opts.localAdmin });
  await app.register(streamsPlugin, { fixedIds: [ROOT_PRINCIPAL.id, ...(opts.localAdmin ? [opts.localAdmin.name] : [])] });
  await app.register(metricsPlugin, { logController });
  opts.ctx.jobs.registerMetrics(app.metrics);
  if (full) await registerOpenApi(app);

  await app.register(healthRoutes);
  await app.register(registerApiRoutes, { prefix: '/api/v1' });
  if (full) {
    await app.register(mirrorGitRoutes, {
      prefix: '/git',
      maxConcurrent: settings.mirror_max_concurrent,
      maxPerClient: settings.mirror_max_per_client,
      bodyTimeoutMs: settings.mirror_body_timeout * 1000,
      minBodyBytesPerSecond: settings.mirror_min_body_rate,
      packCache: mirrorPackCache(settings),
      resolve: async (slug) => {
        const row = await findMirrorSource(opts.ctx.db.db, slug);
        if (!row) return null;
        return { dir: mirrorDirFor(opts.ctx, row), access: row.mirror_access as 'token' | 'public', source: row.name, upstream: row.url };
      },
      authorizeBasic: async (password) => {
        const principal = await app.principalFor(password);
        return principal !== null && roleAtLeast(principal.role, 'viewer');
      },
    });
    const { registerWebUi } = await import('./static.js');
    await registerWebUi(app, opts.uiDir);
  }
  if (opts.extend) await opts.extend(app);
  await app.ready();
  return app;
}

/** The mirror clone cache under the data dir (`mirror_pack_cache_mb`, 0 = off). */
function mirrorPackCache(settings: { data_dir: string; mirror_pack_cache_mb: number; mirror_pack_cache_ttl: number }): UploadPackCache | undefined {
  if (settings.mirror_pack_cache_mb === 0) return undefined;
  return new UploadPackCache({
    dir: join(settings.data_dir, 'mirror-cache'),
    maxBytes: settings.mirror_pack_cache_mb * 1024 * 1024,
    ttlMs: settings.mirror_pack_cache_ttl * 1000,
  });
}

/** The OpenAPI document (generated from the routes' zod schemas) at /openapi.json, and /docs. */
async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const [{ default: fastifySwagger }, { default: fastifySwaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Syncline API',
        description: 'Self-hosted GitOps configuration server. Authenticate with `Authorization: Bearer <token>`.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
