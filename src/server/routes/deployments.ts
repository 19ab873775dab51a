import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getDeployment, listDeployments } from '../../store/deployments.js';
import { getNamespaceRow } from '../../store/namespaces.js';
import { authorize } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';
import { deployment, deploymentList, deploymentParams } from '../../contracts/deployments.js';

export const namespaceDeploymentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:ns/deployments',
    {
      onRequest: app.requireRole('viewer', { namespaceParam: 'ns' }),
      schema: {
        tags: ['deployments'],
        params: nsParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
        response: { 200: deploymentList, ...errorResponses },
      },
    },
    async (req) => {
      await getNamespaceRow(app.ctx.db.db, req.params.ns);
      return { items: await listDeployments(app.ctx.db.db, req.params.ns, req.query.limit) };
    },
  );
};

export const deploymentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id',
    {
      onRequest: app.requireRole('viewer'),
      schema: { tags: ['deployments'], params: deploymentParams, response: { 200: deployment, ...errorResponses } },
    },
    async (req) => {
      const d = await getDeployment(app.ctx.db.db, req.params.id);
      authorize(req.principal!, 'viewer', d.namespace);
      return d;
    },
  );
};
