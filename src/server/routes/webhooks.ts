import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import type { JobView } from '../../jobs/queue.js';
import { getDelivery, listDeliveries, receiveDelivery, redeliver, type DeliveryView } from '../../webhooks/ingest.js';
import { errorResponses } from '../../contracts/errors.js';
import { deliveryAccepted, delivery, deliveryList, deliveryParams, deliveryQuery, webhookProviderParams } from '../../contracts/webhooks.js';

/** Forge deliveries can be large (GitHub caps payloads at 25 MiB). */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const jobView = ({ key: _k, ...j }: JobView) => j;
const view = (d: DeliveryView) => ({ ...d, jobs: d.jobs.map(jobView) });

/**
 * `POST /webhooks/{github,gitea,gitlab}` (no bearer: the signature authenticates) and the
 * deliveries API (admin). The body is kept raw so the signature is checked on the exact bytes.
 */
export const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  const tags = ['webhooks'];
  const admin = app.requireRole('admin', { unscoped: true });
  const deliveries =
    (app.metrics.getSingleMetric('syncline_webhook_deliveries_total') as Counter<'provider' | 'status'> | undefined) ??
    new Counter({
      name: 'syncline_webhook_deliveries_total',
      help: 'Webhook deliveries by provider and outcome',
      labelNames: ['provider', 'status'] as const,
      registers: [app.metrics],
    });

  await app.register(async (receiver) => {
    receiver.removeAllContentTypeParsers();
    receiver.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    receiver.post(
      '/:provider',
      { bodyLimit: WEBHOOK_BODY_LIMIT, schema: { tags, params: webhookProviderParams, security: [], hide: false } },
      async (req, reply) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const { provider } = req.params as { provider: 'github' | 'gitea' | 'gitlab' };
        let out;
        try {
          out = await receiveDelivery(ctx, provider, req.headers, raw, (p, s) => deliveries.inc({ provider: p, status: s }), req.headers['content-type']);
        } catch (err) {
          deliveries.inc({ provider, status: (err as { statusCode?: number }).statusCode === 401 ? 'unauthorized' : 'rejected' });
          throw err;
        }
        switch (out.kind) {
          case 'ping':
            deliveries.inc({ provider, status: 'ping' });
            return reply.status(200).send({ ok: true, ping: true });
          case 'unhandled':
            deliveries.inc({ provider, status: 'unhandled' });
            return reply.status(204).send();
          case 'duplicate':
            return reply.status(200).send({ duplicate: true, delivery: out.delivery });
          case 'queued':
            return reply.status(202).send({ delivery: out.delivery, queued: out.queued, ...(out.ignored ? { ignored: out.ignored } : {}) });
        }
      },
    );
  });

  app.get('/deliveries', { onRequest: admin, schema: { tags, querystring: deliveryQuery, response: { 200: deliveryList, ...errorResponses } } }, async (req) => ({
    items: (await listDeliveries(ctx, { limit: req.query.limit })).map(view),
  }));
  app.get('/deliveries/:id', { onRequest: admin, schema: { tags, params: deliveryParams, response: { 200: delivery, ...errorResponses } } }, async (req) =>
    view(await getDelivery(ctx, req.params.id)),
  );
  app.post(
    '/deliveries/:id/redeliver',
    { onRequest: admin, schema: { tags, params: deliveryParams, response: { 202: deliveryAccepted.partial().extend({ reason: deliveryAccepted.shape.ignored }), ...errorResponses } } },
    async (req, reply) => {
      const out = await redeliver(ctx, req.params.id);
      if (out.kind === 'queued') return reply.status(202).send({ delivery: out.delivery, queued: out.queued, ...(out.ignored ? { ignored: out.ignored } : {}) });
      return reply.status(202).send({ delivery: req.params.id, queued: [], ignored: out.kind === 'unhandled' ? out.reason : out.kind });
    },
  );
};
