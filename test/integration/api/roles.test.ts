/**
 * The role matrix: every kind of caller against every endpoint class, asserting 401 vs 403 vs 2xx
 * exactly as API.md and docs/security.md say.
 *
 * - no / malformed / unknown / revoked token → 401 on every endpoint;
 * - read (viewer+): sources, kinds, namespaces;
 * - admin on global objects (tokens, source and kind writes, audit): admin with an unscoped token;
 * - namespace-scoped (the `{ns}` routes: read, plan, drift, resources, deployments; sync needs a
 *   deployer; writes an admin): the role, and the token's namespace patterns.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, expectError, putNamespace } from './support.js';

type Outcome = 401 | 403 | 'ok';
type Caller =
  | 'no token'
  | 'malformed header'
  | 'unknown token'
  | 'revoked token'
  | 'viewer'
  | 'deployer'
  | 'admin'
  | 'root admin'
  | 'admin scoped to shop.*'
  | 'admin scoped to *'
  | 'viewer scoped to shop.*';

type EndpointClass =
  | 'read'
  | 'admin'
  | 'ns-read in scope'
  | 'ns-read out of scope'
  | 'ns-deploy in scope'
  | 'ns-deploy out of scope'
  | 'ns-admin in scope'
  | 'ns-admin out of scope';

interface Endpoint {
  label: string;
  cls: EndpointClass;
  /** Builds the request, creating whatever it needs (as root) so a 2xx is possible. */
  request(t: TestApp): Promise<InjectOptions>;
  /** For endpoints whose success needs the network: only 401/403 vs "got past auth" is asserted. */
  passOnly?: boolean;
}

let seq = 0;
const uniq = (p: string) => `${p}-${++seq}`;

const ENDPOINTS: Endpoint[] = [
  { label: 'GET /sources', cls: 'read', request: async () => ({ method: 'GET', url: '/api/v1/sources' }) },
  { label: 'GET /sources/{name}', cls: 'read', request: async () => ({ method: 'GET', url: '/api/v1/sources/shop' }) },
  { label: 'GET /kinds', cls: 'read', request: async () => ({ method: 'GET', url: '/api/v1/kinds' }) },
  { label: 'GET /kinds/{kind}', cls: 'read', request: async () => ({ method: 'GET', url: '/api/v1/kinds/Config' }) },
  { label: 'GET /namespaces', cls: 'read', request: async () => ({ method: 'GET', url: '/api/v1/namespaces' }) },

  { label: 'POST /tokens', cls: 'admin', request: async () => ({ method: 'POST', url: '/api/v1/tokens', payload: { name: uniq('t'), role: 'admin' } }) },
  { label: 'GET /tokens', cls: 'admin', request: async () => ({ method: 'GET', url: '/api/v1/tokens' }) },
  {
    label: 'DELETE /tokens/{id}',
    cls: 'admin',
    async request(t) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: uniq('victim'), role: 'viewer' } });
      return { method: 'DELETE', url: `/api/v1/tokens/${res.json().id}` };
    },
  },
  {
    label: 'POST /sources',
    cls: 'admin',
    request: async () => ({ method: 'POST', url: '/api/v1/sources', payload: { name: uniq('src'), url: 'https://git.example.com/a/b.git' } }),
  },
  { label: 'PATCH /sources/{name}', cls: 'admin', request: async () => ({ method: 'PATCH', url: '/api/v1/sources/shop', payload: { provider: 'git' } }) },
  {
    label: 'DELETE /sources/{name}',
    cls: 'admin',
    async request(t) {
      const name = uniq('del');
      await createSource(t, { name, url: 'https://git.example.com/a/b.git' });
      return { method: 'DELETE', url: `/api/v1/sources/${name}` };
    },
  },
  // git.invalid never resolves, so an authorised check fails fast with a git error, not 401/403.
  { label: 'POST /sources/{name}/check', cls: 'admin', passOnly: true, request: async () => ({ method: 'POST', url: '/api/v1/sources/nowhere/check', payload: {} }) },
  { label: 'PUT /kinds/{kind}', cls: 'admin', request: async () => ({ method: 'PUT', url: '/api/v1/kinds/Service', payload: { schema: { type: 'object' } } }) },
  { label: 'GET /audit', cls: 'admin', request: async () => ({ method: 'GET', url: '/api/v1/audit' }) },

  { label: 'GET /namespaces/{ns} (shop.prod)', cls: 'ns-read in scope', request: async () => ({ method: 'GET', url: '/api/v1/namespaces/shop.prod' }) },
  { label: 'GET /namespaces/{ns} (billing.prod)', cls: 'ns-read out of scope', request: async () => ({ method: 'GET', url: '/api/v1/namespaces/billing.prod' }) },
  // The git-driven routes use namespaces bound to git.invalid: past auth, they fail in git, never 401/403.
  ...(['shop', 'billing'] as const).flatMap((p): Endpoint[] => {
    const read: EndpointClass = p === 'shop' ? 'ns-read in scope' : 'ns-read out of scope';
    const deploy: EndpointClass = p === 'shop' ? 'ns-deploy in scope' : 'ns-deploy out of scope';
    return [
      { label: `POST /namespaces/{ns}/plan (${p}.git)`, cls: read, passOnly: true, request: async () => ({ method: 'POST', url: `/api/v1/namespaces/${p}.git/plan`, payload: {} }) },
      { label: `GET /namespaces/{ns}/drift (${p}.git)`, cls: read, passOnly: true, request: async () => ({ method: 'GET', url: `/api/v1/namespaces/${p}.git/drift` }) },
      { label: `GET /namespaces/{ns}/resources (${p}.prod)`, cls: read, request: async () => ({ method: 'GET', url: `/api/v1/namespaces/${p}.prod/resources` }) },
      // No such resource: past auth it is a 404.
      { label: `GET /namespaces/{ns}/resources/{kind}/{name} (${p}.prod)`, cls: read, passOnly: true, request: async () => ({ method: 'GET', url: `/api/v1/namespaces/${p}.prod/resources/Config/nope` }) },
      { label: `GET /namespaces/{ns}/deployments (${p}.prod)`, cls: read, request: async () => ({ method: 'GET', url: `/api/v1/namespaces/${p}.prod/deployments` }) },
      { label: `POST /namespaces/{ns}/sync-from-git (${p}.git)`, cls: deploy, passOnly: true, request: async () => ({ method: 'POST', url: `/api/v1/namespaces/${p}.git/sync-from-git`, payload: {} }) },
    ];
  }),
  {
    label: 'PUT /namespaces/{ns} (shop.*)',
    cls: 'ns-admin in scope',
    request: async () => ({ method: 'PUT', url: `/api/v1/namespaces/shop.${uniq('n')}`, payload: { source: 'shop', path: 'x' } }),
  },
  {
    label: 'DELETE /namespaces/{ns} (shop.*)',
    cls: 'ns-admin in scope',
    async request(t) {
      const ns = `shop.${uniq('d')}`;
      await putNamespace(t, ns, { source: 'shop' });
      return { method: 'DELETE', url: `/api/v1/namespaces/${ns}` };
    },
  },
  {
    label: 'PUT /namespaces/{ns} (billing.*)',
    cls: 'ns-admin out of scope',
    request: async () => ({ method: 'PUT', url: `/api/v1/namespaces/billing.${uniq('n')}`, payload: {} }),
  },
  {
    label: 'DELETE /namespaces/{ns} (billing.*)',
    cls: 'ns-admin out of scope',
    async request(t) {
      const ns = `billing.${uniq('d')}`;
      await putNamespace(t, ns, {});
      return { method: 'DELETE', url: `/api/v1/namespaces/${ns}` };
    },
  },
];

const ALL_401: Record<EndpointClass, Outcome> = {
  read: 401,
  admin: 401,
  'ns-read in scope': 401,
  'ns-read out of scope': 401,
  'ns-deploy in scope': 401,
  'ns-deploy out of scope': 401,
  'ns-admin in scope': 401,
  'ns-admin out of scope': 401,
};
const READER: Record<EndpointClass, Outcome> = {
  read: 'ok',
  admin: 403,
  'ns-read in scope': 'ok',
  'ns-read out of scope': 'ok',
  'ns-deploy in scope': 403,
  'ns-deploy out of scope': 403,
  'ns-admin in scope': 403,
  'ns-admin out of scope': 403,
};
const DEPLOYER: Record<EndpointClass, Outcome> = { ...READER, 'ns-deploy in scope': 'ok', 'ns-deploy out of scope': 'ok' };
const FULL_ADMIN: Record<EndpointClass, Outcome> = {
  read: 'ok',
  admin: 'ok',
  'ns-read in scope': 'ok',
  'ns-read out of scope': 'ok',
  'ns-deploy in scope': 'ok',
  'ns-deploy out of scope': 'ok',
  'ns-admin in scope': 'ok',
  'ns-admin out of scope': 'ok',
};

const EXPECTED: Record<Caller, Record<EndpointClass, Outcome>> = {
  'no token': ALL_401,
  'malformed header': ALL_401,
  'unknown token': ALL_401,
  'revoked token': ALL_401,
  viewer: READER,
  deployer: DEPLOYER,
  admin: FULL_ADMIN,
  'root admin': FULL_ADMIN,
  'admin scoped to *': FULL_ADMIN,
  'admin scoped to shop.*': {
    read: 'ok',
    admin: 403,
    'ns-read in scope': 'ok',
    'ns-read out of scope': 403,
    'ns-deploy in scope': 'ok',
    'ns-deploy out of scope': 403,
    'ns-admin in scope': 'ok',
    'ns-admin out of scope': 403,
  },
  'viewer scoped to shop.*': {
    read: 'ok',
    admin: 403,
    'ns-read in scope': 'ok',
    'ns-read out of scope': 403,
    'ns-deploy in scope': 403,
    'ns-deploy out of scope': 403,
    'ns-admin in scope': 403,
    'ns-admin out of scope': 403,
  },
};

for (const dialect of DIALECTS) {
  describe(`${dialect}: role matrix`, () => {
    let t: TestApp;
    const headers = {} as Record<Caller, Record<string, string>>;

    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: ['git.example.com', 'git.invalid'] } });
      // shop.* admins may bind `shop` (its namespaces patterns cover them); see sources.test for the 403.
      await createSource(t, { name: 'shop', url: 'https://git.example.com/acme/shop.git', namespaces: ['shop.*'] });
      await createSource(t, { name: 'nowhere', url: 'https://git.invalid/acme/shop.git' });
      await putNamespace(t, 'shop.prod', { source: 'shop' });
      await putNamespace(t, 'billing.prod', { source: 'shop' });
      await putNamespace(t, 'shop.git', { source: 'nowhere' });
      await putNamespace(t, 'billing.git', { source: 'nowhere' });
      const revoked = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: t.auth(), payload: { name: 'old', role: 'admin' } });
      await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${revoked.json().id}`, headers: t.auth() });

      headers['no token'] = {};
      headers['malformed header'] = { authorization: `Token ${ADMIN_TOKEN}` };
      headers['unknown token'] = t.auth('syl_not-a-real-token-at-all');
      headers['revoked token'] = t.auth(revoked.json().token);
      headers.viewer = t.auth(await t.token('viewer'));
      headers.deployer = t.auth(await t.token('deployer'));
      headers.admin = t.auth(await t.token('admin'));
      headers['root admin'] = t.auth(ADMIN_TOKEN);
      headers['admin scoped to shop.*'] = t.auth(await t.token('admin', ['shop.*']));
      headers['admin scoped to *'] = t.auth(await t.token('admin', ['*']));
      headers['viewer scoped to shop.*'] = t.auth(await t.token('viewer', ['shop.*']));
    });
    afterAll(async () => {
      await t?.close();
    });

    for (const caller of Object.keys(EXPECTED) as Caller[]) {
      describe(caller, () => {
        for (const ep of ENDPOINTS) {
          const want = EXPECTED[caller][ep.cls];
          it(`${ep.label} → ${want === 'ok' ? '2xx' : want}`, async () => {
            const req = await ep.request(t);
            const res = await t.app.inject({ ...req, headers: { ...(req.headers as object), ...headers[caller] } });
            if (want === 401) expectError(res, 401, 'unauthorized');
            else if (want === 403) expectError(res, 403, 'forbidden');
            else if (ep.passOnly) expect([401, 403], res.body).not.toContain(res.statusCode);
            else {
              expect(res.statusCode, res.body).toBeGreaterThanOrEqual(200);
              expect(res.statusCode, res.body).toBeLessThan(300);
            }
          });
        }
      });
    }

    it('a scoped token sees only its namespaces in lists', async () => {
      const scoped = await t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: headers['viewer scoped to shop.*'] });
      const names: string[] = scoped.json().items.map((n: any) => n.name);
      expect(names).toContain('shop.prod');
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.startsWith('shop.'))).toBe(true);
      const all = await t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: headers.viewer });
      expect(all.json().items.map((n: any) => n.name)).toContain('billing.prod');
    });

    it('an exact-name scope reaches that namespace only', async () => {
      const exact = t.auth(await t.token('viewer', ['shop.prod']));
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod', headers: exact })).statusCode).toBe(200);
      await putNamespace(t, 'shop.prod2', {});
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod2', headers: exact }), 403, 'forbidden');
      const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: exact })).json().items;
      expect(listed.map((n: any) => n.name)).toEqual(['shop.prod']);
    });

    it('a scoped admin cannot mint a wider token', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: headers['admin scoped to shop.*'],
        payload: { name: 'escape', role: 'admin' },
      });
      expectError(res, 403, 'forbidden');
      const tokens = (await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth() })).json().items;
      expect(tokens.map((x: any) => x.name)).not.toContain('escape');
    });

    it('403 names the missing role; 401 does not reveal whether a token existed', async () => {
      const viewer = await t.app.inject({ method: 'PUT', url: '/api/v1/kinds/Service', headers: headers.viewer, payload: { schema: { type: 'object' } } });
      expect(expectError(viewer, 403, 'forbidden').details).toEqual({ required_role: 'admin' });
      const revoked = expectError(await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: headers['revoked token'] }), 401, 'unauthorized');
      const unknown = expectError(await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: headers['unknown token'] }), 401, 'unauthorized');
      expect(revoked).toEqual(unknown);
    });

    it('authentication comes before the body is looked at', async () => {
      // An unauthenticated request with a broken body is 401, not 400: nothing about the body leaks.
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sources',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": ',
      });
      expectError(res, 401, 'unauthorized');
      const viewer = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sources',
        headers: { ...headers.viewer, 'content-type': 'application/json' },
        payload: '{"bogus": true}',
      });
      expectError(viewer, 403, 'forbidden');
    });
  });
}
