/**
 * git process lifecycle under the mirror endpoint: many clones while the mirror is updated in
 * place, clients that die mid-transfer (git must die with them, leaving no process behind),
 * responses read long after the request body (git must NOT die then), and the concurrency limit.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  deleteBranch,
  makeRepo,
  randomBlob,
  tempDir,
  type FixtureRepo,
} from '../../helpers/git-fixtures.js';
import { ConcurrencyLimiter } from '../../../src/mirror/limiter.js';
import {
  client,
  clientOk,
  isGone,
  liveProcessesInGroup,
  mirrorOf,
  rawRequest,
  refLines,
  spawnClient,
  startMirrorServer,
  v2FetchRequest,
  V2_HEADERS,
  waitFor,
  type MirrorServer,
} from './helpers.js';

let server: MirrorServer;
let upstream: FixtureRepo;
let mirrorsDir: string;
let work: string;
let dir: string;

beforeAll(async () => {
  mirrorsDir = await tempDir('syncline-mirrors-');
  work = await tempDir('syncline-clients-');
  upstream = await makeRepo({ name: 'busy' });
  // ~24 MiB of incompressible content: far more than socket buffers hold, so a transfer takes time.
  await commitFiles(upstream, { 'a.bin': randomBlob(8 << 20), 'b.bin': randomBlob(8 << 20) }, 'big one');
  await commitFiles(upstream, { 'c.bin': randomBlob(8 << 20), 'app.yaml': 'replicas: 1\n' }, 'big two');
  await createTag(upstream, 'v1', { message: 'v1' });
  await createBranch(upstream, 'doomed');
  await commitFiles(upstream, { 'doomed.txt': 'soon gone\n' }, 'doomed work', { branch: 'doomed' });
  dir = await mirrorOf(upstream, mirrorsDir, 'busy');
  server = await startMirrorServer({ maxConcurrent: 32 });
  server.mirrors.set('busy', { dir, access: 'public', source: 'busy' });
});

afterAll(async () => {
  await server?.close();
  await cleanupTempDirs();
});

/** True once a clone into `dest` has pack data on disk (in flight or complete). */
async function packFlowing(dest: string): Promise<boolean> {
  const packDir = join(dest, 'objects', 'pack');
  let entries: string[];
  try {
    entries = await readdir(packDir);
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.endsWith('.pack') || e.startsWith('tmp_pack_')) {
      const s = await stat(join(packDir, e)).catch(() => null);
      if (s && s.size > 0) return true;
    }
  }
  return false;
}

async function mainTip(): Promise<string> {
  return clientOk(dir, ['rev-parse', 'refs/heads/main']);
}

describe('mirror updated in place while clones run', () => {
  it('completes 8 concurrent clones across a fetch --prune that adds commits and deletes a branch', async () => {
    const before = await refLines(dir);
    expect(before).toContain('refs/heads/doomed');
    // Upstream moves on: new commit on main, the doomed branch is deleted.
    const next = await commitFiles(upstream, { 'app.yaml': 'replicas: 2\n' }, 'scale up');
    await deleteBranch(upstream, 'doomed');

    const dests = Array.from({ length: 8 }, (_, i) => join(work, `during-${i}.git`));
    const done = dests.map(() => false);
    const clones = dests.map((dest, i) =>
      client(work, ['clone', '--bare', server.url('busy'), dest], { timeoutMs: 120_000 }).then((res) => {
        done[i] = true;
        return res;
      }),
    );
    // Update once every clone is receiving its pack (its wants were accepted).
    await waitFor(async () => (await Promise.all(dests.map(async (d, i) => done[i] || (await packFlowing(d))))).every(Boolean), 60_000, 'clones to start receiving');
    const runningAtUpdate = done.filter((d) => !d).length;
    const lsRemotes = ['2', '0', '2', '0'].map((v) => client(work, ['-c', `protocol.version=${v}`, 'ls-remote', server.url('busy')]));
    await mirrorOf(upstream, mirrorsDir, 'busy');
    const after = await refLines(dir);
    expect(after).not.toContain('refs/heads/doomed');
    expect(after).toContain(`${next} refs/heads/main`);

    const results = await Promise.all(clones);
    for (const [i, res] of results.entries()) {
      expect(res.code, res.stderr).toBe(0);
      // Each clone is a consistent snapshot: the refs it listed before the update.
      expect(await refLines(dests[i] as string)).toBe(before);
    }
    expect(runningAtUpdate).toBeGreaterThan(0);
    for (const res of await Promise.all(lsRemotes)) expect(res.code, res.stderr).toBe(0);

    // Clones and fetches after the update see the new state.
    const later = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const dest = join(work, `after-${i}.git`);
        await clientOk(work, ['clone', '--bare', server.url('busy'), dest], { timeoutMs: 120_000 });
        return refLines(dest);
      }),
    );
    for (const refs of later) expect(refs).toBe(after);
    const old = dests[0] as string;
    await clientOk(old, ['fetch', '--prune', server.url('busy'), '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
    expect(await refLines(old)).toBe(after);
    // The server frees a slot just after the client sees the end of its response.
    await waitFor(() => server.limiter.active === 0, 10_000, 'slot release');
  });
});

describe('clients that go away', () => {
  it('kills upload-pack and its children when a git clone is killed mid-transfer', async () => {
    const dest = join(work, 'killed.git');
    const firstSpawn = server.spawns.length;
    const child = await spawnClient(work, ['clone', '--bare', server.url('busy'), dest]);
    const pgid = child.pid as number;
    const exited = new Promise((r) => child.once('exit', r));
    // v2 clone: GET info/refs, POST ls-refs, POST fetch. Freeze the client as soon as the fetch
    // starts, so the pack cannot finish; then kill it.
    await waitFor(() => server.spawns.length >= firstSpawn + 3, 30_000, 'fetch upload-pack');
    process.kill(-pgid, 'SIGSTOP');
    const fetch = server.spawns[firstSpawn + 2];
    const gitPid = fetch?.pid as number;
    expect(fetch?.args).not.toContain('--advertise-refs');
    await new Promise((r) => setTimeout(r, 500));
    // Still there, blocked on a client that does not read: the transfer is in progress.
    expect(await isGone(gitPid)).toBe(false);
    expect(server.limiter.active).toBe(1);

    process.kill(-pgid, 'SIGKILL');
    await exited;
    await waitFor(async () => (await isGone(gitPid)) && (await liveProcessesInGroup(gitPid)).length === 0, 10_000, 'upload-pack to exit');
    // Reaped, not a zombie.
    await waitFor(() => isGoneCompletely(gitPid), 10_000, 'upload-pack to be reaped');
    await waitFor(() => server.limiter.active === 0, 10_000, 'slot release');
    expect(server.logs.some((l) => l.msg === 'mirror client disconnected; git stopped')).toBe(true);
  });

  it('kills upload-pack when a raw client drops the connection after part of the pack', async () => {
    const firstSpawn = server.spawns.length;
    const tip = await mainTip();
    const received = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(server.origin);
      const body = v2FetchRequest([tip]);
      const req = httpRequest(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/git/busy.git/git-upload-pack',
          headers: { ...V2_HEADERS, 'content-length': String(body.length) },
          agent: false,
        },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n >= 1 << 20) {
              req.destroy();
              resolve(n);
            }
          });
          res.on('end', () => reject(new Error('response completed; expected to drop it')));
        },
      );
      req.on('error', () => {});
      req.end(body);
    });
    expect(received).toBeGreaterThanOrEqual(1 << 20);
    const gitPid = server.spawns[firstSpawn]?.pid as number;
    await waitFor(async () => (await isGoneCompletely(gitPid)) && (await liveProcessesInGroup(gitPid)).length === 0, 10_000, 'upload-pack to exit');
    await waitFor(() => server.limiter.active === 0, 10_000, 'slot release');
  });

  it('does not kill git when the request body is done but the response is read late', async () => {
    // Node emits the request's 'close' once its body is consumed; killing git on that would
    // cut every response that is still streaming.
    const tip = await mainTip();
    const warnings = server.logs.filter((l) => (l.level as number) >= 40).length;
    const disconnects = server.logs.filter((l) => l.msg === 'mirror client disconnected; git stopped').length;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const { hostname, port } = new URL(server.origin);
      const payload = v2FetchRequest([tip]);
      const req = httpRequest(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/git/busy.git/git-upload-pack',
          headers: { ...V2_HEADERS, 'content-length': String(payload.length) },
          agent: false,
        },
        (res) => {
          res.pause();
          setTimeout(() => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.resume();
          }, 1000);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    expect(body.length).toBeGreaterThan(24 << 20);
    expect(body.includes(Buffer.from('PACK'))).toBe(true);
    expect(body.subarray(-4).toString()).toBe('0000');
    expect(server.logs.filter((l) => (l.level as number) >= 40).length).toBe(warnings);
    expect(server.logs.filter((l) => l.msg === 'mirror client disconnected; git stopped').length).toBe(disconnects);
  });

  it('accepts a request body that arrives slowly in pieces', async () => {
    const tip = await mainTip();
    const payload = v2FetchRequest([tip], { args: ['deepen 1'] });
    const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const { hostname, port } = new URL(server.origin);
      const req = httpRequest(
        { host: hostname, port, method: 'POST', path: '/git/busy.git/git-upload-pack', headers: V2_HEADERS, agent: false },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      const third = Math.ceil(payload.length / 3);
      req.write(payload.subarray(0, third));
      setTimeout(() => req.write(payload.subarray(third, 2 * third)), 200);
      setTimeout(() => req.end(payload.subarray(2 * third)), 400);
    });
    expect(res.status).toBe(200);
    expect(res.body.includes(Buffer.from('PACK'))).toBe(true);
  });
});

async function isGoneCompletely(pid: number): Promise<boolean> {
  return stat(`/proc/${pid}`).then(
    () => false,
    () => true,
  );
}

describe('concurrency limit', () => {
  /** A POST whose body never finishes: upload-pack starts and waits on stdin, holding a slot. */
  function holdSlot(s: MirrorServer): { req: ClientRequest; response: Promise<IncomingMessage | null> } {
    const { hostname, port } = new URL(s.origin);
    const req = httpRequest({
      host: hostname,
      port,
      method: 'POST',
      path: '/git/busy.git/git-upload-pack',
      headers: V2_HEADERS,
      agent: false,
    });
    const response = new Promise<IncomingMessage | null>((resolve) => {
      req.on('response', resolve);
      req.on('error', () => resolve(null));
    });
    req.write('0014command=ls-refs\n');
    return { req, response };
  }

  const infoRefs = '/git/busy.git/info/refs?service=git-upload-pack';

  it('answers 503 with Retry-After when all slots are busy and the queue is full', async () => {
    const s = await startMirrorServer({ maxConcurrent: 1, maxQueue: 0, retryAfterSeconds: 7 });
    s.mirrors.set('busy', { dir, access: 'public', source: 'busy' });
    try {
      const holder = holdSlot(s);
      await waitFor(() => s.spawns.length === 1, 10_000, 'holder to start git');
      const spawns = s.spawns.length;
      const busy = await rawRequest(s.origin, infoRefs);
      expect(busy.status).toBe(503);
      expect(busy.headers['retry-after']).toBe('7');
      expect(JSON.parse(busy.body.toString()).error.code).toBe('busy');
      expect(s.spawns.length).toBe(spawns);
      // A git client gets a clear failure too.
      const ls = await client(work, ['ls-remote', s.url('busy')]);
      expect(ls.code).not.toBe(0);
      expect(ls.stderr).toContain('503');

      holder.req.destroy();
      await waitFor(() => s.limiter.active === 0, 10_000, 'holder slot release');
      expect((await rawRequest(s.origin, infoRefs)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('queues requests until a slot frees, and gives up after the queue timeout', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 300, retryAfterSeconds: 2 });
    const s = await startMirrorServer({ limiter });
    s.mirrors.set('busy', { dir, access: 'public', source: 'busy' });
    try {
      const holder = holdSlot(s);
      await waitFor(() => s.spawns.length === 1, 10_000, 'holder to start git');

      // Waits in the queue for 300 ms, then 503.
      const started = Date.now();
      const timedOut = await rawRequest(s.origin, infoRefs);
      expect(timedOut.status).toBe(503);
      expect(timedOut.headers['retry-after']).toBe('2');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);

      // One waits in the queue; a second finds the queue full at once.
      const queued = rawRequest(s.origin, infoRefs);
      await waitFor(() => limiter.queued === 1, 5_000, 'request to queue');
      const full = await rawRequest(s.origin, infoRefs);
      expect(full.status).toBe(503);
      // Freeing the slot lets the queued one through.
      holder.req.destroy();
      expect((await queued).status).toBe(200);
      await waitFor(() => limiter.active === 0, 5_000, 'slot release');
    } finally {
      await s.close();
    }
  });

  it('stops git at shutdown instead of waiting for transfers in flight', async () => {
    const s = await startMirrorServer({ maxConcurrent: 2 });
    s.mirrors.set('busy', { dir, access: 'public', source: 'busy' });
    const holder = holdSlot(s);
    await waitFor(() => s.spawns.length === 1, 10_000, 'holder to start git');
    const gitPid = s.spawns[0]?.pid as number;
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(async () => (await isGoneCompletely(gitPid)) && (await liveProcessesInGroup(gitPid)).length === 0, 10_000, 'git to exit');
    holder.req.destroy();
  });

  it('gives up the queue place of a client that disconnects while waiting', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 4, queueTimeoutMs: 30_000 });
    const s = await startMirrorServer({ limiter });
    s.mirrors.set('busy', { dir, access: 'public', source: 'busy' });
    try {
      const holder = holdSlot(s);
      await waitFor(() => s.spawns.length === 1, 10_000, 'holder to start git');
      const { hostname, port } = new URL(s.origin);
      const waiting = httpRequest({ host: hostname, port, path: infoRefs, agent: false });
      waiting.on('error', () => {});
      waiting.end();
      await waitFor(() => limiter.queued === 1, 5_000, 'request to queue');
      waiting.destroy();
      await waitFor(() => limiter.queued === 0, 5_000, 'queue place to be released');
      holder.req.destroy();
      await waitFor(() => limiter.active === 0, 5_000, 'slot release');
      // Nobody started git for the abandoned request.
      expect(s.spawns.length).toBe(1);
    } finally {
      await s.close();
    }
  });
});
