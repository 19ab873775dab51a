/**
 * The web UI's server side (API.md "Web UI and sessions"): whoami, cookie sessions with the CSRF
 * header, spec files at a ref, the cross-namespace event stream, and static serving of the SPA.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, sync, until, workload, y } from '../sync/support.js';
import { openEvents } from '../../helpers/sse.js';

function ok201(res: { statusCode: number; body: string; json(): any }): any {
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

function sessionCookie(setCookie: string | string[] | undefined): string {
  const value = Array.isArray(setCookie) ? setCookie[0]! : setCookie!;
  return value.split(';')[0]!;
}

for (const dialect of DIALECTS) {
  describe(`web API (${dialect})`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    let base: string;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, {
        'prod/api.yaml': workload('api', 'port: 8080'),
        'prod/README.md': '# not a spec\n',
        'team/x.yaml': workload('x', 'port: 1'),
      });
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
      await putNamespace(t, 'team.x', { source: 'shop', branch: 'main', path: 'team' });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('whoami names the token, its role and its scope', async () => {
      expect(ok(await api(t, 'GET', '/whoami'))).toEqual({ name: 'admin', role: 'admin', namespaces: null });
      const scoped = await t.token('viewer', ['shop.*']);
      expect(ok(await api(t, 'GET', '/whoami', undefined, { token: scoped }))).toMatchObject({ role: 'viewer', namespaces: ['shop.*'] });
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/whoami' }), 401, 'unauthorized');
    });

    it('a session cookie authenticates reads; writes need X-Syncline-Request; logout and revocation end it', async () => {
      const deployer = await t.token('deployer');
      expectError(await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: 'nope' } }), 401, 'unauthorized');
      const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: deployer } });
      expect(login.statusCode, login.body).toBe(204);
      const setCookie = String(login.headers['set-cookie']);
      expect(setCookie).toMatch(/^syncline_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      expect(setCookie).not.toContain('Secure'); // no https public URL here
      expect(setCookie).not.toContain(deployer);
      const cookie = sessionCookie(login.headers['set-cookie']);

      // Nothing readable holds the raw token: the session row has hashes only.
      const rows = await sql<{ id_hash: string; token_hash: string }>`select * from sessions`.execute(t.ctx.db.db);
      for (const row of rows.rows) expect(JSON.stringify(row)).not.toContain(deployer);
      expect(JSON.stringify(rows.rows)).not.toContain(cookie.split('=')[1]);

      const who = await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie } });
      expect(ok(who)).toMatchObject({ role: 'deployer', namespaces: null });
      const noHeader = await t.app.inject({ method: 'POST', url: '/api/v1/namespaces/shop.prod/sync-from-git', headers: { cookie }, payload: {} });
      expectError(noHeader, 403, 'csrf');
      const withHeader = await t.app.inject({
        method: 'POST',
        url: '/api/v1/namespaces/shop.prod/sync-from-git',
        headers: { cookie, 'x-syncline-request': '1' },
        payload: {},
      });
      expect(ok(withHeader)).toMatchObject({ status: 'success', actor: expect.stringMatching(/^deployer-/) });
      // A bearer token needs no header; the role still applies to the session.
      expect((await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {})).statusCode).toBe(200);
      expectError(
        await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { cookie, 'x-syncline-request': '1' }, payload: { name: 'x', role: 'admin' } }),
        403,
        'forbidden',
      );

      // Logout needs the header too, then the cookie is dead and cleared.
      expectError(await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } }), 403, 'csrf');
      const logout = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-syncline-request': '1' } });
      expect(logout.statusCode).toBe(204);
      expect(String(logout.headers['set-cookie'])).toMatch(/^syncline_session=; .*Max-Age=0/);
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie } }), 401, 'unauthorized');

      // Revoking the token ends its sessions.
      const created = ok201(await api(t, 'POST', '/tokens', { name: 'to-revoke', role: 'viewer' }));
      const viewer = created.token as string;
      const cookie2 = sessionCookie((await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: viewer } })).headers['set-cookie']);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: cookie2 } })).statusCode).toBe(200);
      expect((await api(t, 'DELETE', `/tokens/${created.id}`)).statusCode).toBe(204);
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: cookie2 } }), 401, 'unauthorized');

      // The root token works as a session too.
      const root = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: ADMIN_TOKEN } });
      expect(ok(await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: sessionCookie(root.headers['set-cookie']) } }))).toMatchObject({ role: 'admin' });
    });

    it('files lists the spec files at the head or a ref', async () => {
      const first = ok(await api(t, 'GET', '/namespaces/shop.prod/files'));
      expect(first).toEqual({ commit: expect.stringMatching(/^[0-9a-f]{40}$/), ref: 'main', files: [{ path: 'prod/api.yaml', size: expect.any(Number), content: workload('api', 'port: 8080') }] });
      const second = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9090'), 'prod/more.yml': y('kind: Workload', 'name: more', 'spec:', '  port: 1') });
      expect(ok(await api(t, 'GET', '/namespaces/shop.prod/files')).files.map((f: any) => f.path)).toEqual(['prod/api.yaml', 'prod/more.yml']);
      const old = ok(await api(t, 'GET', `/namespaces/shop.prod/files?ref=${first.commit}`));
      expect(old.commit).toBe(first.commit);
      expect(old.files).toHaveLength(1);
      expect(ok(await api(t, 'GET', `/namespaces/shop.prod/files?ref=${second}`)).commit).toBe(second);
      expectError(await api(t, 'GET', '/namespaces/shop.prod/files?ref=nope'), 400, 'ref_not_found');
      const scoped = await t.token('viewer', ['team.*']);
      expectError(await api(t, 'GET', '/namespaces/shop.prod/files', undefined, { token: scoped }), 403, 'forbidden');
      expectError(await api(t, 'GET', '/namespaces/shop.nope/files'), 404, 'not_found');
    });

    it('events streams deployments across visible namespaces and resumes with Last-Event-ID', async () => {
      const all = await openEvents(base, { authorization: `Bearer ${ADMIN_TOKEN}` });
      const scopedToken = await t.token('viewer', ['team.*']);
      const scoped = await openEvents(base, { authorization: `Bearer ${scopedToken}` });
      try {
        expect(all.status).toBe(200);
        const d = await sync(t, 'shop.prod');
        await sync(t, 'team.x');
        await until(() => all.events.filter((e) => e.event === 'deployment').length >= 2, 'two deployment events');
        await until(() => scoped.events.some((e) => e.event === 'deployment'), 'the scoped deployment event');
        const dep = all.events.find((e) => e.event === 'deployment')!;
        expect(dep.data).toMatchObject({ namespace: 'shop.prod', id: d.id, status: d.status, commit: d.commit });
        expect(dep.data.results).toBeUndefined();
        // The list shows who authored the last deployment's commit.
        const listed = ok(await api(t, 'GET', '/namespaces')).items.find((n: any) => n.name === 'shop.prod');
        expect(listed.last_deployment).toMatchObject({ id: d.id, author: { name: expect.any(String), email: expect.any(String) } });
        // `namespace` events come only when a status changes (test/integration/events covers them).
        // A token scoped to team.* never sees shop.prod.
        expect(scoped.events.every((e) => e.data.namespace === 'team.x')).toBe(true);
        const ids = all.events.map((e) => Number(e.id));
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);

        // Resume: events after the first one are replayed.
        const resumed = await openEvents(base, { authorization: `Bearer ${ADMIN_TOKEN}`, 'last-event-id': all.events[0]!.id! });
        try {
          await until(() => resumed.events.length >= all.events.length - 1, 'the replay');
          expect(resumed.events.map((e) => e.id)).toEqual(all.events.slice(1).map((e) => e.id));
        } finally {
          resumed.close();
        }
        // An id it cannot replay from (ids are outbox seqs; this one is not there yet): a reset.
        const stale = await openEvents(base, { authorization: `Bearer ${ADMIN_TOKEN}`, 'last-event-id': '999999999' });
        try {
          await until(() => stale.events.length >= 1, 'the reset');
          expect(stale.events[0]!.event).toBe('reset');
        } finally {
          stale.close();
        }
      } finally {
        all.close();
        scoped.close();
      }
      const anon = await openEvents(base, {});
      expect(anon.status).toBe(401);
      anon.close();
    });
  });
}

describe('web UI serving', () => {
  let t: TestApp;
  let uiDir: string;

  beforeAll(async () => {
    uiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-ui-'));
    fs.mkdirSync(path.join(uiDir, 'assets'));
    fs.writeFileSync(path.join(uiDir, 'index.html'), '<!doctype html><title>Syncline</title><script type="module" src="/assets/index-abc123.js"></script>');
    fs.writeFileSync(path.join(uiDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    fs.writeFileSync(path.join(uiDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await makeTestApp(DIALECTS[0]!);
    await t.app.close();
    // A second app on the same context, pointed at the fixture UI.
    const { buildApp } = await import('../../../src/server/app.js');
    const app = await buildApp({ ctx: t.ctx, uiDir });
    t = { ...t, app, close: async () => { await app.close(); await t.ctx.db.close(); } };
  });

  afterAll(async () => {
    await t?.close();
    fs.rmSync(uiDir, { recursive: true, force: true });
  });

  it('serves index.html uncached with a strict CSP, hashed assets for a year, and falls back for app paths', async () => {
    for (const url of ['/', '/namespaces/shop.prod/drift?tab=x', '/tokens']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<title>Syncline</title>');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    const asset = await t.app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await t.app.inject({ method: 'GET', url: '/favicon.svg' })).headers['cache-control']).toBe('no-cache');
  });

  it('marks the session cookie Secure when the public URL is https', async () => {
    const https = await makeTestApp(DIALECTS[0]!, { settings: { public_url: 'https://syncline.example.com' } });
    try {
      const res = await https.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: ADMIN_TOKEN } });
      expect(res.statusCode).toBe(204);
      expect(String(res.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    } finally {
      await https.close();
    }
  });

  it('leaves the API, git, ops and docs routes alone', async () => {
    for (const url of ['/api/v1/nope', '/api', '/git/nope.git/info/refs', '/assets/missing.js', '/metrics/x']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
    }
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json().openapi).toBeDefined();
    expect((await t.app.inject({ method: 'POST', url: '/somewhere' })).statusCode).toBe(404);
  });
});
