/**
 * Plans asked for through the API are stored (`trigger: "api"`) and listed with pull-request
 * plans; each stored plan writes `syncline.plan.completed` to the outbox in the same transaction
 * and `GET /events` shows it as a `plan` event to those who can see the namespace. Bodies are
 * stored compressed; only the newest `plan_retention` per namespace and trigger are kept.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { openEvents } from '../../helpers/sse.js';
import { storePlan } from '../../../src/sync/plans.js';
import { api, createSource, makeSyncApp, ok, planReq, putNamespace, until, workload } from './support.js';

const KEEP = 3;

describe.each(DIALECTS)('stored plans (%s)', (dialect) => {
  let t: TestApp;
  let server: GitHttpServer;
  let repo: FixtureRepo;
  let base: string;

  beforeAll(async () => {
    t = await makeSyncApp(dialect, { plan_retention: KEEP, public_url: 'https://syncline.example.com' });
    const root = await tempDir('syncline-plans-');
    repo = await makeRepo({ root, name: 'shop' });
    const files: Record<string, string> = { 'prod/api.yaml': workload('api', 'port: 8080') };
    // A big namespace: 300 resources in one file (the plan lists every one of them).
    files['big/all.yaml'] = Array.from({ length: 300 }, (_, i) => workload(`w${i}`, `port: ${9000 + i}`, `replicas: ${i % 5}`)).join('---\n');
    await commitFiles(repo, files, 'first');
    server = await serveGitHttp(root);
    await createSource(t, 'shop', server.repoUrl('shop'));
    await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
    await putNamespace(t, 'shop.big', { source: 'shop', branch: 'main', path: 'big' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
    await cleanupTempDirs();
  });

  it('POST /plan answers the stored plan (trigger api); GET /plans and GET /plans/{id} return it', async () => {
    const plan = ok(await planReq(t, 'shop.prod'));
    expect(plan).toMatchObject({ id: expect.any(String), trigger: 'api', pull_request: null, created_at: expect.any(String), namespace: 'shop.prod', summary: { create: 1 } });
    expect(plan.results).toHaveLength(1);
    const list = ok(await api(t, 'GET', '/namespaces/shop.prod/plans')).items;
    expect(list[0]).toEqual(plan);
    expect(ok(await api(t, 'GET', `/plans/${plan.id}`))).toEqual(plan);

    // A viewer of another namespace does not see it.
    const other = await t.token('viewer', ['team.*']);
    expect((await api(t, 'GET', `/plans/${plan.id}`, undefined, { token: other })).statusCode).toBe(404);
    expect((await api(t, 'GET', '/namespaces/shop.prod/plans', undefined, { token: other })).statusCode).toBe(403);
  });

  it('each stored plan writes syncline.plan.completed (no per-resource results) and GET /events shows it as `plan`', async () => {
    const viewer = await t.token('viewer', ['shop.*']);
    const elsewhere = await t.token('viewer', ['team.*']);
    const mine = await openEvents(base, { authorization: `Bearer ${viewer}` });
    const theirs = await openEvents(base, { authorization: `Bearer ${elsewhere}` });
    try {
      const plan = ok(await planReq(t, 'shop.prod'));
      await until(() => mine.events.some((e) => e.event === 'plan' && e.data.id === plan.id), 'the plan event');
      const e = mine.events.find((x) => x.event === 'plan')!;
      expect(e.id).toMatch(/^\d+$/);
      expect(e.data).toMatchObject({
        namespace: 'shop.prod',
        id: plan.id,
        trigger: 'api',
        commit: plan.commit,
        summary: plan.summary,
        url: `https://syncline.example.com/api/v1/plans/${plan.id}`,
      });
      expect(e.data).not.toHaveProperty('results');

      const rows = await t.ctx.db.db.selectFrom('outbox').select(['event', 'namespace']).where('type', '=', 'syncline.plan.completed').execute();
      const ce = rows.map((r) => JSON.parse(r.event)).find((x) => x.data.id === plan.id);
      expect(ce).toMatchObject({ specversion: '1.0', type: 'syncline.plan.completed', subject: 'shop.prod', data: { trigger: 'api', pull_request: null } });
      // A deployment in the other stream shows it is live, and it never got the plan.
      ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {}));
      await until(() => mine.events.some((x) => x.event === 'deployment'), 'the deployment event');
      expect(theirs.events.filter((x) => x.event === 'plan' || x.event === 'deployment')).toEqual([]);
    } finally {
      mine.close();
      theirs.close();
    }
  });

  it(`keeps the newest ${KEEP} plans per namespace and trigger: API previews never evict pull-request plans`, async () => {
    const sample = ok(await planReq(t, 'shop.prod'));
    const { id: _i, trigger: _t, pull_request: _p, created_at: _c, ...bare } = sample;
    const pr = await storePlan(t.ctx, bare, 'pull_request', { number: 7, url: 'https://example.com/pr/7' });
    const made: string[] = [];
    for (let i = 0; i < KEEP + 2; i++) made.push(ok(await planReq(t, 'shop.prod')).id);
    const items = ok(await api(t, 'GET', '/namespaces/shop.prod/plans')).items;
    const api_ = items.filter((p: any) => p.trigger === 'api').map((p: any) => p.id);
    expect(api_).toEqual(made.slice(-KEEP).reverse());
    expect(items.filter((p: any) => p.trigger === 'pull_request').map((p: any) => p.id)).toEqual([pr.id]);
    const rows = await t.ctx.db.db.selectFrom('plans').select(['id', 'trigger']).where('namespace', '=', 'shop.prod').execute();
    expect(rows).toHaveLength(KEEP + 1);
    expect((await api(t, 'GET', `/plans/${made[0]}`)).statusCode).toBe(404);
  });

  it('reads plans stored before compression (plain JSON bodies, no skipped_files)', async () => {
    const { skipped_files: _s, ...old } = { namespace: 'shop.prod', ref: 'main', commit: 'c'.repeat(40), source: 'shop', summary: { create: 0, update: 0, delete: 0, noop: 0, invalid: 0 }, results: [], skipped_files: [] };
    await t.ctx.db.db
      .insertInto('plans')
      .values({ id: 'legacy-plan', namespace: 'shop.prod', trigger: 'pull_request', ref: 'main', commit: old.commit, pull_request: JSON.stringify({ number: 3, url: null }), body: JSON.stringify(old), created_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    expect(ok(await api(t, 'GET', '/plans/legacy-plan'))).toEqual({ ...old, skipped_files: [], id: 'legacy-plan', trigger: 'pull_request', pull_request: { number: 3, url: null }, created_at: '2026-01-01T00:00:00.000Z' });
  });

  it('stores plan bodies compressed: a 300-resource plan takes a fraction of its JSON', async () => {
    const plan = ok(await planReq(t, 'shop.big'));
    expect(plan.results).toHaveLength(300);
    const { id, trigger: _t, pull_request: _p, created_at: _c, ...bare } = plan;
    const row = await t.ctx.db.db.selectFrom('plans').select('body').where('id', '=', id).executeTakeFirstOrThrow();
    const json = JSON.stringify(bare).length;
    expect(row.body.length).toBeLessThan(json / 5);
    expect(ok(await api(t, 'GET', `/plans/${id}`))).toEqual(plan);
  });
});
