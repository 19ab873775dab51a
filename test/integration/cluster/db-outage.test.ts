/**
 * PostgreSQL lost mid-sync, without touching the shared server: the app reaches PostgreSQL
 * through a TCP proxy the test can cut (new connections refused, open ones dropped), and its
 * backends — found by this test's `application_name` — are ended with `pg_terminate_backend`
 * (what a server restart does to them). While the database is away requests fail cleanly (503
 * `database_unavailable`, never a 500) and `/readyz` says so; a sync cut off mid-way leaves the
 * namespace as it was (no half-applied state); once the database is back the same process
 * serves again — no restart.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPgUrl, DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { api, createSource, makeSyncApp, ok, putNamespace, syncReq, until, workload } from '../sync/support.js';
import type { TestApp } from '../../helpers/app.js';

async function terminateBackends(applicationName: string): Promise<number> {
  const c = new pg.Client({ connectionString: testPgUrl() });
  await c.connect();
  try {
    const r = await c.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [applicationName]);
    return r.rowCount ?? 0;
  } finally {
    await c.end();
  }
}

describe.runIf(DIALECTS.includes('postgres'))('PostgreSQL connection loss', () => {
  let t: TestApp & { schema?: string };
  let proxy: TcpProxy;
  let git: GitHttpServer;
  let repo: FixtureRepo;
  const appName = `syncline-dbloss-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const u = new URL(testPgUrl());
    u.host = `127.0.0.1:${proxy.port}`;
    u.searchParams.set('application_name', appName);
    t = await makeSyncApp('postgres', { database_url: u.toString(), database_acquire_timeout: 2 });
    const root = await tempDir('syncline-upstream-');
    repo = await makeRepo({ root, name: 'shop' });
    await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 1'), 'prod/web.yaml': workload('web', 'port: 1') });
    git = await serveGitHttp(root);
    await createSource(t, 'shop', git.repoUrl('shop'));
    await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
    expect((await syncReq(t, 'shop.prod')).statusCode).toBe(200);
  });

  afterAll(async () => {
    await proxy?.up().catch(() => undefined);
    await git?.close();
    await t?.close();
    await proxy?.close();
    await cleanupTempDirs();
  });

  const ports = async () => (ok(await api(t, 'GET', '/namespaces/shop.prod/resources')).items as { spec: { port: number } }[]).map((r) => r.spec.port);

  it('a sync cut off mid-way answers 503 database_unavailable, leaves the namespace as it was; the same process recovers', { timeout: 120_000 }, async () => {
    await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 2'), 'prod/web.yaml': workload('web', 'port: 2') });
    // The fetch is slow: the database goes away while the sync is in it.
    git.setFault({ kind: 'delay', ms: 1500 });
    const seen = git.requests.length;
    const pending = syncReq(t, 'shop.prod');
    await until(() => git.requests.length > seen, 'the sync to reach its fetch');
    await proxy.down();
    expect(await terminateBackends(appName)).toBeGreaterThanOrEqual(0);
    const res = await pending;
    git.setFault(null);
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error.code).toBe('database_unavailable');

    // During the outage: every request fails cleanly, and readiness says so.
    const readyz = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(readyz.statusCode).toBe(503);
    for (const [method, url] of [['GET', '/namespaces'], ['POST', '/namespaces/shop.prod/sync-from-git'], ['GET', '/mirrors']] as const) {
      const r = await api(t, method, url, method === 'POST' ? {} : undefined);
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(503);
      expect(r.json().error.code).toBe('database_unavailable');
    }
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    // Back: ready again without a restart, and nothing of the cut-off sync was applied.
    await proxy.up();
    await until(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 'ready again', 30_000);
    expect(await ports()).toEqual([1, 1]);
    const again = await syncReq(t, 'shop.prod');
    expect(again.statusCode, again.body).toBe(200);
    expect(await ports()).toEqual([2, 2]);
  });

  it('backends terminated between requests (a server restart as the app sees it): the next requests succeed', { timeout: 120_000 }, async () => {
    const terminated = await terminateBackends(appName);
    expect(terminated).toBeGreaterThan(0);
    // A pooled connection that died idle is replaced: a request may see one die before the pool
    // notices (its 'error' event can come late on a busy machine), but never more than the
    // connections that were cut, each failure is a clean 503, and once one succeeds all do.
    const statuses: number[] = [];
    const codes: string[] = [];
    for (let i = 0; i < terminated + 3; i++) {
      const r = await api(t, 'GET', '/namespaces');
      statuses.push(r.statusCode);
      if (r.statusCode !== 200) codes.push(`${r.statusCode} ${r.json().error?.code}`);
    }
    expect(codes.every((c) => c === '503 database_unavailable'), codes.join(', ')).toBe(true);
    expect(codes.length).toBeLessThanOrEqual(terminated);
    const firstOk = statuses.indexOf(200);
    expect(firstOk, statuses.join(',')).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(firstOk).every((s) => s === 200), statuses.join(',')).toBe(true);
    expect((await syncReq(t, 'shop.prod')).statusCode).toBe(200);
  });
});
