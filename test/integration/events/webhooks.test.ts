/**
 * Outbound webhooks (API.md "Events out"): subscriptions API, Standard Webhooks signatures
 * checked with the `standardwebhooks` package against a real local HTTP receiver, retries while
 * the receiver is down, and a subscription disabled (audited, `syncline.delivery.failed`) when it
 * keeps failing for the whole retry window (shortened to 3 s here).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, type OutboxRelay } from '../../../src/events/relay.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import type { TestApp } from '../../helpers/app.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, sync, until, workload } from '../sync/support.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver that can be stopped and started again on the same port. */
async function receiver(): Promise<{ url: string; got: Received[]; start(): Promise<void>; stop(): Promise<void> }> {
  const got: Received[] = [];
  let server: http.Server | null = null;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      const s = http.createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          got.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      });
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  };
  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}/hook`;
    },
    got,
    start,
    stop,
  };
}

for (const dialect of DIALECTS) {
  describe(`outbound webhooks (${dialect})`, () => {
    let t: TestApp;
    let git: GitHttpServer;
    let relay: OutboxRelay;

    beforeAll(async () => {
      t = await makeSyncApp(dialect, { webhook_retry_window: 3 });
      const root = await tempDir('syncline-upstream-');
      const repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') });
      git = await serveGitHttp(root);
      await createSource(t, 'shop', git.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
      await putNamespace(t, 'team.x', { source: 'shop', branch: 'main', path: 'prod' });
      relay = createRelay(t.ctx, { info: () => undefined, warn: () => undefined });
      relay.start();
    });

    afterAll(async () => {
      await relay?.stop();
      await git?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('subscriptions: secret generated and shown once, URL guard, admin only', async () => {
      const created = (await api(t, 'POST', '/subscriptions', { url: 'http://127.0.0.1:9/x' })).json();
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(created).toMatchObject({ url: 'http://127.0.0.1:9/x', types: ['*'], namespaces: ['*'], enabled: true });
      const list = ok(await api(t, 'GET', '/subscriptions'));
      expect(JSON.stringify(list)).not.toContain(created.secret);
      expect(JSON.stringify(t.logs)).not.toContain(created.secret.slice(6));
      const stored = await t.ctx.db.db.selectFrom('subscriptions').select('secret').where('id', '=', created.id).executeTakeFirstOrThrow();
      expect(stored.secret).not.toContain(created.secret.slice(6));
      expectError(await api(t, 'POST', '/subscriptions', { url: 'http://169.254.169.254/latest' }), 400, 'host_not_allowed');
      expectError(await api(t, 'POST', '/subscriptions', { url: 'ftp://127.0.0.1/x' }), 400, 'invalid_url');
      expectError(await api(t, 'POST', '/subscriptions', { url: 'http://127.0.0.1:9/x', secret: 'plain' }), 400, 'invalid_request');
      const viewer = await t.token('admin', ['shop.*']);
      expectError(await api(t, 'GET', '/subscriptions', undefined, { token: viewer }), 403, 'forbidden');
      expect((await api(t, 'DELETE', `/subscriptions/${created.id}`)).statusCode).toBe(204);
      expectError(await api(t, 'GET', `/subscriptions/${created.id}/deliveries`), 404, 'not_found');
    });

    it('signed deliveries survive a receiver outage; a receiver down for good disables the subscription', async () => {
      const up = await receiver();
      const gone = await receiver();
      await gone.stop();
      await up.stop(); // down at first: the first attempts fail
      const sub = (await api(t, 'POST', '/subscriptions', { url: up.url, types: ['syncline.deployment.*'], namespaces: ['shop.*'] })).json();
      const dead = (await api(t, 'POST', '/subscriptions', { url: gone.url })).json();

      const d = await sync(t, 'shop.prod');
      await sync(t, 'team.x'); // not in the first subscription's namespaces
      await until(async () => ok(await api(t, 'GET', `/subscriptions/${sub.id}/deliveries`)).items.some((x: any) => x.attempts >= 1), 'a failed attempt');
      await up.start();
      await until(async () => ok(await api(t, 'GET', `/subscriptions/${sub.id}/deliveries`)).items.every((x: any) => x.status === 'delivered'), 'delivered after the outage');

      const deliveries = ok(await api(t, 'GET', `/subscriptions/${sub.id}/deliveries`)).items;
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ type: 'syncline.deployment.succeeded', status: 'delivered', last_status: 204 });
      expect(deliveries[0].attempts).toBeGreaterThanOrEqual(2);
      const first = up.got[0]!;
      const verified = new Webhook(sub.secret).verify(first.body, {
        'webhook-id': String(first.headers['webhook-id']),
        'webhook-timestamp': String(first.headers['webhook-timestamp']),
        'webhook-signature': String(first.headers['webhook-signature']),
      }) as any;
      expect(verified).toMatchObject({ specversion: '1.0', type: 'syncline.deployment.succeeded', subject: 'shop.prod', data: { id: d.id } });
      expect(first.headers['webhook-id']).toBe(verified.id);
      expect(first.headers['content-type']).toBe('application/cloudevents+json');
      expect(() => new Webhook(dead.secret).verify(first.body, first.headers as Record<string, string>)).toThrow();

      // The receiver that never came back: failed for the whole window → disabled, audited, announced.
      await until(async () => !ok(await api(t, 'GET', '/subscriptions')).items.find((s: any) => s.id === dead.id).enabled, 'the dead subscription disabled', 30_000);
      const deadDeliveries = ok(await api(t, 'GET', `/subscriptions/${dead.id}/deliveries`)).items;
      expect(deadDeliveries.length).toBeGreaterThan(0);
      expect(deadDeliveries.every((x: any) => x.status === 'failed')).toBe(true);
      const audit = ok(await api(t, 'GET', '/audit?limit=50')).items;
      expect(audit.some((a: any) => a.action === 'subscription.disabled' && a.target === `subscription/${dead.id}`)).toBe(true);
      const failedEvent = await t.ctx.db.db.selectFrom('outbox').selectAll().where('type', '=', 'syncline.delivery.failed').executeTakeFirst();
      expect(JSON.parse(failedEvent!.event).data).toMatchObject({ subscription: dead.id, disabled: true });
      await up.stop();
    });
  });
}
