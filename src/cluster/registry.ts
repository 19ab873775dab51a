import crypto from 'node:crypto';
import os from 'node:os';
import type { Replica } from '../contracts/cluster.js';
import type { DatabaseHandle } from '../store/db.js';
import { fromJson, nowIso, toJson } from '../store/json.js';

/** How often a replica heart-beats; one missing for STALE_AFTER_MS is not listed (dead or gone). */
export const HEARTBEAT_MS = 3000;
export const STALE_AFTER_MS = 15_000;
/** Rows of replicas silent this long are deleted by whoever heart-beats next. */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * This process in the replica registry: inserts its row at start, refreshes `last_seen` and its
 * current roles every HEARTBEAT_MS, deletes the row on a clean stop.
 */
export class ReplicaRegistry {
  readonly id: string;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = nowIso();

  constructor(
    private readonly db: DatabaseHandle,
    private readonly version: string,
    private readonly roles: () => string[],
    /** This replica's id (AppContext.replicaId: kept in the data dir); a fresh one when absent. */
    id?: string,
  ) {
    this.id = id ?? `rep_${crypto.randomBytes(6).toString('hex')}`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const now = nowIso();
    const row = { id: this.id, version: this.version, host: os.hostname(), started_at: this.startedAt, last_seen: now, roles: toJson(this.roles()) };
    await this.db.db
      .insertInto('replicas')
      .values(row)
      // A replica restarted on the same data dir keeps its id: its row says when it (re)started.
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen: now, roles: row.roles, started_at: row.started_at, version: row.version, host: row.host }))
      .execute();
    const forget = new Date(Date.now() - FORGET_AFTER_MS).toISOString();
    const gone = this.db.db.selectFrom('replicas').select('id').where('last_seen', '<', forget);
    await this.db.db.deleteFrom('mirror_copies').where('replica', 'in', gone).execute();
    await this.db.db.deleteFrom('replicas').where('last_seen', '<', forget).execute();
  }

  list(): Promise<Replica[]> {
    return listReplicas(this.db, this.id);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.db.db.deleteFrom('replicas').where('id', '=', this.id).execute().catch(() => undefined);
  }
}

/** Replicas heard from within STALE_AFTER_MS, oldest first. */
export async function listReplicas(db: DatabaseHandle, selfId: string | null): Promise<Replica[]> {
  const since = new Date(Date.now() - STALE_AFTER_MS).toISOString();
  const rows = await db.db.selectFrom('replicas').selectAll().where('last_seen', '>=', since).orderBy('started_at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    version: r.version,
    host: r.host,
    started_at: r.started_at,
    last_seen: r.last_seen,
    roles: fromJson<string[]>(r.roles, []),
    self: r.id === selfId,
  }));
}
