/**
 * Air-gap mode through the FULL app (SYNCLINE_MIRROR_RUNTIME_SYNC=false):
 *  - POST /mirrors/sync is refused (400 runtime_sync_disabled) unless `allow_runtime_sync: true`;
 *  - a namespace sync-from-git (and plan) reads the mirror on disk and makes NO request upstream
 *    (the fixture server's request log stays empty), even when upstream has moved on; with no
 *    mirror on disk → 502 fetch_failed, still without contacting upstream;
 *  - the scheduler stays off;
 *  - start-up from a baked dir: recordMirrorsOnDisk fills present/head_commit from disk without
 *    contacting upstream, and the mirror is served — also for a source registered after start;
 *  - a source whose host does not resolve can be registered (the mirror is on disk).
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
import { bake } from '../../../src/mirror/bake.js';
import { startMirrorScheduler } from '../../../src/mirror/scheduler.js';
import { recordMirrorsOnDisk } from '../../../src/mirror/sync.js';
import { setMirrorState } from '../../../src/store/sources.js';
import { api, createSource, expectError, ok, putNamespace, resources, workload } from '../sync/support.js';
import { clientOk, rawRequest } from './helpers.js';
import { getMirror, getSource, listMirrors, makeServedApp, PUBLIC_URL, syncMirrorsOk, syncMirrorsReq, type ServedApp } from './server-support.js';

const INFO_REFS = '/info/refs?service=git-upload-pack';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let root: string;
    let work: string;
    let shop: FixtureRepo;
    let server: GitHttpServer;

    beforeAll(async () => {
      root = await tempDir('syncline-upstream-');
      work = await tempDir('syncline-clients-');
      shop = await makeRepo({ root, name: 'shop' });
      await commitFiles(shop, { 'prod/api.yaml': workload('api', 'port: 8080') }, 'first');
      const other = await makeRepo({ root, name: 'other' });
      await commitFiles(other, { 'prod/api.yaml': workload('api', 'port: 7070') }, 'first');
      server = await serveGitHttp(root);
    });

    afterAll(async () => {
      await server?.close();
      await cleanupTempDirs();
    });

    describe('SYNCLINE_MIRROR_RUNTIME_SYNC=false', () => {
      let t: ServedApp;
      let mirrored: string;

      beforeAll(async () => {
        t = await makeServedApp(dialect, { mirror_runtime_sync: false });
        await createSource(t, 'shop', server.repoUrl('shop'), { mirror: { enabled: true, access: 'public' } });
        await createSource(t, 'other', server.repoUrl('other'));
        server.requests.length = 0;
      });

      afterAll(async () => {
        await t?.close();
      });

      it('POST /mirrors/sync → 400 runtime_sync_disabled unless allow_runtime_sync: true', async () => {
        for (const body of [undefined, {}, { allow_runtime_sync: false }, { slug: 'shop' }]) {
          const err = expectError(await syncMirrorsReq(t, body), 400, 'runtime_sync_disabled');
          expect(err.message).toMatch(/allow_runtime_sync/);
        }
        expect(server.requests).toEqual([]);
        expect(await getMirror(t, 'shop')).toMatchObject({ present: false, head_commit: null });

        expect(await syncMirrorsOk(t, { allow_runtime_sync: true })).toEqual({ repos_processed: 1, repos_updated: 1, errors: [], skipped: [] });
        mirrored = await upstreamCommit(shop);
        expect(await getMirror(t, 'shop')).toMatchObject({ present: true, status: 'ready', head_commit: mirrored });
        expect((await getSource(t, 'shop')).mirror.url).toBe(`${PUBLIC_URL}/git/shop.git`);
        expect(server.requests.length).toBeGreaterThan(0);
      });

      it('a namespace sync and plan read the mirror on disk and never contact upstream, even when it moved on', async () => {
        server.requests.length = 0;
        const newer = await commitFiles(shop, { 'prod/api.yaml': workload('api', 'port: 9090') }, 'upstream moved on');
        await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });

        // No body at all, as `curl -X POST` sends it.
        const dep = ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git'));
        expect(dep).toMatchObject({ status: 'success', commit: mirrored, summary: { create: 1 } });
        expect(dep.commit).not.toBe(newer);
        expect((await resources(t, 'shop.prod')).map((r) => [r.name, r.spec.port])).toEqual([['api', 8080]]);
        expect(ok(await api(t, 'POST', '/namespaces/shop.prod/plan', {}))).toMatchObject({ commit: mirrored });
        expect(ok(await api(t, 'GET', '/namespaces/shop.prod/drift'))).toMatchObject({ fetch_status: 'ok', commit: mirrored });

        // Mirror clients are served from disk too.
        const dest = join(work, `shop-${dialect}`);
        await clientOk(work, ['clone', t.gitUrl('shop'), dest]);
        expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(mirrored);

        expect(server.requests).toEqual([]);
      });

      it('no mirror on disk → 502 fetch_failed, still without contacting upstream', async () => {
        server.requests.length = 0;
        await putNamespace(t, 'other.prod', { source: 'other', branch: 'main', path: 'prod' });
        const err = expectError(await api(t, 'POST', '/namespaces/other.prod/sync-from-git', {}), 502, 'fetch_failed');
        expect(err.details).toMatchObject({ source: 'other' });
        expect(err.message).toMatch(/runtime sync is disabled/);
        expectError(await api(t, 'POST', '/namespaces/other.prod/plan', {}), 502, 'fetch_failed');
        expect(await resources(t, 'other.prod')).toEqual([]);
        expect(server.requests).toEqual([]);
      });

      it('the scheduler stays off', async () => {
        server.requests.length = 0;
        // A pending mirror the scheduler would clone at once if it ran.
        const patched = await api(t, 'PATCH', '/sources/other', { mirror: { enabled: true } });
        expect(patched.statusCode, patched.body).toBe(200);
        const stop = startMirrorScheduler(t.ctx, t.app.log);
        await stop();
        expect(t.logs.some((l) => l.includes('mirror scheduler disabled'))).toBe(true);
        expect(await getMirror(t, 'other')).toMatchObject({ present: false, status: 'pending' });
        expect(server.requests).toEqual([]);
      });
    });

    describe('offline registration', () => {
      it('registers a source whose host does not resolve when runtime sync is off, and refuses it when on', async () => {
        const off = await makeServedApp(dialect, { mirror_runtime_sync: false });
        try {
          const created = await createSource(off, 'airgapped', 'https://git.nowhere.invalid/acme/shop.git', { mirror: { enabled: true } });
          expect(created).toMatchObject({ name: 'airgapped', url: 'https://git.nowhere.invalid/acme/shop.git' });
        } finally {
          await off.close();
        }
        const on = await makeServedApp(dialect, {});
        try {
          expectError(await api(on, 'POST', '/sources', { name: 'x', url: 'https://git.nowhere.invalid/acme/shop.git' }), 400, 'invalid_url');
        } finally {
          await on.close();
        }
      });
    });

    describe('start-up from a baked mirror dir', () => {
      let t: ServedApp;
      let bakeDir: string;
      let head: string;

      beforeAll(async () => {
        bakeDir = await tempDir('syncline-baked-');
        const results = await bake([{ name: 'shop', url: server.repoUrl('shop') }], bakeDir, { guard: { allowedHosts: ['127.0.0.1'], allowFileSources: false } });
        expect(results).toMatchObject([{ name: 'shop', ok: true }]);
        head = await upstreamCommit(shop);
        t = await makeServedApp(dialect, { mirror_dir: bakeDir, mirror_runtime_sync: false });
        await createSource(t, 'shop', server.repoUrl('shop'), { mirror: { enabled: true, access: 'token' } });
        await createSource(t, 'ghost', server.repoUrl('other'), { mirror: { enabled: true, access: 'public' } });
        server.requests.length = 0;
      });

      afterAll(async () => {
        await t?.close();
      });

      it('a mirror on disk registered after start is reported present and served at once, without contacting upstream', async () => {
        // Registered after start-up (no restart, no recordMirrorsOnDisk run): already ready.
        expect(await getMirror(t, 'shop')).toMatchObject({ head_commit: head, status: 'ready', present: true });
        // Recording again at start-up changes nothing.
        await recordMirrorsOnDisk(t.ctx);

        const mirrors = await listMirrors(t);
        expect(mirrors.find((m) => m.slug === 'shop')).toMatchObject({
          present: true,
          status: 'ready',
          head_commit: head,
          public_url: `${PUBLIC_URL}/git/shop.git`,
          last_sync_error: null,
        });
        expect((await getSource(t, 'shop')).mirror).toMatchObject({ url: `${PUBLIC_URL}/git/shop.git`, status: 'ready' });
        expect((await getSource(t, 'shop')).default_branch).toBe('main');
        // Nothing baked for this one: still waiting.
        expect(mirrors.find((m) => m.slug === 'ghost')).toMatchObject({ present: false, status: 'pending', head_commit: null });

        const viewer = await t.token('viewer');
        const dest = join(work, `baked-${dialect}`);
        await clientOk(work, ['clone', t.gitUrl('shop', { password: viewer }), dest]);
        expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(head);
        expect((await rawRequest(t.origin, `/git/ghost.git${INFO_REFS}`)).status).toBe(404);

        // Plans read the baked mirror.
        await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
        expect(ok(await api(t, 'POST', '/namespaces/shop.prod/plan', {}))).toMatchObject({ commit: head });
        expect(server.requests).toEqual([]);
      });

      it('a mirror recorded as ready but gone from disk goes back to pending', async () => {
        await setMirrorState(t.ctx.db.db, 'ghost', { mirror_status: 'ready', mirror_head_commit: head });
        expect((await getSource(t, 'ghost')).mirror.url).not.toBeNull();
        await recordMirrorsOnDisk(t.ctx);
        expect(await getMirror(t, 'ghost')).toMatchObject({ present: false, status: 'pending', head_commit: null });
        expect((await getSource(t, 'ghost')).mirror.url).toBeNull();
        expect(server.requests).toEqual([]);
      });
    });
  });
}
