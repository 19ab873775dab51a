import crypto from 'node:crypto';
import type { DatabaseHandle } from './db.js';

/**
 * Named locks: `namespace:shop.prod` serialises syncs, `mirror:shop` mirror updates.
 *
 * Within a process, a FIFO lock per name (with a wait limit). In PostgreSQL mode the holder
 * also takes a session advisory lock on a connection of the lock pool (see DatabaseHandle), so
 * replicas sharing the database exclude each other too; the process-local lock is taken first so one process never ties up
 * several connections waiting on itself. SQLite mode is one process per database file.
 */

interface LocalLock {
  held: boolean;
  waiters: (() => void)[];
}
const local = new Map<string, LocalLock>();

export class LockTimeoutError extends Error {
  constructor(readonly key: string) {
    super(`Timed out waiting for lock '${key}'`);
  }
}

function acquireLocal(key: string, timeoutMs: number): Promise<() => void> {
  let lock = local.get(key);
  if (!lock) local.set(key, (lock = { held: false, waiters: [] }));
  const l = lock;
  const release = () => {
    const next = l.waiters.shift();
    if (next) next();
    else {
      l.held = false;
      local.delete(key);
    }
  };
  if (!l.held) {
    l.held = true;
    return Promise.resolve(release);
  }
  if (timeoutMs <= 0) return Promise.reject(new LockTimeoutError(key));
  return new Promise((resolve, reject) => {
    const grant = () => {
      clearTimeout(timer);
      resolve(release);
    };
    const timer = setTimeout(() => {
      const i = l.waiters.indexOf(grant);
      if (i >= 0) l.waiters.splice(i, 1);
      reject(new LockTimeoutError(key));
    }, timeoutMs);
    l.waiters.push(grant);
  });
}

/** Two int4 keys for pg_advisory_lock, derived from the lock name. */
function advisoryKeys(key: string): [number, number] {
  const h = crypto.createHash('sha256').update(`syncline:${key}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

const POLL_MS = 100;

/**
 * Runs `fn` holding the named lock; waits up to `timeoutMs` (0 = don't wait), then throws
 * LockTimeoutError.
 *
 * On PostgreSQL the advisory lock is held on a connection from the handle's dedicated lock pool,
 * never one `fn` could need: with one shared pool, as many holders as pooled connections each
 * waited for a connection to do their work, and none was ever freed.
 */
export async function withLock<T>(handle: DatabaseHandle, key: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const releaseLocal = await acquireLocal(key, timeoutMs);
  try {
    if (handle.dialect !== 'postgres' || !handle.lockConnection) return await fn();
    const conn = await handle.lockConnection();
    let broken = false;
    const query = <R>(text: string, values: unknown[]) =>
      conn.query<R>(text, values).catch((err: unknown) => {
        broken = true;
        throw err;
      });
    try {
      // Advisory locks are per database, not per schema: scope the key to ours so installs (or
      // test contexts) sharing a database in different schemas never block each other.
      const [k1, k2] = advisoryKeys(`${conn.schema}:${key}`);
      // Polling try-lock rather than a blocking lock with lock_timeout: it leaves the connection
      // in a clean state whatever happens and honours the caller's deadline exactly.
      for (;;) {
        const rows = await query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [k1, k2]);
        if (rows[0]?.ok) break;
        if (Date.now() - started >= timeoutMs) throw new LockTimeoutError(key);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      try {
        return await fn();
      } finally {
        // A failed unlock marks the connection broken; closing it ends the session and the lock.
        await query('select pg_advisory_unlock($1, $2)', [k1, k2]).catch(() => undefined);
      }
    } finally {
      conn.release(broken);
    }
  } finally {
    releaseLocal();
  }
}

/** Whether this process currently holds or waits for the named lock. */
export function isLockedLocally(key: string): boolean {
  return local.has(key);
}
