/**
 * Repository content cannot stall the server with document counts: a file with more YAML
 * documents than `max_documents_per_file` is refused before it is parsed, a namespace with more
 * than `max_documents` after; both 413 too_many_documents, nothing applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { createSource, expectError, makeSyncApp, putNamespace, resources, syncReq } from './support.js';

const docs = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `---\nkind: Config\nname: ${prefix}-${i}\nspec:\n  data:\n    i: ${i}\n`).join('');

for (const dialect of DIALECTS) {
  describe(`${dialect}: document caps`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    beforeAll(async () => {
      t = await makeSyncApp(dialect, { max_documents_per_file: 5, max_documents: 8 });
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'caps' });
      await commitFiles(repo, { 'big/one.yaml': docs(6, 'a'), 'many/a.yaml': docs(5, 'a'), 'many/b.yaml': docs(4, 'b'), 'ok/a.yaml': docs(5, 'a') });
      server = await serveGitHttp(root);
      await createSource(t, 'caps', server.repoUrl('caps'));
      await putNamespace(t, 'caps.big', { source: 'caps', branch: 'main', path: 'big' });
      await putNamespace(t, 'caps.many', { source: 'caps', branch: 'main', path: 'many' });
      await putNamespace(t, 'caps.ok', { source: 'caps', branch: 'main', path: 'ok' });
    });
    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('a file over max_documents_per_file: 413 too_many_documents naming the file', async () => {
      const err = expectError(await syncReq(t, 'caps.big'), 413, 'too_many_documents');
      expect(err.details).toMatchObject({ file: 'big/one.yaml', limit: 5 });
      expect(await resources(t, 'caps.big')).toEqual([]);
    });

    it('a namespace over max_documents: 413 too_many_documents', async () => {
      const err = expectError(await syncReq(t, 'caps.many'), 413, 'too_many_documents');
      expect(err.details).toMatchObject({ namespace: 'caps.many', documents: 9, limit: 8 });
      expect(await resources(t, 'caps.many')).toEqual([]);
    });

    it('at the limits it syncs', async () => {
      const res = await syncReq(t, 'caps.ok');
      expect(res.statusCode, res.body).toBe(200);
      expect(await resources(t, 'caps.ok')).toHaveLength(5);
    });
  });
}
