import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { commitFiles, makeRepo, serveGitHttp, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';

const kindBody = (name: string) => JSON.parse(fs.readFileSync(path.join('examples/kinds', `${name}.json`), 'utf8'));

describe('sync smoke', () => {
  let t: TestApp;
  let repo: FixtureRepo;
  let server: GitHttpServer;
  beforeAll(async () => {
    t = await makeTestApp('sqlite', { settings: { allowed_hosts: ['127.0.0.1'] } });
    repo = await makeRepo();
    await commitFiles(repo, {
      'shop/prod/api.yaml': 'kind: Workload\nname: api\nspec:\n  port: 8080\n  deploy_strategy: ""\n',
      'shop/prod/metrics.yml': 'kind: Metric\nname: rps\nspec:\n  name: rps\n  query: sum(rate(x[1m]))\n',
    }, 'first');
    server = await serveGitHttp(repo.root);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('syncs', async () => {
    const { app } = t;
    for (const k of ['Workload', 'Metric']) {
      const r = await app.inject({ method: 'PUT', url: `/api/v1/kinds/${k}`, headers: t.auth(), payload: kindBody(k) });
      expect(r.statusCode, r.body).toBe(200);
    }
    let r = await app.inject({ method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name: 'shop', url: server.repoUrl(repo.name) } });
    expect(r.statusCode, r.body).toBe(201);
    r = await app.inject({ method: 'PUT', url: '/api/v1/namespaces/shop.prod', headers: t.auth(), payload: { source: 'shop', branch: 'main', path: 'shop/prod' } });
    expect(r.statusCode, r.body).toBe(200);
    r = await app.inject({ method: 'POST', url: '/api/v1/namespaces/shop.prod/plan', headers: t.auth(), payload: {} });
    console.log(r.body);
    expect(r.statusCode, r.body).toBe(200);
    r = await app.inject({ method: 'POST', url: '/api/v1/namespaces/shop.prod/sync-from-git', headers: t.auth(), payload: {} });
    console.log(r.body);
    expect(r.statusCode, r.body).toBe(200);
    r = await app.inject({ method: 'POST', url: '/api/v1/namespaces/shop.prod/sync-from-git', headers: t.auth(), payload: {} });
    expect(r.json().status).toBe('noop');
    r = await app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod/resources/Workload/api', headers: t.auth() });
    console.log(r.body, r.headers.etag);
    r = await app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod/drift', headers: t.auth() });
    console.log(r.body);
  });
});
