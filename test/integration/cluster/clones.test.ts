/**
 * 16 git clients cloning from one replica while the mirror updates on every replica (three apps
 * on one PostgreSQL schema, each with its own mirror copy and a scheduler ticking every 300 ms
 * with a 1 s interval), upstream moving on all along (a new commit every 400 ms):
 * 0 failed clones, each clone a consistent snapshot (its HEAD is a commit upstream had), and the
 * copies on every replica catch up with upstream afterwards.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaRegistry } from '../../../src/cluster/registry.js';
import { startMirrorScheduler } from '../../../src/mirror/scheduler.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { createSource, until } from '../sync/support.js';
import { client, clientOk } from '../mirror/helpers.js';
import { getMirror, makeServedApp, type ServedApp } from '../mirror/server-support.js';

const CLIENTS = 16;
const ROUNDS = 2;

describe.runIf(DIALECTS.includes('postgres'))('clones during mirror updates on every replica', () => {
  const apps: ServedApp[] = [];
  const stops: (() => Promise<void>)[] = [];
  const registries: ReplicaRegistry[] = [];
  let server: GitHttpServer;
  let upstream: FixtureRepo;
  let work: string;

  beforeAll(async () => {
    // All clients come from 127.0.0.1: let one address have all 16 (default 4 per client).
    const settings = { mirror_interval: 1, mirror_max_per_client: CLIENTS };
    apps.push(await makeServedApp('postgres', settings));
    for (let i = 1; i < 3; i++) apps.push(await makeServedApp('postgres', settings, { schema: apps[0]!.schema }));
    for (const t of apps) {
      const r = new ReplicaRegistry(t.ctx.db, 'test', () => [], t.ctx.replicaId);
      await r.start();
      registries.push(r);
    }
    const root = await tempDir('syncline-upstream-');
    work = await tempDir('syncline-clients-');
    upstream = await makeRepo({ root, name: 'busy' });
    for (let i = 0; i < 20; i++) await commitFiles(upstream, { [`f${i % 5}.txt`]: `${i}\n`.repeat(200) }, `c${i}`);
    server = await serveGitHttp(root);
    await createSource(apps[0]!, 'busy', server.repoUrl('busy'), { mirror: { enabled: true, access: 'public' } });
    for (const t of apps) stops.push(startMirrorScheduler(t.ctx, t.app.log, { tickMs: 300 }));
    const head = await upstreamCommit(upstream);
    await until(
      async () => (await getMirror(apps[0]!, 'busy') as unknown as { replicas: { head_commit: string | null }[] }).replicas.filter((c) => c.head_commit === head).length === 3,
      'every replica to hold a copy',
      60_000,
    );
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    for (const r of registries) await r.stop();
    await server?.close();
    for (const t of apps.reverse()) await t.close();
    await cleanupTempDirs();
  });

  it(`${CLIENTS} clients × ${ROUNDS} rounds against one replica while every replica's copy updates: 0 failures`, { timeout: 300_000 }, async () => {
    const target = apps[0]!;
    const pushed = new Set<string>([await upstreamCommit(upstream)]);
    let moving = true;
    let pushes = 0;
    // Upstream moves on all along: a new commit every 400 ms.
    const mover = (async () => {
      for (let i = 0; moving; i++) {
        pushed.add(await commitFiles(upstream, { [`f${i % 5}.txt`]: `moved ${i}\n`.repeat(200) }, `move ${i}`));
        pushes++;
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    const failures: string[] = [];
    let clones = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.all(
          Array.from({ length: CLIENTS }, async (_, i) => {
            const dest = join(work, `r${round}-c${i}`);
            const res = await client(work, ['clone', '--quiet', target.gitUrl('busy'), dest], { timeoutMs: 180_000 });
            if (res.code !== 0) return `clone ${round}/${i}: ${res.code ?? res.signal} ${res.stderr}`;
            const head = await clientOk(dest, ['rev-parse', 'HEAD']);
            const fsck = await client(dest, ['fsck', '--connectivity-only', '--no-progress']);
            if (fsck.code !== 0) return `fsck ${round}/${i}: ${fsck.stderr}`;
            return pushed.has(head) ? null : `clone ${round}/${i}: HEAD ${head} is no commit upstream had`;
          }),
        );
        clones += results.length;
        failures.push(...results.filter((r): r is string => r !== null));
      }
    } finally {
      moving = false;
      await mover;
    }
    expect(failures).toEqual([]);
    expect(clones).toBe(CLIENTS * ROUNDS);
    expect(pushes).toBeGreaterThan(0);
    // Every replica's copy moved meanwhile and catches up with upstream.
    const head = await upstreamCommit(upstream);
    await until(
      async () => (await getMirror(target, 'busy') as unknown as { replicas: { head_commit: string | null }[] }).replicas.every((c) => c.head_commit === head),
      'every copy to reach upstream',
      60_000,
    );
    const events = await target.ctx.db.db.selectFrom('outbox').select('event').where('type', '=', 'syncline.mirror.updated').execute();
    const replicasMoved = new Set(events.map((e) => JSON.parse(e.event).data.replica));
    expect(replicasMoved.size).toBe(3);
  });
});
