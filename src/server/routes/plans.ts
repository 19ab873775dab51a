import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../errors.js';
import { getNamespaceRow } from '../../store/namespaces.js';
import { getPlan, listPlans } from '../../sync/plans.js';
import { canSee } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';
import { planListQuery, planParams, storedPlan, storedPlanList } from '../../contracts/plans.js';

/** `GET /namespaces/{ns}/plans` (stored plans, newest first). */
export const namespacePlanRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:ns/plans',
    {
      onRequest: app.requireRole('viewer', { namespaceParam: 'ns' }),
      schema: { tags: ['plans'], params: nsParams, querystring: planListQuery, response: { 200: storedPlanList, ...errorResponses } },
    },
    async (req) => {
      await getNamespaceRow(app.ctx.db.db, req.params.ns);
      return { items: await listPlans(app.ctx.db.db, req.params.ns, req.query.limit) };
    },
  );
};

/** `GET /plans/{id}`. */
export const planRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id',
    { onRequest: app.requireRole('viewer'), schema: { tags: ['plans'], params: planParams, response: { 200: storedPlan, ...errorResponses } } },
    async (req) => {
      const p = await getPlan(app.ctx.db.db, req.params.id);
      // A plan of a namespace outside the token's scope is as unknown as a missing one.
      if (!p || !canSee(req.principal!, p.namespace)) throw new NotFoundError(`Plan '${req.params.id}' not found`);
      return p;
    },
  );
};
