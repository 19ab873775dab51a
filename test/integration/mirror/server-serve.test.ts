/**
 * Mirrors through the FULL app (real database, real routes, real git clients over HTTP):
 *  - a mirror-enabled source before its first sync: GET /mirrors says present:false, the Source's
 *    `mirror.url` is null and a clone is 404;
 *  - POST /mirrors/sync (admin) → 202 summary; then present, head_commit = upstream HEAD,
 *    `mirror.url` under public_url, and clone / ls-remote / fetch work; a custom `mirror.slug`;
 *  - `access: token` (401 + WWW-Authenticate without credentials, a viewer token as the Basic
 *    password works, an unknown or revoked token does not) against `public`;
 *  - upstream moves on (a new commit, a deleted branch) → sync → a client's `fetch --prune` sees both.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  deleteBranch,
  makeRepo,
  serveGitHttp,
  tempDir,
  upstreamCommit,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import { api, createSource, expectError } from '../sync/support.js';
import { client, clientOk, rawRequest } from './helpers.js';
import {
  getMirror,
  getSource,
  listMirrors,
  makeServedApp,
  PUBLIC_URL,
  syncMirrorsOk,
  syncMirrorsReq,
  type ServedApp,
} from './server-support.js';

const INFO_REFS = '/info/refs?service=git-upload-pack';

/** `<sha> <ref>` lines of `git ls-remote` for branches and tags, sorted. */
async function lsRemote(url: string, cwd: string): Promise<string[]> {
  const out = await clientOk(cwd, ['ls-remote', '--heads', '--tags', url]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace('\t', ' '))
    .sort();
}

/** The same for the upstream bare repo. */
async function upstreamRefs(repo: FixtureRepo): Promise<string[]> {
  const out = await clientOk(repo.bareDir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  const lines = out.split('\n').filter(Boolean);
  // ls-remote also lists the peeled commit of annotated tags.
  const peeled = await clientOk(repo.bareDir, ['for-each-ref', '--format=%(*objectname) %(refname)^{}', 'refs/tags']);
  for (const l of peeled.split('\n')) if (l && !l.startsWith(' ')) lines.push(l);
  return lines.sort();
}

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: ServedApp;
    let server: GitHttpServer;
    let shop: FixtureRepo;
    let docs: FixtureRepo;
    let work: string;
    let viewer: string;

    beforeAll(async () => {
      t = await makeServedApp(dialect);
      const root = await tempDir('syncline-upstream-');
      work = await tempDir('syncline-clients-');
      shop = await makeRepo({ root, name: 'shop' });
      await commitFiles(shop, { 'prod/app.yaml': 'replicas: 1\n', 'README.md': '# shop\n' }, 'first');
      await createBranch(shop, 'feature');
      await commitFiles(shop, { 'feature.txt': 'wip\n' }, 'feature work', { branch: 'feature' });
      await createTag(shop, 'v1', { message: 'release 1' });
      docs = await makeRepo({ root, name: 'docs' });
      await commitFiles(docs, { 'index.md': '# docs\n' }, 'docs');
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'), { mirror: { enabled: true, access: 'token' } });
      await createSource(t, 'docs', server.repoUrl('docs'), { mirror: { enabled: true, access: 'public', slug: 'Team.Docs' } });
      viewer = await t.token('viewer');
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('before any sync: present:false, mirror.url null, and a clone is 404', async () => {
      const items = await listMirrors(t, viewer);
      expect(items.map((m) => m.slug).sort()).toEqual(['Team.Docs', 'shop']);
      for (const m of items) {
        expect(m).toMatchObject({ present: false, head_commit: null, last_synced: null, last_sync_error: null, public_url: null, status: 'pending' });
      }
      expect(items.find((m) => m.slug === 'shop')).toMatchObject({ source: 'shop', upstream_url: server.repoUrl('shop'), access: 'token' });
      expect(await getMirror(t, 'Team.Docs')).toMatchObject({ source: 'docs', access: 'public', present: false });

      expect((await getSource(t, 'shop')).mirror).toEqual({ enabled: true, access: 'token', slug: 'shop', url: null, status: 'pending' });
      expect((await getSource(t, 'docs')).mirror).toMatchObject({ slug: 'Team.Docs', url: null });

      // Registered, authorised, but no complete copy yet: 404, for git and for raw requests.
      const clone = await client(work, ['clone', '--bare', t.gitUrl('shop', { password: viewer }), join(work, 'early-shop')]);
      expect(clone.code).not.toBe(0);
      expect(clone.stderr).toMatch(/not found|404/i);
      const raw = await rawRequest(t.origin, `/git/shop.git${INFO_REFS}`, {
        headers: { authorization: `Basic ${Buffer.from(`x:${viewer}`).toString('base64')}` },
      });
      expect(raw.status).toBe(404);
      expect((await rawRequest(t.origin, `/git/Team.Docs.git${INFO_REFS}`)).status).toBe(404);
      expect((await client(work, ['ls-remote', t.gitUrl('Team.Docs')])).code).not.toBe(0);
    });

    it('POST /mirrors/sync needs an unscoped admin; an unknown slug is 404', async () => {
      expectError(await syncMirrorsReq(t, {}, viewer), 403, 'forbidden');
      expectError(await syncMirrorsReq(t, {}, await t.token('admin', ['shop.*'])), 403, 'forbidden');
      expectError(await api(t, 'POST', '/mirrors/sync', {}, { headers: { authorization: '' } }), 401, 'unauthorized');
      expectError(await syncMirrorsReq(t, { slug: 'nope' }), 404, 'not_found');
      expectError(await syncMirrorsReq(t, { slug: '../etc' }), 400, 'invalid_request');
      expect((await listMirrors(t)).every((m) => !m.present)).toBe(true);
    });

    it('after POST /mirrors/sync: 202 summary, present, head_commit = upstream, mirror.url set, and git clients work', async () => {
      const summary = await syncMirrorsOk(t, {});
      expect(summary).toEqual({ repos_processed: 2, repos_updated: 2, errors: [], skipped: [] });

      const head = await upstreamCommit(shop);
      const m = await getMirror(t, 'shop', viewer);
      expect(m).toMatchObject({
        slug: 'shop',
        present: true,
        status: 'ready',
        head_commit: head,
        last_sync_error: null,
        public_url: `${PUBLIC_URL}/git/shop.git`,
      });
      expect(Date.parse(m.last_synced!)).not.toBeNaN();
      expect((await getSource(t, 'shop')).mirror).toEqual({
        enabled: true,
        access: 'token',
        slug: 'shop',
        url: `${PUBLIC_URL}/git/shop.git`,
        status: 'ready',
      });
      expect((await getMirror(t, 'Team.Docs')).head_commit).toBe(await upstreamCommit(docs));
      expect((await getSource(t, 'docs')).mirror.url).toBe(`${PUBLIC_URL}/git/Team.Docs.git`);

      // ls-remote: exactly the upstream's branches and tags.
      expect(await lsRemote(t.gitUrl('shop', { password: viewer }), work)).toEqual(await upstreamRefs(shop));

      // A full clone: same HEAD, same branches.
      const dest = join(work, 'shop');
      await clientOk(work, ['clone', t.gitUrl('shop', { password: viewer }), dest]);
      expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(head);
      expect(await clientOk(dest, ['rev-parse', 'origin/feature'])).toBe(await upstreamCommit(shop, 'refs/heads/feature'));
      expect(await clientOk(dest, ['cat-file', '-p', 'HEAD:prod/app.yaml'])).toBe('replicas: 1');
      await clientOk(dest, ['fsck', '--no-dangling']);
      // A fetch with nothing new is fine too.
      await clientOk(dest, ['fetch', '--prune', 'origin']);

      // The custom slug serves the docs mirror; the source's own name does not.
      const docsDest = join(work, 'docs');
      await clientOk(work, ['clone', t.gitUrl('Team.Docs'), docsDest]);
      expect(await clientOk(docsDest, ['rev-parse', 'HEAD'])).toBe(await upstreamCommit(docs));
      await clientOk(work, ['clone', '--depth', '1', `${t.origin}/git/Team.Docs`, join(work, 'docs-shallow')]);
      expect((await rawRequest(t.origin, `/git/docs.git${INFO_REFS}`)).status).toBe(404);

      // Nothing changed upstream: processed, not updated (a POST with no body at all is accepted);
      // one slug only when asked.
      expect(await syncMirrorsOk(t)).toEqual({ repos_processed: 2, repos_updated: 0, errors: [], skipped: [] });
      expect(await syncMirrorsOk(t, { slug: 'Team.Docs' })).toEqual({ repos_processed: 1, repos_updated: 0, errors: [], skipped: [] });
    });

    it('access: token → 401 + WWW-Authenticate without credentials or with an unknown token; a viewer token works; public needs none', async () => {
      const noAuth = await rawRequest(t.origin, `/git/shop.git${INFO_REFS}`);
      expect(noAuth.status).toBe(401);
      expect(noAuth.headers['www-authenticate']).toBe('Basic realm="syncline"');
      const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });
      const unknown = await rawRequest(t.origin, `/git/shop.git${INFO_REFS}`, { headers: basic('not-a-real-token-0123456789') });
      expect(unknown.status).toBe(401);
      expect(unknown.headers['www-authenticate']).toBe('Basic realm="syncline"');
      const ok = await rawRequest(t.origin, `/git/shop.git${INFO_REFS}`, { headers: basic(viewer) });
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toBe('application/x-git-upload-pack-advertisement');

      // Real git clients: no credentials and no prompt → fails; a wrong token fails; any user name with a viewer token works.
      const anon = await client(work, ['ls-remote', t.gitUrl('shop')]);
      expect(anon.code).not.toBe(0);
      const wrong = await client(work, ['ls-remote', t.gitUrl('shop', { password: 'not-a-real-token-0123456789' })]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/Authentication failed|401/);
      await clientOk(work, ['ls-remote', t.gitUrl('shop', { user: 'ci-bot', password: viewer })]);
      // Higher roles read too.
      const deployer = await t.token('deployer');
      await clientOk(work, ['clone', '--bare', t.gitUrl('shop', { password: deployer }), join(work, 'shop-deployer.git')]);

      // A revoked token stops working.
      const created = await api(t, 'POST', '/tokens', { name: 'short-lived', role: 'viewer' });
      expect(created.statusCode, created.body).toBe(201);
      const { id, token } = created.json();
      await clientOk(work, ['ls-remote', t.gitUrl('shop', { password: token })]);
      const revoked = await api(t, 'DELETE', `/tokens/${id}`);
      expect(revoked.statusCode, revoked.body).toBeLessThan(300);
      expect((await rawRequest(t.origin, `/git/shop.git${INFO_REFS}`, { headers: basic(token) })).status).toBe(401);

      // public: nothing needed.
      expect((await rawRequest(t.origin, `/git/Team.Docs.git${INFO_REFS}`)).status).toBe(200);
      await clientOk(work, ['ls-remote', t.gitUrl('Team.Docs')]);
    });

    it('upstream moves on (new commit, deleted branch) → sync → a client fetch --prune sees both', async () => {
      const dest = join(work, 'shop');
      const before = await clientOk(dest, ['rev-parse', 'origin/main']);
      const next = await commitFiles(shop, { 'prod/app.yaml': 'replicas: 3\n' }, 'scale up');
      await deleteBranch(shop, 'feature');

      // Not synced yet: the mirror still serves the old state.
      await clientOk(dest, ['fetch', '--prune', 'origin']);
      expect(await clientOk(dest, ['rev-parse', 'origin/main'])).toBe(before);
      expect(await clientOk(dest, ['branch', '-r'])).toMatch(/origin\/feature/);

      expect(await syncMirrorsOk(t, {})).toEqual({ repos_processed: 2, repos_updated: 1, errors: [], skipped: [] });
      expect(await getMirror(t, 'shop')).toMatchObject({ present: true, head_commit: next, last_sync_error: null });

      await clientOk(dest, ['fetch', '--prune', 'origin']);
      expect(await clientOk(dest, ['rev-parse', 'origin/main'])).toBe(next);
      expect(await clientOk(dest, ['branch', '-r'])).not.toMatch(/origin\/feature/);
      expect(await clientOk(dest, ['show', 'origin/main:prod/app.yaml'])).toBe('replicas: 3');
      expect(await lsRemote(t.gitUrl('shop', { password: viewer }), work)).toEqual(await upstreamRefs(shop));
    });

    it('a deleted source takes its mirror along: a new source with the same name never serves the old repository', async () => {
      // A private (token) mirror, complete on disk.
      const root2 = await tempDir('syncline-upstream-');
      const secretRepo = await makeRepo({ root: root2, name: 'private' });
      await commitFiles(secretRepo, { 'credentials.txt': 'top secret\n' }, 'secret');
      const publicRepo = await makeRepo({ root: root2, name: 'public' });
      await commitFiles(publicRepo, { 'hello.txt': 'hello\n' }, 'hello');
      const server2 = await serveGitHttp(root2);
      try {
        await createSource(t, 'reused', server2.repoUrl('private'), { mirror: { enabled: true, access: 'token' } });
        expect(await syncMirrorsOk(t, { slug: 'reused' })).toMatchObject({ repos_processed: 1, errors: [] });
        const del = await api(t, 'DELETE', '/sources/reused');
        expect(del.statusCode, del.body).toBe(204);
        expect((await rawRequest(t.origin, `/git/reused.git${INFO_REFS}`)).status).toBe(404);

        // The name comes back for another repository, public this time, not synced yet.
        await createSource(t, 'reused', server2.repoUrl('public'), { mirror: { enabled: true, access: 'public' } });
        expect(await getMirror(t, 'reused')).toMatchObject({ present: false, head_commit: null });
        expect((await rawRequest(t.origin, `/git/reused.git${INFO_REFS}`)).status).toBe(404);

        expect(await syncMirrorsOk(t, { slug: 'reused' })).toMatchObject({ repos_processed: 1, errors: [] });
        const dest = join(work, `reused-${dialect}`);
        await clientOk(work, ['clone', t.gitUrl('reused'), dest]);
        expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(await upstreamCommit(publicRepo));
        expect(await clientOk(dest, ['ls-tree', '-r', '--name-only', 'HEAD'])).toBe('hello.txt');
      } finally {
        await server2.close();
      }
    });
  });
}
