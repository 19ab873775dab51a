/**
 * Air-gap mode (SYNCLINE_MIRROR_RUNTIME_SYNC=false) makes no forge calls at all, even for a
 * `github_app` source (whose git auth needs a token minted over the forge API): the fake forge
 * refuses and records ANY request, and the git server records every request too. A push webhook,
 * a pull-request webhook, a poll tick and a source check all run against mirrors on disk
 * (baked, then re-baked as a site would carry a fresh copy in) with zero requests to either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import type { TestApp } from '../../helpers/app.js';
import { startFakeForge, type FakeForge } from '../../helpers/fake-forge.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { bake } from '../../../src/mirror/bake.js';
import { pollOnce } from '../../../src/webhooks/poll.js';
import { githubAppStats } from '../../../src/providers/github-app.js';
import { api, createSource, deployments, expectError, getNamespace, makeSyncApp, ok, putNamespace, sync, workload } from '../sync/support.js';
import { deliver, githubPullRequest, githubPush, SECRET } from './support.js';

describe.each(DIALECTS)('webhooks: air-gap mode makes no forge calls (%s)', (dialect) => {
  let t: TestApp;
  let repo: FixtureRepo;
  let server: GitHttpServer;
  let forge: FakeForge;
  let url: string;
  let bakeDir: string;
  let minted: number;

  const rebake = async () => {
    const results = await bake([{ name: 'app', url }], bakeDir, { guard: { allowedHosts: ['127.0.0.1'], allowFileSources: false } });
    expect(results).toMatchObject([{ name: 'app', ok: true }]);
    // The carried-in copy is not a request Syncline made.
    server.requests.length = 0;
  };
  const noCalls = () => {
    expect(forge.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(server.requests).toEqual([]);
    expect(githubAppStats.minted).toBe(minted);
  };

  beforeAll(async () => {
    const root = await tempDir('syncline-airgap-');
    repo = await makeRepo({ root, name: 'app' });
    await commitFiles(repo, { 'cfg/prod/app.yaml': workload('api', 'port: 8001'), 'cfg/dev/app.yaml': workload('api', 'port: 8001') }, 'base');
    server = await serveGitHttp(root);
    url = server.repoUrl('app');
    forge = await startFakeForge({ installationToken: 'ghs_never-minted-in-air-gap-mode' });
    forge.refuseAll = true;
    bakeDir = await tempDir('syncline-airgap-baked-');
    await rebake();
    minted = githubAppStats.minted;
    t = await makeSyncApp(dialect, { mirror_dir: bakeDir, mirror_runtime_sync: false, webhook_secret: SECRET, poll_interval: 0, public_url: 'https://syncline.example.com' });
    await createSource(t, 'app', url, {
      provider: 'github',
      api_url: `${forge.url}/api/v3`,
      auth: { type: 'github_app', app_id: forge.appId, private_key: forge.privateKey },
    });
    await putNamespace(t, 'app.prod', { source: 'app', branch: 'main', path: 'cfg/prod' });
    await putNamespace(t, 'app.dev', { source: 'app', branch: 'main', path: 'cfg/dev', auto_sync: true });
    await sync(t, 'app.prod');
    await sync(t, 'app.dev');
    await t.ctx.jobs.start();
    noCalls();
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await forge?.close();
    await cleanupTempDirs();
  });

  it('a push webhook syncs from the mirror on disk; no report, no token', async () => {
    const before = await upstreamCommit(repo);
    const after = await commitFiles(repo, { 'cfg/dev/app.yaml': workload('api', 'port: 8002') }, 'dev bump');
    await rebake();
    const res = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', before, after));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'app.dev'))[0]).toMatchObject({ commit: after, actor: 'webhook:github', status: 'success' });
    expect(ok(await api(t, 'GET', '/jobs')).items.map((j: any) => j.kind)).not.toContain('forge.report');
    noCalls();
  });

  it('a pull-request webhook plans from the mirror and stores the plan; nothing is reported', async () => {
    const head = await commitFiles(repo, { 'cfg/prod/app.yaml': workload('api', 'port: 8003') }, 'prod change', { branch: 'pr1' });
    await rebake();
    const res = await deliver(t, 'github', 'pull_request', githubPullRequest(url, 'opened', 1, 'main', head));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    const plans = ok(await api(t, 'GET', '/namespaces/app.prod/plans')).items;
    expect(plans[0]).toMatchObject({ trigger: 'pull_request', commit: head, summary: { update: 1 } });
    expect(ok(await api(t, 'GET', '/jobs?state=failed')).items).toEqual([]);
    noCalls();
  });

  it('a poll tick contacts nothing and queues nothing', async () => {
    await commitFiles(repo, { 'cfg/dev/app.yaml': workload('api', 'port: 8004') }, 'moved upstream');
    expect(await pollOnce(t.ctx)).toEqual([]);
    noCalls();
  });

  it('a source check is refused without contacting the forge or git', async () => {
    expectError(await api(t, 'POST', '/sources/app/check', {}), 400, 'runtime_sync_disabled');
    expect((await getNamespace(t, 'app.dev')).status).toBe('synced');
    noCalls();
  });
});
