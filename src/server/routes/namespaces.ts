import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deleteNamespace, getNamespace, getNamespaceRow, listNamespaces, patchNamespace, putNamespace } from '../../store/namespaces.js';
import { isUnscoped } from '../../security/roles.js';
import { resolveNamespaceBranch } from '../../sync/namespace-branch.js';
import { canSee } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';
import { namespace, namespaceList, namespaceParams, namespacePatchBody, namespacePutBody } from '../../contracts/namespaces.js';
import { resumeAutoSync } from '../../sync/auto-sync.js';

export const namespaceRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.ctx.db.db;
  const tags = ['namespaces'];
  const scoped = { namespaceParam: 'ns' };

  app.put(
    '/:ns',
    {
      onRequest: app.requireRole('admin', scoped),
      schema: { tags, params: namespaceParams, body: namespacePutBody, response: { 200: namespace, ...errorResponses } },
    },
    async (req) => {
      const body = { ...req.body };
      if (body.source) body.branch = await resolveNamespaceBranch(app.ctx, body.source, body.branch);
      await putNamespace(db, req.params.ns, body, req.principal!.name, { mayBindAnySource: isUnscoped(req.principal!.namespaces) });
      return getNamespace(db, req.params.ns);
    },
  );

  app.patch(
    '/:ns',
    {
      onRequest: app.requireRole('admin', scoped),
      schema: { tags, params: namespaceParams, body: namespacePatchBody, response: { 200: namespace, ...errorResponses } },
    },
    async (req) => {
      const { auto_sync_paused: resume, ...body } = req.body;
      if (body.source !== undefined || body.branch !== undefined) {
        const before = await getNamespaceRow(db, req.params.ns);
        const source = body.source === undefined ? before.source : body.source;
        // A new source without a branch: its default branch, not the old source's.
        if (source) body.branch = await resolveNamespaceBranch(app.ctx, source, body.branch ?? (source === before.source ? before.branch : undefined));
      }
      const fields = Object.values(body).some((v) => v !== undefined);
      if (fields || resume === undefined) {
        await patchNamespace(db, req.params.ns, body, req.principal!.name, { mayBindAnySource: isUnscoped(req.principal!.namespaces) });
      }
      // `{"auto_sync_paused": null}` resumes auto-sync after a rollback (issue 9).
      if (resume === null) await resumeAutoSync(db, req.params.ns, req.principal!.name);
      return getNamespace(db, req.params.ns);
    },
  );

  app.get('/', { onRequest: app.requireRole('viewer'), schema: { tags, response: { 200: namespaceList, ...errorResponses } } }, async (req) => ({
    items: await listNamespaces(db, (name) => canSee(req.principal!, name)),
  }));

  app.get(
    '/:ns',
    { onRequest: app.requireRole('viewer', scoped), schema: { tags, params: namespaceParams, response: { 200: namespace, ...errorResponses } } },
    async (req) => getNamespace(db, req.params.ns),
  );

  app.delete(
    '/:ns',
    { onRequest: app.requireRole('admin', scoped), schema: { tags, params: namespaceParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      try {
        await deleteNamespace(db, req.params.ns, req.principal!.name);
      } finally {
        app.ctx.cache.invalidate('resources', req.params.ns);
      }
      return reply.status(204).send(null);
    },
  );
};
