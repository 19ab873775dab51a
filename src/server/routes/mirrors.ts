import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, SynclineError } from '../../errors.js';
import { isCompleteMirror } from '../../git/mirror-cache.js';
import { mirrorDirFor, syncMirrors } from '../../mirror/sync.js';
import { findMirrorSource, listSourceRows, mirrorSlug, toSource, type SourceRow } from '../../store/sources.js';
import type { AppContext } from '../../app-context.js';
import { mirror, mirrorList, mirrorParams, mirrorSyncBody, mirrorSyncSummary, type Mirror, type MirrorSyncState } from '../../contracts/mirrors.js';
import { ERROR_CODES, errorBody, errorResponses, isErrorCode } from '../../contracts/errors.js';

/** Stalled vs waiting, from the last error's code (Flux's Stalled / Reconciling split). */
function syncState(code: string | null): MirrorSyncState {
  if (code === null) return 'ok';
  return isErrorCode(code) && !ERROR_CODES[code].retryable ? 'stalled' : 'waiting';
}

async function toMirror(ctx: AppContext, row: SourceRow): Promise<Mirror> {
  const present = await isCompleteMirror(mirrorDirFor(ctx, row));
  const src = toSource(row, ctx.settings.public_url);
  return {
    slug: mirrorSlug(row),
    source: row.name,
    upstream_url: row.url,
    public_url: present ? src.mirror.url : null,
    access: row.mirror_access as 'token' | 'public',
    status: row.mirror_status,
    present,
    head_commit: row.mirror_head_commit,
    last_synced: row.mirror_last_synced,
    last_sync_error: row.mirror_last_error,
    last_sync_error_code: row.mirror_last_error_code,
    sync_state: syncState(row.mirror_last_error_code),
  };
}

export const mirrorRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  const tags = ['mirrors'];

  app.get('/', { onRequest: app.requireRole('viewer'), schema: { tags, response: { 200: mirrorList, ...errorResponses } } }, async () => {
    const rows = (await listSourceRows(ctx.db.db)).filter((r) => r.mirror_enabled === 1);
    return { items: await Promise.all(rows.map((r) => toMirror(ctx, r))) };
  });

  app.get(
    '/:slug',
    { onRequest: app.requireRole('viewer'), schema: { tags, params: mirrorParams, response: { 200: mirror, ...errorResponses } } },
    async (req) => {
      const row = await findMirrorSource(ctx.db.db, req.params.slug);
      if (!row) throw new NotFoundError(`Mirror '${req.params.slug}' not found`);
      return toMirror(ctx, row);
    },
  );

  app.post(
    '/sync',
    {
      onRequest: app.requireRole('admin', { unscoped: true }),
      schema: { tags, body: mirrorSyncBody.nullish(), response: { 202: mirrorSyncSummary, 409: errorBody, ...errorResponses } },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      if (!ctx.settings.mirror_runtime_sync && !body.allow_runtime_sync) {
        throw new SynclineError(
          'runtime_sync_disabled',
          'Runtime mirror sync is disabled (SYNCLINE_MIRROR_RUNTIME_SYNC=false); pass "allow_runtime_sync": true to contact upstream anyway',
        );
      }
      let rows = (await listSourceRows(ctx.db.db)).filter((r) => r.mirror_enabled === 1);
      if (body.slug) {
        rows = rows.filter((r) => mirrorSlug(r) === body.slug);
        if (!rows.length) throw new NotFoundError(`Mirror '${body.slug}' not found`);
      }
      const summary = await syncMirrors(ctx, rows);
      return reply.status(202).send(summary);
    },
  );
};
