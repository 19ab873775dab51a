/**
 * Namespace locks under load. On PostgreSQL a lock used to hold a connection of the same pool its
 * work needed: with as many concurrent locks as pooled connections, every holder waited for a
 * connection and none was freed (a deadlock). Locks now sit on a pool of their own, and a query
 * that cannot get a connection fails with 503 `database_unavailable` instead of waiting forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS, dropSchema, freshSchemaName, testPgUrl } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { openDatabase, type DatabaseHandle } from '../../../src/store/db.js';
import { withLock } from '../../../src/store/locks.js';
import { SynclineError } from '../../../src/errors.js';
import { createSource, makeSyncApp, ok, putNamespace, syncReq, workload } from './support.js';

const POOL = 3;

for (const dialect of DIALECTS) {
  describe(`${dialect}: concurrent syncs of different namespaces`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    const namespaces = Array.from({ length: 2 * POOL }, (_, i) => `team.ns${i}`);

    beforeAll(async () => {
      t = await makeSyncApp(dialect, { database_pool_size: POOL });
      const root = await tempDir('syncline-locks-');
      const repo = await makeRepo({ root, name: 'cfg' });
      const files: Record<string, string> = {};
      namespaces.forEach((ns, i) => (files[`${ns}/app.yaml`] = workload(`app${i}`, `port: ${8000 + i}`)));
      await commitFiles(repo, files, 'one folder per namespace');
      server = await serveGitHttp(root);
      await createSource(t, 'cfg', server.repoUrl('cfg'));
      for (const ns of namespaces) await putNamespace(t, ns, { source: 'cfg', branch: 'main', path: ns });
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it(`${2 * POOL} syncs at once with a pool of ${POOL} connections all complete and apply`, async () => {
      const results = await Promise.all(namespaces.map((ns) => syncReq(t, ns)));
      results.forEach((res, i) => expect(ok(res)).toMatchObject({ status: 'success', namespace: namespaces[i], summary: { create: 1 } }));
    });
  });
}

describe.runIf(DIALECTS.includes('postgres'))('postgres: lock and pool limits', () => {
  let handle: DatabaseHandle;
  const schema = freshSchemaName();

  beforeAll(async () => {
    handle = await openDatabase({ url: testPgUrl(), schema, poolSize: 2, acquireTimeoutMs: 300 });
    await handle.migrate();
  });

  afterAll(async () => {
    await handle?.close();
    await dropSchema(schema);
  });

  it('twice as many locks as pooled connections, each doing queries under its lock, all finish', async () => {
    const done = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        withLock(handle, `namespace:n${i}`, 5_000, async () => {
          await handle.db.transaction().execute(async (trx) => {
            await sql`select pg_sleep(0.05)`.execute(trx);
          });
          return (await sql<{ n: number }>`select ${i}::int as n`.execute(handle.db)).rows[0]?.n;
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2, 3]);
  });

  it('an exhausted pool is an error with a code, not a hang; the pool recovers', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered = 0;
    const holders = Array.from({ length: 2 }, () =>
      handle.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        entered++;
        await held;
      }),
    );
    while (entered < 2) await new Promise((r) => setTimeout(r, 10));
    const err = await handle.ping().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'database_unavailable', retryable: true });
    release();
    await Promise.all(holders);
    await handle.ping();
  });
});
