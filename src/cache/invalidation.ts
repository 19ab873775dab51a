/**
 * One small in-process bus for cache invalidation. Every cache that holds database state
 * (token lookups, live resources) subscribes to a topic; whoever commits a change to that state
 * calls `invalidate(topic, key)` after the commit. Invalidation is synchronous: when
 * `invalidate` returns, no cache in this process answers with the old value any more.
 *
 * Other replicas: `forward` hands every local invalidation to a publisher (PostgreSQL NOTIFY,
 * wired by the cluster code), and what arrives from another replica comes back in through
 * `applyRemote`, which drops locally without forwarding again. Caches also bound the age of
 * their entries, so a replica that misses a notification is stale for at most that long.
 */
export type CacheTopic = 'token' | 'resources' | (string & {});

/** `key` that drops every entry of a topic. */
export const ALL_KEYS = '*';

export interface InvalidationBus {
  /** Drops `key` of `topic` in this process and hands it to every forwarder. */
  invalidate(topic: CacheTopic, key: string): void;
  /** Drops locally only: an invalidation another replica published. */
  applyRemote(topic: CacheTopic, key: string): void;
  /** Local caches listen here; returns the unsubscribe function. */
  subscribe(topic: CacheTopic, listener: (key: string) => void): () => void;
  /** Called for every local `invalidate` (the cluster publishes it); returns the off function. */
  forward(fn: (topic: CacheTopic, key: string) => void): () => void;
}

export function createInvalidationBus(): InvalidationBus {
  const listeners = new Map<string, Set<(key: string) => void>>();
  const forwarders = new Set<(topic: CacheTopic, key: string) => void>();
  const drop = (topic: CacheTopic, key: string): void => {
    for (const l of listeners.get(topic) ?? []) l(key);
  };
  return {
    invalidate(topic, key) {
      drop(topic, key);
      for (const f of forwarders) {
        try {
          f(topic, key);
        } catch {
          // A failing publisher must not undo the local invalidation; entries still age out.
        }
      }
    },
    applyRemote: drop,
    subscribe(topic, listener) {
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
    forward(fn) {
      forwarders.add(fn);
      return () => void forwarders.delete(fn);
    },
  };
}
