import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/security/tokens.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { auditEvents, expectError, expectNothingWritten } from './support.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: /api/v1/tokens`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    const create = (payload: unknown, token?: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(token), payload: payload as object });

    it('POST creates a token, shown once, that then authenticates', async () => {
      const res = await create({ name: 'ci', role: 'viewer' });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(body).toEqual({ id: expect.stringMatching(/^tok_/), token: expect.stringMatching(/^syl_[A-Za-z0-9_-]{40,}$/), name: 'ci', role: 'viewer', namespaces: [] });

      const me = await t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: t.auth(body.token) });
      expect(me.statusCode).toBe(200);
    });

    it('stores only a hash of the token', async () => {
      const { id, token } = (await create({ name: 'hashed', role: 'admin' })).json();
      const row = await t.ctx.db.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.token_hash).toBe(hashToken(token));
      expect(JSON.stringify(row)).not.toContain(token);
    });

    it('POST keeps namespace patterns', async () => {
      const res = await create({ name: 'shop-team', role: 'deployer', namespaces: ['shop.*', 'billing.prod'] });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ role: 'deployer', namespaces: ['shop.*', 'billing.prod'] });
    });

    it('POST refuses a bad role or namespace pattern, writing nothing', async () => {
      const badRole = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: 'x', role: 'root' } });
      expect(expectError(badRole, 400, 'invalid_request').details.field).toBe('role');
      const badPattern = await expectNothingWritten(t, {
        method: 'POST',
        url: '/api/v1/tokens',
        headers: t.auth(),
        payload: { name: 'x', role: 'viewer', namespaces: ['Shop.*'] },
      });
      expect(expectError(badPattern, 400, 'invalid_request').details.field).toBe('namespaces.0');
      const noName = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { role: 'viewer' } });
      expect(expectError(noName, 400, 'invalid_request').details.field).toBe('name');
    });

    it('GET lists tokens without their values or hashes', async () => {
      const { id, token } = (await create({ name: 'listed', role: 'viewer', namespaces: ['shop.*'] })).json();
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth() });
      expect(res.statusCode).toBe(200);
      const item = res.json().items.find((i: any) => i.id === id);
      expect(item).toEqual({
        id,
        name: 'listed',
        role: 'viewer',
        namespaces: ['shop.*'],
        created_at: expect.any(String),
        created_by: 'admin',
        last_used_at: null,
      });
      expect(res.body).not.toContain(token);
      expect(res.body).not.toContain(hashToken(token));
    });

    it('records when a token was last used', async () => {
      const { id, token } = (await create({ name: 'used', role: 'viewer' })).json();
      await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth(token) });
      // The touch is fire-and-forget; poll the list until it shows.
      await expect
        .poll(async () => {
          const res = await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth() });
          return res.json().items.find((i: any) => i.id === id).last_used_at;
        })
        .toEqual(expect.any(String));
    });

    it('the actor of a mutation is the token name', async () => {
      const admin = (await create({ name: 'ops-bot', role: 'admin' })).json();
      const res = await create({ name: 'made-by-bot', role: 'viewer' }, admin.token);
      expect(res.statusCode).toBe(201);
      const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth() })).json();
      expect(listed.items.find((i: any) => i.id === res.json().id).created_by).toBe('ops-bot');
      const [event] = await auditEvents(t, '?limit=1');
      expect(event).toMatchObject({ actor: 'ops-bot', action: 'token.create', target: `token/${res.json().id}` });
    });

    it('DELETE revokes: the token stops working, and a second delete is 404', async () => {
      const { id, token } = (await create({ name: 'doomed', role: 'admin' })).json();
      const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: t.auth() });
      expect(del.statusCode).toBe(204);
      expect(del.body).toBe('');

      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth(token) }), 401, 'unauthorized');
      const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth() })).json();
      expect(listed.items.map((i: any) => i.id)).not.toContain(id);

      const again = await expectNothingWritten(t, { method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: t.auth() });
      expectError(again, 404, 'not_found');
    });

    it('writes an audit event for create and revoke, without the token value', async () => {
      const { id, token } = (await create({ name: 'audited', role: 'viewer', namespaces: ['shop.prod'] })).json();
      await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: t.auth() });
      const [revoke, created] = await auditEvents(t, '?limit=2');
      expect(created).toMatchObject({
        actor: 'admin',
        action: 'token.create',
        target: `token/${id}`,
        details: { name: 'audited', role: 'viewer', namespaces: ['shop.prod'] },
      });
      expect(revoke).toMatchObject({ actor: 'admin', action: 'token.revoke', target: `token/${id}`, details: { name: 'audited' } });
      expect(JSON.stringify([revoke, created])).not.toContain(token);
    });
  });
}
