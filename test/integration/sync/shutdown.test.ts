/**
 * Shutdown does not wait for a sync: once the server starts shutting down (ctx.shutdown aborted
 * by the SIGTERM/SIGINT handler), a sync stops at its next step or slice with 503 `busy`, and
 * its one transaction leaves nothing applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { createSource, expectError, makeSyncApp, putNamespace, syncReq, workload } from './support.js';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let server: GitHttpServer;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      server = await serveGitHttp(root);
      const repo = await makeRepo({ root, name: 'stopping' });
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8080') }, 'first');
      await createSource(t, 'stopping', server.repoUrl('stopping'));
      await putNamespace(t, 'stopping.prod', { source: 'stopping', branch: 'main', path: 'cfg' });
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('a sync during shutdown answers 503 busy and applies nothing', async () => {
      t.ctx.shutdown.abort();
      expectError(await syncReq(t, 'stopping.prod'), 503, 'busy');
      const rows = await t.ctx.db.db.selectFrom('resources').select('name').where('namespace', '=', 'stopping.prod').execute();
      expect(rows).toEqual([]);
      const deployments = await t.ctx.db.db.selectFrom('deployments').select('id').where('namespace', '=', 'stopping.prod').execute();
      expect(deployments).toEqual([]);
    });
  });
}
