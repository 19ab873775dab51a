import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../contracts/errors.js';
import {
  subscriptionCreateBody,
  subscriptionCreated,
  subscriptionDeliveryList,
  subscriptionList,
  subscriptionParams,
} from '../../contracts/subscriptions.js';
import { SynclineError } from '../../errors.js';
import { assertOutboundUrlAllowed } from '../../security/url-guard.js';
import { registerSecret } from '../../security/redact.js';
import { createSubscription, deleteSubscription, listDeliveries, listSubscriptions } from '../../store/subscriptions.js';

/** Outbound webhook subscriptions (admin). The secret is in the 201 answer only. */
export const subscriptionRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin', { unscoped: true });
  const db = app.ctx.db.db;

  app.post(
    '/',
    { onRequest: admin, schema: { tags: ['events'], body: subscriptionCreateBody, response: { 201: subscriptionCreated, ...errorResponses } } },
    async (req, reply) => {
      if (!/^https?:\/\//i.test(req.body.url)) throw new SynclineError('invalid_url', 'A webhook URL must be http:// or https://', { field: 'url' });
      await assertOutboundUrlAllowed(req.body.url, { allowedHosts: app.ctx.settings.allowed_hosts, allowFileSources: false, lookup: app.ctx.resolver });
      if (req.body.secret) registerSecret(req.body.secret);
      const { subscription, secret } = await db.transaction().execute((tx) => createSubscription(tx, app.ctx.box, req.body, req.principal!.name));
      registerSecret(secret);
      return reply.status(201).send({ ...subscription, secret });
    },
  );

  app.get('/', { onRequest: admin, schema: { tags: ['events'], response: { 200: subscriptionList, ...errorResponses } } }, async () => ({
    items: await listSubscriptions(db),
  }));

  app.delete(
    '/:id',
    { onRequest: admin, schema: { tags: ['events'], params: subscriptionParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await db.transaction().execute((tx) => deleteSubscription(tx, req.params.id, req.principal!.name));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/:id/deliveries',
    { onRequest: admin, schema: { tags: ['events'], params: subscriptionParams, response: { 200: subscriptionDeliveryList, ...errorResponses } } },
    async (req) => ({ items: await listDeliveries(db, req.params.id) }),
  );
};
