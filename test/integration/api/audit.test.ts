import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, expectError, putNamespace, REPO_URL, TEST_ALLOWED_HOSTS } from './support.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: /api/v1/audit`, () => {
    let t: TestApp;
    let opsToken: string;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: TEST_ALLOWED_HOSTS } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: 'ops', role: 'admin' } });
      opsToken = res.json().token;
      // One mutation of each kind, made by the `ops` token.
      const ops = t.auth(opsToken);
      const calls = [
        { method: 'POST', url: '/api/v1/sources', payload: { name: 'shop', url: REPO_URL } },
        { method: 'PATCH', url: '/api/v1/sources/shop', payload: { provider: 'git' } },
        { method: 'PUT', url: '/api/v1/kinds/Service', payload: { schema: { type: 'object' } } },
        { method: 'PUT', url: '/api/v1/namespaces/shop.prod', payload: { source: 'shop' } },
        { method: 'PUT', url: '/api/v1/namespaces/shop.dev', payload: { source: 'shop' } },
        { method: 'PUT', url: '/api/v1/namespaces/shop.prod', payload: { source: 'shop', prune: true } },
        { method: 'DELETE', url: '/api/v1/namespaces/shop.dev' },
      ] as const;
      for (const c of calls) {
        const r = await t.app.inject({ ...c, headers: ops });
        expect(r.statusCode, `${c.method} ${c.url}: ${r.body}`).toBeLessThan(300);
      }
    });
    afterAll(async () => {
      await t?.close();
    });

    const list = (query = '') => t.app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: t.auth() });

    it('lists every mutation newest first, with who, what and when', async () => {
      const res = await list();
      expect(res.statusCode).toBe(200);
      const items = res.json().items;
      expect(items.map((e: any) => e.action)).toEqual([
        'namespace.delete',
        'namespace.update',
        'namespace.create',
        'namespace.create',
        'kind.create',
        'source.update',
        'source.create',
        'token.create',
      ]);
      for (const e of items) {
        expect(e).toEqual({
          id: expect.any(Number),
          at: expect.any(String),
          actor: expect.any(String),
          action: expect.any(String),
          target: expect.any(String),
          namespace: expect.toSatisfy((v) => v === null || typeof v === 'string'),
          details: expect.any(Object),
        });
      }
      expect(items.slice(0, -1).every((e: any) => e.actor === 'ops')).toBe(true);
      expect(items.at(-1)).toMatchObject({ actor: 'admin', target: expect.stringMatching(/^token\//) });
      const ids = items.map((e: any) => e.id);
      expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    });

    it('filters by namespace', async () => {
      const prod = (await list('?namespace=shop.prod')).json().items;
      expect(prod.map((e: any) => e.action)).toEqual(['namespace.update', 'namespace.create']);
      expect(prod.every((e: any) => e.namespace === 'shop.prod' && e.target === 'namespace/shop.prod')).toBe(true);
      // Events of a deleted namespace stay in the trail.
      const dev = (await list('?namespace=shop.dev')).json().items;
      expect(dev.map((e: any) => e.action)).toEqual(['namespace.delete', 'namespace.create']);
      expect((await list('?namespace=nobody.here')).json().items).toEqual([]);
    });

    it('honours limit, and pages with before', async () => {
      const all = (await list()).json().items;
      const two = (await list('?limit=2')).json().items;
      expect(two).toEqual(all.slice(0, 2));
      const next = (await list(`?limit=2&before=${two[1].id}`)).json().items;
      expect(next).toEqual(all.slice(2, 4));
      expect((await list('?namespace=shop.prod&limit=1')).json().items).toEqual([expect.objectContaining({ action: 'namespace.update' })]);
    });

    it('refuses bad query parameters with invalid_request', async () => {
      for (const q of ['?limit=0', '?limit=1001', '?limit=abc', '?namespace=Not_Valid', '?bogus=1']) {
        const res = await list(q);
        expectError(res, 400, 'invalid_request');
      }
      expect(expectError(await list('?bogus=1'), 400, 'invalid_request').message).toContain('bogus');
    });
  });
}
