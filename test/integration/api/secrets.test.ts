/**
 * Planted credentials (source token, basic password, GitHub App private key, webhook secret) must
 * never come back out: not in a response body, not in a log line, not in an audit event, and
 * never in clear in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceCredentials, sourceWebhookSecret } from '../../../src/store/sources.js';
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';

const TOKEN = 'ghp_PLANTEDtokenV4lue0123456789abcdef';
const PASSWORD = 'PLANTED-basic-passw0rd-42';
const KEY_BODY = 'MIIEowIBAAKCAQEAPLANTEDprivateKEYmaterial0123456789';
const PRIVATE_KEY = `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}\n-----END RSA PRIVATE KEY-----\n`;
const WEBHOOK_SECRET = 'PLANTED-webhook-secret-xyz';
const ROTATED = 'ghp_PLANTEDrotatedTokenValue987654';
const SECRETS = [TOKEN, PASSWORD, KEY_BODY, WEBHOOK_SECRET, ROTATED];

/** Also the encodings a secret takes on its way to git (Basic auth header). */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(`x-access-token:${secret}`).toString('base64'), encodeURIComponent(secret)];
}

function expectClean(text: string, where: string): void {
  for (const secret of SECRETS) for (const form of forms(secret)) expect(text, `${where} leaks ${secret}`).not.toContain(form);
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: planted credentials never leak`, () => {
    let t: TestApp;
    const bodies: string[] = [];

    const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
      const res = await t.app.inject({ method, url, headers: t.auth(), ...(payload !== undefined ? { payload: payload as object } : {}) });
      bodies.push(`${method} ${url} → ${res.statusCode} ${res.body}`);
      return res;
    };

    beforeAll(async () => {
      // trace: the most the server ever logs. git.invalid never resolves, so /check fails fast.
      t = await makeTestApp(dialect, { settings: { log_level: 'trace', allowed_hosts: ['github.com', 'git.example.com', 'git.invalid'] } });
      expect((await call('POST', '/api/v1/sources', { name: 'tok', url: 'https://git.invalid/acme/shop.git', auth: { type: 'token', token: TOKEN }, webhook_secret: WEBHOOK_SECRET })).statusCode).toBe(201);
      expect((await call('POST', '/api/v1/sources', { name: 'basic', url: 'https://git.example.com/acme/shop.git', auth: { type: 'basic', username: 'deploy', password: PASSWORD } })).statusCode).toBe(201);
      expect(
        (await call('POST', '/api/v1/sources', { name: 'app', url: 'https://github.com/acme/shop.git', auth: { type: 'github_app', app_id: 1, installation_id: 2, private_key: PRIVATE_KEY } })).statusCode,
      ).toBe(201);

      // Reads, updates (with and without new credentials) and failures that carry the secrets.
      await call('GET', '/api/v1/sources');
      for (const name of ['tok', 'basic', 'app']) await call('GET', `/api/v1/sources/${name}`);
      await call('PATCH', '/api/v1/sources/tok', { provider: 'git' });
      await call('PATCH', '/api/v1/sources/basic', { auth: { type: 'token', token: ROTATED } });
      await call('POST', '/api/v1/sources', { name: 'tok', url: 'https://github.com/a/b.git', auth: { type: 'token', token: TOKEN } }); // 409
      await call('POST', '/api/v1/sources', { name: 'bad1', url: 'https://github.com/a/b.git', auth: { type: 'token', token: TOKEN, bogus: PASSWORD } }); // unknown field
      await call('POST', '/api/v1/sources', { name: 'bad2', url: 'https://github.com/a/b.git', auth: { type: 'none', token: TOKEN } }); // field for another type
      await call('POST', '/api/v1/sources', { name: 'bad3', url: 'https://github.com/a/b.git', auth: { type: 'github_app', app_id: 1, installation_id: 2, private_key: KEY_BODY } }); // not PEM
      await call('POST', '/api/v1/sources', { name: 'bad4', url: `https://x:${PASSWORD}@github.com/a/b.git` }); // creds in URL
      await call('POST', '/api/v1/sources', { name: 'bad5', url: 'https://127.0.0.1/a.git', auth: { type: 'token', token: TOKEN } }); // SSRF refusal
      await call('PATCH', '/api/v1/sources/tok', { webhook_secret: 42 }); // wrong type
      // The one place credentials are decrypted and handed to git: it fails, and says why.
      const check = await call('POST', '/api/v1/sources/tok/check', {});
      expect(check.statusCode).toBeGreaterThanOrEqual(400);
      await call('GET', '/api/v1/audit?limit=1000');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('no response body contains a credential', () => {
      expect(bodies.length).toBeGreaterThan(15);
      expectClean(bodies.join('\n'), 'responses');
    });

    it('no log line contains a credential (or the admin token)', () => {
      expect(t.logs.length).toBeGreaterThan(20);
      const logs = t.logs.join('');
      expectClean(logs, 'logs');
      expect(logs).not.toContain(ADMIN_TOKEN);
    });

    it('no audit event contains a credential, in the API or in the table', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: t.auth() });
      const items = res.json().items;
      expect(items.map((e: any) => e.action)).toEqual(expect.arrayContaining(['source.create', 'source.update']));
      expectClean(res.body, 'audit API');
      const rows = await t.ctx.db.db.selectFrom('audit_events').selectAll().execute();
      expectClean(JSON.stringify(rows), 'audit table');
      // The audit still says credentials changed, without saying to what.
      expect(items.find((e: any) => e.action === 'source.update' && e.target === 'source/basic').details).toMatchObject({ credentials_changed: true });
    });

    it('the database holds only ciphertext, which decrypts to what was given', async () => {
      const rows = await t.ctx.db.db.selectFrom('sources').selectAll().orderBy('name').execute();
      expectClean(JSON.stringify(rows), 'sources table');
      const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
      for (const r of rows) expect(r.auth_secret).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
      expect(byName.tok!.webhook_secret).toMatch(/^v1:/);

      expect(sourceCredentials(t.ctx.box, byName.tok!).secrets).toEqual({ token: TOKEN });
      expect(sourceWebhookSecret(t.ctx.box, byName.tok!)).toBe(WEBHOOK_SECRET);
      expect(sourceCredentials(t.ctx.box, byName.basic!)).toMatchObject({ type: 'token', secrets: { token: ROTATED } });
      expect(sourceCredentials(t.ctx.box, byName.app!)).toMatchObject({ type: 'github_app', app_id: '1', installation_id: '2', secrets: { private_key: PRIVATE_KEY } });
    });

    it('a ciphertext copied onto another source does not decrypt', async () => {
      const tok = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'tok').executeTakeFirstOrThrow();
      const app = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'app').executeTakeFirstOrThrow();
      expect(() => sourceCredentials(t.ctx.box, { ...app, auth_secret: tok.auth_secret })).toThrow();
    });
  });
}
