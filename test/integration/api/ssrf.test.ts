/**
 * Source URLs that would make the server reach loopback, private, link-local or metadata
 * addresses are refused with 400 host_not_allowed (nothing stored), unless allow-listed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, expectError, expectNothingWritten } from './support.js';

const REFUSED = [
  ['loopback', 'https://127.0.0.1/acme/shop.git'],
  ['loopback, elsewhere in 127/8', 'http://127.8.9.10:8080/shop.git'],
  ['private 10/8', 'http://10.0.0.1/acme/shop.git'],
  ['private 172.16/12', 'https://172.16.5.4/acme/shop.git'],
  ['private 192.168/16', 'https://192.168.1.1/acme/shop.git'],
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['IPv6 loopback', 'https://[::1]/acme/shop.git'],
  ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/acme/shop.git'],
  ['IPv6 unique-local', 'https://[fd00::1]/acme/shop.git'],
  ['unspecified', 'https://0.0.0.0/acme/shop.git'],
  ['decimal-encoded loopback', 'https://2130706433/acme/shop.git'],
  ['a name resolving to loopback', 'https://localhost/acme/shop.git'],
  ['a name resolving to loopback, ssh://', 'ssh://git@localhost/acme/shop.git'],
  ['scp-style to loopback', 'git@127.0.0.1:acme/shop.git'],
  ['file:// while file sources are off', 'file:///srv/git/shop.git'],
] as const;

for (const dialect of DIALECTS) {
  describe(`${dialect}: outbound URL guard on sources`, () => {
    describe('default settings', () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await makeTestApp(dialect, { settings: { allowed_hosts: ['git.example.com'] } });
        await createSource(t, { name: 'shop', url: 'https://git.example.com/acme/shop.git' });
      });
      afterAll(async () => {
        await t?.close();
      });

      it.each(REFUSED)('POST refuses %s (%s) with 400 host_not_allowed, storing nothing', async (_label, url) => {
        const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'ssrf', url } });
        expectError(res, 400, 'host_not_allowed');
      });

      it.each(REFUSED)('PATCH refuses %s (%s) and keeps the old URL', async (_label, url) => {
        const res = await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/shop', headers: t.auth(), payload: { url } });
        expectError(res, 400, 'host_not_allowed');
        const now = await t.app.inject({ method: 'GET', url: '/api/v1/sources/shop', headers: t.auth() });
        expect(now.json().url).toBe('https://git.example.com/acme/shop.git');
      });

      it('the refusal names the host and how to allow it', async () => {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'ssrf', url: 'http://169.254.169.254/x' } });
        const err = expectError(res, 400, 'host_not_allowed');
        expect(err.details).toEqual({ host: '169.254.169.254' });
        expect(err.message).toContain('SYNCLINE_ALLOWED_HOSTS');
      });

      it('a host that does not resolve is invalid_url, not stored', async () => {
        const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'nx', url: 'https://does-not-exist.invalid/a.git' } });
        expectError(res, 400, 'invalid_url');
      });
    });

    describe('with SYNCLINE_ALLOWED_HOSTS and SYNCLINE_ALLOW_FILE_SOURCES', () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await makeTestApp(dialect, { settings: { allowed_hosts: 'localhost, 10.0.0.1, *.corp.internal', allow_file_sources: 'true' } });
      });
      afterAll(async () => {
        await t?.close();
      });

      it('lets an allow-listed host through', async () => {
        expect((await createSource(t, { name: 'internal', url: 'https://localhost/acme/shop.git' })).url).toBe('https://localhost/acme/shop.git');
        expect((await createSource(t, { name: 'forge', url: 'http://10.0.0.1/acme/shop.git' })).url).toBe('http://10.0.0.1/acme/shop.git');
        expect((await createSource(t, { name: 'wild', url: 'git@gitea.corp.internal:acme/shop.git' })).url).toBe('git@gitea.corp.internal:acme/shop.git');
      });

      it('still refuses addresses that are not listed, even when a listed name resolves to them', async () => {
        for (const url of ['https://127.0.0.1/acme/shop.git', 'http://10.0.0.2/x.git', 'http://169.254.169.254/']) {
          const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'nope', url } });
          expectError(res, 400, 'host_not_allowed');
        }
      });

      it('accepts file:// sources when allowed', async () => {
        expect((await createSource(t, { name: 'local-repo', url: 'file:///srv/git/shop.git' })).url).toBe('file:///srv/git/shop.git');
      });
    });
  });
}
