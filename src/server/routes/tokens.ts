import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createToken, deleteToken, listTokens } from '../../store/tokens.js';
import { errorResponses } from '../../contracts/errors.js';
import { tokenCreateBody, tokenCreated, tokenList, tokenParams } from '../../contracts/tokens.js';

export const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin', { unscoped: true });
  const db = app.ctx.db.db;

  app.post(
    '/',
    { onRequest: admin, schema: { tags: ['tokens'], body: tokenCreateBody, response: { 201: tokenCreated, ...errorResponses } } },
    async (req, reply) => {
      const { info, token } = await createToken(db, req.body, req.principal!.name);
      return reply.status(201).send({ id: info.id, token, name: info.name, role: info.role, namespaces: info.namespaces });
    },
  );

  app.get('/', { onRequest: admin, schema: { tags: ['tokens'], response: { 200: tokenList, ...errorResponses } } }, async () => ({
    items: await listTokens(db),
  }));

  app.delete(
    '/:id',
    { onRequest: admin, schema: { tags: ['tokens'], params: tokenParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await deleteToken(db, req.params.id, req.principal!.name);
      // Cached lookups of it are dropped before the 204 (other replicas: through the bus's forwarders).
      app.ctx.cache.invalidate('token', req.params.id);
      // Its open watch/event streams end now (other replicas: within a second, by their sweep).
      app.streams.revoke(req.params.id);
      return reply.status(204).send(null);
    },
  );
};
