/**
 * Events out (API.md "Events out"): CloudEvents written to the outbox in the transaction of the
 * deployment / status change they report, and the relay publishing them to a real RabbitMQ
 * (127.0.0.1:5672) with publisher confirms — through a TCP proxy the test takes down to play a
 * broker outage: the outbox grows, /readyz stays ready, /healthz says degraded, and after the
 * broker returns everything arrives, in order.
 */
import crypto from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEventSchema } from '../../../src/contracts/events.js';
import { createRelay, type OutboxRelay } from '../../../src/events/relay.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import type { TestApp } from '../../helpers/app.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, sync, syncReq, until, workload } from '../sync/support.js';

const AMQP = process.env.SYNCLINE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function outboxRows(t: TestApp) {
  const rows = await t.ctx.db.db.selectFrom('outbox').selectAll().orderBy('seq').execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), event: JSON.parse(r.event) }));
}

for (const dialect of DIALECTS) {
  describe(`events outbox (${dialect})`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;

    beforeAll(async () => {
      t = await makeSyncApp(dialect, { public_url: 'https://syncline.example.com' });
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') });
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('a sync writes its CloudEvents in its transaction: deployment, status change, failed deployment', async () => {
      const d = await sync(t, 'shop.prod');
      let rows = await outboxRows(t);
      expect(rows.map((r) => r.type)).toEqual(['syncline.deployment.succeeded', 'syncline.namespace.status_changed']);
      for (const r of rows) {
        expect(cloudEventSchema.safeParse(r.event).success, JSON.stringify(r.event)).toBe(true);
        expect(r.id).toBe(r.event.id);
        expect(r.published_at).toBeNull();
      }
      const [dep, status] = rows.map((r) => r.event);
      expect(dep).toMatchObject({
        specversion: '1.0',
        type: 'syncline.deployment.succeeded',
        subject: 'shop.prod',
        source: 'https://syncline.example.com/api/v1/namespaces/shop.prod',
        datacontenttype: 'application/json',
        data: { id: d.id, namespace: 'shop.prod', status: 'success', commit: d.commit, url: `https://syncline.example.com/api/v1/deployments/${d.id}` },
      });
      expect(dep.data.results).toBeUndefined();
      expect(status.data).toEqual({ namespace: 'shop.prod', from: 'never_synced', to: 'synced' });

      // Unchanged: a noop deployment event, no status change.
      await sync(t, 'shop.prod');
      rows = await outboxRows(t);
      expect(rows.map((r) => r.type).slice(2)).toEqual(['syncline.deployment.noop']);

      // Invalid specs: the failed deployment and the status change to error, nothing else.
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: "nope"') });
      expectError(await syncReq(t, 'shop.prod'), 422, 'invalid_specs');
      rows = await outboxRows(t);
      expect(rows.map((r) => r.type).slice(3)).toEqual(['syncline.deployment.failed', 'syncline.namespace.status_changed']);
      expect(rows[4]!.event.data).toEqual({ namespace: 'shop.prod', from: 'synced', to: 'error' });

      // A request that fails before applying (unknown ref) writes nothing.
      expectError(await syncReq(t, 'shop.prod', 'no-such-ref'), 400, 'ref_not_found');
      expect(await outboxRows(t)).toHaveLength(5);
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8081') });
      ok(await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {}));
    });

    it('the relay publishes to RabbitMQ in order with confirms; a broker outage only delays it', async () => {
      const runId = crypto.randomBytes(4).toString('hex');
      const exchange = `syncline.test.${runId}`;
      const queue = `syncline.test.${runId}.v1`;
      const proxy: TcpProxy = await startTcpProxy({ host: '127.0.0.1', port: 5672 });
      const direct = new Connection(AMQP);
      const warnings: string[] = [];
      const log = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg) };
      const relay: OutboxRelay = createRelay(
        { db: t.ctx.db, box: t.ctx.box, settings: { ...t.settings, amqp_url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, amqp_exchange: exchange, amqp_queue: queue } },
        log,
      );
      t.ctx.relay = relay;
      const received: { id: string; type: string; routingKey: string; contentType?: string; durable?: boolean; body: any }[] = [];
      try {
        relay.start();
        const published = async () =>
          Number((await t.ctx.db.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('published_at', 'is', null).executeTakeFirst())?.n);
        await until(async () => (await published()) === 0, 'the backlog published');
        const consumer = direct.createConsumer({ queue, queueOptions: { passive: true } }, async (msg) => {
          received.push({ id: msg.messageId!, type: msg.type ?? '', routingKey: msg.routingKey, contentType: msg.contentType, durable: msg.durable, body: JSON.parse(Buffer.from(msg.body).toString()) });
        });
        try {
          const before = await outboxRows(t);
          await until(() => received.length === before.length, 'the backlog consumed');
          const first = received[0]!;
          expect(first.contentType).toBe('application/cloudevents+json');
          expect(first.durable).toBe(true);
          expect(received.map((m) => m.id)).toEqual(before.map((r) => r.id));
          expect(received.map((m) => m.routingKey)).toEqual(before.map((r) => r.type));
          expect(received.map((m) => m.body)).toEqual(before.map((r) => r.event));
          const health = (await t.app.inject({ url: '/healthz' })).json();
          expect(health.details.events).toMatchObject({ state: 'ok', relay: 'leader' });

          // Broker unreachable: syncs still succeed, events wait, readiness unaffected.
          await proxy.down();
          for (let i = 0; i < 3; i++) await sync(t, 'shop.prod');
          await until(async () => (await t.app.inject({ url: '/healthz' })).json().details.events.state === 'degraded', 'healthz degraded');
          expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
          const metrics = (await t.app.inject({ url: '/metrics' })).body;
          expect(metrics).toMatch(/^syncline_outbox_pending 3$/m);
          expect(metrics).toMatch(/^syncline_outbox_oldest_pending_seconds \d/m);

          await proxy.up();
          const all = await outboxRows(t);
          await until(() => received.length === all.length, 'the outage backlog consumed');
          expect(received.map((m) => m.id)).toEqual(all.map((r) => r.id));
          await until(async () => (await published()) === 0, 'every row marked published');
          await until(async () => (await t.app.inject({ url: '/healthz' })).json().details.events.state === 'ok', 'healthz ok again');
        } finally {
          await consumer.close();
        }
      } finally {
        await relay.stop();
        delete t.ctx.relay;
        await direct.queueDelete({ queue }).catch(() => undefined);
        await direct.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
        await direct.exchangeDelete({ exchange }).catch(() => undefined);
        await direct.exchangeDelete({ exchange: `${exchange}.dlx` }).catch(() => undefined);
        await direct.close();
        await proxy.close();
      }
    });
  });
}
