/**
 * Shutdown does not wait for a sync: once the server starts shutting down (ctx.shutdown aborted
 * by the SIGTERM/SIGINT handler), a sync stops at its next step or slice with 503 `busy`, and
 * its one transaction leaves nothing applied.
 */
import { InsertQueryNode, type KyselyPlugin, type QueryId } from 'kysely';
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

    it('a shutdown in the middle of the apply transaction rolls all of it back', async () => {
      // Once the deployment record is written inside the transaction (on SQLite: on the writer
      // thread's connection), shutdown begins and the apply's next turn comes after its 10 ms slice.
      const recordInserts = new Set<QueryId>();
      let aborted = false;
      const plugin: KyselyPlugin = {
        transformQuery({ node, queryId }) {
          if (InsertQueryNode.is(node) && node.into?.table.identifier.name === 'deployments') recordInserts.add(queryId);
          return node;
        },
        async transformResult({ queryId, result }) {
          if (recordInserts.has(queryId)) {
            aborted = true;
            t.ctx.shutdown.abort();
            const until = performance.now() + 15;
            while (performance.now() < until);
          }
          return result;
        },
      };
      const db = t.ctx.db;
      const writeTransaction = db.writeTransaction;
      db.writeTransaction = (fn) => writeTransaction((tx, text) => fn(tx.withPlugin(plugin), text));
      const auditBefore = await db.db.selectFrom('audit_events').select('id').where('action', '=', 'namespace.sync').execute();
      const outboxBefore = await db.db.selectFrom('outbox').select('seq').where('namespace', '=', 'stopping.prod').execute();
      try {
        expectError(await syncReq(t, 'stopping.prod'), 503, 'busy');
      } finally {
        db.writeTransaction = writeTransaction;
      }
      expect(aborted).toBe(true);
      expect(await db.db.selectFrom('resources').select('name').where('namespace', '=', 'stopping.prod').execute()).toEqual([]);
      expect(await db.db.selectFrom('deployments').select('id').where('namespace', '=', 'stopping.prod').execute()).toEqual([]);
      expect(await db.db.selectFrom('audit_events').select('id').where('action', '=', 'namespace.sync').execute()).toEqual(auditBefore);
      expect(await db.db.selectFrom('outbox').select('seq').where('namespace', '=', 'stopping.prod').execute()).toEqual(outboxBefore);
      const ns = await db.db.selectFrom('namespaces').select(['status', 'last_deployment_id']).where('name', '=', 'stopping.prod').executeTakeFirstOrThrow();
      expect(ns).toEqual({ status: 'never_synced', last_deployment_id: null });
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
