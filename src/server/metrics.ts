import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestLogController } from './logger.js';
import fp from 'fastify-plugin';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { outboxPending } from '../store/outbox.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/** Prometheus metrics on a per-app registry (tests build many apps in one process). */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { logController: RequestLogController }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'syncline_' });
    // Request duration and count, per (method, route, status): kept in plain arrays here and
    // formatted by the registry at scrape time, the same series prom-client's Histogram and
    // Counter would give, without their label hashing on every request.
    const http = new HttpRequestMetrics();
    registry.registerMetric(http.histogram() as never);
    registry.registerMetric(http.counter() as never);
    // Events waiting in the outbox (grows while a broker is down) and the age of the oldest.
    let pending: Promise<{ count: number; oldest: string | null }> | null = null;
    const readPending = () => (pending ??= outboxPending(app.ctx.db.db).finally(() => setImmediate(() => (pending = null))));
    new Gauge({
      name: 'syncline_outbox_pending',
      help: 'Events in the outbox not yet published',
      registers: [registry],
      async collect() {
        this.set((await readPending().catch(() => ({ count: 0 }))).count);
      },
    });
    new Gauge({
      name: 'syncline_outbox_oldest_pending_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when none)',
      registers: [registry],
      async collect() {
        const { oldest } = await readPending().catch(() => ({ oldest: null }));
        this.set(oldest ? Math.max(0, (Date.now() - Date.parse(oldest)) / 1000) : 0);
      },
    });
    app.decorate('metrics', registry);
    // The route template, never the raw URL, so label cardinality stays bounded.
    const observe = (req: FastifyRequest, reply: FastifyReply) => http.observe(req.method, routeUrl(req) ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    // Observed when the app's log controller hears a request completed (every routed request,
    // the moment an onResponse hook would run): no hook runner per request.
    const controller = opts.logController;
    controller.onCompleted = observe;
    app.addHook('onClose', async () => {
      if (controller.onCompleted === observe) controller.onCompleted = null;
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'syncline-metrics' },
);

/** Fastify's own (non-exported) symbol under which a request keeps its route's context. */
let routeContextSym: symbol | null | undefined;

/**
 * The matched route's URL template (undefined when no route matched). `request.routeOptions`
 * builds a fresh object of thirteen fields on every access; the route's config it reads `url`
 * from is reached directly here, through the request's route context, when this Fastify has one
 * (else through `routeOptions`, as before).
 */
export function routeUrl(req: FastifyRequest): string | undefined {
  if (routeContextSym === undefined) routeContextSym = Object.getOwnPropertySymbols(req).find((s) => s.description === 'fastify.context') ?? null;
  if (routeContextSym !== null) {
    const context = (req as unknown as Record<symbol, { config?: { url?: unknown } } | undefined>)[routeContextSym];
    if (context && typeof context === 'object') {
      const url = context.config?.url;
      return typeof url === 'string' ? url : undefined;
    }
  }
  return req.routeOptions.url;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Series {
  labels: { method: string; route: string; status: string };
  statusCode: number;
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * `syncline_http_request_duration_seconds` (histogram) and `syncline_http_requests_total`
 * (counter): the same names, labels, buckets and exposition as prom-client's Histogram and
 * Counter (custom metrics: an object with `get()`, which the registry formats).
 */
export class HttpRequestMetrics {
  /** Every series, in the order first observed (the exposition's order, as prom-client's). */
  private readonly series: Series[] = [];
  /**
   * The series of each route template, found by a scan comparing method and status: no label
   * key string is built (and hashed) per request; a route has a handful of (method, status) pairs.
   */
  private readonly byRoute = new Map<string, Series[]>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let list = this.byRoute.get(route);
    if (!list) this.byRoute.set(route, (list = []));
    let s: Series | undefined;
    for (let j = 0; j < list.length; j++) {
      const c = list[j]!;
      if (c.statusCode === status && c.labels.method === method) {
        s = c;
        break;
      }
    }
    if (!s) {
      s = { labels: { method, route, status: String(status) }, statusCode: status, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      list.push(s);
      this.series.push(s);
    }
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    s.buckets[i]! += 1;
    s.sum += seconds;
    s.count += 1;
  }

  histogram(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; get(): Promise<object> } {
    const name = 'syncline_http_request_duration_seconds';
    const help = 'HTTP request duration by route and status';
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => {
        const values: MetricValue[] = [];
        for (const s of this.series) {
          let acc = 0;
          DURATION_BUCKETS.forEach((le, i) => {
            acc += s.buckets[i]!;
            values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: `${name}_bucket` });
          });
          values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${name}_bucket` });
          values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum` });
          values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count` });
        }
        return { name, help, type: 'histogram', values, aggregator: 'sum' };
      },
    };
  }

  counter(): { name: string; help: string; type: 'counter'; aggregator: 'sum'; get(): Promise<object> } {
    const name = 'syncline_http_requests_total';
    const help = 'HTTP requests by route and status';
    return {
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name, help, type: 'counter', aggregator: 'sum', values: this.series.map((s) => ({ labels: { ...s.labels }, value: s.count })) }),
    };
  }
}
