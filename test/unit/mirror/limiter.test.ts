import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, LimiterRejectedError } from '../../../src/mirror/limiter.js';
import { acceptedGitProtocol, basicPassword, parseMirrorPath } from '../../../src/mirror/git-http.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('ConcurrencyLimiter', () => {
  it('grants up to maxConcurrent slots at once', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 2, maxQueue: 10 });
    const a = await l.acquire();
    const b = await l.acquire();
    expect(l.active).toBe(2);
    expect(l.tryAcquire()).toBeNull();
    a();
    b();
    expect(l.active).toBe(0);
  });

  it('serves waiters first in, first out, handing the slot over directly', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 10 });
    const first = await l.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => l.acquire().then((release) => (order.push(n), release)));
    await tick();
    expect(l.queued).toBe(3);
    // A newcomer may not jump the queue, even through tryAcquire after a release.
    first();
    expect(l.tryAcquire()).toBeNull();
    const r1 = await waiters[0];
    r1?.();
    const r2 = await waiters[1];
    r2?.();
    const r3 = await waiters[2];
    expect(order).toEqual([1, 2, 3]);
    expect(l.active).toBe(1);
    r3?.();
    expect(l.active).toBe(0);
  });

  it('rejects at once when the queue is full', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1, retryAfterSeconds: 3 });
    const held = await l.acquire();
    const queued = l.acquire();
    const err = await l.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimiterRejectedError);
    expect((err as LimiterRejectedError).reason).toBe('queue_full');
    expect((err as LimiterRejectedError).retryAfterSeconds).toBe(3);
    expect(err).toMatchObject({ code: 'busy', retryable: true });
    held();
    (await queued)();
  });

  it('rejects a waiter after queueTimeoutMs and frees its place', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 30 });
    const held = await l.acquire();
    const err = await l.acquire().catch((e: unknown) => e);
    expect((err as LimiterRejectedError).reason).toBe('queue_timeout');
    expect((err as LimiterRejectedError).retryAfterSeconds).toBe(1);
    expect(l.queued).toBe(0);
    held();
    expect(l.active).toBe(0);
  });

  it('drops an aborted waiter without affecting others', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 5 });
    const held = await l.acquire();
    const ac = new AbortController();
    const aborted = l.acquire(ac.signal).catch((e: unknown) => e);
    const next = l.acquire();
    await tick();
    ac.abort();
    expect(((await aborted) as LimiterRejectedError).reason).toBe('aborted');
    expect(l.queued).toBe(1);
    held();
    (await next)();
    expect(l.active).toBe(0);
    const pre = new AbortController();
    pre.abort();
    expect(((await l.acquire(pre.signal).catch((e: unknown) => e)) as LimiterRejectedError).reason).toBe('aborted');
  });

  it('releases once however often release is called', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 2 });
    const a = await l.acquire();
    await l.acquire();
    a();
    a();
    expect(l.active).toBe(1);
  });

  it('run() releases on success and on failure', async () => {
    const l = new ConcurrencyLimiter({ maxConcurrent: 1 });
    expect(await l.run(async () => 42)).toBe(42);
    await expect(l.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(l.active).toBe(0);
  });

  it('refuses a nonsensical size', () => {
    expect(() => new ConcurrencyLimiter({ maxConcurrent: 0 })).toThrow(RangeError);
  });
});

describe('mirror request parsing', () => {
  it('accepts the two upload-pack paths, with or without .git', () => {
    expect(parseMirrorPath('shop.git/info/refs')).toEqual({ slug: 'shop', operation: 'info-refs' });
    expect(parseMirrorPath('shop/info/refs')).toEqual({ slug: 'shop', operation: 'info-refs' });
    expect(parseMirrorPath('shop.git/git-upload-pack')).toEqual({ slug: 'shop', operation: 'upload-pack' });
    expect(parseMirrorPath('My_repo-1.2/git-upload-pack')).toEqual({ slug: 'My_repo-1.2', operation: 'upload-pack' });
  });

  it('refuses everything else', () => {
    for (const path of [
      'shop.git/git-receive-pack',
      'shop.git/HEAD',
      'shop.git/objects/info/packs',
      'a/b.git/info/refs',
      '../shop.git/info/refs',
      'a..b.git/info/refs',
      '.shop.git/info/refs',
      '.git/info/refs',
      'a\\b.git/info/refs',
      'a b.git/info/refs',
      '%2e%2e.git/info/refs',
      'shop.git/info/refs/',
      '-x.git/info/refs',
      `${'a'.repeat(101)}.git/info/refs`,
      '',
    ]) {
      expect(parseMirrorPath(path), path).toBeNull();
    }
    expect(parseMirrorPath(`${'a'.repeat(100)}.git/info/refs`)?.slug).toHaveLength(100);
  });

  it('passes only well-formed Git-Protocol values', () => {
    expect(acceptedGitProtocol('version=2')).toBe('version=2');
    expect(acceptedGitProtocol('version=2:foo=bar')).toBe('version=2:foo=bar');
    for (const bad of ['version=2;x', 'version=2\n', 'version', 'version=2:', '', 'a=b c', 'object-format=sha1']) {
      expect(acceptedGitProtocol(bad), bad).toBeUndefined();
    }
    expect(acceptedGitProtocol(['version=2', 'version=1'])).toBeUndefined();
    expect(acceptedGitProtocol(undefined)).toBeUndefined();
  });

  it('extracts the Basic password for any user', () => {
    const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(basicPassword(b('x:tok'))).toBe('tok');
    expect(basicPassword(b(':tok'))).toBe('tok');
    expect(basicPassword(b('u:p:with:colons'))).toBe('p:with:colons');
    expect(basicPassword(b('u:'))).toBeNull();
    expect(basicPassword(b('nocolon'))).toBeNull();
    expect(basicPassword('Bearer tok')).toBeNull();
    expect(basicPassword(undefined)).toBeNull();
  });
});
