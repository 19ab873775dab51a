import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { outboxPending } from '../store/outbox.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/** Prometheus metrics on a per-app registry (tests build many apps in one process). */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'syncline_' });
    const duration = new Histogram({
      name: 'syncline_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const requests = new Counter({
      name: 'syncline_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    });
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
    // One labelled child per (method, route, status), kept: no label hashing per request.
    const children = new Map<string, { observe(v: number): void; inc(): void }>();
    app.addHook('onResponse', (req, reply, done) => {
      // The route template, never the raw URL, so label cardinality stays bounded.
      const route = req.routeOptions.url ?? 'unmatched';
      const key = `${req.method} ${reply.statusCode} ${route}`;
      let child = children.get(key);
      if (!child) {
        const labels = { method: req.method, route, status: String(reply.statusCode) };
        const d = duration.labels(labels);
        const c = requests.labels(labels);
        child = { observe: (v) => d.observe(v), inc: () => c.inc() };
        children.set(key, child);
      }
      child.observe(reply.elapsedTime / 1000);
      child.inc();
      done();
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'syncline-metrics' },
);
