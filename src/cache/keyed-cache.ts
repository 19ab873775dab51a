/**
 * A bounded cache of values grouped by a partition (a namespace, a token id), with a maximum age
 * per entry and race-free invalidation: a load that started before an invalidation of its
 * partition never stores its (possibly stale) result. Used by the token and resource caches.
 */
export interface KeyedCacheOptions {
  /** An entry older than this is loaded again (bounds staleness when a remote invalidation is missed). */
  maxAgeMs: number;
  /** Entries kept at most; when full, everything is dropped (then refilled by use). */
  maxEntries: number;
}

interface Entry<V> {
  value: V;
  at: number;
}

export class KeyedCache<V> {
  private readonly partitions = new Map<string, Map<string, Entry<V>>>();
  /** Bumped by every invalidation of a partition (and `epoch` by a full clear). */
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private count = 0;
  /** Loads running now, shared by every caller that misses the same key meanwhile (single flight). */
  private readonly flights = new Map<string, { stamp: number; promise: Promise<V> }>();

  constructor(private readonly opts: KeyedCacheOptions) {}

  /** The fresh value of `key` in `partition`, or undefined. */
  get(partition: string, key: string, now = Date.now()): V | undefined {
    const p = this.partitions.get(partition);
    const e = p?.get(key);
    if (!e) return undefined;
    if (now - e.at >= this.opts.maxAgeMs) {
      p!.delete(key);
      this.count -= 1;
      return undefined;
    }
    return e.value;
  }

  /** Taken before a load; `set` with a stamp older than an invalidation of the partition is ignored. */
  stamp(partition: string): number {
    return this.epoch * 2 ** 26 + (this.generations.get(partition) ?? 0);
  }

  set(partition: string, key: string, value: V, stamp: number, now = Date.now()): void {
    if (stamp !== this.stamp(partition)) return;
    if (this.count >= this.opts.maxEntries) this.dropAll();
    let p = this.partitions.get(partition);
    if (!p) this.partitions.set(partition, (p = new Map()));
    if (!p.has(key)) this.count += 1;
    p.set(key, { value, at: now });
  }

  /**
   * The cached value, or the result of `load`, stored unless `store` says no (e.g. "not found").
   * Concurrent misses of one key share one load (50 connections must not send 50 queries when
   * an entry ages out); a load that started before an invalidation is never joined after it.
   */
  async getOrLoad(partition: string, key: string, load: () => Promise<V>, store: (v: V) => boolean = () => true): Promise<V> {
    const hit = this.get(partition, key);
    if (hit !== undefined) return hit;
    return this.startLoad(partition, key, load, store, false);
  }

  /**
   * The fresh value, or undefined (then the caller loads, e.g. with getOrLoad). A value older than
   * `refreshAfterMs` is still returned, and reloaded in the background (one load per key) so it is
   * replaced before it expires: a cache in steady use never makes a caller wait for the database
   * (on SQLite a long sync transaction holds the one connection). Staleness is bounded as before,
   * by `maxAgeMs`; a reload whose result `store` refuses (e.g. the token is gone) drops the entry.
   */
  peek(partition: string, key: string, refreshAfterMs: number, load: () => Promise<V>, store: (v: V) => boolean = () => true, now = Date.now()): V | undefined {
    const p = this.partitions.get(partition);
    const e = p?.get(key);
    if (!e) return undefined;
    const age = now - e.at;
    if (age >= this.opts.maxAgeMs) {
      p!.delete(key);
      this.count -= 1;
      return undefined;
    }
    if (age >= refreshAfterMs && !this.flights.has(`${partition}\u0001${key}`)) {
      this.startLoad(partition, key, load, store, true).catch(() => undefined);
    }
    return e.value;
  }

  private startLoad(partition: string, key: string, load: () => Promise<V>, store: (v: V) => boolean, dropRefused: boolean): Promise<V> {
    const stamp = this.stamp(partition);
    const flightKey = `${partition}\u0001${key}`;
    const running = this.flights.get(flightKey);
    if (running && running.stamp === stamp) return running.promise;
    const promise = load().then((v) => {
      if (store(v)) this.set(partition, key, v, stamp);
      else if (dropRefused && stamp === this.stamp(partition)) this.drop(partition, key);
      return v;
    });
    this.flights.set(flightKey, { stamp, promise });
    const done = () => {
      if (this.flights.get(flightKey)?.promise === promise) this.flights.delete(flightKey);
    };
    promise.then(done, done);
    return promise;
  }

  private drop(partition: string, key: string): void {
    const p = this.partitions.get(partition);
    if (p?.delete(key)) this.count -= 1;
  }

  /** Drops every entry of `partition`, and any load of it in flight. */
  invalidate(partition: string): void {
    this.generations.set(partition, ((this.generations.get(partition) ?? 0) + 1) % 2 ** 26);
    const p = this.partitions.get(partition);
    if (p) {
      this.count -= p.size;
      this.partitions.delete(partition);
    }
  }

  /** Drops everything, and every load in flight. */
  clear(): void {
    this.epoch += 1;
    this.generations.clear();
    this.dropAll();
  }

  private dropAll(): void {
    this.partitions.clear();
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}
