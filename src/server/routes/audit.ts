import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listAudit } from '../../store/audit.js';
import { auditList, auditQuery } from '../../contracts/audit.js';
import { errorResponses } from '../../contracts/errors.js';

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      onRequest: app.requireRole('admin', { unscoped: true }),
      schema: { tags: ['audit'], querystring: auditQuery, response: { 200: auditList, ...errorResponses } },
    },
    async (req) => ({ items: await listAudit(app.ctx.db.db, req.query) }),
  );
};
