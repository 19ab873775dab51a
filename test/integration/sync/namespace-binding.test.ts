/**
 * Binding a namespace (issue 11 papercuts), against a real repository over smart HTTP:
 * PATCH changes only the fields given (JSON or merge-patch), the branch defaults to the
 * source's default branch (the remote HEAD, not `main`), and a branch the reachable source
 * does not have is refused when it is set — not at the first plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, workload } from './support.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: namespace binding`, () => {
    let t: TestApp;
    let server: GitHttpServer;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      const repo = await makeRepo({ root, name: 'trunky', defaultBranch: 'trunk' });
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8080') }, 'first');
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8081') }, 'release', { branch: 'release' });
      server = await serveGitHttp(root);
      await createSource(t, 'trunky', server.repoUrl('trunky'));
      await createSource(t, 'offline', 'http://127.0.0.1:9/nothing-listens-here.git');
    });
    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it("defaults the branch to the source's default branch (remote HEAD), not main", async () => {
      const ns = await putNamespace(t, 'b.default', { source: 'trunky', path: 'cfg' });
      expect(ns.branch).toBe('trunk');
      const sourceView = ok(await api(t, 'GET', '/sources/trunky'));
      expect(sourceView.default_branch).toBe('trunk');
    });

    it('refuses a branch the source does not have when it is set', async () => {
      const err = expectError(await api(t, 'PUT', '/namespaces/b.missing', { source: 'trunky', branch: 'nope' }), 400, 'branch_not_found');
      expect(err.message).toMatch(/'nope' not found in source 'trunky'.*release.*trunk/);
      expectError(await api(t, 'GET', '/namespaces/b.missing'), 404, 'not_found');
      await putNamespace(t, 'b.rel', { source: 'trunky', branch: 'release' });
      expectError(await api(t, 'PATCH', '/namespaces/b.rel', { branch: 'gone' }), 400, 'branch_not_found');
    });

    it('keeps the given branch when the source cannot be reached now (offline set-up)', async () => {
      const ns = await putNamespace(t, 'b.offline', { source: 'offline', branch: 'develop' });
      expect(ns.branch).toBe('develop');
    });

    it('PATCH changes only the fields given (namespace set NS --prune)', async () => {
      const before = await putNamespace(t, 'b.patch', {
        source: 'trunky',
        branch: 'release',
        path: 'cfg',
        auto_sync: true,
        allow_unmerged_refs: true,
        exclude: ['charts/**'],
      });
      const after = ok(await api(t, 'PATCH', '/namespaces/b.patch', { prune: true }));
      expect(after).toEqual({ ...before, prune: true, updated_at: expect.any(String) });
      const audit = ok(await api(t, 'GET', '/audit?namespace=b.patch')).items[0];
      expect(audit).toMatchObject({ action: 'namespace.update', details: { before: { prune: false }, after: { prune: true, branch: 'release', path: 'cfg' } } });
    });

    it('PATCH accepts application/merge-patch+json, and null restores default globs', async () => {
      await putNamespace(t, 'b.merge', { source: 'trunky', path: 'cfg', include: ['**/*.yaml'], exclude: ['x/**'] });
      const res = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/namespaces/b.merge',
        headers: { ...t.auth(), 'content-type': 'application/merge-patch+json' },
        payload: JSON.stringify({ include: null, auto_sync: true }),
      });
      expect(ok(res)).toMatchObject({ include: ['**/*.yaml', '**/*.yml'], exclude: ['x/**'], auto_sync: true, path: 'cfg', branch: 'trunk' });
    });

    it('PATCH of a namespace that does not exist is a 404 and creates nothing', async () => {
      expectError(await api(t, 'PATCH', '/namespaces/b.nothing', { prune: true }), 404, 'not_found');
      expectError(await api(t, 'GET', '/namespaces/b.nothing'), 404, 'not_found');
    });

    it('PATCH refuses unknown fields', async () => {
      await putNamespace(t, 'b.strict', { source: 'trunky' });
      expectError(await api(t, 'PATCH', '/namespaces/b.strict', { prnue: true }), 400, 'invalid_request');
    });
  });
}
