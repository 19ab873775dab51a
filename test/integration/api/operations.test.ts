import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODE_LIST } from '../../../src/contracts/error-codes.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { expectError } from './support.js';

/** Every /api/v1 operation this part of the API defines: path (OpenAPI form) → methods. */
const API_OPERATIONS: Record<string, string[]> = {
  '/api/v1/tokens': ['get', 'post'],
  '/api/v1/tokens/{id}': ['delete'],
  '/api/v1/sources': ['get', 'post'],
  '/api/v1/sources/{name}': ['delete', 'get', 'patch'],
  '/api/v1/sources/{name}/check': ['post'],
  '/api/v1/kinds': ['get'],
  '/api/v1/kinds/{kind}': ['get', 'put'],
  '/api/v1/namespaces': ['get'],
  '/api/v1/namespaces/{ns}': ['delete', 'get', 'put'],
  '/api/v1/audit': ['get'],
};

/** Histogram bucket lines of the request-duration metric, parsed into label maps. */
function histogramSeries(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('syncline_http_request_duration_seconds_count{'))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: operations endpoints`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('/metrics counts requests with request logging off too (log_level silent)', async () => {
      const quiet = await makeTestApp(dialect, { settings: { log_level: 'silent' } });
      try {
        await quiet.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: quiet.auth() });
        await quiet.app.inject({ method: 'GET', url: '/api/v1/kinds' });
        const res = await quiet.app.inject({ method: 'GET', url: '/metrics' });
        expect(histogramSeries(res.body)).toEqual(
          expect.arrayContaining([
            { method: 'GET', route: '/api/v1/kinds', status: '200' },
            { method: 'GET', route: '/api/v1/kinds', status: '401' },
          ]),
        );
        expect(quiet.logs.filter((l) => l.includes('request completed'))).toEqual([]);
      } finally {
        await quiet.close();
      }
    });

    it('/healthz answers without a token', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('/readyz answers ready while the database is reachable', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready' });
    });

    it('/metrics has the request histogram by route template and status', async () => {
      await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth() });
      await t.app.inject({ method: 'GET', url: '/api/v1/kinds/Config', headers: t.auth() });
      await t.app.inject({ method: 'GET', url: '/api/v1/kinds/Nope', headers: t.auth() });
      await t.app.inject({ method: 'GET', url: '/api/v1/kinds' });
      await t.app.inject({ method: 'GET', url: '/no/such/route' });
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain('# TYPE syncline_http_request_duration_seconds histogram');
      const series = histogramSeries(res.body);
      expect(series).toEqual(
        expect.arrayContaining([
          { method: 'GET', route: '/api/v1/kinds', status: '200' },
          { method: 'GET', route: '/api/v1/kinds', status: '401' },
          { method: 'GET', route: '/api/v1/kinds/:kind', status: '200' },
          { method: 'GET', route: '/api/v1/kinds/:kind', status: '404' },
        ]),
      );
      // Labels carry the route template, never the raw URL, so cardinality stays bounded.
      expect(series.some((s) => s.route?.includes('Config') || s.route?.includes('/no/such'))).toBe(false);
      const count = res.body.split('\n').find((l) => l.startsWith('syncline_http_request_duration_seconds_count{method="GET",route="/api/v1/kinds",status="200"}'));
      expect(Number(count?.split(' ')[1])).toBeGreaterThanOrEqual(1);
    });

    it('/openapi.json documents every /api/v1 operation', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes).toHaveProperty('bearer');
      for (const [path, methods] of Object.entries(API_OPERATIONS)) {
        expect(doc.paths, path).toHaveProperty([path]);
        for (const m of methods) {
          const op = doc.paths[path][m];
          expect(op, `${m.toUpperCase()} ${path}`).toBeDefined();
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '403']));
        }
      }
      // Request bodies come from the route schemas, strictness included.
      const create = doc.paths['/api/v1/sources'].post.requestBody.content['application/json'].schema;
      expect(create.required).toEqual(expect.arrayContaining(['name', 'url']));
      expect(create.additionalProperties).toBe(false);
      for (const path of Object.keys(doc.paths)) expect(path).not.toMatch(/^\/docs|^\/metrics|^\/openapi/);
      // Error bodies enumerate the one list of codes; the drift report's plan is the Plan schema.
      const notFound = doc.paths['/api/v1/namespaces/{ns}'].get.responses['404'].content['application/json'].schema;
      expect(notFound.properties.error.properties.code.enum).toEqual(ERROR_CODE_LIST);
      const drift = doc.paths['/api/v1/namespaces/{ns}/drift'].get.responses['200'].content['application/json'].schema;
      expect(JSON.stringify(drift.properties.plan)).toContain('"results"');
    });

    it('/docs serves the OpenAPI UI', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/docs' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('Swagger UI');
    });

    it('echoes a given x-request-id and logs it on the request line', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz?x=1', headers: { 'x-request-id': 'trace-abc.123', authorization: 'Bearer syl_not_in_logs', cookie: 'syncline_session=not-in-logs' } });
      expect(res.headers['x-request-id']).toBe('trace-abc.123');
      const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.request_id === 'trace-abc.123');
      // One line per request at info (an access log): the request, its status and time; no headers.
      expect(lines.map((l) => l.msg)).toEqual(['request completed']);
      expect(lines[0]).toMatchObject({ level: 30, req: { method: 'GET', url: '/healthz?x=1' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
      expect(JSON.stringify(lines)).not.toMatch(/not-in-logs|not_in_logs/);
      // A junk id is replaced, not echoed.
      const junk = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\u00e9' } });
      expect(junk.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('every answer carries the request id and X-Frame-Options: success, 404, 401, a bad URL, a bad body', async () => {
      const cases = [
        { method: 'GET', url: '/healthz' },
        { method: 'GET', url: '/api/v1/nothing-here', headers: t.auth() },
        { method: 'GET', url: '/api/v1/namespaces' },
        { method: 'GET', url: '/api/v1/namespaces?x=%00' },
        { method: 'POST', url: '/api/v1/tokens', headers: { ...t.auth(), 'content-type': 'application/json' }, payload: '{' },
      ] as const;
      const statuses: number[] = [];
      for (const c of cases) {
        const res = await t.app.inject({ ...c, headers: { ...('headers' in c ? c.headers : {}), 'x-request-id': `hdr-${statuses.length}` } });
        statuses.push(res.statusCode);
        expect(res.headers['x-request-id'], c.url).toBe(`hdr-${statuses.length - 1}`);
        expect(res.headers['x-frame-options'], c.url).toBe('DENY');
      }
      expect(statuses).toEqual([200, 404, 401, 400, 400]);
    });

    it('unknown routes are 404 not_found in the error shape', async () => {
      const err = expectError(await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: t.auth() }), 404, 'not_found');
      expect(err.message).toContain('/api/v1/nothing-here');
    });

    it('/readyz answers 503 once the database is gone', async () => {
      const own = await makeTestApp(dialect);
      try {
        await own.ctx.db.close();
        const res = await own.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
        const live = await own.app.inject({ method: 'GET', url: '/healthz' });
        expect(live.statusCode).toBe(200);
      } finally {
        await own.close().catch(() => undefined);
      }
    });
  });
}
