import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { clusterStatus } from '../../contracts/cluster.js';
import { errorResponses } from '../../contracts/errors.js';
import { listReplicas } from '../../cluster/registry.js';

/** `GET /cluster` (admin): the replicas heart-beating into this database and the singletons each holds. */
export const clusterRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    { onRequest: app.requireRole('admin', { unscoped: true }), schema: { tags: ['operations'], response: { 200: clusterStatus, ...errorResponses } } },
    async () => ({ replicas: await listReplicas(app.ctx.db, app.ctx.cluster?.id ?? null) }),
  );
};
