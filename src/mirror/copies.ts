/**
 * This replica's copies of the mirrors. The database says which mirrors exist (`sources` rows
 * with the mirror enabled); every replica keeps its own copy on its own disk and records its
 * state in `mirror_copies` (keyed by replica id), which is what `GET /mirrors` reports.
 *
 * A copy carries a stamp (`syncline-source`: the source's `created_at`) naming the source it was
 * made for, so a replica can tell, without any message, that a copy's source was deleted (no row)
 * or deleted and re-created under the same name (another `created_at`): such copies are removed.
 * A directory without a stamp and without a source (a baked mirror waiting for its source to be
 * registered) is left alone.
 */
import { EventEmitter } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../app-context.js';
import { SOURCE_NAME_RE } from '../contracts/common.js';
import { outboxCommitted, recordEvent } from '../events/outbox.js';
import { isCompleteMirror, mirrorPath, removeMirror } from '../git/mirror-cache.js';
import { deleteCopy, getCopy, listCopies, notifyMirrors, upsertCopy, type CopyState } from '../store/mirror-copies.js';
import { listSourceRows, mirrorSlug, setMirrorState, type SourceRow } from '../store/sources.js';

const STAMP = 'syncline-source';

const signals = new WeakMap<object, EventEmitter>();

/** In-process wake-up of the mirror scheduler of the app on this database handle (other replicas get a NOTIFY). */
export function mirrorsSignal(db: AppContext['db']): EventEmitter {
  let s = signals.get(db);
  if (!s) {
    s = new EventEmitter();
    s.setMaxListeners(0);
    signals.set(db, s);
  }
  return s;
}

/** After a source was created, edited or deleted (committed): every replica reconciles now. */
export async function mirrorsChanged(ctx: Pick<AppContext, 'db'>, source: string): Promise<void> {
  mirrorsSignal(ctx.db).emit('wake');
  await notifyMirrors(ctx.db, source).catch(() => undefined);
}

async function readStamp(dir: string): Promise<string | null> {
  try {
    return (await readFile(path.join(dir, STAMP), 'utf8')).trim();
  } catch {
    return null;
  }
}

/** Marks the copy in `dir` as made for this source (no write when it already says so). */
export async function stampCopy(dir: string, row: Pick<SourceRow, 'created_at'>): Promise<void> {
  if ((await readStamp(dir)) === row.created_at) return;
  await writeFile(path.join(dir, STAMP), `${row.created_at}\n`).catch(() => undefined);
}

/**
 * Records this replica's copy state (and, for compatibility, the source row's mirror columns,
 * which say what the last replica to touch the mirror saw). When `moved` is given and the mirror
 * is enabled, a `syncline.mirror.updated` event for this replica's copy goes to the outbox in the
 * same transaction.
 */
export async function recordCopy(
  ctx: AppContext,
  row: SourceRow,
  state: CopyState & { default_branch?: string | null },
  moved?: boolean,
): Promise<void> {
  const { default_branch, ...copy } = state;
  let evented = false;
  await ctx.db.db.transaction().execute(async (tx) => {
    const before = moved && row.mirror_enabled === 1 ? await getCopy(tx, ctx.replicaId, row.name) : null;
    await upsertCopy(tx, ctx.replicaId, row.name, copy);
    await setMirrorState(tx, row.name, {
      ...(copy.status !== undefined ? { mirror_status: copy.status } : {}),
      ...(copy.head_commit !== undefined ? { mirror_head_commit: copy.head_commit } : {}),
      ...(copy.last_synced !== undefined ? { mirror_last_synced: copy.last_synced } : {}),
      ...(copy.last_error !== undefined ? { mirror_last_error: copy.last_error } : {}),
      ...(copy.last_error_code !== undefined ? { mirror_last_error_code: copy.last_error_code } : {}),
      ...(default_branch !== undefined ? { default_branch } : {}),
    });
    if (moved && row.mirror_enabled === 1) {
      const slug = mirrorSlug(row);
      const base = (ctx.settings.public_url ?? '').replace(/\/+$/, '');
      await recordEvent(tx, ctx, {
        type: 'syncline.mirror.updated',
        namespace: null,
        data: {
          slug,
          source: row.name,
          replica: ctx.replicaId,
          head_commit: copy.head_commit ?? null,
          previous_head_commit: before?.head_commit ?? null,
          url: `${base}/git/${slug}.git`,
        },
      });
      evented = true;
    }
  });
  if (evented) outboxCommitted();
}

/**
 * Makes this replica's disk match the database: removes copies whose source is gone (or was
 * re-created under the same name), and forgets this replica's copy rows of sources that no
 * longer exist. Creating missing copies is the scheduler's job (a missing copy is due at once).
 * Returns the names removed.
 */
export async function reconcileCopies(ctx: AppContext, log?: { info(o: object, m: string): void; warn(o: object, m: string): void }): Promise<string[]> {
  const sources = new Map((await listSourceRows(ctx.db.db)).map((r) => [r.name, r] as const));
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = await readdir(ctx.settings.mirror_dir);
  } catch {
    entries = [];
  }
  for (const entry of entries) {
    if (!entry.endsWith('.git')) continue;
    const name = entry.slice(0, -4);
    if (!SOURCE_NAME_RE.test(name)) continue;
    const dir = mirrorPath(ctx.settings.mirror_dir, name);
    const stamp = await readStamp(dir);
    const src = sources.get(name);
    if (stamp === null) {
      // Unstamped: a baked mirror (served once its source exists) or one from before stamps.
      if (src && (await isCompleteMirror(dir))) await stampCopy(dir, src);
      continue;
    }
    if (src && src.created_at === stamp) continue;
    try {
      await removeMirror(name, { mirrorsDir: ctx.settings.mirror_dir });
      await deleteCopy(ctx.db.db, ctx.replicaId, name);
      removed.push(name);
      log?.info({ mirror: name, reason: src ? 'source re-created' : 'source deleted' }, 'mirror copy removed to match the database');
    } catch (err) {
      log?.warn({ mirror: name, err: { message: (err as Error).message } }, 'could not remove a mirror copy');
    }
  }
  for (const copy of await listCopies(ctx.db.db, [ctx.replicaId])) {
    const src = sources.get(copy.source);
    if (!src || src.mirror_enabled !== 1) await deleteCopy(ctx.db.db, ctx.replicaId, copy.source);
  }
  return removed;
}
