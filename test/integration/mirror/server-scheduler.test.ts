/**
 * The mirror scheduler through the FULL app: with a small SYNCLINE_MIRROR_INTERVAL it clones a
 * pending mirror at once, picks up a mirror enabled later and refreshes a mirror whose upstream
 * moved on — all without any API call to /mirrors/sync — and stop() resolves. Disabled with an
 * interval of 0. The scheduler ticks every 300 ms here: the test polls GET /mirrors with a
 * generous deadline and asserts no timings.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import {
  cleanupTempDirs,
  commitFiles,
  makeRepo,
  serveGitHttp,
  tempDir,
  upstreamCommit,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import { startMirrorScheduler } from '../../../src/mirror/scheduler.js';
import { api, createSource, until } from '../sync/support.js';
import { clientOk } from './helpers.js';
import { getMirror, listMirrors, makeServedApp, type ServedApp } from './server-support.js';

/** The scheduler looks for due mirrors this often here (10 s in production). */
const TICK_MS = 300;
/** Generous: clones on a loaded machine. */
const DEADLINE_MS = 45_000;

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: ServedApp;
    let server: GitHttpServer;
    let alpha: FixtureRepo;
    let beta: FixtureRepo;
    let work: string;

    beforeAll(async () => {
      t = await makeServedApp(dialect, { mirror_interval: 1 });
      const root = await tempDir('syncline-upstream-');
      work = await tempDir('syncline-clients-');
      alpha = await makeRepo({ root, name: 'alpha' });
      await commitFiles(alpha, { 'a.txt': 'one\n' }, 'alpha one');
      beta = await makeRepo({ root, name: 'beta' });
      await commitFiles(beta, { 'b.txt': 'one\n' }, 'beta one');
      server = await serveGitHttp(root);
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('clones pending mirrors, picks up new ones and refreshes due ones without any API call; stop() resolves', { timeout: 120_000 }, async () => {
      await createSource(t, 'alpha', server.repoUrl('alpha'), { mirror: { enabled: true, access: 'public' } });
      const stop = startMirrorScheduler(t.ctx, t.app.log, { tickMs: TICK_MS });
      let stopped = false;
      try {
        // Pending at start: the first round clones it. (On disk first, then recorded: wait for both.)
        const synced = (m: { present: boolean; status: string } | undefined) => m?.present === true && m.status === 'ready';
        await until(async () => synced(await getMirror(t, 'alpha')), 'alpha to be mirrored', DEADLINE_MS);
        expect(await getMirror(t, 'alpha')).toMatchObject({ status: 'ready', head_commit: await upstreamCommit(alpha), last_sync_error: null });

        // A mirror enabled while the scheduler runs, and an upstream that moves on.
        await createSource(t, 'beta', server.repoUrl('beta'), { mirror: { enabled: true, access: 'public' } });
        const next = await commitFiles(alpha, { 'a.txt': 'two\n' }, 'alpha two');
        await until(
          async () => {
            const items = await listMirrors(t);
            const a = items.find((m) => m.slug === 'alpha');
            const b = items.find((m) => m.slug === 'beta');
            return a?.head_commit === next && synced(b);
          },
          'beta to be mirrored and alpha refreshed',
          DEADLINE_MS,
        );
        expect(await getMirror(t, 'beta')).toMatchObject({ status: 'ready', head_commit: await upstreamCommit(beta) });

        const dest = join(work, 'alpha');
        await clientOk(work, ['clone', t.gitUrl('alpha'), dest]);
        expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(next);

        await stop();
        stopped = true;
      } finally {
        if (!stopped) await stop();
      }
      // Nobody asked: requests are logged, and none was a /mirrors/sync.
      expect(t.logs.some((l) => l.includes('/api/v1/mirrors'))).toBe(true);
      expect(t.logs.some((l) => l.includes('/mirrors/sync'))).toBe(false);
      expect(t.logs.some((l) => l.includes('mirror updated'))).toBe(true);
    });

    it('a failing mirror waits a full interval before the next try (not every tick), unless its source is edited', { timeout: 120_000 }, async () => {
      // Its own app (a long interval) and its own upstream (always 500).
      const t2 = await makeServedApp(dialect, { mirror_interval: 3600 });
      const failRoot = await tempDir('syncline-upstream-failing-');
      const goodRoot = await tempDir('syncline-upstream-good-');
      for (const [root, name] of [[failRoot, 'early'], [failRoot, 'edited'], [goodRoot, 'edited'], [goodRoot, 'late']] as const) {
        await commitFiles(await makeRepo({ root, name }), { 'a.txt': `${name}\n` }, name);
      }
      const failing = await serveGitHttp(failRoot);
      failing.setFault({ kind: 'status', status: 500 });
      const good = await serveGitHttp(goodRoot);
      for (const name of ['early', 'edited']) {
        await createSource(t2, name, failing.repoUrl(name), { mirror: { enabled: true, access: 'public' } });
      }
      // A repository that does not exist: retrying cannot help, so it is stalled, not waiting.
      await createSource(t2, 'gone', good.repoUrl('gone'), { mirror: { enabled: true, access: 'public' } });
      const stop = startMirrorScheduler(t2.ctx, t2.app.log, { tickMs: TICK_MS });
      try {
        // Both tried (and failed) by the first round.
        await until(
          async () => (await listMirrors(t2)).every((m) => m.last_sync_error !== null),
          'the first failures',
          DEADLINE_MS,
        );
        const tried = failing.requests.length;
        expect(tried).toBeGreaterThan(0);
        expect(await getMirror(t2, 'early')).toMatchObject({ present: false, status: 'error', sync_state: 'waiting', last_sync_error_code: 'fetch_failed' });
        expect(await getMirror(t2, 'gone')).toMatchObject({ present: false, status: 'error', sync_state: 'stalled', last_sync_error_code: 'repo_not_found' });

        // One source is fixed (moved to a working upstream), and a new mirror is enabled.
        const patched = await api(t2, 'PATCH', '/sources/edited', { url: good.repoUrl('edited') });
        expect(patched.statusCode, patched.body).toBe(200);
        await createSource(t2, 'late', good.repoUrl('late'), { mirror: { enabled: true, access: 'public' } });

        // The next round goes by name: 'early' (failed less than an interval ago: not due, upstream
        // sees nothing), 'edited' (edited since its failure: retried, now fine), then 'late' (new).
        await until(async () => (await getMirror(t2, 'late')).status === 'ready', 'the new mirror', DEADLINE_MS);
        expect(failing.requests.length).toBe(tried);
        expect(await getMirror(t2, 'early')).toMatchObject({ present: false, status: 'error' });
        expect(await getMirror(t2, 'edited')).toMatchObject({ present: true, status: 'ready', last_sync_error: null, sync_state: 'ok' });
      } finally {
        await stop();
        await failing.close();
        await good.close();
        await t2.close();
      }
    });

    it('an interval of 0 disables it', async () => {
      const stop = startMirrorScheduler({ ...t.ctx, settings: { ...t.ctx.settings, mirror_interval: 0 } }, t.app.log);
      await stop();
      expect(t.logs.some((l) => l.includes('mirror scheduler disabled') && l.includes('"interval_s":0'))).toBe(true);
    });
  });
}
