/**
 * Syncing at a ref against real repos served over smart HTTP on 127.0.0.1: every way of naming a
 * commit (full SHA, abbreviated SHA, branch, lightweight and annotated tag), what a deployment
 * records, and each 400 the contract lists — plus force-pushed branches, the repository root as
 * the path and a path naming one file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onGitSpawn } from '../../../src/git/runner.js';
import { syncNamespace } from '../../../src/sync/service.js';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  forcePush,
  makeRepo,
  serveGitHttp,
  tempDir,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import {
  api,
  createSource,
  deployments,
  drift,
  expectError,
  getNamespace,
  liveSnapshot,
  makeSyncApp,
  metric,
  namedToken,
  ok,
  planReq,
  putNamespace,
  resource,
  resources,
  sync,
  syncReq,
  workload,
  y,
} from './support.js';

const ADA = { name: 'Ada Lovelace', email: 'ada@example.test' };
const GRACE = { name: 'Grace Hopper', email: 'grace@example.test' };

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let shop: FixtureRepo;
    /** first → second on main; `feature` branches off second. */
    let first: string;
    let second: string;
    let featureCommit: string;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      shop = await makeRepo({ root, name: 'shop' });
      first = await commitFiles(
        shop,
        {
          'shop/prod/api.yaml': workload('api', 'port: 8080'),
          'shop/prod/metrics.yml': metric('rps', 'sum(rate(http_requests_total[1m]))'),
          'shop/prod/README.md': 'not a spec: ignored\n',
          'shop/prod-old/legacy.yaml': workload('legacy', 'port: 1'),
          '.syncline.yml': y(workload('site', 'port: 80').trimEnd(), '---', metric('visits', 'sum(visits)').trimEnd()),
          'config/syncline.conf': workload('conf', 'port: 81'),
        },
        'first',
        { author: ADA },
      );
      second = await commitFiles(shop, { 'shop/prod/api.yaml': workload('api', 'port: 9090') }, 'second', { author: GRACE });
      featureCommit = await commitFiles(shop, { 'shop/prod/api.yaml': workload('api', 'port: 7070') }, 'feature work', { branch: 'feature' });
      await createTag(shop, 'v1', { ref: first });
      await createTag(shop, 'v2', { ref: second, message: 'release 2' });
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'shop/prod' });
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('syncs the tracked branch head and records the commit author and the actor', async () => {
      const token = await namedToken(t, 'ci-deployer', 'deployer');
      const res = await syncReq(t, 'shop.prod', undefined, token);
      const dep = ok(res);
      expect(dep).toMatchObject({
        namespace: 'shop.prod',
        status: 'success',
        ref: 'main',
        commit: second,
        source: 'shop',
        author: GRACE,
        actor: 'ci-deployer',
        summary: { create: 2, update: 0, delete: 0, noop: 0, invalid: 0 },
      });
      expect(dep.id).toEqual(expect.any(String));
      expect(Date.parse(dep.started_at)).not.toBeNaN();
      expect(Date.parse(dep.finished_at)).toBeGreaterThanOrEqual(Date.parse(dep.started_at));
      // Only .yaml/.yml under the path: README.md and the sibling folder shop/prod-old are not read.
      expect(dep.results.map((r: any) => `${r.operation} ${r.kind}/${r.name} ${r.file} ${r.status}`)).toEqual([
        'create Metric/rps shop/prod/metrics.yml success',
        'create Workload/api shop/prod/api.yaml success',
      ]);
      // The deployment says what happened, not what a plan would do.
      expect(dep.results.map((r: any) => r.message)).toEqual(["Metric 'rps' created", "Workload 'api' created"]);
      expect(dep.results[1].changes).toEqual(
        expect.arrayContaining([{ path: '/spec/port', to: 9090 }]),
      );

      const api9090 = await resource(t, 'shop.prod', 'Workload', 'api');
      expect(api9090).toMatchObject({ kind: 'Workload', name: 'api', commit: second, spec: { port: 9090 }, managed_fields: ['/spec/port'] });
      const ns = await getNamespace(t, 'shop.prod');
      expect(ns.status).toBe('synced');
      expect(ns.last_deployment).toMatchObject({ id: dep.id, status: 'success', commit: second, actor: 'ci-deployer' });

      // The same again changes nothing and says so.
      const again = await sync(t, 'shop.prod');
      expect(again).toMatchObject({ status: 'noop', commit: second, summary: { create: 0, update: 0, noop: 2 } });
      expect(again.results.every((r: any) => r.status === 'skipped')).toBe(true);
    });

    it('syncs a full SHA (an older commit on the branch) and records its own author', async () => {
      const dep = await sync(t, 'shop.prod', first);
      expect(dep).toMatchObject({ status: 'success', ref: first, commit: first, author: ADA, actor: 'admin' });
      expect(dep.summary).toMatchObject({ update: 1, noop: 1 });
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(8080);
    });

    it('syncs an abbreviated SHA', async () => {
      const dep = await sync(t, 'shop.prod', second.slice(0, 7));
      expect(dep).toMatchObject({ status: 'success', ref: second.slice(0, 7), commit: second, author: GRACE });
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(9090);
    });

    it('syncs a lightweight tag and an annotated tag (peeled to its commit)', async () => {
      const v1 = await sync(t, 'shop.prod', 'v1');
      expect(v1).toMatchObject({ status: 'success', ref: 'v1', commit: first });
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(8080);
      const v2 = await sync(t, 'shop.prod', 'v2');
      expect(v2).toMatchObject({ status: 'success', ref: 'v2', commit: second });
      expect((await resource(t, 'shop.prod', 'Workload', 'api')).spec.port).toBe(9090);
    });

    it('syncs a branch named explicitly', async () => {
      const dep = await sync(t, 'shop.prod', 'main');
      expect(dep).toMatchObject({ status: 'noop', ref: 'main', commit: second });
    });

    it('lists deployments newest first and serves each by id', async () => {
      const items = await deployments(t, 'shop.prod');
      expect(items.map((d: any) => [d.ref, d.status])).toEqual([
        ['main', 'noop'],
        ['v2', 'success'],
        ['v1', 'success'],
        [second.slice(0, 7), 'success'],
        [first, 'success'],
        ['main', 'noop'],
        ['main', 'success'],
      ]);
      for (const d of items) {
        const one = ok(await api(t, 'GET', `/deployments/${d.id}`));
        expect(one).toEqual(d);
      }
      expect(items.at(-1)).toMatchObject({ actor: 'ci-deployer', author: GRACE });
      expect(items[0].results).toHaveLength(2);
      expectError(await api(t, 'GET', '/deployments/dep_doesnotexist'), 404, 'not_found');
    });

    describe('400s: nothing applied, nothing recorded', () => {
      let before: Record<string, unknown>;
      let deploymentCount: number;
      beforeAll(async () => {
        before = await liveSnapshot(t, 'shop.prod');
        deploymentCount = (await deployments(t, 'shop.prod')).length;
      });
      const unchanged = async () => {
        expect(await liveSnapshot(t, 'shop.prod')).toEqual(before);
        expect(await deployments(t, 'shop.prod')).toHaveLength(deploymentCount);
        expect((await getNamespace(t, 'shop.prod')).status).toBe('synced');
      };

      it('git_not_configured for a namespace without a source (sync, plan and drift)', async () => {
        await putNamespace(t, 'shop.manual', {});
        const err = expectError(await syncReq(t, 'shop.manual'), 400, 'git_not_configured');
        expect(err.message).toContain('shop.manual');
        expectError(await planReq(t, 'shop.manual'), 400, 'git_not_configured');
        expectError(await api(t, 'GET', '/namespaces/shop.manual/drift'), 400, 'git_not_configured');
        expect(await deployments(t, 'shop.manual')).toEqual([]);
        expect((await getNamespace(t, 'shop.manual')).status).toBe('never_synced');
      });

      it.each([
        ['an unknown branch', 'nope'],
        ['an unknown abbreviated SHA', 'deadbeef'],
        ['an unknown full SHA', 'f'.repeat(40)],
        ['revision syntax', 'main~1'],
        ['option-like text', '--upload-pack=touch'],
      ])('ref_not_found for %s', async (_what, ref) => {
        const err = expectError(await syncReq(t, 'shop.prod', ref), 400, 'ref_not_found');
        expect(err.message).toMatch(/not found|ambiguous/);
        expectError(await planReq(t, 'shop.prod', ref), 400, 'ref_not_found');
        await unchanged();
      });

      it('ref_not_on_branch for a commit on another branch, by branch name and by SHA', async () => {
        const err = expectError(await syncReq(t, 'shop.prod', 'feature'), 400, 'ref_not_on_branch');
        expect(err.details).toMatchObject({ ref: 'feature', commit: featureCommit, branch: 'main' });
        expectError(await syncReq(t, 'shop.prod', featureCommit), 400, 'ref_not_on_branch');
        expectError(await syncReq(t, 'shop.prod', featureCommit.slice(0, 10)), 400, 'ref_not_on_branch');
        expectError(await planReq(t, 'shop.prod', 'feature'), 400, 'ref_not_on_branch');
        await unchanged();
      });

      it('path_not_found for a missing path, and for a prefix of a real folder name', async () => {
        await putNamespace(t, 'shop.gone', { source: 'shop', branch: 'main', path: 'shop/nope' });
        const err = expectError(await syncReq(t, 'shop.gone'), 400, 'path_not_found');
        expect(err.message).toContain('shop/nope');
        expectError(await planReq(t, 'shop.gone'), 400, 'path_not_found');
        const report = await drift(t, 'shop.gone');
        expect(report).toMatchObject({ fetch_status: 'no_file', plan: null });
        expect(report.message).toContain('shop/nope');

        await putNamespace(t, 'shop.prefix', { source: 'shop', branch: 'main', path: 'shop/pro' });
        expectError(await syncReq(t, 'shop.prefix'), 400, 'path_not_found');
        // A path escaping the repository is refused when the namespace is bound, before any fetch.
        expectError(await api(t, 'PUT', '/namespaces/shop.dotdot', { source: 'shop', branch: 'main', path: 'shop/../etc' }), 400, 'invalid_path');
        for (const ns of ['shop.gone', 'shop.prefix']) {
          expect(await deployments(t, ns)).toEqual([]);
          expect(await resources(t, ns)).toEqual([]);
        }
        await unchanged();
      });
    });

    it('caps: too many spec files or one too large → 413 specs_too_large, nothing applied or recorded', async () => {
      const small = await makeSyncApp(dialect, { max_files: 1, max_file_bytes: 40 });
      try {
        await createSource(small, 'shop', server.repoUrl('shop'));
        await putNamespace(small, 'shop.prod', { source: 'shop', branch: 'main', path: 'shop/prod' });
        const many = expectError(await syncReq(small, 'shop.prod'), 413, 'specs_too_large');
        expect(many.details).toMatchObject({ files: 2, limit: 1 });
        await putNamespace(small, 'conf.prod', { source: 'shop', branch: 'main', path: 'config/syncline.conf' });
        const big = expectError(await syncReq(small, 'conf.prod'), 413, 'specs_too_large');
        expect(big.details).toMatchObject({ file: 'config/syncline.conf', limit: 40 });
        for (const ns of ['shop.prod', 'conf.prod']) {
          expect(await resources(small, ns)).toEqual([]);
          expect(await deployments(small, ns)).toEqual([]);
        }
      } finally {
        await small.close();
      }
    });

    it('allow_unmerged_refs lets a commit from another branch through', async () => {
      await putNamespace(t, 'shop.preview', { source: 'shop', branch: 'main', path: 'shop/prod', allow_unmerged_refs: true });
      const dep = await sync(t, 'shop.preview', 'feature');
      expect(dep).toMatchObject({ status: 'success', ref: 'feature', commit: featureCommit });
      expect((await resource(t, 'shop.preview', 'Workload', 'api')).spec.port).toBe(7070);
      // The flag is per namespace: shop.prod still refuses it.
      expectError(await syncReq(t, 'shop.prod', 'feature'), 400, 'ref_not_on_branch');
    });

    it('reads a path that names one file, multi-document, whatever its extension', async () => {
      await putNamespace(t, 'site.prod', { source: 'shop', branch: 'main', path: '.syncline.yml' });
      const dep = await sync(t, 'site.prod');
      expect(dep.results.map((r: any) => `${r.operation} ${r.kind}/${r.name} ${r.file}`)).toEqual([
        'create Metric/visits .syncline.yml',
        'create Workload/site .syncline.yml',
      ]);
      expect((await resources(t, 'site.prod')).map((r: any) => `${r.kind}/${r.name}`)).toEqual(['Metric/visits', 'Workload/site']);

      await putNamespace(t, 'conf.prod', { source: 'shop', branch: 'main', path: 'config/syncline.conf' });
      const conf = await sync(t, 'conf.prod');
      expect(conf.results.map((r: any) => `${r.operation} ${r.kind}/${r.name}`)).toEqual(['create Workload/conf']);
    });

    it('reads the whole repository, recursively, when the path is empty', async () => {
      const root = await tempDir('syncline-upstream-');
      const flat = await makeRepo({ root, name: 'flat' });
      const head = await commitFiles(flat, {
        'api.yaml': workload('api', 'port: 1000'),
        'nested/deeper/worker.yml': workload('worker', 'port: 1001'),
        'notes.txt': 'ignored\n',
      });
      const flatServer = await serveGitHttp(root);
      try {
        await createSource(t, 'flat', flatServer.repoUrl('flat'));
        for (const [ns, path] of [['flat.root', ''], ['flat.slash', '/']] as const) {
          await putNamespace(t, ns, { source: 'flat', branch: 'main', path });
          const dep = await sync(t, ns);
          expect(dep.commit).toBe(head);
          expect(dep.results.map((r: any) => `${r.operation} ${r.name} ${r.file}`)).toEqual([
            'create api api.yaml',
            'create worker nested/deeper/worker.yml',
          ]);
        }
      } finally {
        await flatServer.close();
      }
    });

    it('a webhook-named commit the mirror already holds syncs without any fetch; an unknown one fetches', async () => {
      const root = await tempDir('syncline-upstream-');
      const repo = await makeRepo({ root, name: 'named' });
      const c1 = await commitFiles(repo, { 'svc/api.yaml': workload('api', 'port: 1') }, 'one');
      const srv = await serveGitHttp(root);
      try {
        await createSource(t, 'named', srv.repoUrl('named'));
        await putNamespace(t, 'named.prod', { source: 'named', branch: 'main', path: 'svc' });
        expect(await sync(t, 'named.prod')).toMatchObject({ status: 'success', commit: c1 });
        const c2 = await commitFiles(repo, { 'svc/api.yaml': workload('api', 'port: 2') }, 'two');

        const spawned: string[] = [];
        const off = onGitSpawn((i) => spawned.push(i.args[0] ?? ''));
        try {
          const again = await syncNamespace(t.ctx, 'named.prod', c1, 'webhook', { trustNamedCommit: true });
          expect(again).toMatchObject({ status: 'noop', commit: c1 });
          expect(spawned.filter((c) => c === 'fetch' || c === 'clone' || c === 'ls-remote')).toEqual([]);
          const moved = await syncNamespace(t.ctx, 'named.prod', c2, 'webhook', { trustNamedCommit: true });
          expect(moved).toMatchObject({ status: 'success', commit: c2 });
          // Fetched: by git fetch, or by one fetch request into unpack-objects / index-pack.
          expect(spawned.some((c) => ['fetch', 'unpack-objects', 'index-pack'].includes(c))).toBe(true);
        } finally {
          off();
        }
      } finally {
        await srv.close();
      }
    });

    it('after a force-push: the dropped commit is ref_not_on_branch, the new head syncs', async () => {
      const root = await tempDir('syncline-upstream-');
      const repo = await makeRepo({ root, name: 'rewrite' });
      const base = await commitFiles(repo, { 'svc/api.yaml': workload('api', 'port: 1') }, 'base');
      const dropped = await commitFiles(repo, { 'svc/api.yaml': workload('api', 'port: 2') }, 'to be dropped');
      const rwServer = await serveGitHttp(root);
      try {
        await createSource(t, 'rewrite', rwServer.repoUrl('rewrite'));
        await putNamespace(t, 'rw.prod', { source: 'rewrite', branch: 'main', path: 'svc' });
        expect(await sync(t, 'rw.prod')).toMatchObject({ status: 'success', commit: dropped });

        await forcePush(repo, 'main', base);
        const rewritten = await commitFiles(repo, { 'svc/api.yaml': workload('api', 'port: 3') }, 'rewritten');

        const err = expectError(await syncReq(t, 'rw.prod', dropped), 400, 'ref_not_on_branch');
        expect(err.details).toMatchObject({ commit: dropped, branch: 'main' });
        expect((await resource(t, 'rw.prod', 'Workload', 'api')).spec.port).toBe(2);

        const dep = await sync(t, 'rw.prod');
        expect(dep).toMatchObject({ status: 'success', ref: 'main', commit: rewritten });
        expect(dep.results[0].changes).toEqual([{ path: '/spec/port', from: 2, to: 3 }]);
        expect(await resource(t, 'rw.prod', 'Workload', 'api')).toMatchObject({ spec: { port: 3 }, commit: rewritten });
        // The surviving base commit is still on the branch: a rollback to it works.
        expect(await sync(t, 'rw.prod', base)).toMatchObject({ status: 'success', commit: base });
      } finally {
        await rwServer.close();
      }
    });
  });
}
