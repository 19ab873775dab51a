/**
 * Mirror endpoint hardening (issue 8):
 *  - a stalled or trickling request body loses its git process and its slot (read deadline,
 *    minimum rate); one client address cannot take every slot;
 *  - bad bodies (garbage, zero-filled, truncated, gzip bombs, malformed ls-refs) are 400/413,
 *    never 500;
 *  - tips replaced by an update stay fetchable (hidden, never advertised): a client that listed
 *    refs before a force-push update still completes.
 */
import { Agent, request as httpRequest } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, commitFiles, forcePush, git, makeRepo, tempDir, type FixtureRepo } from '../../helpers/git-fixtures.js';
import { UploadPackCache } from '../../../src/mirror/pack-cache.js';
import { client, clientOk, mirrorOf, pkt, DELIM, FLUSH, rawRequest, startMirrorServer, v2FetchRequest, v2LsRefsRequest, V2_HEADERS, waitFor, type MirrorServer } from './helpers.js';

let repo: FixtureRepo;
let mirrorsDir: string;
let work: string;
let dir: string;

beforeAll(async () => {
  mirrorsDir = await tempDir('syncline-mirrors-');
  work = await tempDir('syncline-clients-');
  repo = await makeRepo({ name: 'hard' });
  await commitFiles(repo, { 'a.txt': 'one\n' }, 'one');
  await commitFiles(repo, { 'a.txt': 'two\n' }, 'two');
  dir = await mirrorOf(repo, mirrorsDir, 'hard');
});
afterAll(async () => {
  await cleanupTempDirs();
});

/** A root commit (no parent: a rewritten history) with one file, made in the work tree's repo. */
let rootN = 0;
async function rootCommit(repo: FixtureRepo, content: string): Promise<string> {
  const file = join(work, `root-${++rootN}.txt`);
  await writeFile(file, content);
  const blob = await git(repo.workDir, ['hash-object', '-w', file]);
  const env = { GIT_INDEX_FILE: join(work, `root-${rootN}.index`) };
  await git(repo.workDir, ['update-index', '--add', '--cacheinfo', `100644,${blob},f.txt`], env);
  const tree = await git(repo.workDir, ['write-tree'], env);
  return git(repo.workDir, ['commit-tree', tree, '-m', `rewrite: ${content.trim()}`]);
}

/** Starts a chunked POST that sends `first` and then nothing; resolves with the response. */
function stalledPost(origin: string, first: Buffer): { done: Promise<{ status: number; ms: number }>; abort(): void } {
  const { hostname, port } = new URL(origin);
  const started = Date.now();
  let abort = (): void => undefined;
  const done = new Promise<{ status: number; ms: number }>((resolve) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path: '/git/hard.git/git-upload-pack', headers: { ...V2_HEADERS }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
      res.on('error', () => resolve({ status: -1, ms: Date.now() - started }));
    });
    req.on('error', () => resolve({ status: -1, ms: Date.now() - started }));
    req.on('close', () => resolve({ status: -1, ms: Date.now() - started }));
    req.write(first);
    abort = () => req.destroy();
  });
  return { done, abort: () => abort() };
}

describe('slow bodies', () => {
  let server: MirrorServer;
  beforeAll(async () => {
    // Two slots, like the report; a short deadline so the test does not wait 30 s.
    server = await startMirrorServer({ maxConcurrent: 2, maxPerClient: 2, bodyTimeoutMs: 3000, minBodyBytesPerSecond: 1024 });
    server.mirrors.set('hard', { dir, access: 'public', source: 'hard' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('two never-ending bodies lose their slots; a normal clone then works', async () => {
    const a = stalledPost(server.origin, pkt('command=ls-refs\n'));
    const b = stalledPost(server.origin, pkt('command=ls-refs\n'));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    // Cut off by the server (408 before any output, or the connection closed), not by the client.
    for (const r of [ra, rb]) expect([408, -1]).toContain(r.status);
    const dest = join(work, 'after-stall');
    await clientOk(work, ['clone', '--quiet', '--bare', server.url('hard'), dest]);
  });

  it('one client address cannot hold more than its share: the third concurrent request is 503 busy', async () => {
    // The previous test's clone may still hold a global slot while its git exits; start from none.
    await waitFor(() => server.limiter.active === 0, 10_000, 'earlier requests to give their slots back');
    const before = server.spawns.length;
    const a = stalledPost(server.origin, pkt('command=ls-refs\n'));
    const b = stalledPost(server.origin, pkt('command=ls-refs\n'));
    // Wait until both hold their slots (git is started only once a request has both). Spawns of
    // the earlier test are not counted: counting them let the third request in before a and b.
    await waitFor(
      () => server.spawns.slice(before).filter((s) => !s.args.includes('--advertise-refs')).length >= 2,
      10_000,
      'both stalled requests to start git',
    );
    const third = await rawRequest(server.origin, '/git/hard.git/git-upload-pack', { headers: V2_HEADERS, body: v2LsRefsRequest() });
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body.toString()).error.code).toBe('busy');
    a.abort();
    b.abort();
  });
});

describe('back-to-back requests from one client', () => {
  let server: MirrorServer;
  beforeAll(async () => {
    // One slot per client: a request sent the moment the previous answer was read must find it free.
    // With the clone cache: a miss's copy is written after the answer has gone.
    const cache = new UploadPackCache({ dir: join(await tempDir('syncline-data-'), 'mirror-cache'), maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 });
    server = await startMirrorServer({ maxConcurrent: 4, maxPerClient: 1, packCache: cache });
    server.mirrors.set('hard', { dir, access: 'public', source: 'hard' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('are never 503: the per-client slot is free once the answer has gone, whatever git does after', async () => {
    // One keep-alive connection, each request sent the moment the previous answer was read.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(server.origin);
        const req = httpRequest({ host: hostname, port, path, agent, method: body ? 'POST' : 'GET', headers: { ...V2_HEADERS, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        // A new commit every few rounds: the clone-like fetch misses the cache and writes its copy.
        if (i % 5 === 0) {
          await commitFiles(repo, { 'round.txt': `round ${i}\n` }, `round ${i}`);
          await mirrorOf(repo, mirrorsDir, 'hard');
        }
        const tip = await git(dir, ['rev-parse', 'HEAD']);
        statuses.push(await send('/git/hard.git/info/refs?service=git-upload-pack'));
        statuses.push(await send('/git/hard.git/git-upload-pack', v2LsRefsRequest()));
        statuses.push(await send('/git/hard.git/git-upload-pack', v2FetchRequest([tip])));
      }
    } finally {
      agent.destroy();
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // And a real client's clone, request after request on one connection.
    await clientOk(work, ['clone', '--quiet', '--bare', server.url('hard'), join(work, 'one-slot')]);
  });
});

describe('bad bodies are 400/413, never 500', () => {
  let server: MirrorServer;
  beforeAll(async () => {
    server = await startMirrorServer({ maxRequestBytes: 1024 * 1024 });
    server.mirrors.set('hard', { dir, access: 'public', source: 'hard' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (body: Buffer, headers: Record<string, string> = {}) =>
    rawRequest(server.origin, '/git/hard.git/git-upload-pack', { headers: { ...V2_HEADERS, ...headers }, body });

  it.each([
    ['garbage', Buffer.from('GET / HTTP/1.1\r\nthis is not a pkt-line at all')],
    ['zero-filled', Buffer.alloc(4096)],
    ['truncated pkt-line', Buffer.from('00ffcommand=ls-refs\n')],
    ['length 3', Buffer.from('0003')],
    ['random bytes', Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 131 + 7) % 256))],
    ['malformed ls-refs', Buffer.concat([pkt('command=ls-refs\n'), pkt('object-format=sha1\n'), DELIM, pkt('ref-prefix\n'), pkt('bogus-argument=1\n'), FLUSH])],
    ['unknown command', Buffer.concat([pkt('command=frobnicate\n'), FLUSH])],
    ['fetch wanting garbage', Buffer.concat([pkt('command=fetch\n'), DELIM, pkt('want not-a-sha\n'), pkt('done\n'), FLUSH])],
  ])('%s → 400', async (_label, body) => {
    const res = await post(body);
    expect(res.status, res.body.toString()).toBe(400);
    expect(JSON.parse(res.body.toString()).error.code).toBe('invalid_request');
  });

  it('a gzip bomb is 413; gzip garbage is 400', async () => {
    // Well-formed pkt-lines (so only the size can refuse it), 50 MiB once inflated.
    const line = pkt(`agent=${'x'.repeat(1000)}\n`);
    const bomb = gzipSync(Buffer.concat([pkt('command=ls-refs\n'), ...Array.from({ length: 50 * 1024 }, () => line)]));
    expect(bomb.length).toBeLessThan(200 * 1024);
    const res = await post(bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    const bad = await post(Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
  });

  it('a well-formed request still works', async () => {
    const res = await post(v2LsRefsRequest());
    expect(res.status).toBe(200);
    const tip = await git(dir, ['rev-parse', 'HEAD']);
    const fetchRes = await post(v2FetchRequest([tip]));
    expect(fetchRes.status).toBe(200);
  });
});

describe('previous tips during updates', () => {
  let server: MirrorServer;
  let up: FixtureRepo;
  let upDir: string;
  beforeAll(async () => {
    server = await startMirrorServer({ maxConcurrent: 16, maxPerClient: 16 });
    up = await makeRepo({ name: 'moving' });
    await commitFiles(up, { 'f.txt': 'base\n' }, 'base');
    upDir = await mirrorOf(up, mirrorsDir, 'moving');
    server.mirrors.set('moving', { dir: upDir, access: 'public', source: 'moving' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('keep refs are hidden from advertisements but fetchable; pruned after keepMs', async () => {
    const old = await git(upDir, ['rev-parse', 'refs/heads/main']);
    await forcePush(up, 'main', await rootCommit(up, 'rewritten\n'));
    await mirrorOf(up, mirrorsDir, 'moving');
    const keep = await git(upDir, ['for-each-ref', '--format=%(objectname)', 'refs/syncline/keep']);
    expect(keep.split('\n')).toContain(old);
    const ls = await client(work, ['ls-remote', server.url('moving')]);
    expect(ls.stdout).not.toContain('refs/syncline');
    expect(ls.stdout).not.toContain(old);
    const dest = join(work, 'old-tip.git');
    await clientOk(work, ['init', '--quiet', '--bare', dest]);
    await clientOk(dest, ['fetch', '--quiet', server.url('moving'), old]);
    // keepMs 0 on the next update prunes every kept tip.
    await mirrorOf(up, mirrorsDir, 'moving', { keepMs: 0 });
    expect(await git(upDir, ['for-each-ref', 'refs/syncline/keep'])).toBe('');
  });

  it('16 parallel clones during 10 force-push updates: zero failures', async () => {
    // A fixed amount of work, interleaved by count rather than by time (the test's length does not
    // grow with machine load): five rounds of 16 parallel clones. Round i starts with update 2i+1,
    // which pushes upstream, waits until the round's clones have all started, then fetches and
    // repacks the mirror while they read it; the even updates run between rounds (a fetch alone).
    const CLIENTS = 16;
    const ROUNDS = 5;
    const failures: string[] = [];
    let updatesStarted = 0;
    let started = 0;
    let clones = 0;
    const waitFor = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 5));
    };
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < ROUNDS; i++) {
        await waitFor(() => updatesStarted >= 2 * i + 2);
        const dest = join(work, `par-${w}-${i}.git`);
        started++;
        const res = await client(work, ['clone', '--quiet', '--bare', server.url('moving'), dest]);
        clones++;
        if (res.code !== 0) failures.push(res.stderr);
      }
    };
    const overlapped: boolean[] = [];
    const updater = async (): Promise<void> => {
      for (let n = 0; n < 2 * ROUNDS; n++) {
        updatesStarted++;
        // A rewritten history every time: the old tip is reachable from nothing upstream.
        await forcePush(up, 'main', await rootCommit(up, `rewrite ${n}\n`));
        if (n % 2 === 1) await waitFor(() => started >= CLIENTS * ((n + 1) / 2));
        overlapped.push(started - clones > 0);
        // The odd updates also repack and rewrite the bitmaps while clones read the packs (the
        // mirror scheduler's pass); the even ones are a fetch alone (a sync's).
        await mirrorOf(up, mirrorsDir, 'moving', { maintain: n % 2 === 1 });
      }
    };
    await Promise.all([updater(), ...Array.from({ length: CLIENTS }, (_, w) => worker(w))]);
    expect(failures).toEqual([]);
    expect(clones).toBe(CLIENTS * ROUNDS);
    // The repacking updates (the odd ones) start as a round's clones start; on a loaded machine a
    // round may finish before the repack begins, but the test must have overlapped some.
    expect(overlapped.filter((o, n) => n % 2 === 1 && o).length).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
