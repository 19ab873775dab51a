import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, SynclineError } from '../../errors.js';
import { isCompleteMirror } from '../../git/mirror-cache.js';
import { mirrorDirFor, syncMirrors } from '../../mirror/sync.js';
import { findMirrorSource, listSourceRows, mirrorSlug, type SourceRow } from '../../store/sources.js';
import { listCopies, type CopyRow } from '../../store/mirror-copies.js';
import { listReplicas } from '../../cluster/registry.js';
import type { AppContext } from '../../app-context.js';
import { mirror, mirrorList, mirrorParams, mirrorSyncBody, mirrorSyncSummary, type Mirror, type MirrorCopy, type MirrorSyncState } from '../../contracts/mirrors.js';
import { ERROR_CODES, isErrorCode } from '../../contracts/error-codes.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';

/** Stalled vs waiting, from the last error's code (Flux's Stalled / Reconciling split). */
function syncState(code: string | null): MirrorSyncState {
  if (code === null) return 'ok';
  return isErrorCode(code) && !ERROR_CODES[code].retryable ? 'stalled' : 'waiting';
}

/** Ids of the live replicas (heard from recently) and this one. */
async function liveReplicaIds(ctx: AppContext): Promise<string[]> {
  const live = (await listReplicas(ctx.db, ctx.replicaId)).map((r) => r.id);
  return live.includes(ctx.replicaId) ? live : [ctx.replicaId, ...live];
}

/** The mirror as THIS replica holds it (top-level fields), plus every live replica's copy. */
async function toMirror(ctx: AppContext, row: SourceRow, replicaIds: string[], copies: CopyRow[]): Promise<Mirror> {
  const present = await isCompleteMirror(mirrorDirFor(ctx, row));
  const slug = mirrorSlug(row);
  const base = (ctx.settings.public_url ?? '').replace(/\/+$/, '');
  const byReplica = new Map(copies.filter((c) => c.source === row.name).map((c) => [c.replica, c] as const));
  const copyOf = (replica: string): MirrorCopy => {
    const self = replica === ctx.replicaId;
    const c = byReplica.get(replica);
    // Another replica's disk is not ours to look at: its copy is present when it said `ready`.
    const has = self ? present : c?.status === 'ready';
    return {
      replica,
      self,
      // No record yet (a first clone just landing on disk): pending until its replica records it.
      status: c?.status ?? 'pending',
      present: has,
      head_commit: c?.head_commit ?? null,
      last_synced: c?.last_synced ?? null,
      last_sync_error: c?.last_error ?? null,
      last_sync_error_code: c?.last_error_code ?? null,
      sync_state: syncState(c?.last_error_code ?? null),
    };
  };
  const mine = copyOf(ctx.replicaId);
  return {
    slug,
    source: row.name,
    upstream_url: row.url,
    public_url: present ? `${base}/git/${slug}.git` : null,
    access: row.mirror_access as 'token' | 'public',
    status: mine.status,
    present,
    head_commit: mine.head_commit,
    last_synced: mine.last_synced,
    last_sync_error: mine.last_sync_error,
    last_sync_error_code: mine.last_sync_error_code,
    sync_state: mine.sync_state,
    replica: ctx.replicaId,
    replicas: replicaIds.map(copyOf),
  };
}

async function toMirrors(ctx: AppContext, rows: SourceRow[]): Promise<Mirror[]> {
  const ids = await liveReplicaIds(ctx);
  const copies = await listCopies(ctx.db.db, ids);
  return Promise.all(rows.map((r) => toMirror(ctx, r, ids, copies)));
}

export const mirrorRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  const tags = ['mirrors'];

  app.get('/', { onRequest: app.requireRole('viewer'), schema: { tags, response: { 200: mirrorList, ...errorResponses } } }, async () => {
    const rows = (await listSourceRows(ctx.db.db)).filter((r) => r.mirror_enabled === 1);
    return { items: await toMirrors(ctx, rows) };
  });

  app.get(
    '/:slug',
    { onRequest: app.requireRole('viewer'), schema: { tags, params: mirrorParams, response: { 200: mirror, ...errorResponses } } },
    async (req) => {
      const row = await findMirrorSource(ctx.db.db, req.params.slug);
      if (!row) throw new NotFoundError(`Mirror '${req.params.slug}' not found`);
      return (await toMirrors(ctx, [row]))[0]!;
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
