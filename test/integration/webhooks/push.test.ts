/**
 * Webhooks end to end on a real app, real git over HTTP, real SQLite/PostgreSQL: signatures per
 * provider, ping, duplicates, ignored events, the "one fetch, one deployment, 19 untouched" push,
 * auto-sync vs drift-only, late deliveries, rollback pause, polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, commitFiles, createTag, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { DIALECTS } from '../../helpers/db.js';
import type { TestApp } from '../../helpers/app.js';
import { api, createSource, deployments, getNamespace, makeSyncApp, ok, putNamespace, sync, until, workload } from '../sync/support.js';
import { pollOnce } from '../../../src/webhooks/poll.js';
import { deliver, githubPush, giteaPush, gitlabPush, SECRET } from './support.js';

const folder = (i: number) => `apps/ns${String(i).padStart(2, '0')}`;

describe.each(DIALECTS)('webhooks: push (%s)', (dialect) => {
  let t: TestApp;
  let repo: FixtureRepo;
  let server: GitHttpServer;
  let url: string;
  let first: string;
  // One fetch (git fetch, git ls-remote, or the mirror cache's own ls-refs + fetch requests) = one
  // protocol-v2 ref listing (`ls-refs`).
  const fetches = () => server.requests.filter((r) => r.command === 'ls-refs').length;

  beforeAll(async () => {
    const root = await tempDir('syncline-wh-');
    repo = await makeRepo({ root, name: 'shop' });
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`${folder(i)}/app.yaml`] = workload(`app${i}`, 'port: 8001');
    files['other/x.yaml'] = workload('x', 'port: 8002');
    first = await commitFiles(repo, files, 'twenty namespaces');
    server = await serveGitHttp(root);
    url = server.repoUrl('shop');
    t = await makeSyncApp(dialect, { webhook_secret: SECRET, poll_interval: 0 });
    await createSource(t, 'shop', url, { provider: 'github' });
    for (let i = 0; i < 20; i++) await putNamespace(t, `shop.ns${i}`, { source: 'shop', branch: 'main', path: folder(i), auto_sync: i !== 19 });
    for (let i = 0; i < 20; i++) await sync(t, `shop.ns${i}`);
    await t.ctx.jobs.start();
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await cleanupTempDirs();
  });

  it('refuses missing and bad signatures for every provider, and any delivery when no secret is set', async () => {
    for (const provider of ['github', 'gitea', 'gitlab'] as const) {
      const payload = provider === 'gitlab' ? gitlabPush(url, 'refs/heads/main', first, first) : provider === 'gitea' ? giteaPush(url, 'refs/heads/main', first, first) : githubPush(url, 'refs/heads/main', first, first);
      const event = provider === 'gitlab' ? 'Push Hook' : 'push';
      expect((await deliver(t, provider, event, payload, { secret: null })).statusCode, provider).toBe(401);
      const bad = await deliver(t, provider, event, payload, { secret: 'not-the-secret' });
      expect(bad.statusCode, provider).toBe(401);
      expect(bad.json().error.code).toBe('unauthorized');
    }
    // A signature over other bytes is refused too (the raw body is what is signed).
    const body = JSON.stringify(githubPush(url, 'refs/heads/main', first, first));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/github',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'tampered', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      payload: body,
    });
    expect(res.statusCode).toBe(401);
  });

  it('answers ping with 200, unhandled events with 204', async () => {
    const ping = await deliver(t, 'github', 'ping', { zen: 'Keep it logically awesome.', hook_id: 1, repository: { clone_url: url } });
    expect(ping.statusCode, ping.body).toBe(200);
    const issue = await deliver(t, 'github', 'issues', { action: 'opened', repository: { clone_url: url } });
    expect(issue.statusCode).toBe(204);
  });

  it('ignores tags, deletions and untracked branches (stored, 202, nothing queued)', async () => {
    const sha = await upstreamCommit(repo);
    await createTag(repo, 'v1');
    const tag = await deliver(t, 'github', 'push', githubPush(url, 'refs/tags/v1', null, sha));
    expect(tag.statusCode).toBe(202);
    expect(tag.json()).toMatchObject({ queued: [], ignored: expect.stringContaining('tag') });
    const del = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', sha, null));
    expect(del.json()).toMatchObject({ queued: [], ignored: expect.stringContaining('deleted') });
    const other = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/feature', null, sha));
    expect(other.json()).toMatchObject({ queued: [], ignored: "no namespace tracks branch 'feature'" });
    const list = ok(await api(t, 'GET', '/webhooks/deliveries'));
    expect(list.items.find((d: any) => d.id === tag.json().delivery)).toMatchObject({ provider: 'github', event: 'push', status: 'ignored' });
  });

  it('a push changing one of 20 folders: one fetch, one deployment, 19 namespaces untouched; a repeat is a duplicate', async () => {
    const before = await upstreamCommit(repo);
    const counts = async () => Object.fromEntries(await Promise.all(Array.from({ length: 20 }, async (_, i) => [i, (await deployments(t, `shop.ns${i}`)).length])));
    const countsBefore = await counts();
    const nsBefore = await Promise.all(Array.from({ length: 20 }, (_, i) => getNamespace(t, `shop.ns${i}`)));
    const after = await commitFiles(repo, { [`${folder(7)}/app.yaml`]: workload('app7', 'port: 8003') }, 'bump ns07');
    const fetchesBefore = fetches();

    const id = 'push-ns07';
    const res = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', before, after), { id });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ delivery: expect.any(String), queued: [{ job: expect.any(String), kind: 'source.refresh', namespace: null }] });
    await t.ctx.jobs.waitIdle();

    expect(fetches() - fetchesBefore).toBe(1);
    const countsAfter = await counts();
    for (let i = 0; i < 20; i++) expect(countsAfter[i], `ns${i}`).toBe(countsBefore[i] + (i === 7 ? 1 : 0));
    const [d] = await deployments(t, 'shop.ns7');
    expect(d).toMatchObject({ commit: after, actor: 'webhook:github', status: 'success' });
    for (let i = 0; i < 20; i++) {
      if (i === 7) continue;
      const ns = await getNamespace(t, `shop.ns${i}`);
      expect(ns.updated_at, `ns${i}`).toBe(nsBefore[i].updated_at);
    }
    const delivery = ok(await api(t, 'GET', `/webhooks/deliveries/${res.json().delivery}`));
    expect(delivery).toMatchObject({ delivery_id: id, status: 'done', jobs: [{ kind: 'source.refresh', state: 'done' }] });

    // The repeat is answered from the stored delivery; its transaction (jobs first, then the
    // delivery row) is rolled back, so it queues nothing, not even a job the first one ran already.
    const jobsBefore = (await t.ctx.jobs.list({ limit: 1000 })).length;
    const again = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', before, after), { id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ duplicate: true, delivery: res.json().delivery });
    expect((await t.ctx.jobs.list({ limit: 1000 })).length).toBe(jobsBefore);
  });

  it('drift-only namespaces are refreshed (out_of_sync), not synced; other providers work the same', async () => {
    const before = await upstreamCommit(repo);
    const after = await commitFiles(repo, { [`${folder(19)}/app.yaml`]: workload('app19', 'port: 8004') }, 'bump ns19');
    const n = (await deployments(t, 'shop.ns19')).length;
    const res = await deliver(t, 'gitea', 'push', giteaPush(url, 'refs/heads/main', before, after));
    expect(res.statusCode, res.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns19')).length).toBe(n);
    expect((await getNamespace(t, 'shop.ns19')).status).toBe('out_of_sync');

    const b2 = await upstreamCommit(repo);
    const a2 = await commitFiles(repo, { [`${folder(3)}/app.yaml`]: workload('app3', 'port: 8005') }, 'bump ns03');
    const gl = await deliver(t, 'gitlab', 'Push Hook', gitlabPush(url, 'refs/heads/main', b2, a2));
    expect(gl.statusCode, gl.body).toBe(202);
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns3'))[0]).toMatchObject({ commit: a2, actor: 'webhook:gitlab' });
  });

  it('a late delivery never moves a namespace backwards', async () => {
    const old = await upstreamCommit(repo);
    const mid = await commitFiles(repo, { [`${folder(5)}/app.yaml`]: workload('app5', 'port: 8006') }, 'ns05 v5');
    const head = await commitFiles(repo, { [`${folder(5)}/app.yaml`]: workload('app5', 'port: 8007') }, 'ns05 v6');
    // The newer push arrives first…
    await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', mid, head));
    await t.ctx.jobs.waitIdle();
    const n = (await deployments(t, 'shop.ns5')).length;
    expect((await deployments(t, 'shop.ns5'))[0].commit).toBe(head);
    // …then the older one.
    const late = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', old, mid));
    expect(late.statusCode).toBe(202);
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns5')).length).toBe(n);
    expect((await deployments(t, 'shop.ns5'))[0].commit).toBe(head);
  });

  it('a rollback pauses auto-sync (pushes then only refresh drift); clearing the pause resumes', async () => {
    const current = await upstreamCommit(repo);
    const prev = (await deployments(t, 'shop.ns7')).find((d: any) => d.commit !== current && d.commit)?.commit ?? first;
    const rb = await api(t, 'POST', '/namespaces/shop.ns7/sync-from-git', { ref: prev, reason: 'bad image' });
    expect(rb.statusCode, rb.body).toBe(200);
    const paused = (await getNamespace(t, 'shop.ns7')).auto_sync_paused;
    expect(paused).toEqual({ by: 'admin', reason: 'bad image', at: expect.any(String), commit: prev });

    const n = (await deployments(t, 'shop.ns7')).length;
    const after = await commitFiles(repo, { [`${folder(7)}/app.yaml`]: workload('app7', 'port: 8005') }, 'ns07 again');
    await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', current, after));
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns7')).length).toBe(n);
    expect((await getNamespace(t, 'shop.ns7')).status).toBe('out_of_sync');

    const resumed = await api(t, 'PATCH', '/namespaces/shop.ns7', { auto_sync_paused: null });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().auto_sync_paused).toBeNull();
  });

  it('polling with no webhook syncs a moved branch; a webhook for the same commit then does nothing', async () => {
    const before = await upstreamCommit(repo);
    const after = await commitFiles(repo, { [`${folder(11)}/app.yaml`]: workload('app11', 'port: 8008') }, 'ns11');
    const n = (await deployments(t, 'shop.ns11')).length;
    const queued = await pollOnce(t.ctx);
    expect(queued).toEqual(['shop']);
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns11'))[0]).toMatchObject({ commit: after, actor: 'poll' });
    await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', before, after));
    await t.ctx.jobs.waitIdle();
    expect((await deployments(t, 'shop.ns11')).length).toBe(n + 1);
    // Nothing moved: the next poll queues nothing.
    expect(await pollOnce(t.ctx)).toEqual([]);
  });

  it('a source secret vouches only for its own repository', async () => {
    const res = await api(t, 'POST', '/sources', { name: 'other', url: server.repoUrl('other'), provider: 'github', webhook_secret: 'other-source-secret-123' });
    expect(res.statusCode, res.body).toBe(201);
    const sha = await upstreamCommit(repo);
    const forShop = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', sha, sha), { secret: 'other-source-secret-123' });
    expect(forShop.statusCode).toBe(401);
    const forOther = await deliver(t, 'github', 'push', githubPush(server.repoUrl('other'), 'refs/heads/main', sha, sha), { secret: 'other-source-secret-123' });
    expect(forOther.statusCode, forOther.body).toBe(202);
    expect(forOther.json().ignored).toBe("no namespace tracks branch 'main'");
  });
});
