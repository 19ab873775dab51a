import type { DatabaseHandle } from '../store/db.js';
import { sql } from 'kysely';

/** The topics of the process caches (dropped whole after a lost LISTEN connection). */
export const CACHE_TOPICS = ['token', 'resources', 'github_app'];

/** The PostgreSQL NOTIFY channel (per schema) carrying cache invalidations between replicas. */
export const CACHE_CHANNEL = 'syncline_cache';

/**
 * The part of the in-process invalidation bus (src/cache/invalidation.ts, issue 12: `ctx.cache`)
 * the cluster needs: hand every local invalidation to other replicas, apply theirs locally.
 * Wired: `forwardInvalidations` in openContext, `listenInvalidations` in startServer.
 */
export interface InvalidationForwarding {
  applyRemote(topic: string, key: string): void;
  forward(fn: (topic: string, key: string) => void): () => void;
}

/**
 * Publishes every local invalidation of `bus` to the other replicas:
 * `NOTIFY syncline_cache_<schema>, '["topic","key"]'`. Every process that changes cached state
 * needs it — a server, and a CLI in local mode (a token revoked with `syncline token revoke` on the
 * database directly). SQLite (one process): nothing to do. Returns the off function.
 */
export function forwardInvalidations(db: DatabaseHandle, bus: InvalidationForwarding): () => void {
  if (db.dialect !== 'postgres') return () => undefined;
  return bus.forward((topic, key) => {
    void sql`select pg_notify(${CACHE_CHANNEL} || '_' || current_schema(), ${JSON.stringify([topic, key])})`.execute(db.db).catch(() => {
      // The database is away: the caches' max age per entry (1 s for tokens) bounds staleness.
    });
  });
}

/**
 * Applies other replicas' invalidations to this process's caches (`applyRemote`: dropped locally,
 * never forwarded again). Our own notifications come back too; dropping twice is harmless. After
 * a lost LISTEN connection (notifications missed meanwhile) every topic in `topics` is dropped
 * whole ('*'): the caches refill from the database. A server runs this (it holds a LISTEN
 * connection for as long as it lives). Returns the stop function.
 */
export function listenInvalidations(db: DatabaseHandle, bus: InvalidationForwarding, topics: string[]): () => Promise<void> {
  if (db.dialect !== 'postgres' || !db.listen) return async () => undefined;
  let connected = false;
  return db.listen(CACHE_CHANNEL, (payload) => {
    if (payload === '') {
      // (Re)connected: anything sent while we were not listening is lost — drop everything once.
      if (connected) for (const t of topics) bus.applyRemote(t, '*');
      connected = true;
      return;
    }
    try {
      const [topic, key] = JSON.parse(payload) as [string, string];
      if (typeof topic === 'string' && typeof key === 'string') bus.applyRemote(topic, key);
    } catch {
      // not ours
    }
  });
}
