import { sql } from 'kysely';
import type { Executor } from './audit.js';
import type { DatabaseHandle } from './db.js';
import { nowIso } from './json.js';
import type { MirrorCopiesTable } from './types.js';

/** The PostgreSQL NOTIFY channel (per schema) that wakes every replica's mirror scheduler. */
export const MIRRORS_CHANNEL = 'syncline_mirrors';

export type CopyRow = MirrorCopiesTable;
export type CopyState = Partial<Pick<CopyRow, 'status' | 'head_commit' | 'last_synced' | 'last_error' | 'last_error_code'>>;

/** Records (part of) one replica's copy state; a first record without `status` is `pending`. */
export async function upsertCopy(db: Executor, replica: string, source: string, state: CopyState): Promise<void> {
  const now = nowIso();
  await db
    .insertInto('mirror_copies')
    .values({
      replica,
      source,
      status: state.status ?? 'pending',
      head_commit: state.head_commit ?? null,
      last_synced: state.last_synced ?? null,
      last_error: state.last_error ?? null,
      last_error_code: state.last_error_code ?? null,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['replica', 'source']).doUpdateSet({ ...state, updated_at: now }))
    .execute();
}

export async function getCopy(db: Executor, replica: string, source: string): Promise<CopyRow | null> {
  return (await db.selectFrom('mirror_copies').selectAll().where('replica', '=', replica).where('source', '=', source).executeTakeFirst()) ?? null;
}

/** Copies of the given replicas (all replicas when `replicas` is undefined). */
export async function listCopies(db: Executor, replicas?: string[]): Promise<CopyRow[]> {
  let q = db.selectFrom('mirror_copies').selectAll();
  if (replicas) {
    if (replicas.length === 0) return [];
    q = q.where('replica', 'in', replicas);
  }
  return q.orderBy('source').orderBy('replica').execute();
}

export async function deleteCopy(db: Executor, replica: string, source: string): Promise<void> {
  await db.deleteFrom('mirror_copies').where('replica', '=', replica).where('source', '=', source).execute();
}

/**
 * Tells every replica that the set of mirrors changed (a source created, edited or deleted).
 * Call after the change committed. PostgreSQL: NOTIFY; SQLite (one process): nothing (the
 * caller also wakes its own scheduler in-process).
 */
export async function notifyMirrors(handle: Pick<DatabaseHandle, 'dialect' | 'db'>, payload = ''): Promise<void> {
  if (handle.dialect !== 'postgres') return;
  await sql`select pg_notify(${MIRRORS_CHANNEL} || '_' || current_schema(), ${payload})`.execute(handle.db);
}
