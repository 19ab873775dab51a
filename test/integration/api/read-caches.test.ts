/**
 * The config-read caches (token lookups, live resources) never answer with what a committed
 * change made stale: a revoked token is refused on its next request, a deployment, a PATCH and a
 * namespace delete are visible to the next read (body, ETag and 304 alike), and an invalidation
 * from another replica (the bus's applyRemote) drops entries too. Correctness only: nothing here
 * is timed.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import { commitFiles, makeRepo } from '../../helpers/git-fixtures.js';
import { api, createSource, ok, putNamespace, sync, useSyncSuite, workload } from '../sync/support.js';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    const s = useSyncSuite(dialect);

    const read = (token: string, ns: string, name: string, etag?: string) =>
      s.t.app.inject({
        method: 'GET',
        url: `/api/v1/namespaces/${ns}/resources/Workload/${name}`,
        headers: { ...s.t.auth(token), ...(etag ? { 'if-none-match': etag } : {}) },
      });

    it('a revoked token is refused on its very next request (its lookup was cached)', async () => {
      const token = await s.t.token('viewer');
      const id = ok(await api(s.t, 'GET', '/tokens')).items.find((i: { role: string }) => i.role === 'viewer').id as string;
      // Twice: the second answer comes from the cache.
      for (let i = 0; i < 2; i++) expect((await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: s.t.auth(token) })).statusCode).toBe(200);
      expect((await api(s.t, 'DELETE', `/tokens/${id}`)).statusCode).toBe(204);
      const after = await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: s.t.auth(token) });
      expect(after.statusCode).toBe(401);
    });

    it('a token revoked on another replica is refused once its invalidation arrives', async () => {
      const token = await s.t.token('viewer');
      const id = ok(await api(s.t, 'GET', '/tokens')).items.find((i: { role: string; id: string }) => i.role === 'viewer').id as string;
      expect((await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: s.t.auth(token) })).statusCode).toBe(200);
      // Another replica deletes the row and publishes the invalidation; here it arrives through applyRemote.
      await s.t.ctx.db.db.deleteFrom('tokens').where('id', '=', id).execute();
      s.t.ctx.cache.applyRemote('token', id);
      expect((await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: s.t.auth(token) })).statusCode).toBe(401);
    });

    it('a deployment, a PATCH and a namespace delete are visible to the next read', async () => {
      const repo = await makeRepo({ root: s.root, name: 'cached' });
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8080') }, 'first');
      await createSource(s.t, 'cached', s.server.repoUrl('cached'));
      await putNamespace(s.t, 'cached.prod', { source: 'cached', branch: 'main', path: 'cfg' });
      await sync(s.t, 'cached.prod');
      const token = await s.t.token('viewer');

      const first = await read(token, 'cached.prod', 'api');
      expect(first.statusCode).toBe(200);
      expect(first.json().spec.port).toBe(8080);
      const etag1 = first.headers.etag as string;
      expect((await read(token, 'cached.prod', 'api', etag1)).statusCode).toBe(304);

      // A deployment changes the resource: the next read has the new body and ETag, and the old ETag is no longer a 304.
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 9090') }, 'second');
      expect(await sync(s.t, 'cached.prod')).toMatchObject({ status: 'success', summary: { update: 1 } });
      const second = await read(token, 'cached.prod', 'api', etag1);
      expect(second.statusCode).toBe(200);
      expect(second.json().spec.port).toBe(9090);
      expect(second.headers.etag).not.toBe(etag1);
      expect(second.headers['content-type']).toMatch(/^application\/json/);

      // A PATCH of a field git does not manage.
      expect((await api(s.t, 'PATCH', '/namespaces/cached.prod/resources/Workload/api', { spec: { max_instances: 3 } })).statusCode).toBe(200);
      const third = await read(token, 'cached.prod', 'api', second.headers.etag as string);
      expect(third.statusCode).toBe(200);
      expect(third.json().spec.max_instances).toBe(3);

      // The body is what the route's schema serialises (the same as the uncached list shows).
      const listed = ok(await api(s.t, 'GET', '/namespaces/cached.prod/resources')).items[0];
      expect(third.json()).toEqual(listed);

      // A deleted namespace's resources are gone at once.
      expect((await api(s.t, 'DELETE', '/namespaces/cached.prod')).statusCode).toBe(204);
      expect((await read(token, 'cached.prod', 'api')).statusCode).toBe(404);
    });

    it('a cached token is still held to its role and namespace scope; bad parameters are refused every time', async () => {
      const repo = await makeRepo({ root: s.root, name: 'scoped' });
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8000') }, 'first');
      await createSource(s.t, 'scoped', s.server.repoUrl('scoped'));
      for (const ns of ['shop.prod', 'billing.prod']) {
        await putNamespace(s.t, ns, { source: 'scoped', branch: 'main', path: 'cfg' });
        await sync(s.t, ns);
      }
      const shopViewer = await s.t.token('viewer', ['shop.*']);
      // Twice each: the second request is admitted (or refused) from the token cache.
      for (let i = 0; i < 2; i++) {
        expect((await read(shopViewer, 'shop.prod', 'api')).statusCode).toBe(200);
        expect((await read(shopViewer, 'billing.prod', 'api')).statusCode).toBe(403);
        const patch = await s.t.app.inject({ method: 'PATCH', url: '/api/v1/namespaces/shop.prod/resources/Workload/api', headers: s.t.auth(shopViewer), payload: { spec: { max_instances: 2 } } });
        expect(patch.statusCode).toBe(403);
        expect((await read('syl_unknown_token_value', 'shop.prod', 'api')).statusCode).toBe(401);
        expect((await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod/resources/Workload/api' })).statusCode).toBe(401);
      }
      // Route parameters are validated once per distinct value and remembered; invalid ones are
      // refused every time, and a valid one still answers after them.
      for (let i = 0; i < 2; i++) {
        const bad = await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod/resources/bad%20kind/api', headers: s.t.auth(shopViewer) });
        expect(bad.statusCode).toBe(400);
        expect(bad.json().error.code).toBe('invalid_request');
      }
      expect((await read(shopViewer, 'shop.prod', 'api')).json().spec.port).toBe(8000);
    });

    it('an invalidation from another replica drops the namespace’s cached resources', async () => {
      const repo = await makeRepo({ root: s.root, name: 'remote' });
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 7000') }, 'first');
      await createSource(s.t, 'remote', s.server.repoUrl('remote'));
      await putNamespace(s.t, 'remote.prod', { source: 'remote', branch: 'main', path: 'cfg' });
      await sync(s.t, 'remote.prod');
      const token = await s.t.token('viewer');
      expect((await read(token, 'remote.prod', 'api')).json().spec.port).toBe(7000);
      // Another replica's write (here: straight to the database) and its invalidation.
      const row = await s.t.ctx.db.db.selectFrom('resources').select(['spec']).where('namespace', '=', 'remote.prod').executeTakeFirstOrThrow();
      const spec = { ...JSON.parse(row.spec as string), port: 7001 };
      await s.t.ctx.db.db.updateTable('resources').set({ spec: JSON.stringify(spec), hash: 'other-replica' }).where('namespace', '=', 'remote.prod').execute();
      s.t.ctx.cache.applyRemote('resources', 'remote.prod');
      const after = await read(token, 'remote.prod', 'api');
      expect(after.json().spec.port).toBe(7001);
      expect(after.headers.etag).toBe('"other-replica"');
    });
  });
}
