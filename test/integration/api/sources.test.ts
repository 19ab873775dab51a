import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { auditEvents, createSource, expectError, expectNothingWritten, putNamespace, REPO_URL, TEST_ALLOWED_HOSTS } from './support.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEplantedkeymaterial\n-----END RSA PRIVATE KEY-----\n';

for (const dialect of DIALECTS) {
  describe(`${dialect}: /api/v1/sources`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: TEST_ALLOWED_HOSTS, public_url: 'https://syncline.example.com/' } });
    });
    afterAll(async () => {
      await t?.close();
    });

    const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: payload as object });
    const patch = (name: string, payload: unknown) =>
      t.app.inject({ method: 'PATCH', url: `/api/v1/sources/${name}`, headers: t.auth(), payload: payload as object });
    const get = (name: string) => t.app.inject({ method: 'GET', url: `/api/v1/sources/${name}`, headers: t.auth() });

    describe('POST', () => {
      it('creates a source with the contract shape and safe defaults', async () => {
        const res = await post({ name: 'shop', url: REPO_URL });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json()).toEqual({
          name: 'shop',
          url: REPO_URL,
          provider: 'github',
          auth: { type: 'none', configured: false, username: null },
          mirror: { enabled: false, access: 'token', slug: 'shop', url: null, status: 'disabled' },
          api_url: 'https://api.github.com',
          webhook_secret_configured: false,
          webhook: { secret_configured: false },
          default_branch: null,
          namespaces: null,
          created_at: expect.any(String),
          updated_at: expect.any(String),
        });
        expect(new Date(res.json().created_at).toString()).not.toBe('Invalid Date');
      });

      it('infers the provider from the host, and takes an explicit one', async () => {
        expect((await createSource(t, { name: 'on-gitlab', url: 'https://gitlab.com/acme/app.git' })).provider).toBe('gitlab');
        expect((await createSource(t, { name: 'plain', url: 'https://git.example.com/acme/app.git' })).provider).toBe('git');
        expect((await createSource(t, { name: 'self-gitea', url: 'https://git.example.com/acme/b.git', provider: 'gitea' })).provider).toBe('gitea');
      });

      it('accepts https, http, ssh:// and scp-style URLs, kept as written', async () => {
        for (const [name, url] of [
          ['u-http', 'http://git.example.com/acme/app.git'],
          ['u-ssh', 'ssh://git@git.example.com:2222/acme/app.git'],
          ['u-scp', 'git@github.com:acme/app.git'],
        ] as const) {
          const res = await post({ name, url });
          expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
          expect(res.json().url).toBe(url);
        }
      });

      it('refuses unsupported schemes and URLs with embedded credentials', async () => {
        expectError(await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'ftp', url: 'ftp://git.example.com/x.git' } }), 400, 'invalid_url');
        expectError(await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'bad', url: 'not a url' } }), 400, 'invalid_url');
        expectError(await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'opt', url: '--upload-pack=touch /tmp/x' } }), 400, 'invalid_url');
        for (const url of ['https://bob:hunter2-secret@github.com/acme/x.git', 'ssh://git:hunter2-secret@git.example.com/acme/x.git']) {
          const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'creds', url } });
          expectError(res, 400, 'invalid_url');
          expect(res.body).not.toContain('hunter2-secret');
        }
      });

      it('refuses URLs git would read differently from the guard (backslash, whitespace, control characters), on POST and PATCH', async () => {
        // WHATWG reads `github.com\@127.0.0.1` as host github.com (allow-listed); libcurl reads
        // host 127.0.0.1. Nothing stored, so nothing can ever connect there.
        const differential = [
          'http://github.com\\@127.0.0.1:8080/acme/shop.git',
          'http://github.com\\@[::1]:8080/acme/shop.git',
          'https://github.com\\acme/shop.git',
          'https://github.com/acme/shop.git ',
          'https://github.com/acme/\tshop.git',
          'https://github.com/acme/sh\u0001op.git',
        ];
        for (const url of differential) {
          const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'differ', url } });
          expect(res.statusCode, `${JSON.stringify(url)}: ${res.body}`).toBe(400);
          expectError(res, 400, 'invalid_url');
        }
        await createSource(t, { name: 'differ-patch', url: REPO_URL });
        for (const url of differential) {
          const res = await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/differ-patch', headers: t.auth(), payload: { url } });
          expectError(res, 400, 'invalid_url');
        }
        expect((await get('differ-patch')).json().url).toBe(REPO_URL);
      });

      it('reports credentials as configured, never their values', async () => {
        const tokenSrc = await createSource(t, { name: 'with-token', url: REPO_URL, auth: { type: 'token', token: 'ghp_plantedvalue123' } });
        expect(tokenSrc.auth).toEqual({ type: 'token', configured: true, username: null });
        const basic = await createSource(t, {
          name: 'with-basic',
          url: 'https://git.example.com/acme/app.git',
          auth: { type: 'basic', username: 'deploy', password: 'pw-plantedvalue' },
          webhook_secret: 'whsec-plantedvalue',
        });
        expect(basic.auth).toEqual({ type: 'basic', configured: true, username: 'deploy' });
        expect(basic.webhook_secret_configured).toBe(true);
        const app = await createSource(t, {
          name: 'with-app',
          url: 'https://github.com/acme/app.git',
          auth: { type: 'github_app', app_id: 12345, installation_id: '678', private_key: PEM },
        });
        expect(app.auth).toEqual({ type: 'github_app', configured: true, username: null });
        for (const body of [tokenSrc, basic, app]) expect(JSON.stringify(body)).not.toMatch(/plantedvalue|BEGIN RSA/);
      });

      it('checks the auth fields fit the auth type, writing nothing', async () => {
        const cases: [unknown, string][] = [
          [{ type: 'token' }, 'auth.token'],
          [{ type: 'basic', username: 'u' }, 'auth.password'],
          [{ type: 'none', token: 'abcdefgh' }, 'auth.token'],
          [{ type: 'token', token: 'abcdefgh', private_key: PEM }, 'auth.private_key'],
          [{ type: 'github_app', app_id: 1, installation_id: 2 }, 'auth.private_key'],
          [{ type: 'github_app', app_id: 1, installation_id: 2, private_key: 'not a pem' }, 'auth.private_key'],
          [{ type: 'oauth' }, 'auth.type'],
        ];
        for (const [auth, field] of cases) {
          const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'auth-case', url: REPO_URL, auth } });
          expect(expectError(res, 400, 'invalid_request').details.field, JSON.stringify(auth)).toBe(field);
        }
      });

      it('validates the name against the contract pattern', async () => {
        for (const name of ['Shop', '-shop', 'shop.prod', '', 'a'.repeat(64)]) {
          const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name, url: REPO_URL } });
          expect(expectError(res, 400, 'invalid_request').details.field).toBe('name');
        }
        expect((await post({ name: 'a'.repeat(63), url: REPO_URL })).statusCode).toBe(201);
      });

      it('refuses a duplicate name with 409 and keeps the original', async () => {
        await createSource(t, { name: 'dup', url: REPO_URL });
        const res = await expectNothingWritten(t, { method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'dup', url: 'https://gitlab.com/x/y.git' } });
        expectError(res, 409, 'already_exists');
        expect((await get('dup')).json().url).toBe(REPO_URL);
      });

      it('enables a mirror with a slug, which must be unique', async () => {
        const src = await createSource(t, { name: 'mirrored', url: REPO_URL, mirror: { enabled: true, access: 'public', slug: 'Shop.Mirror' } });
        expect(src.mirror).toEqual({ enabled: true, access: 'public', slug: 'Shop.Mirror', url: null, status: 'pending' });
        const clash = await expectNothingWritten(t, {
          method: 'POST',
          url: '/api/v1/sources',
          headers: t.auth(),
          payload: { name: 'other', url: REPO_URL, mirror: { enabled: true, slug: 'Shop.Mirror' } },
        });
        expectError(clash, 409, 'conflict');
        // A source's name is its default slug, so a slug may not take another source's name either.
        await createSource(t, { name: 'named-slug', url: REPO_URL });
        const byName = await expectNothingWritten(t, {
          method: 'POST',
          url: '/api/v1/sources',
          headers: t.auth(),
          payload: { name: 'other', url: REPO_URL, mirror: { enabled: true, slug: 'named-slug' } },
        });
        expectError(byName, 409, 'conflict');
        const badSlug = await post({ name: 'other', url: REPO_URL, mirror: { enabled: true, slug: '.hidden' } });
        expect(expectError(badSlug, 400, 'invalid_request').details.field).toBe('mirror.slug');
      });
    });

    describe('GET', () => {
      it('lists sources by name', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/sources', headers: t.auth() });
        expect(res.statusCode).toBe(200);
        const names = res.json().items.map((s: any) => s.name);
        expect(names).toContain('shop');
        expect(names).toEqual([...names].sort());
      });

      it('gets one source, and 404 for an unknown one', async () => {
        const res = await get('shop');
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ name: 'shop', url: REPO_URL, provider: 'github' });
        const missing = expectError(await get('nope'), 404, 'not_found');
        expect(missing.message).toContain('nope');
      });
    });

    describe('PATCH', () => {
      it('changes only the given fields and records before/after in the audit', async () => {
        await createSource(t, { name: 'patchme', url: REPO_URL, auth: { type: 'token', token: 'tok-plantedvalue' } });
        // Same origin (scheme, host, port): the credentials stay.
        const res = await patch('patchme', { url: 'https://github.com/acme/other.git', provider: 'gitlab' });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ name: 'patchme', url: 'https://github.com/acme/other.git', provider: 'gitlab', auth: { type: 'token', configured: true } });
        expect((await get('patchme')).json().url).toBe('https://github.com/acme/other.git');
        const [event] = await auditEvents(t, '?limit=1');
        expect(event).toMatchObject({
          action: 'source.update',
          target: 'source/patchme',
          details: { before: { url: REPO_URL }, after: { url: 'https://github.com/acme/other.git' }, credentials_changed: false, credentials_dropped: false },
        });
      });

      it('a PATCH that moves the URL to another origin drops the stored credentials (audited) unless it supplies new ones', async () => {
        await createSource(t, { name: 'moved', url: REPO_URL, auth: { type: 'token', token: 'tok-plantedvalue' } });
        for (const url of ['https://gitlab.com/acme/shop.git', 'http://gitlab.com/acme/shop.git', 'https://gitlab.com:8443/acme/shop.git', 'git@gitlab.com:acme/shop.git']) {
          expect((await patch('moved', { auth: { type: 'token', token: 'tok-plantedvalue' }, url: REPO_URL })).statusCode).toBe(200);
          const res = await patch('moved', { url });
          expect(res.statusCode, res.body).toBe(200);
          expect(res.json().auth, url).toEqual({ type: 'none', configured: false, username: null });
          const row = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'moved').executeTakeFirstOrThrow();
          expect(row.auth_secret).toBeNull();
          const [event] = await auditEvents(t, '?limit=1');
          expect(event.details).toMatchObject({ origin_changed: true, credentials_dropped: true, credentials_changed: true });
        }
        // New credentials in the same request are kept.
        const both = await patch('moved', { url: REPO_URL, auth: { type: 'token', token: 'tok-newvalue-1234' } });
        expect(both.json().auth).toMatchObject({ type: 'token', configured: true });
        const [event] = await auditEvents(t, '?limit=1');
        expect(event.details).toMatchObject({ origin_changed: true, credentials_dropped: false, credentials_changed: true });
      });

      it('replaces credentials and clears the webhook secret', async () => {
        await createSource(t, { name: 'rotate', url: REPO_URL, auth: { type: 'token', token: 'tok-plantedvalue' }, webhook_secret: 'wh-plantedvalue' });
        const res = await patch('rotate', { auth: { type: 'basic', username: 'bot', password: 'pw-plantedvalue' }, webhook_secret: null });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().auth).toEqual({ type: 'basic', configured: true, username: 'bot' });
        expect(res.json().webhook_secret_configured).toBe(false);
        const none = await patch('rotate', { auth: { type: 'none' } });
        expect(none.json().auth).toEqual({ type: 'none', configured: false, username: null });
        const row = await t.ctx.db.db.selectFrom('sources').selectAll().where('name', '=', 'rotate').executeTakeFirstOrThrow();
        expect(row.auth_secret).toBeNull();
        expect(row.webhook_secret).toBeNull();
      });

      it('a namespace-scoped admin binds only sources whose namespaces patterns cover the namespace (403 otherwise)', async () => {
        await createSource(t, { name: 'infra-private', url: 'https://github.com/acme/infra.git' });
        await createSource(t, { name: 'shop-shared', url: 'https://github.com/acme/shop-cfg.git', namespaces: ['shop.*'] });
        const shopAdmin = await t.token('admin', ['shop.*']);
        const put = (ns: string, body: Record<string, unknown>, token = shopAdmin) =>
          t.app.inject({ method: 'PUT', url: `/api/v1/namespaces/${ns}`, headers: t.auth(token), payload: body });
        // The attack from the report: a shop.* admin binding infra's private source to read it.
        const stolen = await expectNothingWritten(t, { method: 'PUT', url: '/api/v1/namespaces/shop.steal', headers: t.auth(shopAdmin), payload: { source: 'infra-private', path: 'x' } });
        expectError(stolen, 403, 'forbidden');
        // Re-pointing an existing shop namespace at it is refused the same way.
        expect((await put('shop.ok', { source: 'shop-shared', path: 'x' })).statusCode).toBe(200);
        expectError(await put('shop.ok', { source: 'infra-private', path: 'x' }), 403, 'forbidden');
        // A source whose patterns do not cover the namespace: 403; covering: fine; unscoped admin: anything.
        await createSource(t, { name: 'billing-only', url: 'https://github.com/acme/billing.git', namespaces: ['billing.*'] });
        expectError(await put('shop.b', { source: 'billing-only', path: 'x' }), 403, 'forbidden');
        expect((await put('shop.infra', { source: 'infra-private', path: 'x' }, ADMIN_TOKEN)).statusCode).toBe(200);
        // Editing a namespace's other fields keeps a binding an unscoped admin made.
        expect((await put('shop.infra', { source: 'infra-private', path: 'y' })).statusCode).toBe(200);
        expect((await get('shop-shared')).json().namespaces).toEqual(['shop.*']);
        const cleared = await patch('shop-shared', { namespaces: null });
        expect(cleared.json().namespaces).toBeNull();
      });

      it('turns the mirror on (pending) and off', async () => {
        await createSource(t, { name: 'mirror-toggle', url: REPO_URL });
        const on = await patch('mirror-toggle', { mirror: { enabled: true } });
        expect(on.json().mirror).toMatchObject({ enabled: true, status: 'pending', slug: 'mirror-toggle' });
        const off = await patch('mirror-toggle', { mirror: { enabled: false } });
        expect(off.json().mirror).toMatchObject({ enabled: false, status: 'disabled' });
      });

      it('refuses a slug already in use, and leaves the source unchanged', async () => {
        await createSource(t, { name: 'slug-a', url: REPO_URL });
        await createSource(t, { name: 'slug-b', url: REPO_URL });
        const res = await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/slug-b', headers: t.auth(), payload: { mirror: { slug: 'slug-a' } } });
        expectError(res, 409, 'conflict');
        expect((await get('slug-b')).json().mirror.slug).toBe('slug-b');
      });

      it('404 for an unknown source', async () => {
        expectError(await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/nope', headers: t.auth(), payload: { provider: 'git' } }), 404, 'not_found');
      });

      it('validates the new URL like POST does', async () => {
        const res = await expectNothingWritten(t, { method: 'PATCH', url: '/api/v1/sources/shop', headers: t.auth(), payload: { url: 'ftp://github.com/x' } });
        expectError(res, 400, 'invalid_url');
        expect((await get('shop')).json().url).toBe(REPO_URL);
      });
    });

    describe('DELETE', () => {
      it('deletes a source, audits it, and then 404s', async () => {
        await createSource(t, { name: 'gone', url: REPO_URL });
        const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/sources/gone', headers: t.auth() });
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');
        expectError(await get('gone'), 404, 'not_found');
        const [event] = await auditEvents(t, '?limit=1');
        expect(event).toMatchObject({ actor: 'admin', action: 'source.delete', target: 'source/gone', details: { url: REPO_URL } });
        expectError(await expectNothingWritten(t, { method: 'DELETE', url: '/api/v1/sources/gone', headers: t.auth() }), 404, 'not_found');
      });

      it('refuses to delete a source a namespace uses (409 source_in_use)', async () => {
        await createSource(t, { name: 'in-use', url: REPO_URL });
        await putNamespace(t, 'shop.prod', { source: 'in-use', branch: 'main', path: 'config' });
        const res = await expectNothingWritten(t, { method: 'DELETE', url: '/api/v1/sources/in-use', headers: t.auth() });
        expect(expectError(res, 409, 'source_in_use').details).toEqual({ namespaces: ['shop.prod'] });
        expect((await get('in-use')).statusCode).toBe(200);
      });
    });
  });
}
