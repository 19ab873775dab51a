/**
 * Issue 8's input and lifecycle hardening, one regression test per finding:
 *  - a catastrophic-backtracking kind `pattern` is refused at PUT /kinds (400 unsafe_pattern);
 *  - a deeply nested JSON body is 400 invalid_request, never a stack overflow (500);
 *  - NUL characters in bodies, paths and queries are 400 (PostgreSQL text cannot hold them);
 *  - branch names follow `git check-ref-format`, free-form names refuse control/bidi characters;
 *  - revoking a token ends its open watch streams (this replica at once, others by the sweep);
 *  - data files are private (0600 files, 0700 directories).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, expectError, expectNothingWritten, putNamespace, TEST_ALLOWED_HOSTS } from './support.js';

/** `{"spec":{"a":{"a":…{"port":1}…}}}` as text (JSON.stringify itself would overflow the stack). */
function nestedBody(depth: number): string {
  return `{"spec":${'{"a":'.repeat(depth)}{"port":1}${'}'.repeat(depth)}}`;
}

/** Opens a watch stream over real HTTP; resolves when the head arrived. */
function openWatch(base: string, ns: string, token: string): Promise<{ status: number; ended: Promise<void>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/v1/namespaces/${ns}/watch`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
      });
      res.resume();
      resolve({ status: res.statusCode ?? 0, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: hardening`, () => {
    let t: TestApp;
    let base: string;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: TEST_ALLOWED_HOSTS } });
      await createSource(t, { name: 'shop', url: 'https://github.com/acme/shop.git' });
      await putNamespace(t, 'shop.prod', { source: 'shop' });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('PUT /kinds refuses catastrophic patterns (400 unsafe_pattern, nothing stored) and accepts ordinary ones', async () => {
      for (const pattern of ['^(a+)+$', '^(a|aa)*$', '^(\\w+\\s?)*$', '(x)\\1']) {
        const res = await expectNothingWritten(t, {
          method: 'PUT',
          url: '/api/v1/kinds/Evil',
          headers: t.auth(),
          payload: { schema: { type: 'object', properties: { name: { type: 'string', pattern } } } },
        });
        const err = expectError(res, 400, 'unsafe_pattern');
        expect(err.details.pointer).toBe('/properties/name/pattern');
      }
      const keyed = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/kinds/Evil',
        headers: t.auth(),
        payload: { schema: { type: 'object', patternProperties: { '^(a+)+$': { type: 'string' } } } },
      });
      expectError(keyed, 400, 'unsafe_pattern');
      const fine = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/kinds/Fine',
        headers: t.auth(),
        payload: { schema: { type: 'object', properties: { cpu: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?m?$' } } } },
      });
      expect(fine.statusCode, fine.body).toBe(200);
    });

    it('a deeply nested body is 400 invalid_request on every JSON route (no stack overflow)', async () => {
      for (const [method, url] of [
        ['PATCH', '/api/v1/sources/shop'],
        ['PATCH', '/api/v1/namespaces/shop.prod/resources/Config/x'],
        ['PUT', '/api/v1/kinds/Deep'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: { ...t.auth(), 'content-type': 'application/json' }, payload: nestedBody(5000) });
        const err = expectError(res, 400, 'invalid_request');
        expect(err.message, url).toMatch(/nested deeper than/);
      }
      // merge-patch+json goes through the same parser.
      const merge = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/namespaces/shop.prod/resources/Config/x',
        headers: { ...t.auth(), 'content-type': 'application/merge-patch+json' },
        payload: nestedBody(100_000),
      });
      expectError(merge, 400, 'invalid_request');
    });

    it('NUL characters are 400, never a database error', async () => {
      const cases = [
        { method: 'POST', url: '/api/v1/tokens', payload: { name: 'a\u0000b', role: 'viewer' } },
        { method: 'PUT', url: '/api/v1/namespaces/shop.nul', payload: { path: 'prod\u0000' } },
        { method: 'PATCH', url: '/api/v1/sources/shop', payload: { webhook_secret: 'x\u0000y' } },
        { method: 'PUT', url: '/api/v1/kinds/Nul', payload: { schema: { type: 'object', description: '\u0000' } } },
        { method: 'POST', url: '/api/v1/sources', payload: { name: 'nul', url: 'https://github.com/a\u0000b.git' } },
        { method: 'PATCH', url: '/api/v1/sources/shop', payload: { ['k\u0000']: 1 } },
      ] as const;
      for (const c of cases) {
        const res = await expectNothingWritten(t, { method: c.method, url: c.url, headers: t.auth(), payload: c.payload as object });
        expect(res.statusCode, `${c.method} ${c.url}: ${res.body}`).toBe(400);
      }
      for (const url of ['/api/v1/audit?namespace=shop%00x', '/api/v1/namespaces/shop%00prod', '/api/v1/sources/sh%00op']) {
        const res = await t.app.inject({ method: 'GET', url, headers: t.auth() });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      }
    });

    it('branch names follow git check-ref-format; names refuse control and bidi characters', async () => {
      for (const branch of ['a..b', 'x.lock', '-x', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', '.hidden', 'a/', 'a//b', '@', 'a@{1}', 'a.', 'a\tb']) {
        const res = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/shop.branch', headers: t.auth(), payload: { source: 'shop', branch } });
        expectError(res, 400, 'invalid_request');
      }
      const ok = await t.app.inject({ method: 'PUT', url: '/api/v1/namespaces/shop.branch', headers: t.auth(), payload: { source: 'shop', branch: 'release/2024.1-rc_1' } });
      expect(ok.statusCode, ok.body).toBe(200);
      for (const name of ['evil\u202egnp.exe', 'zero\u200bwidth', 'bell\u0007', 'line\nbreak', 'iso\u2066late']) {
        const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name, role: 'viewer' } });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('revoking a token ends its open watch streams; other tokens keep theirs', async () => {
      const doomed = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: 'doomed', role: 'viewer' } });
      const kept = await t.token('viewer');
      const a = await openWatch(base, 'shop.prod', doomed.json().token);
      const b = await openWatch(base, 'shop.prod', doomed.json().token);
      const c = await openWatch(base, 'shop.prod', kept);
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      let cEnded = false;
      void c.ended.then(() => (cEnded = true));
      const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${doomed.json().id}`, headers: t.auth() });
      expect(del.statusCode).toBe(204);
      await Promise.all([a.ended, b.ended]);
      expect(cEnded).toBe(false);
      c.close();
    });

    it('a token revoked by another replica (straight in the database) ends its streams by the sweep', async () => {
      const other = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: 'elsewhere', role: 'viewer' } });
      const w = await openWatch(base, 'shop.prod', other.json().token);
      expect(w.status).toBe(200);
      await t.ctx.db.db.deleteFrom('tokens').where('id', '=', other.json().id).execute();
      await w.ended;
    });

    it('data files are private: 0700 directories, 0600 files', async () => {
      const stat = (p: string) => fs.statSync(p).mode & 0o777;
      expect(stat(t.dataDir)).toBe(0o700);
      expect(stat(t.settings.mirror_dir)).toBe(0o700);
      for (const entry of fs.readdirSync(t.dataDir, { withFileTypes: true })) {
        const p = path.join(t.dataDir, entry.name);
        if (entry.isFile()) expect(stat(p) & 0o077, p).toBe(0);
        if (entry.isDirectory()) expect(stat(p) & 0o077, p).toBe(0);
      }
      if (dialect === 'sqlite') expect(stat(path.join(t.dataDir, 'syncline.db'))).toBe(0o600);
    });
  });
}
