/**
 * Bad request bodies: unknown fields (top level and nested) and wrong types are 400
 * invalid_request naming the field; malformed JSON is 400; oversize bodies are 413; and a
 * failing request writes nothing — no row, no audit event.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, expectError, expectNothingWritten, putNamespace, REPO_URL, TEST_ALLOWED_HOSTS } from './support.js';

const SOURCE = { name: 'fresh', url: REPO_URL };

/** [label, method, url, body, field named in the error] */
const UNKNOWN_FIELDS: [string, InjectOptions['method'], string, unknown, string][] = [
  ['token', 'POST', '/api/v1/tokens', { name: 'x', role: 'viewer', admin: true }, 'admin'],
  ['source', 'POST', '/api/v1/sources', { ...SOURCE, branch: 'main' }, 'branch'],
  ['source auth', 'POST', '/api/v1/sources', { ...SOURCE, auth: { type: 'token', token: 'abcdefgh', bogus: 1 } }, 'auth.bogus'],
  ['source mirror', 'POST', '/api/v1/sources', { ...SOURCE, mirror: { enabled: true, public: true } }, 'mirror.public'],
  ['source patch', 'PATCH', '/api/v1/sources/shop', { name: 'renamed' }, 'name'],
  ['source patch auth', 'PATCH', '/api/v1/sources/shop', { auth: { type: 'none', extra: 'x' } }, 'auth.extra'],
  ['source patch mirror', 'PATCH', '/api/v1/sources/shop', { mirror: { sluggish: 'x' } }, 'mirror.sluggish'],
  ['kind', 'PUT', '/api/v1/kinds/Service', { schema: { type: 'object' }, defaults: {} }, 'defaults'],
  ['namespace', 'PUT', '/api/v1/namespaces/shop.prod', { source: 'shop', autosync: true }, 'autosync'],
  ['source check', 'POST', '/api/v1/sources/shop/check', { ref: 'main', depth: 1 }, 'depth'],
];

const WRONG_TYPES: [string, InjectOptions['method'], string, unknown, string][] = [
  ['token role', 'POST', '/api/v1/tokens', { name: 'x', role: 'superuser' }, 'role'],
  ['token namespaces', 'POST', '/api/v1/tokens', { name: 'x', role: 'viewer', namespaces: 'shop.*' }, 'namespaces'],
  ['source url', 'POST', '/api/v1/sources', { name: 'x', url: 42 }, 'url'],
  ['source provider', 'POST', '/api/v1/sources', { ...SOURCE, provider: 'bitbucket' }, 'provider'],
  ['mirror enabled', 'POST', '/api/v1/sources', { ...SOURCE, mirror: { enabled: 'yes' } }, 'mirror.enabled'],
  ['kind schema', 'PUT', '/api/v1/kinds/Service', { schema: 'object' }, 'schema'],
  ['kind neither form', 'PUT', '/api/v1/kinds/Service', { equivalents: {} }, 'schema'],
  ['kind both forms', 'PUT', '/api/v1/kinds/Service', { schema: { type: 'object' }, crd: 'x' }, 'schema'],
  ['namespace auto_sync', 'PUT', '/api/v1/namespaces/shop.prod', { source: 'shop', auto_sync: 'true' }, 'auto_sync'],
  ['namespace branch', 'PUT', '/api/v1/namespaces/shop.prod', { source: 'shop', branch: '' }, 'branch'],
  ['whole body', 'PUT', '/api/v1/namespaces/shop.prod', [1, 2], '(root)'],
];

for (const dialect of DIALECTS) {
  describe(`${dialect}: bad input`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: TEST_ALLOWED_HOSTS } });
      await createSource(t, { name: 'shop', url: REPO_URL });
      await putNamespace(t, 'shop.prod', { source: 'shop', path: 'config' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it.each(UNKNOWN_FIELDS)('unknown field in %s → 400 naming it, nothing written', async (_label, method, url, payload, field) => {
      const res = await expectNothingWritten(t, { method, url, headers: t.auth(), payload: payload as object });
      const err = expectError(res, 400, 'invalid_request');
      expect(err.details.field).toBe(field);
      expect(err.message).toContain(`'${field}'`);
    });

    it.each(WRONG_TYPES)('wrong type in %s → 400 naming it, nothing written', async (_label, method, url, payload, field) => {
      const res = await expectNothingWritten(t, { method, url, headers: t.auth(), payload: payload as object });
      const err = expectError(res, 400, 'invalid_request');
      expect(err.details.field).toBe(field);
      expect(err.message).toContain(field);
    });

    it.each([
      ['POST', '/api/v1/sources', '{"name": "x", "url": '],
      ['PUT', '/api/v1/namespaces/shop.prod', "{'source': 'shop'}"],
      ['POST', '/api/v1/tokens', '{"name":"x","role":"viewer"}}'],
      ['PUT', '/api/v1/kinds/Service', ''],
    ] as const)('malformed JSON on %s %s → 400, nothing written', async (method, url, payload) => {
      const res = await expectNothingWritten(t, { method, url, headers: { ...t.auth(), 'content-type': 'application/json' }, payload });
      expect(expectError(res, 400, 'invalid_request').message).toMatch(/JSON/);
    });

    it('a body that is not JSON is refused, nothing written', async () => {
      const form = await expectNothingWritten(t, {
        method: 'POST',
        url: '/api/v1/tokens',
        headers: { ...t.auth(), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=x&role=admin',
      });
      expectError(form, 415, 'unsupported_media_type');
      const text = await expectNothingWritten(t, {
        method: 'POST',
        url: '/api/v1/tokens',
        headers: { ...t.auth(), 'content-type': 'text/plain' },
        payload: '{"name":"x","role":"admin"}',
      });
      expectError(text, 400, 'invalid_request');
    });

    it('namespace update that fails leaves the old binding untouched', async () => {
      const before = (await t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod', headers: t.auth() })).json();
      for (const payload of [{ source: 'missing-source' }, { source: 'shop', path: '/abs' }, { source: 'shop', prune: 'yes' }]) {
        await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/shop.prod', headers: t.auth(), payload });
      }
      const after = (await t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod', headers: t.auth() })).json();
      expect(after).toEqual(before);
    });

    it('source update that fails leaves the source and its credentials untouched', async () => {
      await createSource(t, { name: 'keep', url: REPO_URL, auth: { type: 'token', token: 'keep-token-value' } });
      const rowBefore = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'keep').executeTakeFirstOrThrow();
      for (const payload of [
        { url: 'https://127.0.0.1/x.git', auth: { type: 'none' } },
        { auth: { type: 'basic', username: 'u' } },
        { mirror: { slug: 'shop' }, auth: { type: 'none' } },
      ]) {
        await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/keep', headers: t.auth(), payload });
      }
      const rowAfter = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'keep').executeTakeFirstOrThrow();
      expect(rowAfter).toEqual(rowBefore);
    });
  });

  describe(`${dialect}: body size limit`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { body_limit: 2048, allowed_hosts: TEST_ALLOWED_HOSTS } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a body over SYNCLINE_BODY_LIMIT is 413, nothing written', async () => {
      const big = { schema: { type: 'object', description: 'x'.repeat(4096) } };
      const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/kinds/Big', headers: t.auth(), payload: big });
      expectError(res, 413, 'payload_too_large');
      const src = await expectNothingWritten(t, {
        method: 'POST',
        url: '/api/v1/sources',
        headers: t.auth(),
        payload: { name: 'big', url: REPO_URL, auth: { type: 'token', token: 'y'.repeat(3000) } },
      });
      expectError(src, 413, 'payload_too_large');
    });

    it('a body under the limit is fine', async () => {
      const res = await t.app.inject({ method: 'PUT', url: '/api/v1/kinds/Small', headers: t.auth(), payload: { schema: { type: 'object', description: 'x'.repeat(1000) } } });
      expect(res.statusCode, res.body).toBe(200);
    });
  });
}
