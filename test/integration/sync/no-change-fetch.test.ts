/**
 * A sync from an HTTP source asks the remote for its refs with one protocol-v2 `ls-refs` request
 * and starts no `git fetch` when nothing moved (real git over real HTTP, a token-protected repo):
 *  - a no-change sync (and plan, drift): no fetch process, one upload-pack request, with the
 *    token, to the source's origin;
 *  - a moved branch is still fetched (one fetch request into unpack-objects) and applied;
 *  - when the source's origin redirects, the redirect target gets no request (never the token);
 *  - the planted token appears in no response and no log line.
 */
import crypto from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onGitSpawn } from '../../../src/git/runner.js';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { startHttpFront, type HttpFront } from '../../helpers/http-front.js';
import { api, expectError, makeSyncApp, ok, putNamespace, syncReq, workload } from './support.js';

function forms(secret: string): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [secret, b64(secret), b64(`x-access-token:${secret}`), encodeURIComponent(secret)];
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: no fetch when nothing moved`, () => {
    const PLANTED = `sl-lsrefs-${crypto.randomBytes(16).toString('hex')}`;
    let t: TestApp;
    let repo: FixtureRepo;
    let server: GitHttpServer;
    let attacker: GitHttpServer;
    let front: HttpFront;
    const bodies: string[] = [];
    const call = async (res: Promise<LightMyRequestResponse>) => {
      const r = await res;
      bodies.push(`${JSON.stringify(r.headers)}\n${r.body}`);
      return r;
    };
    /** Git commands started while `fn` runs. */
    const gitDuring = async <T>(fn: () => Promise<T>): Promise<{ result: T; git: string[] }> => {
      const git: string[] = [];
      const off = onGitSpawn((i) => git.push(i.args[0] ?? ''));
      try {
        return { result: await fn(), git };
      } finally {
        off();
      }
    };

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'cfg' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') });
      server = await serveGitHttp(root, { token: PLANTED });
      attacker = await serveGitHttp(root);
      // The source's own origin: forwards to the git server, or (later) redirects elsewhere.
      front = await startHttpFront(server.url);
      const created = await call(api(t, 'POST', '/sources', { name: 'cfg', url: front.repoUrl('cfg'), auth: { type: 'token', token: PLANTED } }));
      expect(created.statusCode, created.body).toBe(201);
      await putNamespace(t, 'shop.prod', { source: 'cfg', branch: 'main', path: 'prod' });
      expect(ok(await call(syncReq(t, 'shop.prod')))).toMatchObject({ status: 'success', summary: { create: 1 } });
    });
    afterAll(async () => {
      await front?.close();
      await attacker?.close();
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('a no-change sync, plan and drift start no git fetch: one ls-refs request each, with the token', async () => {
      const seen = server.requests.length;
      const { result, git } = await gitDuring(async () => [
        ok(await call(syncReq(t, 'shop.prod'))),
        ok(await call(api(t, 'POST', '/namespaces/shop.prod/plan', {}))),
        ok(await call(api(t, 'GET', '/namespaces/shop.prod/drift'))),
      ]);
      expect(result[0]).toMatchObject({ status: 'noop' });
      expect(result[2]).toMatchObject({ fetch_status: 'ok' });
      expect(git.filter((c) => c === 'fetch' || c === 'clone' || c === 'ls-remote')).toEqual([]);
      const asked = server.requests.slice(seen);
      expect(asked.map((r) => `${r.method} ${r.url} ${r.gitProtocol} ${r.status}`)).toEqual(
        Array(3).fill('POST /cfg.git/git-upload-pack version=2 200'),
      );
      expect(asked.every((r) => r.authorization === `Basic ${Buffer.from(`x-access-token:${PLANTED}`).toString('base64')}`)).toBe(true);
    });

    it('a moved branch is fetched and applied; the next sync is quiet again', async () => {
      const next = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9090') });
      const moved = await gitDuring(async () => ok(await call(syncReq(t, 'shop.prod'))));
      expect(moved.result).toMatchObject({ status: 'success', commit: next, summary: { update: 1 } });
      // Fetched by one request into unpack-objects (no git fetch process).
      expect(moved.git.filter((c) => ['fetch', 'unpack-objects', 'index-pack'].includes(c))).toEqual(['unpack-objects']);
      const quiet = await gitDuring(async () => ok(await call(syncReq(t, 'shop.prod'))));
      expect(quiet.result).toMatchObject({ status: 'noop', commit: next });
      expect(quiet.git.filter((c) => c === 'fetch')).toEqual([]);
    });

    it('the source origin redirecting: 502 fetch_failed, and the redirect target receives nothing', async () => {
      front.mode = 'redirect';
      front.redirectTo = attacker.url;
      const seen = front.requests.length;
      try {
        const err = expectError(await call(syncReq(t, 'shop.prod')), 502, 'fetch_failed');
        expect(err.details).toMatchObject({ reason: 'redirect' });
        expect(attacker.requests).toEqual([]);
        // The source's own origin did get the token (the ls-refs POST): that is where it is
        // configured for.
        expect(front.requests.slice(seen).some((r) => r.method === 'POST' && r.authorization?.startsWith('Basic '))).toBe(true);
      } finally {
        front.mode = 'pass';
      }
    });

    it('the token appears in no response and no log line', async () => {
      expect(bodies.length).toBeGreaterThan(5);
      for (const body of bodies) for (const f of forms(PLANTED)) expect(body.includes(f)).toBe(false);
      expect(t.logs.length).toBeGreaterThan(0);
      const logs = t.logs.join('\n');
      for (const f of forms(PLANTED)) expect(logs.includes(f)).toBe(false);
    });
  });
}
