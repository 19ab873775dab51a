/**
 * The upload-pack cache with real git clients over real HTTP: an identical clone at the same
 * tips is answered without git; what it answers equals what git answers; a mirror update is a
 * new key; a request the reachability hook refuses is never answered from the cache; mirrors
 * never share entries; identical clones at once run git once.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadPackCache } from '../../../src/mirror/pack-cache.js';
import { cleanupTempDirs, commitFiles, createBranch, createTag, deleteBranch, git, makeRepo, tempDir, type FixtureRepo } from '../../helpers/git-fixtures.js';
import { client, clientOk, mirrorOf, rawRequest, refLines, startMirrorServer, v2FetchRequest, V2_HEADERS, type MirrorServer } from './helpers.js';

let server: MirrorServer;
let cache: UploadPackCache;
let cacheDir: string;
let repo: FixtureRepo;
let mirrorDir: string;
let mirrorsDir: string;
let work: string;
let seq = 0;

beforeAll(async () => {
  mirrorsDir = await tempDir('syncline-mirrors-');
  work = await tempDir('syncline-clients-');
  cacheDir = join(await tempDir('syncline-data-'), 'mirror-cache');
  repo = await makeRepo({ name: 'cached' });
  for (let i = 1; i <= 4; i++) {
    await commitFiles(repo, { 'README.md': `rev ${i}\n`, [`svc/${i}.yaml`]: `n: ${i}\n`, 'blob.bin': randomBytes(30_000) }, `c${i}`, {
      date: `2024-02-0${i}T00:00:00Z`,
    });
    if (i === 2) await createTag(repo, 'v1', { message: 'one' });
  }
  await createBranch(repo, 'feature');
  await commitFiles(repo, { 'f.txt': 'feature\n' }, 'feature', { branch: 'feature' });
  mirrorDir = await mirrorOf(repo, mirrorsDir, 'cached');
  cache = new UploadPackCache({ dir: cacheDir, maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 });
  // maxPerClient: the concurrent clones below all come from 127.0.0.1.
  server = await startMirrorServer({ packCache: cache, maxPerClient: 16 });
  server.mirrors.set('cached', { dir: mirrorDir, access: 'public', source: 'cached' });
});

afterAll(async () => {
  await server?.close();
  await cleanupTempDirs();
});

async function cloneCounting(args: string[], slug = 'cached'): Promise<{ dest: string; spawns: number }> {
  const dest = join(work, `clone-${seq++}.git`);
  const before = server.spawns.length;
  await clientOk(work, ['clone', '--bare', '--quiet', ...args, server.url(slug), dest]);
  await clientOk(dest, ['fsck', '--connectivity-only', '--no-progress']);
  return { dest, spawns: server.spawns.length - before };
}

describe('identical clones', () => {
  for (const version of ['2', '0']) {
    it(`answers the second identical clone without git (protocol v${version})`, async () => {
      await cache.clear();
      const before = { ...cache.stats, answers: { ...cache.answers.stats } };
      const first = await cloneCounting(['-c', `protocol.version=${version}`]);
      const second = await cloneCounting(['-c', `protocol.version=${version}`]);
      // v2: info/refs, ls-refs, fetch; v0: info/refs, upload-pack — then no git at all: the
      // advertisement and ls-refs from memory (same refs), the fetch from the cache.
      expect(first.spawns).toBe(version === '2' ? 3 : 2);
      expect(second.spawns).toBe(0);
      expect(cache.answers.stats.hits - before.answers.hits).toBe(version === '2' ? 2 : 1);
      expect(cache.stats.hits - before.hits).toBe(1);
      expect(cache.stats.stored - before.stored).toBe(1);
      expect(await refLines(second.dest)).toBe(await refLines(mirrorDir));
      expect(await refLines(first.dest)).toBe(await refLines(mirrorDir));
      // Same objects as git's own answer.
      const objects = async (d: string) => (await git(d, ['rev-list', '--objects', '--all'])).split('\n').sort().join('\n');
      expect(await objects(second.dest)).toBe(await objects(first.dest));
    });
  }

  it('keys shallow clones apart from full ones', async () => {
    await cache.clear();
    const full = await cloneCounting([]);
    const shallow1 = await cloneCounting(['--depth', '1']);
    const shallow2 = await cloneCounting(['--depth', '1']);
    expect(full.spawns).toBe(3);
    // The advertisement and ls-refs are the full clone's (from memory); the shallow fetch is its own.
    expect(shallow1.spawns).toBe(1);
    expect(shallow2.spawns).toBe(0);
    expect(await git(shallow2.dest, ['rev-list', '--count', 'main'])).toBe('1');
    expect(Number(await git(full.dest, ['rev-list', '--count', 'main']))).toBeGreaterThan(1);
  });

  it('runs git once for identical clones arriving together', async () => {
    await cache.clear();
    const before = server.spawns.length;
    const dests = Array.from({ length: 4 }, () => join(work, `together-${seq++}.git`));
    const stored = cache.stats.stored;
    await Promise.all(dests.map((d) => clientOk(work, ['clone', '--bare', '--quiet', server.url('cached'), d])));
    // ONE fetch; at most 4 × (info/refs + ls-refs) besides (fewer when one answer is in memory before the others ask).
    expect(cache.stats.stored - stored).toBe(1);
    expect(server.spawns.length - before).toBeGreaterThanOrEqual(3);
    expect(server.spawns.length - before).toBeLessThanOrEqual(9);
    for (const d of dests) expect(await refLines(d)).toBe(await refLines(mirrorDir));
  });

  it('never answers one mirror with another mirror’s entry', async () => {
    const twin = await mirrorOf(repo, mirrorsDir, 'twin');
    server.mirrors.set('twin', { dir: twin, access: 'public', source: 'twin' });
    await cache.clear();
    await cloneCounting([]);
    const other = await cloneCounting([], 'twin');
    expect(other.spawns).toBe(3);
    expect(cache.size.entries).toBe(2);
  });

  it('leaves no temporary file behind and keeps an entry per answer', async () => {
    const names = await readdir(cacheDir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names.every((n) => /^[0-9a-f]{64}\.pack$/.test(n))).toBe(true);
  });
});

describe('what the cache must never do', () => {
  it('does not serve the tips of before a mirror update', async () => {
    await cache.clear();
    await cloneCounting([]);
    await commitFiles(repo, { 'README.md': 'moved\n' }, 'moved');
    await mirrorOf(repo, mirrorsDir, 'cached');
    const storedAnswers = cache.answers.stats.stored;
    const answerHits = cache.answers.stats.hits;
    const after = await cloneCounting([]);
    // New refs: ls-refs is asked of git again (and kept for the new refs); v2's info/refs, the
    // capability list, does not depend on the refs and is still answered from memory.
    expect(after.spawns).toBe(2);
    expect(cache.answers.stats.stored - storedAnswers).toBe(1);
    expect(cache.answers.stats.hits - answerHits).toBe(1);
    expect(await refLines(after.dest)).toBe(await refLines(mirrorDir));
    const again = await cloneCounting([]);
    expect(again.spawns).toBe(0);
    expect(await refLines(again.dest)).toBe(await refLines(mirrorDir));
  });

  it('asks git for the v0 advertisement again after a mirror update (it lists the refs)', async () => {
    await cache.clear();
    const v0 = ['-c', 'protocol.version=0'];
    await cloneCounting(v0);
    await commitFiles(repo, { 'README.md': 'moved for v0\n' }, 'moved v0');
    await mirrorOf(repo, mirrorsDir, 'cached');
    const after = await cloneCounting(v0);
    expect(after.spawns).toBe(2);
    expect(await refLines(after.dest)).toBe(await refLines(mirrorDir));
  });

  it('asks git for the v2 capability list again once the mirror config changes', async () => {
    await cache.clear();
    await cloneCounting([]);
    await git(mirrorDir, ['config', 'syncline.test-touch', String(Date.now())]);
    const after = await cloneCounting([]);
    expect(after.spawns).toBe(2);
  });

  it('refuses a want that is no longer reachable, though the same request was answered from the cache before', async () => {
    const upstream = await makeRepo({ name: 'leaky' });
    await commitFiles(upstream, { 'app.yaml': 'replicas: 1\n' }, 'base');
    await createBranch(upstream, 'oops');
    const secret = await commitFiles(upstream, { 'secret.txt': 'password=hunter2-leaked\n' }, 'leak', { branch: 'oops' });
    const dir = await mirrorOf(upstream, mirrorsDir, 'leaky');
    server.mirrors.set('leaky', { dir, access: 'public', source: 'leaky' });
    const request = () => rawRequest(server.origin, '/git/leaky.git/git-upload-pack', { headers: V2_HEADERS, body: v2FetchRequest([secret]) });
    // While `oops` exists the request is a tip: answered, then answered from the cache.
    const first = await request();
    const hits = cache.stats.hits;
    const again = await request();
    expect(first.body.includes(Buffer.from('PACK'))).toBe(true);
    expect(again.body.equals(first.body)).toBe(true);
    expect(cache.stats.hits).toBe(hits + 1);
    // The leak is removed upstream and the mirror updated (no grace period for replaced tips).
    await deleteBranch(upstream, 'oops');
    await mirrorOf(upstream, mirrorsDir, 'leaky', { keepMs: 0, maintain: false });
    await git(dir, ['cat-file', '-e', secret]);
    const refused = await request();
    expect(refused.body.includes(Buffer.from('PACK'))).toBe(false);
    expect(refused.body.toString('latin1')).not.toContain('hunter2');
    expect(cache.stats.hits).toBe(hits + 1);
    const res = await client(work, ['-c', 'protocol.version=2', 'fetch', server.url('leaky'), secret], {});
    expect(res.code).not.toBe(0);
  });

  it('does not cache requests with haves or wants that are not tips', async () => {
    await cache.clear();
    const tip = await git(mirrorDir, ['rev-parse', 'main']);
    const parent = await git(mirrorDir, ['rev-parse', 'main~1']);
    for (let i = 0; i < 2; i++) {
      const withHave = await rawRequest(server.origin, '/git/cached.git/git-upload-pack', { headers: V2_HEADERS, body: v2FetchRequest([tip], { haves: [parent] }) });
      expect(withHave.status).toBe(200);
      const byId = await rawRequest(server.origin, '/git/cached.git/git-upload-pack', { headers: V2_HEADERS, body: v2FetchRequest([parent]) });
      expect(byId.body.includes(Buffer.from('PACK'))).toBe(true);
    }
    expect(cache.size.entries).toBe(0);
    expect(cache.stats.hits).toBeGreaterThanOrEqual(0);
  });

  it('does not keep the answer of a client that went away', async () => {
    await cache.clear();
    const big = await makeRepo({ name: 'big' });
    await commitFiles(big, { 'a.bin': randomBytes(6 * 1024 * 1024) }, 'big');
    const dir = await mirrorOf(big, mirrorsDir, 'big');
    server.mirrors.set('big', { dir, access: 'public', source: 'big' });
    const tip = await git(dir, ['rev-parse', 'main']);
    const { request } = await import('node:http');
    const { port } = new URL(server.origin);
    await new Promise<void>((resolve) => {
      const body = v2FetchRequest([tip]);
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/git/big.git/git-upload-pack', headers: { ...V2_HEADERS, 'content-length': String(body.length) } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => resolve());
      req.end(body);
    });
    // The server notices, kills git and drops the partial copy.
    for (let i = 0; i < 100 && (cache.stats.abandoned === 0 || (await readdir(cacheDir)).some((n) => n.endsWith('.tmp'))); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(cache.size.entries).toBe(0);
    expect((await readdir(cacheDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('requests still sending their body', () => {
  it('hold a slot without any git process, and shutdown ends them at once', async () => {
    const s = await startMirrorServer({ packCache: new UploadPackCache({ dir: join(cacheDir, 'other'), maxBytes: 1 << 20, ttlMs: 60_000 }) });
    s.mirrors.set('cached', { dir: mirrorDir, access: 'public', source: 'cached' });
    const { request } = await import('node:http');
    const { port } = new URL(s.origin);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/git/cached.git/git-upload-pack', headers: V2_HEADERS, agent: false });
    const ended = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
    });
    req.write('0014command=fetch\n');
    for (let i = 0; i < 200 && s.limiter.active === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.limiter.active).toBe(1);
    expect(s.spawns.length).toBe(0);
    const started = Date.now();
    await s.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
