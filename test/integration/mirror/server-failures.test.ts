/**
 * Mirror syncs failing and racing, through the FULL app:
 *  - upstream answering 500, or dead: the summary lists the slug with a redacted error (the
 *    source's planted upstream token never shows in the error, GET /mirrors or the logs),
 *    `last_sync_error` is kept and the last good copy keeps being served; once upstream is back
 *    the error clears. A first clone that fails leaves nothing served;
 *  - one sync per copy: while a sync holds `mirror:<replica>:<name>` (a hanging upstream, the lock held
 *    directly, or — PostgreSQL — another process of the same replica), a second POST /mirrors/sync reports the slug
 *    under `skipped`; other mirrors are not blocked.
 * No timing assertions: ordering comes from observable state (a request reaching the git server).
 */
import { randomBytes } from 'node:crypto';
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
import { isLockedLocally, withLock } from '../../../src/store/locks.js';
import { mirrorLockKey } from '../../../src/mirror/sync.js';
import { api, createSource, until } from '../sync/support.js';
import { client, clientOk, rawRequest } from './helpers.js';
import {
  getMirror,
  getSource,
  holdLockElsewhere,
  listMirrors,
  makeServedApp,
  PUBLIC_URL,
  secretForms,
  syncMirrorsOk,
  syncMirrorsReq,
  type MirrorSummary,
  type ServedApp,
} from './server-support.js';

const INFO_REFS = '/info/refs?service=git-upload-pack';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    /** The upstream credential stored (encrypted) in the source; must never leak. */
    const PLANTED = `planted-upstream-token-${randomBytes(12).toString('hex')}`;
    let t: ServedApp;
    let root: string;
    let work: string;
    let vault: FixtureRepo;
    let server: GitHttpServer;
    let goodHead: string;

    /** Fails the test if any form of the planted token appears in `text`. */
    const expectNoSecret = (text: string, where: string) => {
      for (const form of secretForms(PLANTED)) expect(text.includes(form), `${where} leaks the upstream token`).toBe(false);
    };

    beforeAll(async () => {
      t = await makeServedApp(dialect);
      root = await tempDir('syncline-upstream-');
      work = await tempDir('syncline-clients-');
      vault = await makeRepo({ root, name: 'vault' });
      await commitFiles(vault, { 'prod/app.yaml': 'replicas: 1\n' }, 'first');
      // The upstream insists on the token: every sync really sends it.
      server = await serveGitHttp(root, { token: PLANTED });
      await createSource(t, 'vault', server.repoUrl('vault'), {
        auth: { type: 'token', token: PLANTED },
        mirror: { enabled: true, access: 'public' },
      });
      expect(await syncMirrorsOk(t, { slug: 'vault' })).toEqual({ repos_processed: 1, repos_updated: 1, errors: [], skipped: [] });
      goodHead = await upstreamCommit(vault);
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    /** Clones the vault mirror through the app and returns the clone's HEAD. */
    async function servedHead(name: string): Promise<string> {
      const dest = join(work, name);
      await clientOk(work, ['clone', t.gitUrl('vault'), dest]);
      return clientOk(dest, ['rev-parse', 'HEAD']);
    }

    function expectVaultError(summary: MirrorSummary): string {
      expect(summary).toMatchObject({ repos_processed: 1, repos_updated: 0, skipped: [] });
      expect(summary.errors).toHaveLength(1);
      const [err] = summary.errors;
      expect(err!.slug).toBe('vault');
      expect(err!.error).toMatch(/vault/);
      expect(err!.error.length).toBeLessThanOrEqual(2001);
      expectNoSecret(err!.error, 'the summary error');
      return err!.error;
    }

    it('upstream answering 500: the error is reported (redacted) and kept, the last good copy is still served', async () => {
      const next = await commitFiles(vault, { 'prod/app.yaml': 'replicas: 2\n' }, 'during outage');
      server.setFault({ kind: 'status', status: 500 });
      let error: string;
      try {
        error = expectVaultError(await syncMirrorsOk(t, {}));
        expect(error).toMatch(/500/);
      } finally {
        server.setFault(null);
      }

      const m = await getMirror(t, 'vault');
      expect(m).toMatchObject({ present: true, status: 'ready', head_commit: goodHead, last_sync_error: error, public_url: `${PUBLIC_URL}/git/vault.git` });
      expect((await getSource(t, 'vault')).mirror).toMatchObject({ url: `${PUBLIC_URL}/git/vault.git`, status: 'ready' });
      // Clients still get the last good copy (not the commit upstream could not hand over).
      expect(await servedHead('during-500')).toBe(goodHead);

      // Upstream back: the error clears and the new commit is served.
      expect(await syncMirrorsOk(t, {})).toEqual({ repos_processed: 1, repos_updated: 1, errors: [], skipped: [] });
      expect(await getMirror(t, 'vault')).toMatchObject({ head_commit: next, last_sync_error: null });
      expect(await servedHead('after-500')).toBe(next);
      goodHead = next;
    });

    it('upstream dead: same — error kept, last good copy served, clears once upstream is back', async () => {
      const next = await commitFiles(vault, { 'prod/app.yaml': 'replicas: 3\n' }, 'while dead');
      server.kill();
      const error = expectVaultError(await syncMirrorsOk(t, {}));
      expect(await getMirror(t, 'vault')).toMatchObject({ present: true, head_commit: goodHead, last_sync_error: error });
      expect(await servedHead('while-dead')).toBe(goodHead);

      // Back elsewhere (another port: another origin, so the token is given again — a URL change
      // alone would drop it): the source follows and the mirror catches up.
      server = await serveGitHttp(root, { token: PLANTED });
      const patched = await api(t, 'PATCH', '/sources/vault', { url: server.repoUrl('vault'), auth: { type: 'token', token: PLANTED } });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(await syncMirrorsOk(t, { slug: 'vault' })).toEqual({ repos_processed: 1, repos_updated: 1, errors: [], skipped: [] });
      expect(await getMirror(t, 'vault')).toMatchObject({ head_commit: next, last_sync_error: null });
      expect(await servedHead('back')).toBe(next);
      goodHead = next;
    });

    it('a first clone that fails: present:false, status error, mirror.url null, clone 404; the token never leaks anywhere', async () => {
      // Wrong credentials for a second source on the same upstream.
      await createSource(t, 'locked', server.repoUrl('vault'), {
        auth: { type: 'token', token: `${PLANTED}-but-wrong` },
        mirror: { enabled: true, access: 'public' },
      });
      const summary = await syncMirrorsOk(t, { slug: 'locked' });
      expect(summary).toMatchObject({ repos_processed: 1, repos_updated: 0, skipped: [] });
      expect(summary.errors.map((e) => e.slug)).toEqual(['locked']);
      expectNoSecret(summary.errors[0]!.error, 'the summary error');
      expect(summary.errors[0]!.error).toMatch(/auth|401/i);

      const m = await getMirror(t, 'locked');
      expect(m).toMatchObject({ present: false, status: 'error', head_commit: null, public_url: null, last_sync_error: summary.errors[0]!.error });
      expect((await getSource(t, 'locked')).mirror).toMatchObject({ url: null, status: 'error' });
      expect((await rawRequest(t.origin, `/git/locked.git${INFO_REFS}`)).status).toBe(404);
      expect((await client(work, ['ls-remote', t.gitUrl('locked')])).code).not.toBe(0);

      // Everything an operator can read: the mirrors API, the source, the audit log, the logs.
      expectNoSecret(JSON.stringify(await listMirrors(t)), 'GET /mirrors');
      expectNoSecret(JSON.stringify((await api(t, 'GET', '/sources')).json()), 'GET /sources');
      expectNoSecret(JSON.stringify((await api(t, 'GET', '/audit')).json()), 'GET /audit');
      expectNoSecret(t.logs.join(''), 'the logs');
      const del = await api(t, 'DELETE', '/sources/locked');
      expect(del.statusCode, del.body).toBe(204);
    });

    describe('one sync per mirror', () => {
      let slowServer: GitHttpServer;

      beforeAll(async () => {
        const slow = await makeRepo({ root, name: 'slow' });
        await commitFiles(slow, { 'a.txt': 'a\n' }, 'first');
        // Its own server (no token): faults on it don't touch the vault's upstream.
        slowServer = await serveGitHttp(root);
        await createSource(t, 'slow', slowServer.repoUrl('slow'), { mirror: { enabled: true, access: 'public' } });
        expect(await syncMirrorsOk(t, { slug: 'slow' })).toMatchObject({ repos_processed: 1, errors: [] });
      });

      afterAll(async () => {
        await slowServer?.close();
      });

      it('the lock held directly: POST /mirrors/sync reports the slug under skipped; after release it syncs', async () => {
        const res = await withLock(t.ctx.db, mirrorLockKey(t.ctx.replicaId, 'vault'), 0, async () => {
          const all = await syncMirrorsOk(t, {});
          const one = await syncMirrorsOk(t, { slug: 'vault' });
          return { all, one };
        });
        expect(res.all).toEqual({ repos_processed: 1, repos_updated: 0, errors: [], skipped: ['vault'] });
        expect(res.one).toEqual({ repos_processed: 0, repos_updated: 0, errors: [], skipped: ['vault'] });
        // A skip is not an error: status untouched.
        expect(await getMirror(t, 'vault')).toMatchObject({ present: true, last_sync_error: null, head_commit: goodHead });
        expect(await syncMirrorsOk(t, { slug: 'vault' })).toEqual({ repos_processed: 1, repos_updated: 0, errors: [], skipped: [] });
      });

      it('a sync stuck on a hanging upstream: a second one skips that mirror, others still sync; the first ends with an error', async () => {
        const seen = slowServer.requests.length;
        slowServer.setFault({ kind: 'hang' });
        const first = syncMirrorsReq(t, { slug: 'slow' });
        await until(() => slowServer.requests.length > seen, 'the stuck sync to reach the upstream');
        expect(isLockedLocally(mirrorLockKey(t.ctx.replicaId, 'slow'))).toBe(true);

        expect(await syncMirrorsOk(t, { slug: 'slow' })).toEqual({ repos_processed: 0, repos_updated: 0, errors: [], skipped: ['slow'] });
        // Every mirror: the stuck one is skipped, the others are processed.
        expect(await syncMirrorsOk(t, {})).toEqual({ repos_processed: 1, repos_updated: 0, errors: [], skipped: ['slow'] });
        // Still served meanwhile.
        await clientOk(work, ['ls-remote', t.gitUrl('slow')]);

        slowServer.kill();
        const res = await first;
        expect(res.statusCode, res.body).toBe(202);
        const summary: MirrorSummary = res.json();
        expect(summary).toMatchObject({ repos_processed: 1, skipped: [] });
        expect(summary.errors.map((e) => e.slug)).toEqual(['slow']);
        expect(isLockedLocally(mirrorLockKey(t.ctx.replicaId, 'slow'))).toBe(false);
        expect(await getMirror(t, 'slow')).toMatchObject({ present: true, last_sync_error: summary.errors[0]!.error });
      });

      it.runIf(dialect === 'postgres')('another process on this replica\'s data dir (a CLI in local mode) holding the lock: skipped; once released, synced', async () => {
        const holder = await holdLockElsewhere(t.schema!, mirrorLockKey(t.ctx.replicaId, 'vault'));
        let released = false;
        try {
          expect(isLockedLocally(mirrorLockKey(t.ctx.replicaId, 'vault'))).toBe(false);
          expect(await syncMirrorsOk(t, { slug: 'vault' })).toEqual({ repos_processed: 0, repos_updated: 0, errors: [], skipped: ['vault'] });
          await holder.release();
          released = true;
        } finally {
          if (!released) await holder.release().catch(() => undefined);
        }
        expect(await syncMirrorsOk(t, { slug: 'vault' })).toEqual({ repos_processed: 1, repos_updated: 0, errors: [], skipped: [] });
      });
    });
  });
}
