/**
 * KeyedCache.peek: answers from the cache up to maxAgeMs, reloads in the background (one load
 * per key) once an entry is refreshAfterMs old, never stores a reload that raced with an
 * invalidation, and drops an entry whose reload the store predicate refuses. Time is passed in
 * explicitly: nothing here waits on a clock.
 */
import { describe, expect, it } from 'vitest';
import { KeyedCache } from '../../../src/cache/keyed-cache.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedCache.peek', () => {
  const T = 1_000_000;
  const fresh = () => {
    const cache = new KeyedCache<string>({ maxAgeMs: 1000, maxEntries: 100 });
    cache.set('ns', 'k', 'v1', cache.stamp('ns'), T);
    return cache;
  };

  it('answers a young entry without loading, an old one while reloading it once, an expired one not at all', async () => {
    const cache = fresh();
    let loads = 0;
    const next = deferred<string>();
    const load = () => {
      loads += 1;
      return next.promise;
    };
    expect(cache.peek('ns', 'k', 500, load, () => true, T + 499)).toBe('v1');
    expect(loads).toBe(0);
    expect(cache.peek('ns', 'k', 500, load, () => true, T + 500)).toBe('v1');
    expect(cache.peek('ns', 'k', 500, load, () => true, T + 600)).toBe('v1');
    expect(loads).toBe(1);
    next.resolve('v2');
    await next.promise;
    await Promise.resolve();
    expect(cache.peek('ns', 'k', 500, load, () => true, Date.now())).toBe('v2');
    const old = fresh();
    expect(old.peek('ns', 'k', 500, load, () => true, T + 1000)).toBeUndefined();
    expect(old.size).toBe(0);
  });

  it('never stores a reload that started before an invalidation', async () => {
    const cache = fresh();
    const next = deferred<string>();
    expect(cache.peek('ns', 'k', 500, () => next.promise, () => true, T + 700)).toBe('v1');
    cache.invalidate('ns');
    next.resolve('stale');
    await next.promise;
    await Promise.resolve();
    expect(cache.get('ns', 'k')).toBeUndefined();
  });

  it('drops the entry when the reload is refused (e.g. the token is gone)', async () => {
    const cache = fresh();
    const next = deferred<string>();
    cache.peek('ns', 'k', 500, () => next.promise, (v) => v !== 'gone', T + 700);
    next.resolve('gone');
    await next.promise;
    await Promise.resolve();
    expect(cache.peek('ns', 'k', 500, () => next.promise, () => true, T + 701)).toBeUndefined();
  });
});
