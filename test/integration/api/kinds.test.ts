import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKind } from '../../../src/specs/kinds.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { auditEvents, expectError, expectNothingWritten } from './support.js';

const SERVICE_SCHEMA = {
  type: 'object',
  required: ['port'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    strategy: { type: 'string', enum: ['', 'recreate', 'rolling'] },
    env: { type: 'object', properties: { name: { type: 'string' } } },
  },
};

for (const dialect of DIALECTS) {
  describe(`${dialect}: /api/v1/kinds`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    const put = (kind: string, payload: unknown) =>
      t.app.inject({ method: 'PUT', url: `/api/v1/kinds/${kind}`, headers: t.auth(), payload: payload as object });
    const get = (kind: string) => t.app.inject({ method: 'GET', url: `/api/v1/kinds/${kind}`, headers: t.auth() });

    it('has the built-in Config kind before anything is defined', async () => {
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth() });
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toEqual([expect.objectContaining({ name: 'Config', builtin: true })]);
      const res = await get('Config');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        name: 'Config',
        builtin: true,
        updated_at: null,
        equivalents: {},
        schema: { type: 'object', required: ['data'], properties: { data: { type: 'object' } } },
      });
    });

    it('refuses to replace the built-in Config kind', async () => {
      const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/kinds/Config', headers: t.auth(), payload: { schema: { type: 'object' } } });
      expectError(res, 409, 'builtin_kind');
      expect((await get('Config')).json().builtin).toBe(true);
    });

    it('PUT defines a kind, GET returns it as defined', async () => {
      const res = await put('Service', { schema: SERVICE_SCHEMA, equivalents: { '/strategy': [['', 'recreate']] } });
      expect(res.statusCode, res.body).toBe(200);
      const expected = { name: 'Service', schema: SERVICE_SCHEMA, equivalents: { '/strategy': [['', 'recreate']] }, api_versions: null, builtin: false, updated_at: expect.any(String) };
      expect(res.json()).toEqual(expected);
      expect((await get('Service')).json()).toEqual(expected);
      const list = (await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth() })).json();
      expect(list.items.map((k: any) => k.name)).toEqual(['Config', 'Service']);
    });

    it('a stored kind rejects unknown spec fields (objects are closed unless they say otherwise)', async () => {
      const stored = (await get('Service')).json();
      const compiled = compileKind({ name: stored.name, schema: stored.schema, equivalents: stored.equivalents });
      expect(compiled.validate({ port: 8080, env: { name: 'x' } })).toEqual([]);
      expect(compiled.validate({ port: 8080, portt: 1 })).not.toEqual([]);
      expect(compiled.validate({ port: 8080, env: { name: 'x', extra: true } })).not.toEqual([]);
    });

    it('PUT again replaces the definition and audits create then update', async () => {
      const res = await put('Service', { schema: { ...SERVICE_SCHEMA, required: [] } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ schema: { required: [] }, equivalents: {} });
      const [update, create] = await auditEvents(t, '?limit=2');
      expect(create).toMatchObject({ action: 'kind.create', target: 'kind/Service', actor: 'admin', details: { schema: SERVICE_SCHEMA } });
      expect(update).toMatchObject({ action: 'kind.update', target: 'kind/Service', details: { schema: { required: [] } } });
    });

    it('refuses a schema that strict Ajv cannot compile, storing nothing', async () => {
      const bad = [
        { schema: { type: 'object', properties: { port: { type: 'integr' } } } },
        { schema: { type: 'object', propertiez: {} } },
        { schema: { type: 'object', properties: { a: { type: 'string', minimum: 'x' } } } },
      ];
      for (const body of bad) {
        const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/kinds/Broken', headers: t.auth(), payload: body });
        expect(expectError(res, 400, 'invalid_kind').message).toContain('Broken');
      }
      expectError(await get('Broken'), 404, 'not_found');
    });

    it('refuses malformed equivalents', async () => {
      for (const equivalents of [{ '/strategy': [['only-one']] }, { '/strategy': 'recreate' }, { '/metadata/name': [['a', 'b']] }]) {
        const res = await expectNothingWritten(t, {
          method: 'PUT',
          url: '/api/v1/kinds/Equiv',
          headers: t.auth(),
          payload: { schema: SERVICE_SCHEMA, equivalents },
        });
        expect([400]).toContain(res.statusCode);
        expect(['invalid_request', 'invalid_kind']).toContain(res.json().error.code);
      }
    });

    it('validates the kind name', async () => {
      for (const name of ['service', '1Service', 'Ser-vice']) {
        const res = await expectNothingWritten(t, { method: 'PUT', url: `/api/v1/kinds/${name}`, headers: t.auth(), payload: { schema: { type: 'object' } } });
        expect(expectError(res, 400, 'invalid_request').details).toMatchObject({ field: 'kind', location: 'params' });
      }
    });

    it('404 for an unknown kind', async () => {
      expect(expectError(await get('Nope'), 404, 'not_found').message).toContain('Nope');
    });
  });
}
