import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deleteNamespace, getNamespace, listNamespaces, putNamespace } from '../../store/namespaces.js';
import { isUnscoped } from '../../security/roles.js';
import { canSee } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';
import { namespace, namespaceList, namespaceParams, namespacePutBody, namespaceResumeBody } from '../../contracts/namespaces.js';
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
      await putNamespace(db, req.params.ns, req.body, req.principal!.name, {
        mayBindAnySource: isUnscoped(req.principal!.namespaces),
      });
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

  // Minimal PATCH (issue 9): only `{"auto_sync_paused": null}`, resuming auto-sync after a
  // rollback. Issue 11's general PATCH replaces this route and keeps the field.
  app.patch(
    '/:ns',
    {
      onRequest: app.requireRole('admin', scoped),
      schema: { tags, params: namespaceParams, body: namespaceResumeBody, response: { 200: namespace, ...errorResponses } },
    },
    async (req) => {
      await resumeAutoSync(db, req.params.ns, req.principal!.name);
      return getNamespace(db, req.params.ns);
    },
  );

  app.delete(
    '/:ns',
    { onRequest: app.requireRole('admin', scoped), schema: { tags, params: namespaceParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await deleteNamespace(db, req.params.ns, req.principal!.name);
      return reply.status(204).send(null);
    },
  );
};
