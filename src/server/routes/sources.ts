import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { removeMirror } from '../../git/mirror-cache.js';
import { assertOutboundUrlAllowed } from '../../security/url-guard.js';
import { createSource, deleteSource, getSourceRow, listSourceRows, toSource, updateSource } from '../../store/sources.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import {
  source,
  sourceCheckBody,
  sourceCheckResult,
  sourceCreateBody,
  sourceList,
  sourceParams,
  sourcePatchBody,
} from '../../contracts/sources.js';
import { checkSource } from '../../sync/check-source.js';
import { recordMirrorOnDisk } from '../../mirror/sync.js';
import { mirrorsChanged } from '../../mirror/copies.js';
import { guardOptions } from '../../sync/remote.js';

export const sourceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { settings, box } = app.ctx;
  const db = app.ctx.db.db;
  // With runtime sync off (air-gapped) a host that does not resolve here is fine: upstream is never contacted.
  const guard = (url: string) =>
    assertOutboundUrlAllowed(url, { ...guardOptions(settings, app.ctx.resolver), allowUnresolved: !settings.mirror_runtime_sync });
  const view = (row: Parameters<typeof toSource>[0]) => toSource(row, settings.public_url);
  const tags = ['sources'];
  const admin = app.requireRole('admin', { unscoped: true });

  app.post(
    '/',
    { onRequest: admin, schema: { tags, body: sourceCreateBody, response: { 201: source, 409: errorBody, ...errorResponses } } },
    async (req, reply) => {
      const parsed = await guard(req.body.url);
      if (req.body.api_url) await guard(req.body.api_url);
      const row = await createSource(db, box, { ...req.body, url: parsed.url }, req.principal!.name);
      // A mirror already on disk (baked) is served and reported present at once, without a restart.
      await recordMirrorOnDisk(app.ctx, row);
      // Every replica makes its own copy now (NOTIFY), not at its next tick.
      await mirrorsChanged(app.ctx, row.name);
      return reply.status(201).send(view(await getSourceRow(db, row.name)));
    },
  );

  app.get('/', { onRequest: app.requireRole('viewer'), schema: { tags, response: { 200: sourceList, ...errorResponses } } }, async () => ({
    items: (await listSourceRows(db)).map(view),
  }));

  app.get(
    '/:name',
    { onRequest: app.requireRole('viewer'), schema: { tags, params: sourceParams, response: { 200: source, ...errorResponses } } },
    async (req) => view(await getSourceRow(db, req.params.name)),
  );

  app.patch(
    '/:name',
    {
      onRequest: admin,
      schema: { tags, params: sourceParams, body: sourcePatchBody, response: { 200: source, 409: errorBody, ...errorResponses } },
    },
    async (req) => {
      const body = { ...req.body };
      if (body.url !== undefined) body.url = (await guard(body.url)).url;
      if (body.api_url) await guard(body.api_url);
      const before = await getSourceRow(db, req.params.name);
      const row = await updateSource(db, box, req.params.name, body, req.principal!.name);
      // Cached GitHub App tokens (every replica) are minted again from the new credentials.
      if (before.auth_type === 'github_app' || row.auth_type === 'github_app') app.ctx.cache.invalidate('github_app', '*');
      await recordMirrorOnDisk(app.ctx, row);
      await mirrorsChanged(app.ctx, row.name);
      return view(await getSourceRow(db, row.name));
    },
  );

  app.delete(
    '/:name',
    { onRequest: admin, schema: { tags, params: sourceParams, response: { 204: z.null(), 409: errorBody, ...errorResponses } } },
    async (req, reply) => {
      const gone = await getSourceRow(db, req.params.name);
      await deleteSource(db, req.params.name, req.principal!.name);
      if (gone.auth_type === 'github_app') app.ctx.cache.invalidate('github_app', '*');
      // Its mirror goes too: a later source of the same name (another repository, maybe public)
      // must never be served this one's content.
      await removeMirror(req.params.name, { mirrorsDir: settings.mirror_dir }).catch((err: Error) =>
        req.log.warn({ source: req.params.name, err: { message: err.message } }, 'could not remove the mirror of a deleted source'),
      );
      // The other replicas remove their copies now (NOTIFY), or at their next tick at the latest.
      await mirrorsChanged(app.ctx, req.params.name);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/:name/check',
    {
      onRequest: admin,
      schema: { tags, params: sourceParams, body: sourceCheckBody.nullish(), response: { 200: sourceCheckResult, 502: errorBody, ...errorResponses } },
    },
    async (req) => {
      const row = await getSourceRow(db, req.params.name);
      return checkSource(app.ctx, row, req.body?.ref);
    },
  );
};
