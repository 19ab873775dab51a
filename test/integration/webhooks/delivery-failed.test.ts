/**
 * A delivery whose job fails for good writes `syncline.delivery.failed` in the transaction that
 * marks the job failed; `GET /events` shows it as a `delivery` event to unscoped admins only.
 * Retrying the job and failing again writes another. A hook that cannot write does not leave
 * the job running: it is failed without the hooks.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { openEvents } from '../../helpers/sse.js';
import { api, createSource, makeSyncApp, ok, putNamespace, until, workload } from '../sync/support.js';
import { deliver, githubPush, SECRET } from './support.js';

describe.each(DIALECTS)('webhooks: delivery failed event (%s)', (dialect) => {
  let t: TestApp;
  let repo: FixtureRepo;
  let server: GitHttpServer;
  let url: string;
  let base: string;

  beforeAll(async () => {
    const root = await tempDir('syncline-wh-fail-');
    repo = await makeRepo({ root, name: 'shop' });
    await commitFiles(repo, { 'prod/app.yaml': workload('app', 'port: 8001') }, 'first');
    // The git server wants a token the source does not have: every fetch fails with auth_failed (permanent).
    server = await serveGitHttp(root, { token: 'a-token-the-source-lacks' });
    url = server.repoUrl('shop');
    t = await makeSyncApp(dialect, { webhook_secret: SECRET, poll_interval: 0, public_url: 'https://syncline.example.com' });
    await createSource(t, 'shop', url, { provider: 'github' });
    await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod', auto_sync: true });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    await t.ctx.jobs.start();
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await cleanupTempDirs();
  });

  it('a push whose refresh job fails for good: one syncline.delivery.failed, a `delivery` SSE event for admins only', async () => {
    const admin = await openEvents(base, { authorization: `Bearer ${ADMIN_TOKEN}` });
    const viewer = await openEvents(base, { authorization: `Bearer ${await t.token('viewer', ['shop.*'])}` });
    try {
      const sha = await upstreamCommit(repo);
      const res = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', null, sha), { id: 'will-fail' });
      expect(res.statusCode, res.body).toBe(202);
      const delivery = res.json().delivery as string;
      const job = res.json().queued[0].job as string;
      await t.ctx.jobs.waitIdle();

      const failed = ok(await api(t, 'GET', `/jobs/${job}`));
      expect(failed).toMatchObject({ state: 'failed', last_error: expect.stringMatching(/^auth_failed: /) });
      expect(ok(await api(t, 'GET', `/webhooks/deliveries/${delivery}`)).status).toBe('failed');

      const rows = await t.ctx.db.db.selectFrom('outbox').select(['event', 'namespace']).where('type', '=', 'syncline.delivery.failed').execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.namespace).toBeNull();
      expect(JSON.parse(rows[0]!.event)).toMatchObject({
        specversion: '1.0',
        type: 'syncline.delivery.failed',
        data: {
          delivery,
          delivery_id: 'will-fail',
          provider: 'github',
          event: 'push',
          job: { id: job, kind: 'source.refresh', attempts: 1, last_error: failed.last_error },
          url: `https://syncline.example.com/api/v1/webhooks/deliveries/${delivery}`,
        },
      });

      await until(() => admin.events.some((e) => e.event === 'delivery'), 'the delivery event');
      expect(admin.events.find((e) => e.event === 'delivery')!.data).toMatchObject({ namespace: null, delivery, job: { id: job } });

      // Retried and failing again: another event. The viewer never saw a delivery event.
      expect((await api(t, 'POST', `/jobs/${job}/retry`)).statusCode).toBe(202);
      await t.ctx.jobs.waitIdle();
      await until(() => admin.events.filter((e) => e.event === 'delivery').length === 2, 'the second delivery event');
      expect(viewer.events.filter((e) => e.event === 'delivery')).toEqual([]);
    } finally {
      admin.close();
      viewer.close();
    }
  });

  it('a failure hook that cannot write still leaves the job failed (without the event)', async () => {
    t.ctx.jobs.onFinalFailure(async () => {
      throw new Error('hook down');
    });
    const events = async () => (await t.ctx.db.db.selectFrom('outbox').select('id').where('type', '=', 'syncline.delivery.failed').execute()).length;
    const before = await events();
    const sha = await upstreamCommit(repo);
    const res = await deliver(t, 'github', 'push', githubPush(url, 'refs/heads/main', null, sha));
    const job = res.json().queued[0].job as string;
    await t.ctx.jobs.waitIdle();
    expect(ok(await api(t, 'GET', `/jobs/${job}`))).toMatchObject({ state: 'failed', last_error: expect.stringMatching(/^auth_failed: /) });
    // The hooks share one transaction: the event is rolled back with it.
    expect(await events()).toBe(before);
  });
});
