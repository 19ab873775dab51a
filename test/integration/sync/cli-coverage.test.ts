/**
 * The CLI covers what the API does, with `--output json` for scripts, run as a user runs it
 * (`bin/syncline.js`, compiled) against a listening app and real repositories over HTTP:
 * source add checks the repository at once (repo_not_found / auth_failed, --no-check offline),
 * namespace set changes only the flags given, kinds, resources, deployments, drift, deletes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { api, makeSyncApp, namedToken, ok, workload } from './support.js';

const SECRET = 'cli-coverage-upstream-token-0123456789';

for (const dialect of DIALECTS) {
  describe(`${dialect}: CLI coverage`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let privateServer: GitHttpServer;
    let repo: FixtureRepo;
    let env: Record<string, string>;
    const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);
    const json = async (...args: string[]): Promise<any> => {
      const res = await cli(...args, '--output', 'json');
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.stdout);
    };

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080') }, 'first');
      server = await serveGitHttp(root);
      const privateRoot = await tempDir('syncline-upstream-private-');
      const secret = await makeRepo({ root: privateRoot, name: 'vault' });
      await commitFiles(secret, { 'x.yaml': workload('x', 'port: 1') }, 'first');
      privateServer = await serveGitHttp(privateRoot, { token: SECRET });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      env = { SYNCLINE_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, SYNCLINE_TOKEN: await namedToken(t, 'cli-admin', 'admin') };
    });

    afterAll(async () => {
      await server?.close();
      await privateServer?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('source add checks the repository right away: repo_not_found, auth_failed, and --no-check for offline set-up', async () => {
      const missing = await cli('source', 'add', 'ghost', server.repoUrl('ghost'));
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/repo_not_found: .*source 'ghost' was not added \(use --no-check/);
      expect((await api(t, 'GET', '/sources/ghost')).statusCode).toBe(404);

      const denied = await runCli(['source', 'add', 'vault', privateServer.repoUrl('vault'), '--token-env', 'VAULT_TOKEN'], { ...env, VAULT_TOKEN: `${SECRET}-wrong` });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('auth_failed');
      expect(denied.stderr).not.toContain(SECRET);
      expect((await api(t, 'GET', '/sources/vault')).statusCode).toBe(404);

      const offline = await cli('source', 'add', 'later', server.repoUrl('not-yet'), '--no-check');
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toContain('(not checked)');

      const added = await json('source', 'add', 'shop', server.repoUrl('shop'));
      expect(added).toMatchObject({ name: 'shop', check: { ok: true, default_branch: 'main' } });
      expect((await json('source', 'get', 'shop')).default_branch).toBe('main');
    });

    it('namespace set on an existing namespace changes only the flags given', async () => {
      const created = await json('namespace', 'set', 'cli.prod', '--source', 'shop', '--path', 'prod', '--auto-sync', '--exclude', 'old/**');
      expect(created).toMatchObject({ source: 'shop', branch: 'main', path: 'prod', auto_sync: true, prune: false, exclude: ['old/**'] });
      const pruned = await json('namespace', 'set', 'cli.prod', '--prune');
      expect(pruned).toEqual({ ...created, prune: true, updated_at: expect.any(String) });
      const unpruned = await json('namespace', 'set', 'cli.prod', '--no-prune', '--no-auto-sync');
      expect(unpruned).toMatchObject({ source: 'shop', path: 'prod', prune: false, auto_sync: false, exclude: ['old/**'] });
      expect(await json('namespace', 'get', 'cli.prod')).toMatchObject({ name: 'cli.prod', path: 'prod' });
    });

    it('kinds: list, get, put (file), and --output json', async () => {
      const kinds = await json('kind', 'list');
      expect(kinds.items.map((k: any) => k.name)).toEqual(expect.arrayContaining(['Config', 'Workload', 'Metric']));
      const text = await cli('kind', 'list');
      expect(text.stdout).toMatch(/^NAME\s+API_VERSIONS\s+BUILTIN/m);
      expect((await json('kind', 'get', 'Workload')).schema).toMatchObject({ type: 'object' });
      const file = path.join(await tempDir('syncline-kind-'), 'Gadget.yaml');
      fs.writeFileSync(file, 'schema:\n  type: object\n  properties:\n    size: {type: integer}\napi_versions: [example.com/v1]\n');
      expect(await json('kind', 'put', 'Gadget.example.com', file)).toMatchObject({ name: 'Gadget.example.com', api_versions: ['example.com/v1'] });
      const badFile = path.join(path.dirname(file), 'Bad.yaml');
      fs.writeFileSync(badFile, 'schema: {type: array}\n');
      const bad = await cli('kind', 'put', 'Bad', badFile);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid_kind');
    });

    it('resources, deployments and drift', async () => {
      const sync = await json('sync', 'cli.prod');
      expect(sync).toMatchObject({ status: 'success', skipped_files: [] });
      expect((await json('resources', 'list', 'cli.prod')).items).toEqual([expect.objectContaining({ kind: 'Workload', name: 'api' })]);
      expect(await json('resources', 'get', 'cli.prod', 'Workload', 'api')).toMatchObject({ spec: { port: 8080 } });
      const deployments = await json('deployments', 'cli.prod');
      expect(deployments.items).toEqual([expect.objectContaining({ id: sync.id, status: 'success' })]);
      expect(await json('deployment', sync.id)).toMatchObject({ id: sync.id, results: [expect.objectContaining({ kind: 'Workload' })] });
      const table = await cli('deployments', 'cli.prod');
      expect(table.stdout).toContain(sync.id);

      const inSync = await cli('drift', 'cli.prod');
      expect(inSync.code, inSync.stderr).toBe(0);
      expect(inSync.stdout).toContain('in sync');
      await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9090') }, 'second');
      const drifted = await cli('drift', 'cli.prod');
      expect(drifted.code).toBe(1);
      expect(drifted.stdout).toContain('out of sync');
      expect(drifted.stdout).toContain('/spec/port: 8080 → 9090');
      const report = JSON.parse((await cli('drift', 'cli.prod', '-o', 'json')).stdout);
      expect(report).toMatchObject({ fetch_status: 'ok', plan: { summary: { update: 1 } } });
    });

    it('namespace delete and source delete (confirmed with --yes)', async () => {
      const refused = await cli('source', 'delete', 'shop', '--yes');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('source_in_use');
      expect((await cli('namespace', 'delete', 'cli.prod')).code).not.toBe(0); // --yes is required
      expect(await json('namespace', 'delete', 'cli.prod', '--yes')).toEqual({ deleted: 'cli.prod' });
      expect((await api(t, 'GET', '/namespaces/cli.prod')).statusCode).toBe(404);
      expect((await cli('source', 'delete', 'shop', '--yes')).code).toBe(0);
      expect((await api(t, 'GET', '/sources/shop')).statusCode).toBe(404);
    });

    it('the 401 message is not mangled by redaction', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/namespaces' });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toBe('Missing bearer token (Authorization: Bearer <token>)');
      const cliRes = await runCli(['namespace', 'list'], { ...env, SYNCLINE_TOKEN: 'syl_not-a-real-token-value' });
      expect(cliRes.code).toBe(1);
      expect(cliRes.stderr).toContain('unauthorized: Unknown or revoked token');
      expect(ok(await api(t, 'GET', '/namespaces'))).toMatchObject({ items: expect.any(Array) });
    });
  });
}
