/**
 * GET /namespaces/{ns}/watch over a real listening server: a Server-Sent Events stream with one
 * `resource` event per changed resource after each deployment (and PATCH), scoped to its
 * namespace, nothing for noop or failed syncs.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { openEvents, type EventStream } from '../../helpers/sse.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, makeSyncApp, metric, namedToken, putNamespace, resource, sync, syncReq, until, workload, y } from './support.js';

/** Opens a namespace's watch stream; resolves once it is subscribed (its opening comment) or ended. */
function watch(base: string, ns: string, token: string): Promise<EventStream> {
  return openEvents(base, { authorization: `Bearer ${token}` }, `/api/v1/namespaces/${ns}/watch`, { untilOpened: true });
}

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let closed = false;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    let base: string;
    let viewer: string;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, {
        'prod/api.yaml': workload('api', 'port: 8080'),
        'prod/metrics.yml': metric('rps', 'up'),
        'other/x.yaml': workload('x', 'port: 1'),
      });
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod', prune: true });
      await putNamespace(t, 'shop.other', { source: 'shop', branch: 'main', path: 'other' });
      viewer = await namedToken(t, 'dashboard', 'viewer');
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await server?.close();
      if (!closed) await t?.close();
      await cleanupTempDirs();
    });

    it('streams one resource event per changed resource, in order, and nothing for noop or failed syncs', async () => {
      const w = await watch(base, 'shop.prod', viewer);
      try {
        expect(w.status).toBe(200);
        expect(w.headers['content-type']).toMatch(/^text\/event-stream/);
        expect(w.comments[0]).toBe('watching shop.prod');

        // 1. First sync: two creates.
        const d1 = await sync(t, 'shop.prod');
        await until(() => w.events.length >= 2, 'two create events');
        expect(w.events.map((e) => [e.id, e.event, e.data.operation, `${e.data.kind}/${e.data.name}`])).toEqual([
          ['1', 'resource', 'create', 'Metric/rps'],
          ['2', 'resource', 'create', 'Workload/api'],
        ]);
        const apiLive = await resource(t, 'shop.prod', 'Workload', 'api');
        expect(w.events[1]!.data).toEqual({
          namespace: 'shop.prod',
          operation: 'create',
          kind: 'Workload',
          name: 'api',
          hash: apiLive.hash,
          commit: d1.commit,
          deployment: d1.id,
          at: expect.any(String),
        });

        // 2. A noop sync, a failed (invalid) sync and another namespace's sync publish nothing here…
        expect(await sync(t, 'shop.prod')).toMatchObject({ status: 'noop' });
        const bad = await commitFiles(repo, { 'prod/bad.yaml': y('kind: Workload', 'name: bad', 'spec:', '  port: nope'), 'prod/api.yaml': workload('api', 'port: 1') });
        expectError(await syncReq(t, 'shop.prod', bad), 422, 'invalid_specs');
        await sync(t, 'shop.other');
        // 3. …so the next event on the stream is the one change of the next good sync.
        await commitFiles(repo, { 'prod/bad.yaml': null, 'prod/api.yaml': workload('api', 'port: 9090') });
        const d3 = await sync(t, 'shop.prod');
        expect(d3.summary).toMatchObject({ update: 1, noop: 1 });
        await until(() => w.events.length >= 3, 'the update event');
        expect(w.events).toHaveLength(3);
        expect(w.events[2]).toMatchObject({ id: '3', event: 'resource', data: { operation: 'update', kind: 'Workload', name: 'api', commit: d3.commit, deployment: d3.id } });
        expect(w.events[2]!.data.hash).toBe((await resource(t, 'shop.prod', 'Workload', 'api')).hash);

        // 4. A PATCH is a change too (no deployment).
        const patched = await api(t, 'PATCH', '/namespaces/shop.prod/resources/Workload/api', { spec: { max_instances: 2 } });
        expect(patched.statusCode, patched.body).toBe(200);
        await until(() => w.events.length >= 4, 'the patch event');
        expect(w.events[3]!.data).toMatchObject({ operation: 'update', name: 'api', hash: patched.json().hash, deployment: null });

        // 5. Prune: a delete event without a hash.
        const d5commit = await commitFiles(repo, { 'prod/metrics.yml': null });
        const d5 = await sync(t, 'shop.prod');
        await until(() => w.events.length >= 5, 'the delete event');
        expect(w.events).toHaveLength(5);
        expect(w.events[4]!.data).toMatchObject({ operation: 'delete', kind: 'Metric', name: 'rps', hash: null, commit: d5commit, deployment: d5.id });
      } finally {
        w.close();
      }
      await until(() => t.ctx.events.listenerCount('shop.prod') === 0, 'the watcher to be unsubscribed');
    });

    it('every watcher gets every event; roles and unknown namespaces are checked before streaming', async () => {
      const a = await watch(base, 'shop.other', viewer);
      const b = await watch(base, 'shop.other', viewer);
      try {
        expect(t.ctx.events.listenerCount('shop.other')).toBe(2);
        await commitFiles(repo, { 'other/x.yaml': workload('x', 'port: 2'), 'other/y.yaml': workload('y', 'port: 3') });
        await sync(t, 'shop.other');
        await until(() => a.events.length >= 2 && b.events.length >= 2, 'both watchers');
        for (const w of [a, b]) expect(w.events.map((e) => `${e.data.operation} ${e.data.name}`)).toEqual(['update x', 'create y']);
      } finally {
        a.close();
        b.close();
      }

      const scoped = await t.token('viewer', ['team.*']);
      const forbidden = await watch(base, 'shop.prod', scoped);
      await forbidden.ended;
      expect(forbidden.status).toBe(403);
      expect(JSON.parse(forbidden.body).error.code).toBe('forbidden');
      const missing = await watch(base, 'shop.nope', viewer);
      await missing.ended;
      expect(missing.status).toBe(404);
      const anonymous = await watch(base, 'shop.prod', 'not-a-token');
      await anonymous.ended;
      expect(anonymous.status).toBe(401);
    });

    it('closing the server ends open streams', async () => {
      const w = await watch(base, 'shop.prod', viewer);
      closed = true;
      await t.close();
      await w.ended;
      expect(w.status).toBe(200);
    });
  });
}
