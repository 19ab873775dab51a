/**
 * A source token planted on a private repo (served behind that token) must never come back out:
 * not in API responses, logs, deployments, audit events, the database or the mirror on disk —
 * and not in the error when the token is wrong (400 auth_failed).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, expectError, makeSyncApp, metric, ok, putNamespace, syncReq, workload } from './support.js';

/** Every form the secret could take on its way to git. */
function forms(secret: string): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [secret, b64(secret), b64(`x-access-token:${secret}`), encodeURIComponent(secret)];
}

function expectClean(where: string, text: string, secrets: string[]): void {
  for (const s of secrets) {
    if (text.includes(s)) throw new Error(`${where} contains a planted secret form (${s.length} chars)`);
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    const PLANTED = `sl-planted-${crypto.randomBytes(16).toString('hex')}`;
    const WRONG = `sl-wrong-${crypto.randomBytes(16).toString('hex')}`;
    const secrets = [...forms(PLANTED), ...forms(WRONG)];
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    const bodies: Array<[string, string]> = [];
    const call = async (label: string, res: Promise<LightMyRequestResponse>) => {
      const r = await res;
      bodies.push([label, `${JSON.stringify(r.headers)}\n${r.body}`]);
      return r;
    };

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'private' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080'), 'prod/m.yml': metric('rps', 'up') });
      server = await serveGitHttp(root, { token: PLANTED });
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('a private repo syncs with the token, which appears nowhere afterwards', async () => {
      const created = await call('create source', api(t, 'POST', '/sources', { name: 'private', url: server.repoUrl('private'), auth: { type: 'token', token: PLANTED } }));
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().auth).toMatchObject({ type: 'token', configured: true });
      await putNamespace(t, 'shop.prod', { source: 'private', branch: 'main', path: 'prod' });

      const dep = ok(await call('sync', syncReq(t, 'shop.prod')));
      expect(dep).toMatchObject({ status: 'success', summary: { create: 2 } });
      // The token really was what let us in.
      expect(server.requests.length).toBeGreaterThan(0);
      expect(server.requests.every((r) => r.authorization?.startsWith('Basic ') && r.status !== 401)).toBe(true);

      ok(await call('plan', api(t, 'POST', '/namespaces/shop.prod/plan', {})));
      ok(await call('drift', api(t, 'GET', '/namespaces/shop.prod/drift')));
      ok(await call('deployments', api(t, 'GET', '/namespaces/shop.prod/deployments')));
      ok(await call('deployment', api(t, 'GET', `/deployments/${dep.id}`)));
      ok(await call('resources', api(t, 'GET', '/namespaces/shop.prod/resources')));
      ok(await call('namespace', api(t, 'GET', '/namespaces/shop.prod')));
      ok(await call('source', api(t, 'GET', '/sources/private')));
      ok(await call('sources', api(t, 'GET', '/sources')));
      ok(await call('audit', api(t, 'GET', '/audit?limit=1000')));
      ok(await call('check', api(t, 'POST', '/sources/private/check', {})));
      for (const [label, body] of bodies) expectClean(`response of ${label}`, body, secrets);
    });

    it('a wrong token: 400 auth_failed whose message, details and logs carry neither token', async () => {
      ok(await call('patch source', api(t, 'PATCH', '/sources/private', { auth: { type: 'token', token: WRONG } })));
      const err = expectError(await call('sync (wrong token)', syncReq(t, 'shop.prod')), 400, 'auth_failed');
      expect(err.message).toMatch(/Authentication to source 'private' failed/);
      expectError(await call('plan (wrong token)', api(t, 'POST', '/namespaces/shop.prod/plan', {})), 400, 'auth_failed');
      const report = ok(await call('drift (wrong token)', api(t, 'GET', '/namespaces/shop.prod/drift')));
      expect(report).toMatchObject({ fetch_status: 'fetch_failed', plan: null });
      expect(report.message).toMatch(/Authentication/);
      const check = await call('check (wrong token)', api(t, 'POST', '/sources/private/check', {}));
      expect(check.statusCode).toBe(400);

      // No token at all fails the same way.
      ok(await call('patch source (none)', api(t, 'PATCH', '/sources/private', { auth: { type: 'none' } })));
      expectError(await call('sync (no token)', syncReq(t, 'shop.prod')), 400, 'auth_failed');
      // Nothing was applied or recorded by the failures.
      expect(ok(await api(t, 'GET', '/namespaces/shop.prod/deployments')).items).toHaveLength(1);

      for (const [label, body] of bodies) expectClean(`response of ${label}`, body, secrets);
    });

    it('logs, every table and the mirror on disk are free of both tokens', async () => {
      expect(t.logs.length).toBeGreaterThan(0);
      expectClean('the logs', t.logs.join('\n'), secrets);
      for (const table of ['deployments', 'audit_events', 'resources', 'namespaces', 'sources', 'tokens'] as const) {
        const rows = await sql`select * from ${sql.table(table)}`.execute(t.ctx.db.db);
        expectClean(`table ${table}`, JSON.stringify(rows.rows), secrets);
      }
      const files = filesUnder(t.settings.mirror_dir);
      expect(files.some((f) => f.endsWith(path.join('private.git', 'config')))).toBe(true);
      for (const f of files) expectClean(f, fs.readFileSync(f).toString('latin1'), secrets);
    });

    it('a URL with an embedded token is refused without echoing it', async () => {
      const url = server.repoUrl('private').replace('http://', `http://x-access-token:${PLANTED}@`);
      const res = await call('create source (credentials in URL)', api(t, 'POST', '/sources', { name: 'leaky', url }));
      expect(res.statusCode).toBe(400);
      expectClean('the refusal', res.body, secrets);
      expectClean('the logs', t.logs.join('\n'), secrets);
    });
  });
}
