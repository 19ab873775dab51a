/**
 * `syncline plan NS` and `syncline sync NS` (in-process, test/helpers/cli.ts) with SYNCLINE_URL
 * pointing at a listening test app and SYNCLINE_TOKEN: the output shows the diff,
 * the exit code is 0 on success and non-zero on invalid specs or API errors.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { createSource, deployments, liveSnapshot, makeSyncApp, metric, namedToken, putNamespace, resource, workload, y } from './support.js';

const ANSI = /\x1b\[/;

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    let env: Record<string, string>;
    let viewerEnv: Record<string, string>;
    let first: string;
    let second: string;

    const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      first = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 8080'), 'prod/metrics.yml': metric('rps', 'up') }, 'first');
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod' });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      env = { SYNCLINE_URL: url, SYNCLINE_TOKEN: await namedToken(t, 'cli-bot', 'deployer') };
      viewerEnv = { SYNCLINE_URL: url, SYNCLINE_TOKEN: await namedToken(t, 'cli-viewer', 'viewer') };
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('plan shows what a first sync creates; sync applies it; both exit 0', async () => {
      const plan = await cli('plan', 'shop.prod');
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).not.toMatch(ANSI);
      expect(plan.stdout).toContain(`Plan for shop.prod at ${first.slice(0, 12)} (main)`);
      expect(plan.stdout).toContain('+ Workload/api  (prod/api.yaml)');
      expect(plan.stdout).toContain('    /spec/port: 8080');
      expect(plan.stdout).toContain('+ Metric/rps  (prod/metrics.yml)');
      expect(plan.stdout).toContain('2 to create, 0 to update, 0 to delete, 0 unchanged, 0 invalid');
      expect(await deployments(t, 'shop.prod')).toEqual([]);

      const sync = await cli('sync', 'shop.prod');
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toMatch(new RegExp(`^Deployment dep_\\w+: success at ${first.slice(0, 12)} \\(main\\)$`, 'm'));
      expect(sync.stdout).toContain('+ Workload/api');
      expect(sync.stdout).toContain('2 to create, 0 to update, 0 to delete, 0 unchanged, 0 invalid');
      const [dep] = await deployments(t, 'shop.prod');
      expect(dep).toMatchObject({ status: 'success', commit: first, actor: 'cli-bot' });
      expect(sync.stdout).toContain(dep.id);
    });

    it('plan of a new commit shows the field diff; --all lists unchanged resources; --json prints the API plan', async () => {
      second = await commitFiles(repo, { 'prod/api.yaml': workload('api', 'port: 9090') }, 'second');
      const plan = await cli('plan', 'shop.prod');
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(`Plan for shop.prod at ${second.slice(0, 12)} (main)`);
      expect(plan.stdout).toContain('~ Workload/api  (prod/api.yaml)');
      expect(plan.stdout).toContain('    /spec/port: 8080 → 9090');
      expect(plan.stdout).not.toContain('Metric/rps');
      expect(plan.stdout).toContain('0 to create, 1 to update, 0 to delete, 1 unchanged, 0 invalid');

      const all = await cli('plan', 'shop.prod', '--all');
      expect(all.stdout).toContain('= Metric/rps');

      const json = await cli('plan', 'shop.prod', '--json');
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      expect(parsed).toMatchObject({ namespace: 'shop.prod', commit: second, summary: { update: 1, noop: 1 } });

      // An older ref: the plan of a rollback.
      const back = await cli('plan', 'shop.prod', '--ref', first.slice(0, 7));
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toContain(`at ${first.slice(0, 12)} (${first.slice(0, 7)})`);
      expect(back.stdout).toContain('0 to create, 0 to update, 0 to delete, 2 unchanged, 0 invalid');
    });

    it('sync --ref applies that commit and prints the changes', async () => {
      const res = await cli('sync', 'shop.prod', '--ref', second);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain(': success at');
      expect(res.stdout).toContain('    /spec/port: 8080 → 9090');
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(9090);

      const again = await cli('sync', 'shop.prod');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(': noop at');
    });

    it('invalid specs: plan and sync exit non-zero, show file:line:column, and nothing is applied', async () => {
      const live = await liveSnapshot(t, 'shop.prod');
      await commitFiles(repo, { 'prod/bad.yaml': y('kind: Workload', 'name: bad', 'spec:', '  port: "80"'), 'prod/api.yaml': workload('api', 'port: 1') }, 'bad');

      const plan = await cli('plan', 'shop.prod');
      expect(plan.code).not.toBe(0);
      expect(plan.stdout).toContain('! Workload/bad  (prod/bad.yaml)');
      expect(plan.stdout).toMatch(/prod\/bad\.yaml:4:3: \/spec\/port: must be an integer/);
      expect(plan.stdout).toContain('1 invalid');
      expect(plan.stderr).toContain('plan has invalid documents');

      const sync = await cli('sync', 'shop.prod');
      expect(sync.code).not.toBe(0);
      expect(sync.stdout).toMatch(/^Deployment dep_\w+: failed at/m);
      expect(sync.stdout).toMatch(/prod\/bad\.yaml:4:3:/);
      expect(sync.stderr).toContain('invalid_specs');
      expect(await liveSnapshot(t, 'shop.prod')).toEqual(live);
      expect((await deployments(t, 'shop.prod'))[0]).toMatchObject({ status: 'failed', actor: 'cli-bot' });
    });

    it('API errors exit non-zero with the code: an unknown ref, and a viewer trying to sync', async () => {
      const unknown = await cli('sync', 'shop.prod', '--ref', 'nope');
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain('ref_not_found');

      const viewerPlan = await runCli(['plan', 'shop.prod', '--ref', second], viewerEnv);
      expect(viewerPlan.code, viewerPlan.stderr).toBe(0);
      const viewerSync = await runCli(['sync', 'shop.prod', '--ref', second], viewerEnv);
      expect(viewerSync.code).not.toBe(0);
      expect(viewerSync.stderr).toContain('forbidden');
    });
  });
}
