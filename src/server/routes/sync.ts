import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { driftNamespace, planNamespace, syncNamespace } from '../../sync/service.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';
import { deployment, driftReport, refBody, syncBody } from '../../contracts/deployments.js';
import { storedPlan } from '../../contracts/plans.js';
import { storePlan } from '../../sync/plans.js';

/** Git-driven endpoints of a namespace: sync, plan, drift. */
export const syncRoutes: FastifyPluginAsyncZod = async (app) => {
  const scoped = { namespaceParam: 'ns' };
  const tags = ['sync'];
  const gitErrors = { 409: errorBody, 413: errorBody, 422: errorBody, 502: errorBody, ...errorResponses };

  app.post(
    '/:ns/sync-from-git',
    {
      onRequest: app.requireRole('deployer', scoped),
      schema: { tags, params: nsParams, body: syncBody.nullish(), response: { 200: deployment, ...gitErrors } },
    },
    async (req) =>
      syncNamespace(app.ctx, req.params.ns, req.body?.ref, req.principal!.name, req.body?.reason ? { reason: req.body.reason } : {}),
  );

  app.post(
    '/:ns/plan',
    {
      onRequest: app.requireRole('viewer', scoped),
      schema: { tags, params: nsParams, body: refBody.nullish(), response: { 200: storedPlan, ...gitErrors } },
    },
    // Stored (trigger "api") so GET /plans/{id} can show it again; the answer is the stored plan.
    async (req) => storePlan(app.ctx, await planNamespace(app.ctx, req.params.ns, req.body?.ref), 'api', null),
  );

  app.get(
    '/:ns/drift',
    { onRequest: app.requireRole('viewer', scoped), schema: { tags, params: nsParams, response: { 200: driftReport, ...gitErrors } } },
    async (req) => driftNamespace(app.ctx, req.params.ns),
  );
};
