/**
 * Pull/merge requests and forge reports against the fake forge: GitHub App check runs (JWT
 * verified, installation discovered, token minted once and accepted by the git server), plans
 * stored, annotations on the right lines in batches of 50, commit statuses for token sources,
 * rate limits honoured, refusals failing the report job with the reason, air-gap with no calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, commitFiles, git, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { DIALECTS } from '../../helpers/db.js';
import type { TestApp } from '../../helpers/app.js';
import { api, createSource, makeSyncApp, ok, putNamespace, sync, until, workload } from '../sync/support.js';
import { startFakeForge, type FakeForge } from '../../helpers/fake-forge.js';
import { githubAppStats } from '../../../src/providers/github-app.js';
import { deliver, githubPullRequest, githubPush, gitlabMergeRequest, SECRET } from './support.js';

const TOKEN = 'ghs_installationtoken0123456789abcdef';

describe.each(DIALECTS)('webhooks: pull requests and reports (%s)', (dialect) => {
  let t: TestApp;
  let repo: FixtureRepo;
  let server: GitHttpServer;
  let forge: FakeForge;
  let url: string;
  let base: string;

  async function pullHead(n: number, files: Record<string, string>, msg: string): Promise<string> {
    const sha = await commitFiles(repo, files, msg, { branch: `pr${n}` });
    await git(repo.bareDir, ['update-ref', `refs/pull/${n}/head`, sha]);
    await git(repo.bareDir, ['update-ref', `refs/merge-requests/${n}/head`, sha]);
    return sha;
  }

  beforeAll(async () => {
    // Served as /acme/app.git: forge APIs need an owner/repo path.
    const served = await tempDir('syncline-pr-');
    const root = path.join(served, 'acme');
    fs.mkdirSync(root);
    repo = await makeRepo({ root, name: 'app' });
    base = await commitFiles(repo, { 'cfg/prod/app.yaml': workload('api', 'port: 8009'), 'cfg/dev/app.yaml': workload('api', 'port: 8009') }, 'base');
    server = await serveGitHttp(served, { token: TOKEN });
    url = server.repoUrl('acme/app');
    forge = await startFakeForge({ installationToken: TOKEN });
    t = await makeSyncApp(dialect, { webhook_secret: SECRET, poll_interval: 0, public_url: 'https://syncline.example.com', allowed_hosts: ['127.0.0.1'] });
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
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await forge?.close();
    await cleanupTempDirs();
  });

  it('GitHub App: the installation is discovered from the repository and its token is used for git', () => {
    const tokenCalls = forge.requests.filter((r) => /access_tokens$/.test(r.path));
    expect(tokenCalls.length).toBeGreaterThanOrEqual(1);
    expect(forge.requests.some((r) => r.path === '/api/v3/repos/acme/app/installation')).toBe(true);
    expect(server.requests.every((r) => r.authorization !== undefined)).toBe(true);
  });

  it('a valid pull request gets a stored plan and a successful check run; other namespaces are not planned', async () => {
    const head = await pullHead(1, { 'cfg/prod/app.yaml': workload('api', 'port: 8010') }, 'bump prod');
    const seen = forge.requests.length;
    const res = await deliver(t, 'github', 'pull_request', githubPullRequest(url, 'opened', 1, 'main', head));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();

    const plans = ok(await api(t, 'GET', '/namespaces/app.prod/plans')).items;
    expect(plans[0]).toMatchObject({ trigger: 'pull_request', commit: head, pull_request: { number: 1 }, summary: { update: 1, invalid: 0 } });
    expect(ok(await api(t, 'GET', `/plans/${plans[0].id}`)).id).toBe(plans[0].id);
    expect(ok(await api(t, 'GET', '/namespaces/app.dev/plans')).items).toEqual([]);

    const calls = forge.requests.slice(seen).filter((r) => r.path.includes('check-runs'));
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    expect(calls[0]!.body).toMatchObject({ name: 'syncline/app.prod', head_sha: head, status: 'in_progress', details_url: `https://syncline.example.com/api/v1/plans/${plans[0].id}` });
    expect(calls[1]!.body).toMatchObject({ status: 'completed', conclusion: 'success', output: { title: '0 to create, 1 to update, 0 to delete' } });
    expect(calls[1]!.body.output.summary).toContain('/spec/port');
    // Nothing was applied.
    expect(ok(await api(t, 'GET', '/namespaces/app.prod/resources/Workload/api')).spec.port).toBe(8009);
  });

  it('an invalid pull request fails its check with annotations on the right lines, 50 per request', async () => {
    const docs = Array.from({ length: 60 }, (_, i) => `kind: Workload\nname: bad${i}\nspec:\n  port: "80"\n`).join('---\n');
    const head = await pullHead(2, { 'cfg/prod/bad.yaml': docs }, 'broken');
    const seen = forge.requests.length;
    await deliver(t, 'github', 'pull_request', githubPullRequest(url, 'synchronize', 2, 'main', head));
    const checkRuns = () => forge.requests.slice(seen).filter((r) => r.path.includes('check-runs'));
    // The report is done when its last batch (10 annotations) went out. On a loaded machine the
    // job may have been retried (at least once delivery): judge its last attempt, from its POST.
    await until(() => checkRuns().some((r) => r.method === 'PATCH' && r.body?.output?.annotations?.length === 10), 'the check run finished', 60_000);
    await t.ctx.jobs.waitIdle();
    const all = checkRuns();
    const calls = all.slice(all.map((c) => c.method).lastIndexOf('POST'));
    expect(calls[1]!.body).toMatchObject({ conclusion: 'failure' });
    const annotations = calls.slice(1).flatMap((c) => c.body.output.annotations ?? []);
    expect(calls.slice(1).map((c) => (c.body.output.annotations ?? []).length)).toEqual([50, 10]);
    expect(annotations).toHaveLength(60);
    // Document i starts at line 1 + 5*i; `port: "80"` is its 4th line.
    expect(annotations[0]).toMatchObject({ path: 'cfg/prod/bad.yaml', annotation_level: 'failure' });
    expect(annotations.map((a: any) => a.start_line).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => 4 + 5 * i));
  });

  it('after an auto-sync the deployment is reported on the synced commit', async () => {
    const before = await upstreamCommit(repo);
    const after = await commitFiles(repo, { 'cfg/dev/app.yaml': workload('api', 'port: 8011') }, 'dev bump');
    const seen = forge.requests.length;
    const res = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', before, after));
    await t.ctx.jobs.waitIdle();
    const calls = forge.requests.slice(seen).filter((r) => r.path.includes('check-runs'));
    expect(calls[0]!.body).toMatchObject({ name: 'syncline/app.dev', head_sha: after });
    expect(calls[1]!.body).toMatchObject({ conclusion: 'success' });
    // The report job carries the delivery it came from, next to the refresh job.
    const delivery = res.json().delivery;
    const jobs = ok(await api(t, 'GET', '/jobs?limit=1000')).items.filter((j: any) => j.delivery === delivery);
    expect(jobs.map((j: any) => j.kind).sort()).toEqual(['forge.report', 'source.refresh']);
    expect(jobs.find((j: any) => j.kind === 'forge.report')).toMatchObject({ delivery, namespace: 'app.dev', state: 'done' });
  });

  it('token sources get commit statuses; a rate limit is waited out; a refusal fails the job with the reason', async () => {
    await createSource(t, 'tok', url, { provider: 'gitea', api_url: `${forge.url}/api/v1`, auth: { type: 'token', token: TOKEN } });
    await putNamespace(t, 'tok.prod', { source: 'tok', branch: 'main', path: 'cfg/prod' });
    const head = await pullHead(3, { 'cfg/prod/app.yaml': workload('api', 'port: 8012') }, 'tok change');
    const statusPath = (r: any) => r.path.endsWith(`/statuses/${head}`);
    forge.failNext(1, { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) }, body: { message: 'API rate limit exceeded' } }, statusPath);
    const seen = forge.requests.length;
    const res = await deliver(t, 'gitea', 'pull_request', githubPullRequest(url, 'opened', 3, 'main', head));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    const calls = forge.requests.slice(seen).filter(statusPath);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.body).toMatchObject({ state: 'success', context: 'syncline/tok.prod', target_url: expect.stringMatching(/^https:\/\/syncline\.example\.com\/api\/v1\/plans\//) });
    expect(calls[1]!.body.description.length).toBeLessThanOrEqual(140);

    const head2 = await pullHead(4, { 'cfg/prod/app.yaml': workload('api', 'port: 8013') }, 'tok change 2');
    forge.failNext(1, { status: 422, body: { message: 'Validation Failed' } }, (r) => r.path.endsWith(`/statuses/${head2}`));
    const res2 = await deliver(t, 'gitea', 'pull_request', githubPullRequest(url, 'opened', 4, 'main', head2));
    await t.ctx.jobs.waitIdle();
    const failed = ok(await api(t, 'GET', '/jobs?state=failed')).items.filter((j: any) => j.kind === 'forge.report');
    expect(failed).toHaveLength(1);
    expect(failed[0].last_error).toMatch(/^report_failed: Gitea commit status failed: HTTP 422/);
    expect(failed[0].delivery).toBe(res2.json().delivery);
  });

  it('GitLab merge requests report a commit status with name and state', async () => {
    await createSource(t, 'gl', url, { provider: 'gitlab', api_url: `${forge.url}/api/v4`, auth: { type: 'token', token: TOKEN } });
    await putNamespace(t, 'gl.prod', { source: 'gl', branch: 'main', path: 'cfg/prod' });
    const head = await pullHead(5, { 'cfg/prod/app.yaml': workload('api', 'port: 8014') }, 'gl change');
    const seen = forge.requests.length;
    const res = await deliver(t, 'gitlab', 'Merge Request Hook', gitlabMergeRequest(url, 'open', 5, 'main', head));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    const call = forge.requests.slice(seen).find((r) => r.path === `/api/v4/projects/15/statuses/${head}`);
    expect(call?.body).toMatchObject({ state: 'success', name: 'syncline/gl.prod' });
  });

  it('the installation token is minted once under concurrency and cached', async () => {
    const before = githubAppStats.minted;
    const checks = await Promise.all([1, 2, 3, 4].map(() => api(t, 'POST', '/sources/app/check', {})));
    for (const c of checks) expect(c.statusCode, c.body).toBe(200);
    expect(githubAppStats.minted - before).toBe(0); // still cached from the first use
    expect(checks[0]!.json().api).toMatchObject({ reachable: true, private: true });
  });
});
