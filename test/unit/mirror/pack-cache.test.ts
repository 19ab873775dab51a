/**
 * The upload-pack cache's rules without git: which requests are cacheable, keys, TTL, size
 * bound, atomic commit, crash leftovers.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheableRequest } from '../../../src/mirror/upload-pack-request.js';
import { UploadPackCache } from '../../../src/mirror/pack-cache.js';

function pkt(line: string): Buffer {
  const payload = Buffer.from(line);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}
const FLUSH = Buffer.from('0000');
const DELIM = Buffer.from('0001');
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const TIPS = new Set([A, B]);

function v2(args: string[], caps = ['agent=git/2.39.5', 'object-format=sha1']): Buffer {
  return Buffer.concat([pkt('command=fetch\n'), ...caps.map((c) => pkt(`${c}\n`)), DELIM, ...args.map((a) => pkt(`${a}\n`)), FLUSH]);
}

describe('cacheableRequest', () => {
  it('accepts v2 clones, shallow and filtered ones, whose wants are all tips', () => {
    expect(cacheableRequest(v2(['thin-pack', 'ofs-delta', `want ${A}`, `want ${B}`, 'done']), TIPS, true)).toBe(true);
    expect(cacheableRequest(v2(['thin-pack', 'no-progress', 'include-tag', 'ofs-delta', `want ${A}`, 'deepen 1', 'done']), TIPS, true)).toBe(true);
    expect(cacheableRequest(v2([`want ${A}`, 'filter blob:none', 'done']), TIPS, true)).toBe(true);
  });

  it('refuses v2 requests with a want that is not a tip, haves, want-ref, no done or unknown arguments', () => {
    expect(cacheableRequest(v2([`want ${A}`, `want ${C}`, 'done']), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2([`want ${A}`, `have ${C}`, 'done']), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2(['want-ref refs/heads/main', 'done']), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2([`want ${A}`]), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2([`want ${A}`, 'wait-for-done', 'done']), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2(['done']), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2([`want ${A.toUpperCase()}`, 'done']), new Set([A.toUpperCase()]), true)).toBe(false);
    // Another command, or anything after the flush.
    expect(cacheableRequest(Buffer.concat([pkt('command=ls-refs\n'), DELIM, FLUSH]), TIPS, true)).toBe(false);
    expect(cacheableRequest(Buffer.concat([v2([`want ${A}`, 'done']), pkt('extra\n')]), TIPS, true)).toBe(false);
    // Malformed pkt-lines.
    expect(cacheableRequest(Buffer.from('zzzzcommand=fetch'), TIPS, true)).toBe(false);
    expect(cacheableRequest(v2([`want ${A}`, 'done']).subarray(0, 30), TIPS, true)).toBe(false);
  });

  it('accepts v0 clones whose wants are all tips, and nothing with haves', () => {
    const v0 = (lines: string[], tail: string[] = ['done']) =>
      Buffer.concat([...lines.map((l) => pkt(`${l}\n`)), FLUSH, ...tail.map((l) => pkt(`${l}\n`))]);
    expect(cacheableRequest(v0([`want ${A} multi_ack_detailed side-band-64k thin-pack ofs-delta agent=git/2.39.5`, `want ${B}`]), TIPS, false)).toBe(true);
    expect(cacheableRequest(v0([`want ${A} side-band-64k`, 'deepen 1']), TIPS, false)).toBe(true);
    expect(cacheableRequest(v0([`want ${A} side-band-64k`, `want ${C}`]), TIPS, false)).toBe(false);
    expect(cacheableRequest(v0([`want ${A} side-band-64k`], [`have ${B}`, 'done']), TIPS, false)).toBe(false);
    expect(cacheableRequest(v0([`want ${A} side-band-64k`], []), TIPS, false)).toBe(false);
    expect(cacheableRequest(v0([`want ${A}`, `want ${B} side-band-64k`]), TIPS, false)).toBe(false);
    // A v2 body read as v0 (and the other way round) is not cacheable.
    expect(cacheableRequest(v2([`want ${A}`, 'done']), TIPS, false)).toBe(false);
  });
});

describe('UploadPackCache', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function newCache(opts: { maxBytes?: number; ttlMs?: number } = {}): Promise<UploadPackCache> {
    const dir = await mkdtemp(join(tmpdir(), 'syncline-pack-cache-'));
    dirs.push(dir);
    return new UploadPackCache({ dir: join(dir, 'c'), maxBytes: opts.maxBytes ?? 1 << 20, ttlMs: opts.ttlMs ?? 60_000 });
  }
  async function store(cache: UploadPackCache, key: string, data: Buffer, ok = true): Promise<void> {
    const writer = await cache.begin(key);
    if (!writer) throw new Error('no writer');
    for (let i = 0; i < data.length; i += 1000) writer.write(data.subarray(i, i + 1000));
    await writer.end(ok);
  }
  async function read(cache: UploadPackCache, key: string): Promise<Buffer | null> {
    const hit = await cache.lookup(key);
    if (!hit) return null;
    const buf = Buffer.alloc(hit.size);
    await hit.handle.read(buf, 0, hit.size, 0);
    await hit.handle.close();
    return buf;
  }
  const key = (n: number) => UploadPackCache.key({ mirrorDir: '/m', protocol: 'version=2', refs: `r${n}`, body: Buffer.from('b') });

  it('keys differ by mirror, protocol, refs and body', () => {
    const base = { mirrorDir: '/m/a.git', protocol: 'version=2', refs: 'x refs/heads/main', body: Buffer.from('body') };
    const k = UploadPackCache.key(base);
    expect(UploadPackCache.key({ ...base })).toBe(k);
    expect(UploadPackCache.key({ ...base, mirrorDir: '/m/b.git' })).not.toBe(k);
    expect(UploadPackCache.key({ ...base, protocol: undefined })).not.toBe(k);
    expect(UploadPackCache.key({ ...base, refs: 'y refs/heads/main' })).not.toBe(k);
    expect(UploadPackCache.key({ ...base, body: Buffer.from('bodz') })).not.toBe(k);
    // Boundaries count: moving bytes from one part to the next is another key.
    expect(UploadPackCache.key({ ...base, mirrorDir: '/m/a.gitv', protocol: 'ersion=2' })).not.toBe(k);
  });

  it('stores a committed answer whole, and nothing of a failed one', async () => {
    const cache = await newCache();
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    await store(cache, key(1), data);
    expect((await read(cache, key(1)))?.equals(data)).toBe(true);
    await store(cache, key(2), data, false);
    expect(await read(cache, key(2))).toBeNull();
    expect((await readdir(cache.dir)).sort()).toEqual([`${key(1)}.pack`]);
  });

  it('gives one writer per key at a time; others can wait for it', async () => {
    const cache = await newCache();
    const writer = await cache.begin(key(1));
    expect(writer).not.toBeNull();
    expect(await cache.begin(key(1))).toBeNull();
    expect(cache.inFlight(key(1))).toBe(true);
    const waited = cache.awaitInFlight(key(1));
    writer!.write(Buffer.from('pack'));
    await writer!.end(true);
    expect(await waited).toBe(true);
    expect((await read(cache, key(1)))?.toString()).toBe('pack');
    expect(cache.inFlight(key(1))).toBe(false);
  });

  it('never serves an entry older than the TTL', async () => {
    const cache = await newCache({ ttlMs: 30 });
    await store(cache, key(1), Buffer.from('x'));
    expect(await read(cache, key(1))).not.toBeNull();
    await new Promise((r) => setTimeout(r, 60));
    expect(await read(cache, key(1))).toBeNull();
    expect(await readdir(cache.dir)).toEqual([]);
  });

  it('keeps the total under maxBytes (oldest out) and does not keep an answer larger than a quarter of it', async () => {
    const cache = await newCache({ maxBytes: 10_000 });
    for (let i = 1; i <= 5; i++) {
      await store(cache, key(i), Buffer.alloc(2400, i));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(cache.size.bytes).toBeLessThanOrEqual(10_000);
    expect(await read(cache, key(1))).toBeNull();
    expect(await read(cache, key(5))).not.toBeNull();
    await store(cache, key(9), Buffer.alloc(2600));
    expect(await read(cache, key(9))).toBeNull();
    expect((await readdir(cache.dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('indexes what an earlier process stored and removes its temporary files', async () => {
    const first = await newCache();
    await store(first, key(1), Buffer.from('kept'));
    // A crashed process's half-written file goes; a live process's (ours) stays.
    await writeFile(join(first.dir, `${key(2)}.999999999.abc.tmp`), 'half');
    await writeFile(join(first.dir, `${key(3)}.${process.pid}.abc.tmp`), 'being written');
    const second = new UploadPackCache({ dir: first.dir, maxBytes: 1 << 20, ttlMs: 60_000 });
    expect((await read(second, key(1)))?.toString()).toBe('kept');
    expect((await readdir(first.dir)).sort()).toEqual([`${key(1)}.pack`, `${key(3)}.${process.pid}.abc.tmp`].sort());
  });
});
