import { sql } from 'kysely';
import type { Executor } from './audit.js';
import type { Dialect } from './migrations/index.js';
import { nowIso } from './json.js';

/** One outbox row as read back. */
export interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  namespace: string | null;
  event: string;
  watch: string | null;
  created_at: string;
  published_at: string | null;
}

/** The PostgreSQL NOTIFY channel (per schema: tests share one database, one schema each). */
export const OUTBOX_CHANNEL = 'syncline_outbox';

/**
 * Inserts one outbox row. Call it inside the transaction of the change it reports. On
 * PostgreSQL it also queues a NOTIFY, which the server delivers only when (and if) the
 * transaction commits — the wake-up for relays and SSE tails on every replica.
 */
export async function insertOutbox(
  db: Executor,
  dialect: Dialect,
  row: { id: string; type: string; namespace: string | null; event: string; watch: string | null },
): Promise<void> {
  await db.insertInto('outbox').values({ ...row, created_at: nowIso(), published_at: null }).execute();
  if (dialect === 'postgres') {
    await sql`select pg_notify(${OUTBOX_CHANNEL} || '_' || current_schema(), '')`.execute(db);
  }
}

function norm(r: OutboxRow): OutboxRow {
  return { ...r, seq: Number(r.seq) };
}

/**
 * Unpublished rows, oldest first, without `watch` (what the relay publishes is `event`; a
 * 10,000-resource deployment's `watch` is megabytes the relay read on the main thread for nothing).
 */
export async function pendingOutbox(db: Executor, limit: number): Promise<Array<Omit<OutboxRow, 'watch'>>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['seq', 'id', 'type', 'namespace', 'event', 'created_at', 'published_at'])
    .where('published_at', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Rows after `seq` (published or not), oldest first: SSE tails and `Last-Event-ID`. */
export async function outboxAfter(db: Executor, seq: number, limit: number): Promise<OutboxRow[]> {
  const rows = await db.selectFrom('outbox').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
  return rows.map(norm);
}

export async function outboxBounds(db: Executor): Promise<{ min: number | null; max: number | null }> {
  const r = await db.selectFrom('outbox').select((eb) => [eb.fn.min('seq').as('min'), eb.fn.max('seq').as('max')]).executeTakeFirst();
  return { min: r?.min == null ? null : Number(r.min), max: r?.max == null ? null : Number(r.max) };
}

export async function markPublished(db: Executor, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await db.updateTable('outbox').set({ published_at: nowIso() }).where('seq', 'in', seqs).where('published_at', 'is', null).execute();
}

/** How many rows wait to be published, and since when the oldest has. */
export async function outboxPending(db: Executor): Promise<{ count: number; oldest: string | null }> {
  const r = await db
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('published_at', 'is', null)
    .executeTakeFirst();
  return { count: Number(r?.n ?? 0), oldest: (r?.oldest as string | null | undefined) ?? null };
}

/** Deletes published rows created before `before` (ISO time). Unpublished rows are never pruned. */
export async function pruneOutbox(db: Executor, before: string): Promise<number> {
  const r = await db.deleteFrom('outbox').where('published_at', 'is not', null).where('created_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
}
