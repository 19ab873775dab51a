/**
 * Replicas on one PostgreSQL database: the registry (`GET /cluster`), one outbox relay across
 * replicas with fail-over, `/events` on one replica seeing a sync made on another, and a token
 * revoked on one replica refused by the other at once (tokens are never cached in a process).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaRegistry } from '../../../src/cluster/registry.js';
import { CACHE_TOPICS, listenInvalidations } from '../../../src/cluster/cache-bridge.js';
import { createRelay, type OutboxRelay } from '../../../src/events/relay.js';
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, sync, until, workload } from '../sync/support.js';

const quiet = { info: () => undefined, warn: () => undefined };

const stopListens: (() => Promise<void>)[] = [];

function startReplica(t: TestApp): { relay: OutboxRelay; registry: ReplicaRegistry } {
  // As startServer does: other replicas' cache invalidations reach this one.
  stopListens.push(listenInvalidations(t.ctx.db, t.ctx.cache, CACHE_TOPICS));
  const relay = createRelay(t.ctx, quiet);
  const registry = new ReplicaRegistry(t.ctx.db, 'test', () => relay.roles());
  t.ctx.relay = relay;
  t.ctx.cluster = registry;
  relay.start();
  return { relay, registry };
}

describe.runIf(DIALECTS.includes('postgres'))('cluster on PostgreSQL', () => {
  let a: TestApp & { schema?: string };
  let b: TestApp;
  let git: GitHttpServer;
  let ra: ReturnType<typeof startReplica>;
  let rb: ReturnType<typeof startReplica>;

  beforeAll(async () => {
    a = await makeSyncApp('postgres');
    b = await makeTestApp('postgres', { schema: a.schema!, settings: { allowed_hosts: ['127.0.0.1'] } });
    const root = await tempDir('syncline-upstream-');
    const repo = await makeRepo({ root, name: 'shop' });
    await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') });
    git = await serveGitHttp(root);
    await createSource(a, 'shop', git.repoUrl('shop'));
    await putNamespace(a, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
    ra = startReplica(a);
    await ra.registry.start();
    await until(() => ra.relay.roles().includes('outbox'), 'replica a leads');
    rb = startReplica(b);
    await rb.registry.start();
  });

  afterAll(async () => {
    for (const stop of stopListens) await stop();
    await rb?.relay.stop();
    await rb?.registry.stop();
    await ra?.relay.stop();
    await ra?.registry.stop();
    await git?.close();
    await b?.app.close();
    await b?.ctx.db.close();
    await a?.close();
    await cleanupTempDirs();
  });

  it('lists both replicas; exactly one holds the outbox relay', async () => {
    await ra.registry.beat();
    await rb.registry.beat();
    const seenFromB = ok(await api(b, 'GET', '/cluster')).replicas;
    expect(seenFromB.map((r: any) => r.id).sort()).toEqual([ra.registry.id, rb.registry.id].sort());
    expect(seenFromB.find((r: any) => r.self).id).toBe(rb.registry.id);
    expect(seenFromB.filter((r: any) => r.roles.includes('outbox'))).toHaveLength(1);
    expect(seenFromB.find((r: any) => r.id === ra.registry.id).roles).toContain('outbox');
    const viewer = await a.token('viewer');
    expectError(await api(b, 'GET', '/cluster', undefined, { token: viewer }), 403, 'forbidden');
  });

  it('/events on one replica streams a sync made on the other', async () => {
    await b.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (b.app.server.address() as AddressInfo).port;
    const events: string[] = [];
    const req = http.get(`http://127.0.0.1:${port}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => events.push(c));
    });
    try {
      await until(() => events.join('').includes(': connected'), 'the stream open');
      const d = await sync(a, 'shop.prod');
      await until(() => events.join('').includes(d.id), 'the deployment seen on the other replica');
      expect(events.join('')).toMatch(/event: deployment/);
    } finally {
      req.destroy();
    }
  });

  it('a token revoked on one replica is refused by the other', async () => {
    const created = (await api(a, 'POST', '/tokens', { name: 'short-lived', role: 'viewer' })).json();
    expect((await api(b, 'GET', '/namespaces', undefined, { token: created.token })).statusCode).toBe(200);
    // B has the token cached now; the revocation on A reaches B's cache by NOTIFY.
    expect((await api(b, 'GET', '/namespaces', undefined, { token: created.token })).statusCode).toBe(200);
    expect((await api(a, 'DELETE', `/tokens/${created.id}`)).statusCode).toBe(204);
    const revokedAt = Date.now();
    await until(async () => (await api(b, 'GET', '/namespaces', undefined, { token: created.token })).statusCode === 401, 'the revoked token refused on B');
    // Well under the cache's 1 s max age: the NOTIFY did it, not the expiry.
    expect(Date.now() - revokedAt).toBeLessThan(500);
    expectError(await api(b, 'GET', '/namespaces', undefined, { token: created.token }), 401, 'unauthorized');
  });

  it('the relay fails over when its holder stops', async () => {
    await ra.relay.stop();
    await until(() => rb.relay.roles().includes('outbox'), 'replica b takes the relay', 10_000);
    const d = await sync(a, 'shop.prod');
    await until(
      async () => (await a.ctx.db.db.selectFrom('outbox').select('published_at').where('id', 'like', 'evt_%').where('published_at', 'is', null).execute()).length === 0,
      `the event of ${d.id} published by replica b`,
    );
  });
});
