import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { auditEvents, createSource, expectError, expectNothingWritten, putNamespace, REPO_URL, TEST_ALLOWED_HOSTS } from './support.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: /api/v1/namespaces`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: TEST_ALLOWED_HOSTS } });
      await createSource(t, { name: 'shop', url: REPO_URL });
    });
    afterAll(async () => {
      await t?.close();
    });

    const put = (ns: string, payload: unknown) =>
      t.app.inject({ method: 'PUT', url: `/api/v1/namespaces/${ns}`, headers: t.auth(), payload: payload as object });
    const get = (ns: string) => t.app.inject({ method: 'GET', url: `/api/v1/namespaces/${ns}`, headers: t.auth() });

    describe('PUT', () => {
      it('binds a namespace to a source, branch and path with the contract shape', async () => {
        const res = await put('shop.prod', { source: 'shop', branch: 'release', path: 'config/prod' });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toEqual({
          name: 'shop.prod',
          source: 'shop',
          branch: 'release',
          path: 'config/prod',
          auto_sync: false,
          prune: false,
          allow_unmerged_refs: false,
          include: ['**/*.yaml', '**/*.yml'],
          exclude: [],
          status: 'never_synced',
          auto_sync_paused: null,
          last_deployment: null,
          created_at: expect.any(String),
          updated_at: expect.any(String),
        });
      });

      it('may exist without a source (branch defaults to main, path to the root)', async () => {
        const ns = await putNamespace(t, 'scratch', {});
        expect(ns).toMatchObject({ name: 'scratch', source: null, branch: 'main', path: '', status: 'never_synced' });
      });

      it('replaces the binding and policy on a second PUT, keeping created_at', async () => {
        const first = await putNamespace(t, 'shop.staging', { source: 'shop', path: 'staging', auto_sync: true, prune: true });
        expect(first).toMatchObject({ auto_sync: true, prune: true, allow_unmerged_refs: false });
        const second = await putNamespace(t, 'shop.staging', { source: 'shop', path: 'staging/v2', allow_unmerged_refs: true });
        expect(second).toMatchObject({ path: 'staging/v2', auto_sync: false, prune: false, allow_unmerged_refs: true, created_at: first.created_at });
        const [update, create] = await auditEvents(t, '?namespace=shop.staging');
        expect(create).toMatchObject({ action: 'namespace.create', target: 'namespace/shop.staging', namespace: 'shop.staging', details: { before: null } });
        expect(update).toMatchObject({
          action: 'namespace.update',
          details: { before: { path: 'staging', auto_sync: true }, after: { path: 'staging/v2', auto_sync: false, allow_unmerged_refs: true } },
        });
      });

      it('accepts a single file as the path, and normalises a trailing slash or "."', async () => {
        expect((await putNamespace(t, 'file-ns', { source: 'shop', path: '.syncline.yml' })).path).toBe('.syncline.yml');
        expect((await putNamespace(t, 'slash-ns', { source: 'shop', path: 'config/' })).path).toBe('config');
        expect((await putNamespace(t, 'dot-ns', { source: 'shop', path: '.' })).path).toBe('');
      });

      it.each(['..', '../etc', 'config/../secrets', '/etc/config', 'a//b', './a', 'a/./b', 'a\\b'])(
        'refuses the path %j with 400 invalid_path, writing nothing',
        async (path) => {
          const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/paths', headers: t.auth(), payload: { source: 'shop', path } });
          expect(expectError(res, 400, 'invalid_path').details).toEqual({ path });
          expectError(await get('paths'), 404, 'not_found');
        },
      );

      it('a bad path on an existing namespace leaves it as it was', async () => {
        const before = await putNamespace(t, 'keep-me', { source: 'shop', path: 'ok' });
        expectError(await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/keep-me', headers: t.auth(), payload: { path: '../x' } }), 400, 'invalid_path');
        expect((await get('keep-me')).json()).toEqual(before);
      });

      it.each(['solo', 'team.prod', 'a-b_c.d1', 'x.y.z', '0'])('accepts the name %j', async (name) => {
        expect((await put(name, {})).statusCode).toBe(200);
      });

      it.each(['Shop', 'shop.', '.shop', 'shop..prod', '-shop', 'shop-', 'shop_', 'shop.-prod', 'shop%20prod', 'shop*'])(
        'refuses the name %j with 400 invalid_request',
        async (name) => {
          const res = await expectNothingWritten(t, { method: 'PUT', url: `/api/v1/namespaces/${name}`, headers: t.auth(), payload: {} });
          expect(expectError(res, 400, 'invalid_request').details).toMatchObject({ field: 'ns', location: 'params' });
        },
      );

      it('refuses an unknown source, writing nothing', async () => {
        const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/orphan', headers: t.auth(), payload: { source: 'nope' } });
        expect(expectError(res, 400, 'invalid_request').details.field).toBe('source');
      });
    });

    describe('GET', () => {
      it('lists namespaces by name', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: t.auth() });
        expect(res.statusCode).toBe(200);
        const names = res.json().items.map((n: any) => n.name);
        expect(names).toEqual(expect.arrayContaining(['scratch', 'shop.prod', 'shop.staging']));
        expect(names).toEqual([...names].sort());
        expect(res.json().items.find((n: any) => n.name === 'shop.prod')).toMatchObject({ source: 'shop', branch: 'release', last_deployment: null });
      });

      it('gets one namespace, and 404 for an unknown one', async () => {
        expect((await get('shop.prod')).json()).toMatchObject({ name: 'shop.prod', path: 'config/prod' });
        expect(expectError(await get('nope.nope'), 404, 'not_found').message).toContain('nope.nope');
      });
    });

    describe('DELETE', () => {
      it('deletes a namespace and audits it; then 404', async () => {
        await putNamespace(t, 'shop.tmp', { source: 'shop' });
        const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/namespaces/shop.tmp', headers: t.auth() });
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');
        expectError(await get('shop.tmp'), 404, 'not_found');
        const [event] = await auditEvents(t, '?namespace=shop.tmp&limit=1');
        expect(event).toMatchObject({ action: 'namespace.delete', target: 'namespace/shop.tmp', details: { source: 'shop', resources_deleted: 0 } });
        expectError(await expectNothingWritten(t, { method: 'DELETE', url: '/api/v1/namespaces/shop.tmp', headers: t.auth() }), 404, 'not_found');
      });

      it('frees the source for deletion once no namespace uses it', async () => {
        await createSource(t, { name: 'short-lived', url: REPO_URL });
        await putNamespace(t, 'uses-it', { source: 'short-lived' });
        expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/sources/short-lived', headers: t.auth() })).statusCode).toBe(409);
        await t.app.inject({ method: 'DELETE', url: '/api/v1/namespaces/uses-it', headers: t.auth() });
        expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/sources/short-lived', headers: t.auth() })).statusCode).toBe(204);
      });
    });
  });
}
