import { ensureMirror, lastFetchedAt, maintainMirror, mirrorPath, openMirror } from '../git/mirror-cache.js';
import type { MirrorSyncSummary as ContractSummary } from '../contracts/mirrors.js';
import { SynclineError } from '../errors.js';
import { redact } from '../security/redact.js';
import type { AppContext } from '../app-context.js';
import { nowIso } from '../store/json.js';
import { LockTimeoutError, withLock } from '../store/locks.js';
import { getCopy } from '../store/mirror-copies.js';
import { listSourceRows, mirrorSlug, type SourceRow } from '../store/sources.js';
import { recordCopy, stampCopy } from './copies.js';
import { connectSource } from '../sync/remote.js';
import { gitTimeouts } from '../sync/settings.js';

export interface MirrorSyncOutcome {
  slug: string;
  source: string;
  status: 'updated' | 'unchanged' | 'skipped' | 'error';
  error?: string;
  /** For an error: whether trying again later can help (false: stalled until the source changes). */
  retryable?: boolean;
}

const MAX_ERROR_CHARS = 2000;

export function truncateError(message: string): string {
  const clean = redact(message);
  return clean.length > MAX_ERROR_CHARS ? `${clean.slice(0, MAX_ERROR_CHARS)}…` : clean;
}

/**
 * The lock one copy's sync holds: per replica (a process of another replica never waits for it;
 * another process on the same data dir — a CLI in local mode — does).
 */
export function mirrorLockKey(replicaId: string, name: string): string {
  return `mirror:${replicaId}:${name}`;
}

/**
 * Fetches THIS replica's copy of one source's mirror. One sync per copy at a time (the lock is
 * per replica: every replica keeps its own copy fresh, whatever the others do): a sync that finds
 * one running reports `skipped`. The outcome is recorded as this replica's copy state (errors
 * redacted, truncated; the last good copy keeps being served); a copy that moved puts a
 * `syncline.mirror.updated` event in the outbox.
 */
export async function syncMirror(ctx: AppContext, row: SourceRow): Promise<MirrorSyncOutcome> {
  const slug = mirrorSlug(row);
  const base = { slug, source: row.name };
  try {
    return await withLock(ctx.db, mirrorLockKey(ctx.replicaId, row.name), 0, async () => {
      // The row may be from before a delete (a round lists sources, then works through them):
      // never (re)create a copy of a source that is gone, re-created or no longer mirrored.
      const current = await ctx.db.db.selectFrom('sources').select(['created_at', 'mirror_enabled']).where('name', '=', row.name).executeTakeFirst();
      if (!current || current.created_at !== row.created_at || current.mirror_enabled !== 1) return { ...base, status: 'skipped' } as const;
      try {
        const remote = await connectSource(ctx, row);
        const result = await ensureMirror(
          { name: row.name, ...remote },
          { mirrorsDir: ctx.settings.mirror_dir, timeouts: gitTimeouts(ctx.settings), keepMs: ctx.settings.mirror_keep_minutes * 60_000 },
        );
        // Bitmaps and commit-graph for the refs as they are now, whoever moved them (this fetch or
        // a sync's): the reachability check of every mirror request reads them. Best-effort:
        // without fresh bitmaps the check is slower, never wrong; the next sync tries again.
        await maintainMirror(result.dir).catch(() => undefined);
        await stampCopy(result.dir, row);
        await recordCopy(
          ctx,
          row,
          {
            status: 'ready',
            head_commit: result.headCommit ?? null,
            default_branch: result.defaultBranch ?? null,
            last_synced: nowIso(),
            last_error: null,
            last_error_code: null,
          },
          result.updated,
        );
        return { ...base, status: result.updated ? 'updated' : 'unchanged' } as const;
      } catch (err) {
        const message = truncateError((err as Error).message);
        // Unknown failures count as retryable: only a domain error can say trying again is futile.
        const code = err instanceof SynclineError ? err.code : 'internal';
        const retryable = err instanceof SynclineError ? err.retryable : true;
        const present = await openMirror(row.name, { mirrorsDir: ctx.settings.mirror_dir });
        await recordCopy(ctx, row, { status: present ? 'ready' : 'error', last_error: message, last_error_code: code });
        return { ...base, status: 'error', error: message, retryable } as const;
      }
    });
  } catch (err) {
    if (err instanceof LockTimeoutError) return { ...base, status: 'skipped' };
    throw err;
  }
}

export type MirrorSyncSummary = Required<ContractSummary>;

export async function syncMirrors(ctx: AppContext, rows: SourceRow[]): Promise<MirrorSyncSummary> {
  const summary: MirrorSyncSummary = { repos_processed: 0, repos_updated: 0, errors: [], skipped: [] };
  for (const row of rows) {
    const outcome = await syncMirror(ctx, row);
    if (outcome.status === 'skipped') {
      summary.skipped.push(outcome.slug);
      continue;
    }
    summary.repos_processed += 1;
    if (outcome.status === 'updated') summary.repos_updated += 1;
    if (outcome.status === 'error') summary.errors.push({ slug: outcome.slug, error: outcome.error ?? 'unknown error' });
  }
  return summary;
}

/**
 * At startup, records what is already on disk (e.g. a baked mirror dir): complete mirrors are
 * `ready` with their head commit, without contacting upstream.
 */
export async function recordMirrorsOnDisk(ctx: AppContext): Promise<void> {
  for (const row of await listSourceRows(ctx.db.db)) await recordMirrorOnDisk(ctx, row);
}

/**
 * The same for one source — also run when a source is registered or changed after start, so a
 * mirror dropped on disk (baked) is served and reported present without a restart.
 */
export async function recordMirrorOnDisk(ctx: AppContext, row: SourceRow): Promise<void> {
  if (row.mirror_enabled !== 1) return;
  const info = await openMirror(row.name, { mirrorsDir: ctx.settings.mirror_dir });
  if (info) {
    await stampCopy(info.dir, row);
    const fetched = await lastFetchedAt(row.name, { mirrorsDir: ctx.settings.mirror_dir });
    await recordCopy(ctx, row, {
      status: 'ready',
      head_commit: info.headCommit ?? null,
      default_branch: info.defaultBranch ?? row.default_branch,
      ...(fetched ? { last_synced: fetched.toISOString() } : {}),
    });
  } else if (row.mirror_status === 'ready' || (await getCopy(ctx.db.db, ctx.replicaId, row.name))?.status === 'ready') {
    await recordCopy(ctx, row, { status: 'pending', head_commit: null });
  }
}

/** Where a source's mirror lives on disk. */
export function mirrorDirFor(ctx: AppContext, row: Pick<SourceRow, 'name'>): string {
  return mirrorPath(ctx.settings.mirror_dir, row.name);
}
