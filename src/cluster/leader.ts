import crypto from 'node:crypto';
import type { DatabaseHandle, LockConnection } from '../store/db.js';

/** How often a standby tries to take the lock, and a leader checks it still holds it. */
export const LEADER_CHECK_MS = 2000;

/** The two int4 advisory-lock keys of leader lock `name` in `schema` (pg_locks: classid, objid). */
export function leaderLockKeys(schema: string, name: string): [number, number] {
  const h = crypto.createHash('sha256').update(`syncline-leader:${schema}:${name}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

export interface Leadership {
  readonly isLeader: boolean;
  stop(): Promise<void>;
}

/**
 * One active holder of `name` across the replicas sharing the database. On PostgreSQL a
 * session advisory lock on a dedicated connection: when the holder dies its connection drops
 * and the lock with it; a standby takes over within LEADER_CHECK_MS. A leader whose connection
 * fails stops (`onLose`) before anyone else can start. On SQLite (one process) always leader.
 */
export function holdLeadership(
  /** null: nothing to lead (the singleton is switched off): never leader. */
  db: DatabaseHandle | null,
  name: string,
  handlers: { onGain(): void; onLose(): void },
): Leadership {
  let leader = false;
  let stopped = false;
  let conn: LockConnection | null = null;
  let timer: NodeJS.Timeout | null = null;
  const state = {
    get isLeader() {
      return leader;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (leader) {
        leader = false;
        handlers.onLose();
      }
      const c = conn;
      conn = null;
      if (c) {
        try {
          const [a, b] = leaderLockKeys(c.schema, name);
          await c.query('select pg_advisory_unlock($1, $2)', [a, b]);
          c.release();
        } catch {
          c.release(true);
        }
      }
    },
  };
  if (db === null) return state;
  if (db.dialect !== 'postgres' || !db.lockConnection) {
    leader = true;
    handlers.onGain();
    return state;
  }
  const lockConnection = db.lockConnection;
  const lose = () => {
    if (leader) {
      leader = false;
      handlers.onLose();
    }
  };
  const tick = async () => {
    timer = null;
    if (stopped) return;
    try {
      if (!conn) conn = await lockConnection();
      const [a, b] = leaderLockKeys(conn.schema, name);
      if (leader) {
        await conn.query('select 1', []);
      } else {
        const rows = await conn.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [a, b]);
        if (rows[0]?.ok && !stopped) {
          leader = true;
          handlers.onGain();
        } else if (stopped && rows[0]?.ok) {
          await conn.query('select pg_advisory_unlock($1, $2)', [a, b]);
        }
      }
    } catch {
      lose();
      conn?.release(true);
      conn = null;
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), LEADER_CHECK_MS);
      timer.unref();
    }
  };
  void tick();
  return state;
}
