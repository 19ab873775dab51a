/**
 * The outbound guard at EVERY connection, not only when a source is saved:
 *  - a name that resolved to a public address when saved but resolves to loopback later (DNS
 *    rebinding, via an injected resolver) is refused by sync, plan, drift, check and the mirror
 *    sync, and the loopback server never sees a request;
 *  - git connects to the checked address (http.curloptResolve): a name only the injected
 *    resolver knows still syncs;
 *  - a redirect is not followed: 502 fetch_failed naming the target host, and the target
 *    receives no request at all (so never the credential).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, makeSyncApp, ok, putNamespace, syncReq, workload } from './support.js';

const PUBLIC = '140.82.121.4';
const TOKEN = `sl-redirect-${'x'.repeat(8)}-${Math.random().toString(36).slice(2)}`;

for (const dialect of DIALECTS) {
  describe(`${dialect}: outbound guard at every connection`, () => {
    let upstream: GitHttpServer;
    let root: string;

    beforeAll(async () => {
      root = await tempDir('syncline-upstream-');
      const repo = await makeRepo({ root, name: 'cfg' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') });
      upstream = await serveGitHttp(root, { token: TOKEN });
    });
    afterAll(async () => {
      await upstream?.close();
      await cleanupTempDirs();
    });

    describe('DNS rebinding', () => {
      let t: TestApp;
      let answer = [PUBLIC];
      beforeAll(async () => {
        // Nothing allow-listed: only what the resolver says decides. The name is `localhost`:
        // the injected resolver (the guard's) calls it public when the source is saved, while
        // the system resolver — the one git would use if it resolved the name itself — says
        // loopback, like an attacker's DNS answering differently the second time. So without a
        // check at each connection, git really would reach the loopback server.
        t = await makeSyncApp(dialect, { allowed_hosts: [] });
        t.ctx.resolver = async (host) => {
          if (host !== 'localhost') throw new Error(`ENOTFOUND ${host}`);
          return answer;
        };
        const port = new URL(upstream.url).port;
        await createSource(t, 'rebind', `http://localhost:${port}/cfg.git`, { auth: { type: 'token', token: TOKEN }, mirror: { enabled: true } });
        await putNamespace(t, 'shop.prod', { source: 'rebind', branch: 'main', path: 'prod' });
        // From now on the name points at loopback.
        answer = ['127.0.0.1'];
      });
      afterAll(async () => {
        await t?.close();
      });

      it('sync, plan, drift, check and the mirror sync all refuse, and loopback sees no request', async () => {
        const before = upstream.requests.length;
        const sync = await syncReq(t, 'shop.prod');
        const plan = await api(t, 'POST', '/namespaces/shop.prod/plan', {});
        const driftRes = await api(t, 'GET', '/namespaces/shop.prod/drift');
        const check = await api(t, 'POST', '/sources/rebind/check', {});
        const mirror = await api(t, 'POST', '/mirrors/sync', { slug: 'rebind', allow_runtime_sync: true });
        expect(upstream.requests.slice(before).map((r) => `${r.method} ${r.url}${r.authorization ? ' (with credentials)' : ''}`)).toEqual([]);
        expectError(sync, 400, 'host_not_allowed');
        expectError(plan, 400, 'host_not_allowed');
        const drift = ok(driftRes);
        expect(drift.fetch_status).not.toBe('ok');
        expect(drift.plan).toBeNull();
        expectError(check, 400, 'host_not_allowed');
        expect(mirror.statusCode, mirror.body).toBe(202);
        expect(mirror.json().errors).toEqual([{ slug: 'rebind', error: expect.stringMatching(/resolves to a loopback/) }]);
      });

      it('a resolver answer mixing a public and a private address is refused too', async () => {
        answer = [PUBLIC, '10.0.0.7'];
        const before = upstream.requests.length;
        const sync = await syncReq(t, 'shop.prod');
        expect(upstream.requests.length - before).toBe(0);
        expectError(sync, 400, 'host_not_allowed');
      });
    });

    describe('pinning', () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await makeSyncApp(dialect, { allowed_hosts: ['127.0.0.1'] });
        // Only this resolver knows the name: git can reach it only through the pin.
        t.ctx.resolver = async (host) => {
          if (host !== 'git.pinned.test') throw new Error(`ENOTFOUND ${host}`);
          return ['127.0.0.1'];
        };
      });
      afterAll(async () => {
        await t?.close();
      });

      it('git connects to the checked address, never resolving the name itself', async () => {
        const port = new URL(upstream.url).port;
        await createSource(t, 'pinned', `http://git.pinned.test:${port}/cfg.git`, { auth: { type: 'token', token: TOKEN } });
        await putNamespace(t, 'shop.prod', { source: 'pinned', branch: 'main', path: 'prod' });
        const dep = ok(await syncReq(t, 'shop.prod'));
        expect(dep.status).toBe('success');
        expect(ok(await api(t, 'POST', '/sources/pinned/check', {})).ok).toBe(true);
      });
    });

    describe('redirects', () => {
      let t: TestApp;
      let redirector: http.Server;
      let redirectorRequests = 0;
      // The redirect target plays the attacker: it serves the repository without asking for
      // credentials, so a client that followed the redirect would go on to POST upload-pack
      // there — with whatever credential header it sends to that URL.
      let target: GitHttpServer;
      beforeAll(async () => {
        t = await makeSyncApp(dialect);
        target = await serveGitHttp(root);
        redirector = http.createServer((req, res) => {
          redirectorRequests++;
          res.writeHead(302, { location: `${target.url}/cfg.git${(req.url ?? '/').replace(/^\/cfg\.git/, '')}` });
          res.end();
        });
        await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
      });
      afterAll(async () => {
        await new Promise((r) => redirector?.close(r));
        await target?.close();
        await t?.close();
      });

      it('a 302 is fetch_failed naming the target, and the target receives no request (never the token)', async () => {
        const port = (redirector.address() as AddressInfo).port;
        await createSource(t, 'hop', `http://127.0.0.1:${port}/cfg.git`, { auth: { type: 'token', token: TOKEN }, mirror: { enabled: true } });
        await putNamespace(t, 'shop.prod', { source: 'hop', branch: 'main', path: 'prod' });
        const sync = await syncReq(t, 'shop.prod');
        const check = await api(t, 'POST', '/sources/hop/check', {});
        const mirror = await api(t, 'POST', '/mirrors/sync', { slug: 'hop', allow_runtime_sync: true });
        expect(redirectorRequests).toBeGreaterThan(0);
        // The redirector saw the credential (it is the source's own origin); its target never
        // does — in fact it sees no request at all.
        const withCredentials = target.requests.filter((r) => r.authorization !== undefined).map((r) => `${r.method} ${r.url}`);
        expect(withCredentials).toEqual([]);
        expect(target.requests.map((r) => `${r.method} ${r.url}`)).toEqual([]);
        const err = expectError(sync, 502, 'fetch_failed');
        expect(err.message).toContain(`redirected to ${new URL(target.url).host}`);
        expect(err.details).toMatchObject({ reason: 'redirect', redirect_host: new URL(target.url).host });
        expectError(check, 502, 'fetch_failed');
        expect(mirror.statusCode, mirror.body).toBe(202);
        expect(mirror.json().errors).toEqual([{ slug: 'hop', error: expect.stringMatching(/redirected/) }]);
        expect(t.logs.join('\n')).not.toContain(TOKEN);
      });
    });
  });
}
