/**
 * sync-from-git's optional `reason`: kept on the deployment (API, namespace summary, history,
 * the deployment event), on its audit entry, on a failed deployment and on the auto-sync pause a
 * rollback causes; `syncline sync NS --reason …` sends it and prints it back.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { runCli } from '../../helpers/cli.js';
import { api, createSource, deployments, getNamespace, makeSyncApp, namedToken, ok, putNamespace, workload } from './support.js';

describe.each(DIALECTS)('sync reason (%s)', (dialect) => {
  let t: TestApp;
  let server: GitHttpServer;
  let repo: FixtureRepo;
  let env: Record<string, string>;
  let first: string;

  beforeAll(async () => {
    t = await makeSyncApp(dialect);
    const root = await tempDir('syncline-reason-');
    repo = await makeRepo({ root, name: 'shop' });
    first = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') }, 'first');
    server = await serveGitHttp(root);
    await createSource(t, 'shop', server.repoUrl('shop'));
    await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod', auto_sync: true });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    env = { SYNCLINE_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, SYNCLINE_TOKEN: await namedToken(t, 'cli-bot', 'deployer') };
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
    await cleanupTempDirs();
  });

  it('the CLI sends --reason; the deployment, its summary on the namespace, its event and its audit entry keep it', async () => {
    const res = await runCli(['sync', 'shop.prod', '--reason', 'first rollout (CHG-1)'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Reason: first rollout (CHG-1)');

    const [d] = await deployments(t, 'shop.prod');
    expect(d).toMatchObject({ actor: 'cli-bot', status: 'success', reason: 'first rollout (CHG-1)' });
    expect(ok(await api(t, 'GET', `/deployments/${d.id}`)).reason).toBe('first rollout (CHG-1)');
    expect((await getNamespace(t, 'shop.prod')).last_deployment).toMatchObject({ id: d.id, reason: 'first rollout (CHG-1)' });

    const audit = ok(await api(t, 'GET', '/audit?namespace=shop.prod')).items.find((a: any) => a.action === 'namespace.sync');
    expect(audit.details).toMatchObject({ deployment: d.id, reason: 'first rollout (CHG-1)' });

    const row = await t.ctx.db.db.selectFrom('outbox').select('event').where('type', '=', 'syncline.deployment.succeeded').executeTakeFirstOrThrow();
    expect(JSON.parse(row.event).data).toMatchObject({ id: d.id, reason: 'first rollout (CHG-1)' });

    const shown = await runCli(['deployment', d.id], env);
    expect(shown.stdout).toContain('Reason: first rollout (CHG-1)');
  });

  it('no reason is null; an empty or over-long reason is refused', async () => {
    const d = ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {}));
    expect(d).toMatchObject({ status: 'noop', reason: null });
    const audit = ok(await api(t, 'GET', '/audit?namespace=shop.prod')).items.find((a: any) => a.details?.deployment === d.id);
    expect(audit.details).not.toHaveProperty('reason');
    for (const reason of ['', 'x'.repeat(501)]) {
      const bad = await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', { reason });
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().error.code).toBe('invalid_request');
    }
  });

  it('a failed deployment keeps its reason; a rollback keeps it on the deployment and the pause', async () => {
    const broken = await commitFiles(repo, { 'prod/api.yaml': 'kind: Workload\nname: api\nspec:\n  port: "x"\n' }, 'broken');
    const failed = await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', { ref: broken, reason: 'try it' });
    expect(failed.statusCode).toBe(422);
    expect(failed.json().error.details.deployment).toMatchObject({ status: 'failed', reason: 'try it' });
    const audit = ok(await api(t, 'GET', '/audit?namespace=shop.prod')).items.find((a: any) => a.action === 'namespace.sync_failed');
    expect(audit.details).toMatchObject({ reason: 'try it' });

    await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8081') }, 'fixed');
    ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {}));
    const rollback = ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', { ref: first, reason: 'bad port' }));
    expect(rollback).toMatchObject({ commit: first, reason: 'bad port' });
    expect((await getNamespace(t, 'shop.prod')).auto_sync_paused).toMatchObject({ by: 'admin', reason: 'bad port', commit: first });
  });
});
