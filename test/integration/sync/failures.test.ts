/**
 * The git server failing under a sync, and syncs racing each other:
 *  - the connection dropped mid-pack, or the whole server killed mid-fetch → 502 fetch_failed,
 *    live state untouched, no deployment, and a later sync works (the mirror was not damaged);
 *  - drift during an outage reports fetch_failed without touching the namespace status;
 *  - concurrent syncs of one namespace serialise (and PATCHes with them); with a small
 *    sync_lock_timeout and a hanging fetch the second gets 409 sync_in_progress, also across
 *    processes on PostgreSQL.
 * No timing assertions: ordering is established by waiting for observable state (a request
 * reaching the git server), never by sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import {
  cleanupTempDirs,
  commitFiles,
  makeRepo,
  randomBlob,
  serveGitHttp,
  tempDir,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import { isLockedLocally } from '../../../src/store/locks.js';
import {
  api,
  createSource,
  holdLockElsewhere,
  deployments,
  drift,
  expectError,
  getNamespace,
  liveSnapshot,
  makeSyncApp,
  metric,
  ok,
  putNamespace,
  resource,
  sync,
  syncReq,
  until,
  workload,
} from './support.js';


const isUploadPack = (r: { method: string; url: string }) => r.method === 'POST' && r.url.includes('git-upload-pack');

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let root: string;
    let repo: FixtureRepo;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080'), 'prod/metrics.yml': metric('rps', 'up') }, 'first');
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
      await putNamespace(t, 'shop.mirror', { source: 'shop', branch: 'main', path: 'prod' });
      await sync(t, 'shop.prod');
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('the connection dropped mid-pack: 502 fetch_failed, live untouched, nothing recorded; the next sync works', async () => {
      const live = await liveSnapshot(t, 'shop.prod');
      const history = await deployments(t, 'shop.prod');
      // A new commit whose pack is big enough to cut in the middle.
      const next = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9090'), 'assets/blob.bin': randomBlob(2 * 1024 * 1024) }, 'big');

      server.setFault({ kind: 'drop-after', bytes: 64 * 1024, on: 'upload-pack' });
      try {
        const err = expectError(await syncReq(t, 'shop.prod'), 502, 'fetch_failed');
        expect(err.details).toMatchObject({ source: 'shop' });
        const report = await drift(t, 'shop.prod');
        expect(report).toMatchObject({ fetch_status: 'fetch_failed', plan: null });
        expect(report.message).toMatch(/shop/);
      } finally {
        server.setFault(null);
      }
      expect(await liveSnapshot(t, 'shop.prod')).toEqual(live);
      expect(await deployments(t, 'shop.prod')).toEqual(history);
      expect((await getNamespace(t, 'shop.prod')).status).toBe('synced');

      const dep = await sync(t, 'shop.prod');
      expect(dep).toMatchObject({ status: 'success', commit: next, summary: { update: 1, noop: 1 } });
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(9090);
    });

    it('the git server answering 500: 502 fetch_failed, drift says fetch_failed, the status is left alone', async () => {
      const live = await liveSnapshot(t, 'shop.prod');
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9191') }, 'during outage');
      server.setFault({ kind: 'status', status: 500 });
      try {
        expectError(await syncReq(t, 'shop.prod'), 502, 'fetch_failed');
        expectError(await api(t, 'POST', '/namespaces/shop.prod/plan', {}), 502, 'fetch_failed');
        expect(await drift(t, 'shop.prod')).toMatchObject({ fetch_status: 'fetch_failed', commit: null, plan: null });
      } finally {
        server.setFault(null);
      }
      expect((await getNamespace(t, 'shop.prod')).status).toBe('synced');
      expect(await liveSnapshot(t, 'shop.prod')).toEqual(live);
      // Once the server is back the drift is seen.
      expect(await drift(t, 'shop.prod')).toMatchObject({ fetch_status: 'ok', plan: { summary: { update: 1 } } });
      expect((await getNamespace(t, 'shop.prod')).status).toBe('out_of_sync');
    });

    it('two syncs of one namespace started at once serialise: one applies, the other sees its result as noop', async () => {
      const head = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9292') }, 'race');
      const before = (await deployments(t, 'shop.prod')).length;
      const [a, b] = await Promise.all([syncReq(t, 'shop.prod'), syncReq(t, 'shop.prod')]);
      const deps = [ok(a), ok(b)];
      expect(deps.map((d) => d.commit)).toEqual([head, head]);
      expect(deps.map((d) => d.status).sort()).toEqual(['noop', 'success']);
      const applied = deps.find((d) => d.status === 'success');
      const second = deps.find((d) => d.status === 'noop');
      expect(applied.summary).toMatchObject({ update: 1, noop: 1 });
      expect(second.summary).toMatchObject({ update: 0, noop: 2 });
      // Recorded in the order they ran: the noop after (newer than) the one that applied.
      const list = await deployments(t, 'shop.prod');
      expect(list).toHaveLength(before + 2);
      expect(list.slice(0, 2).map((d: any) => d.id)).toEqual([second.id, applied.id]);
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(9292);
      expect((await getNamespace(t, 'shop.prod')).status).toBe('synced');
    });

    it('a PATCH racing a sync: both changes land, whichever goes first', async () => {
      const head = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9494') }, 'race a patch');
      const [synced, patched] = await Promise.all([
        syncReq(t, 'shop.prod'),
        api(t, 'PATCH', '/namespaces/shop.prod/resources/Workload/api', { spec: { resources: { cpu_limit: '250m' } } }),
      ]);
      expect(ok(synced)).toMatchObject({ status: 'success', commit: head });
      ok(patched);
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec).toMatchObject({ port: 9494, resources: { cpu_limit: '250m' } });
      expect(await drift(t, 'shop.prod')).toMatchObject({ fetch_status: 'ok', plan: { summary: { update: 0 } } });
    });

    it('syncs of two namespaces on one source at once both apply', async () => {
      const [a, b] = await Promise.all([syncReq(t, 'shop.prod'), syncReq(t, 'shop.mirror')]);
      expect(ok(a).status).toBe('noop');
      expect(ok(b)).toMatchObject({ status: 'success', summary: { create: 2 } });
      expect((await resource(t, 'shop.mirror', 'Workload', 'api')).spec.port).toBe(9494);
    });

    describe('a hanging fetch holds the namespace lock', () => {
      let t2: TestApp;
      beforeAll(async () => {
        // Waits at most 1 s for the lock.
        t2 = await makeSyncApp(dialect, { sync_lock_timeout: 1 });
        await createSource(t2, 'shop', server.repoUrl('shop'));
        await putNamespace(t2, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
        await sync(t2, 'shop.prod');
      });
      afterAll(async () => {
        await t2?.close();
      });

      it('the second sync gets 409 sync_in_progress; killing the git server mid-fetch fails the first with 502; a later sync works', async () => {
        const live = await liveSnapshot(t2, 'shop.prod');
        const history = await deployments(t2, 'shop.prod');
        const next = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9393') }, 'while hanging');

        const seen = server.requests.length;
        server.setFault({ kind: 'hang', on: 'upload-pack' });
        const first = syncReq(t2, 'shop.prod');
        // The first sync holds the lock and is stuck inside the fetch.
        await until(() => server.requests.slice(seen).some(isUploadPack), 'the fetch to reach the git server');
        expect(isLockedLocally('namespace:shop.prod')).toBe(true);

        const err = expectError(await syncReq(t2, 'shop.prod'), 409, 'sync_in_progress');
        expect(err.details).toEqual({ namespace: 'shop.prod' });
        // A PATCH of live state is serialised with the sync too.
        const patchUrl = '/namespaces/shop.prod/resources/Workload/api';
        expectError(await api(t2, 'PATCH', patchUrl, { spec: { max_instances: 2 } }), 409, 'sync_in_progress');

        // The git server dies with the fetch in flight.
        server.kill();
        expectError(await first, 502, 'fetch_failed');
        expect(await liveSnapshot(t2, 'shop.prod')).toEqual(live);
        expect(await deployments(t2, 'shop.prod')).toEqual(history);
        expect((await getNamespace(t2, 'shop.prod')).status).toBe('synced');
        expectError(await syncReq(t2, 'shop.prod'), 502, 'fetch_failed');
        ok(await api(t2, 'PATCH', patchUrl, { spec: { max_instances: 2 } }));

        // The server comes back (elsewhere): the source is pointed at it and syncs resume.
        server = await serveGitHttp(root);
        ok(await api(t2, 'PATCH', '/sources/shop', { url: server.repoUrl('shop') }));
        const dep = await sync(t2, 'shop.prod');
        expect(dep).toMatchObject({ status: 'success', commit: next, summary: { update: 1 } });
        expect((await resource(t2, 'shop.prod', 'Workload', 'api')).spec).toMatchObject({ port: 9393, max_instances: 2 });
        expect(isLockedLocally('namespace:shop.prod')).toBe(false);
      });
    });

    describe.runIf(dialect === 'postgres')('across processes (PostgreSQL advisory lock)', () => {
      it('a sync lock held by another process → 409 sync_in_progress; another schema is not blocked; once released, syncs work', async () => {
        const a = await makeSyncApp(dialect, { sync_lock_timeout: 1 });
        const b = await makeSyncApp(dialect, { sync_lock_timeout: 1 });
        try {
          for (const app of [a, b]) {
            await createSource(app, 'shop', server.repoUrl('shop'));
            await putNamespace(app, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
          }
          const holder = await holdLockElsewhere(a.schema!, 'namespace:shop.prod');
          let released = false;
          try {
            expectError(await syncReq(a, 'shop.prod'), 409, 'sync_in_progress');
            expect(await deployments(a, 'shop.prod')).toEqual([]);
            // Same namespace name, another install's schema in the same database: not blocked.
            expect(await sync(b, 'shop.prod')).toMatchObject({ status: 'success' });
            await holder.release();
            released = true;
          } finally {
            if (!released) await holder.release().catch(() => undefined);
          }
          expect(await sync(a, 'shop.prod')).toMatchObject({ status: 'success', summary: { create: 2 } });
        } finally {
          await a.close();
          await b.close();
        }
      });
    });
  });
}
