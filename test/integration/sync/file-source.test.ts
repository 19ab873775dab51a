/**
 * The same pipeline over `file://` (allowed only with allow_file_sources): every way of naming a
 * ref, the branch check, drift after a new commit, and what happens when the upstream vanishes.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, createTag, makeRepo, type FixtureRepo } from '../../helpers/git-fixtures.js';
import {
  api,
  createSource,
  deployments,
  drift,
  expectError,
  getNamespace,
  liveSnapshot,
  makeSyncApp,
  metric,
  putNamespace,
  resource,
  sync,
  syncReq,
  workload,
} from './support.js';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let repo: FixtureRepo;
    let first: string;
    let second: string;
    let feature: string;

    beforeAll(async () => {
      t = await makeSyncApp(dialect, { allow_file_sources: true });
      repo = await makeRepo({ name: 'local' });
      first = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080'), 'prod/m.yml': metric('rps', 'up') }, 'first', {
        author: { name: 'File Author', email: 'file@example.test' },
      });
      second = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8081') }, 'second');
      feature = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 1') }, 'feature', { branch: 'feature' });
      await createTag(repo, 'v1', { ref: first, message: 'v1' });
      await createSource(t, 'local', repo.fileUrl);
      await putNamespace(t, 'local.prod', { source: 'local', branch: 'main', path: 'prod' });
    });

    afterAll(async () => {
      await t?.close();
      await cleanupTempDirs();
    });

    it('file:// sources are refused unless allow_file_sources is set', async () => {
      const strict = await makeSyncApp(dialect);
      try {
        expectError(await api(strict, 'POST', '/sources', { name: 'local', url: repo.fileUrl }), 400, 'host_not_allowed');
      } finally {
        await strict.close();
      }
    });

    it('syncs the branch head, a full SHA, an abbreviated SHA and an annotated tag', async () => {
      expect(await sync(t, 'local.prod')).toMatchObject({ status: 'success', ref: 'main', commit: second, summary: { create: 2 } });
      expect(await sync(t, 'local.prod', first)).toMatchObject({ status: 'success', commit: first, author: { name: 'File Author', email: 'file@example.test' } });
      expect((await resource(t, 'local.prod', 'Workload', 'api')).spec.port).toBe(8080);
      expect(await sync(t, 'local.prod', second.slice(0, 9))).toMatchObject({ status: 'success', commit: second });
      expect(await sync(t, 'local.prod', 'v1')).toMatchObject({ status: 'success', commit: first });
      expect(await sync(t, 'local.prod', 'main')).toMatchObject({ status: 'success', commit: second });
    });

    it('refuses a commit that is not on the branch, and an unknown ref', async () => {
      expectError(await syncReq(t, 'local.prod', 'feature'), 400, 'ref_not_on_branch');
      expectError(await syncReq(t, 'local.prod', feature), 400, 'ref_not_on_branch');
      expectError(await syncReq(t, 'local.prod', 'v9'), 400, 'ref_not_found');
      expect((await resource(t, 'local.prod', 'Workload', 'api')).spec.port).toBe(8081);
    });

    it('sees a new commit as drift, then syncs it', async () => {
      const third = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8082') }, 'third');
      const report = await drift(t, 'local.prod');
      expect(report).toMatchObject({ fetch_status: 'ok', commit: third, plan: { summary: { update: 1, noop: 1 } } });
      expect((await getNamespace(t, 'local.prod')).status).toBe('out_of_sync');
      expect(await sync(t, 'local.prod')).toMatchObject({ status: 'success', commit: third });
      expect((await getNamespace(t, 'local.prod')).status).toBe('synced');
    });

    it('when the upstream repository vanishes: 400 repo_not_found, drift fetch_failed, live untouched, nothing recorded', async () => {
      const live = await liveSnapshot(t, 'local.prod');
      const history = await deployments(t, 'local.prod');
      fs.rmSync(repo.bareDir, { recursive: true, force: true });
      const res = await syncReq(t, 'local.prod');
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('repo_not_found');
      expect(await drift(t, 'local.prod')).toMatchObject({ fetch_status: 'fetch_failed', plan: null });
      expect(await liveSnapshot(t, 'local.prod')).toEqual(live);
      expect(await deployments(t, 'local.prod')).toEqual(history);
    });
  });
}
