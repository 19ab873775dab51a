/**
 * What git manages and what it leaves alone, end to end: merges keep omitted (PATCHed) fields,
 * PATCH of a git-managed field is refused, formatting never shows as drift, real drift does (and
 * flips the namespace to out_of_sync), a field dropped from git is removed (its default returns),
 * the merged result is validated before anything is written, prune deletes only when asked,
 * rollback restores old values, and live resources carry a strong ETag.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { commitFiles, makeRepo, type FixtureRepo } from '../../helpers/git-fixtures.js';
import {
  api,
  createSource,
  deployments,
  drift,
  expectError,
  getNamespace,
  liveSnapshot,
  metric,
  ok,
  planReq,
  putNamespace,
  resource,
  resources,
  sync,
  syncReq,
  useSyncSuite,
  workload,
  y,
} from './support.js';

const patch = (t: TestApp, ns: string, kind: string, name: string, spec: object) =>
  api(t, 'PATCH', `/namespaces/${ns}/resources/${kind}/${name}`, { spec });

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    const s = useSyncSuite(dialect);

    /** A repo under the served root with its source and one namespace on `path`. */
    async function setup(name: string, files: Record<string, string>, nsBody: Record<string, unknown> = {}) {
      const repo = await makeRepo({ root: s.root, name });
      const first = await commitFiles(repo, files, 'first');
      await createSource(s.t, name, s.server.repoUrl(name));
      await putNamespace(s.t, `${name}.prod`, { source: name, branch: 'main', path: 'cfg', ...nsBody });
      return { repo, first, ns: `${name}.prod` };
    }

    describe('merge, PATCH, drift and rollback', () => {
      let repo: FixtureRepo;
      let ns: string;
      const commits: Record<string, string> = {};

      beforeAll(async () => {
        ({ repo, ns, first: commits.c1 } = await setup('shop', {
          'cfg/api.yaml': workload('api', 'port: 8080', 'deploy_strategy: ""', 'healthcheck:', '  path: /healthz'),
          'cfg/worker.yaml': workload('worker', 'port: 9000'),
          'cfg/metrics.yml': metric('rps', 'sum(rate(x[1m]))'),
        }));
        expect(await getNamespace(s.t, ns)).toMatchObject({ status: 'never_synced' });
        // Drift of a never-synced namespace reports, but does not invent a status.
        expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'ok', plan: { summary: { create: 3 } } });
        expect(await getNamespace(s.t, ns)).toMatchObject({ status: 'never_synced' });
        expect(await sync(s.t, ns)).toMatchObject({ status: 'success', commit: commits.c1, summary: { create: 3 } });
      });

      it('stores normalised content: defaults filled, equivalents canonical, managed fields = declared leaves', async () => {
        const api1 = await resource(s.t, ns, 'Workload', 'api');
        expect(api1.spec).toEqual({ port: 8080, deploy_strategy: 'recreate', healthcheck: { path: '/healthz', interval_seconds: 10 }, max_instances: 1 });
        expect(api1.managed_fields).toEqual(['/spec/deploy_strategy', '/spec/healthcheck/path', '/spec/port']);
        expect(api1.commit).toBe(commits.c1);
        const report = await drift(s.t, ns);
        expect(report).toMatchObject({ fetch_status: 'ok', commit: commits.c1, message: null, plan: { summary: { create: 0, update: 0, delete: 0, noop: 3, invalid: 0 } } });
        expect((await getNamespace(s.t, ns)).status).toBe('synced');
      });

      it('PATCH changes fields git does not manage; touching a managed one is 409 field_managed_by_git', async () => {
        const before = await resource(s.t, ns, 'Workload', 'api');
        let res = await patch(s.t, ns, 'Workload', 'api', { resources: { memory_limit: '512Mi' }, max_instances: 3, healthcheck: { interval_seconds: 5 } });
        const patched = ok(res);
        expect(patched.spec).toEqual({
          port: 8080,
          deploy_strategy: 'recreate',
          healthcheck: { path: '/healthz', interval_seconds: 5 },
          max_instances: 3,
          resources: { memory_limit: '512Mi' },
        });
        expect(patched.hash).not.toBe(before.hash);
        expect(res.headers.etag).toBe(`"${patched.hash}"`);
        expect(patched.managed_fields).toEqual(before.managed_fields);

        for (const [spec, field] of [
          [{ port: 1 }, '/spec/port'],
          [{ deploy_strategy: 'rolling' }, '/spec/deploy_strategy'],
          [{ healthcheck: { path: '/other' } }, '/spec/healthcheck/path'],
          [{ healthcheck: null }, '/spec/healthcheck'],
        ] as const) {
          const err = expectError(await patch(s.t, ns, 'Workload', 'api', spec), 409, 'field_managed_by_git');
          expect(err.details.fields).toEqual([field]);
        }
        // A non-managed field must still pass the kind's schema.
        expectError(await patch(s.t, ns, 'Workload', 'api', { max_instances: 0 }), 422, 'invalid_spec');
        expect((await resource(s.t, ns, 'Workload', 'api')).hash).toBe(patched.hash);

        const audit = ok(await api(s.t, 'GET', `/audit?namespace=${ns}&limit=1`)).items[0];
        expect(audit).toMatchObject({ action: 'resource.patch', actor: 'admin', target: `resource/${ns}/Workload/api` });

        // Fields git does not declare are not drift.
        expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'ok', plan: { summary: { update: 0, noop: 3 } } });
        expect((await getNamespace(s.t, ns)).status).toBe('synced');
      });

      it('drift reports an update after a new commit and marks the namespace out_of_sync', async () => {
        commits.c2 = await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8081', 'deploy_strategy: ""', 'healthcheck:', '  path: /healthz') }, 'port 8081');
        const report = await drift(s.t, ns);
        expect(report).toMatchObject({ fetch_status: 'ok', commit: commits.c2, message: null });
        expect(report.plan.summary).toEqual({ create: 0, update: 1, delete: 0, noop: 2, invalid: 0 });
        const upd = report.plan.results.find((r: any) => r.operation === 'update');
        expect(upd).toMatchObject({ kind: 'Workload', name: 'api', file: 'cfg/api.yaml', status: 'pending', changes: [{ path: '/spec/port', from: 8080, to: 8081 }] });
        expect((await getNamespace(s.t, ns)).status).toBe('out_of_sync');
        // Drift applies nothing.
        expect((await resource(s.t, ns, 'Workload', 'api')).spec.port).toBe(8080);
      });

      it('a sync merges declared fields and keeps omitted (PATCHed) ones; the namespace is synced again', async () => {
        const dep = await sync(s.t, ns);
        expect(dep).toMatchObject({ status: 'success', commit: commits.c2, summary: { update: 1, noop: 2 } });
        expect(dep.results.find((r: any) => r.name === 'api').changes).toEqual([{ path: '/spec/port', from: 8080, to: 8081 }]);
        const live = await resource(s.t, ns, 'Workload', 'api');
        expect(live.spec).toEqual({
          port: 8081,
          deploy_strategy: 'recreate',
          healthcheck: { path: '/healthz', interval_seconds: 5 },
          max_instances: 3,
          resources: { memory_limit: '512Mi' },
        });
        expect(live.commit).toBe(commits.c2);
        expect((await getNamespace(s.t, ns)).status).toBe('synced');
        expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'ok', plan: { summary: { update: 0, noop: 3 } } });
        // Untouched resources keep the commit their content came from.
        expect((await resource(s.t, ns, 'Workload', 'worker')).commit).toBe(commits.c1);
      });

      it('no false drift after normalisation: "" vs recreate, explicit defaults, 1.0 vs 1, key order, quoting', async () => {
        const snapshot = await liveSnapshot(s.t, ns);
        commits.c3 = await commitFiles(
          repo,
          {
            'cfg/api.yaml': y(
              '# same content, written differently',
              'spec:',
              '  healthcheck: {path: "/healthz"}',
              '  deploy_strategy: recreate',
              '  port: 8081.0',
              'name: api',
              'kind: Workload',
            ),
            'cfg/worker.yaml': y('kind: Workload', 'name: "worker"', 'spec: {max_instances: 1.0, deploy_strategy: "", port: 9000}'),
            'cfg/metrics.yml': y("kind: 'Metric'", 'name: rps', 'spec:', "  query: 'sum(rate(x[1m]))'", '  name: "rps"'),
          },
          'reformat',
        );
        const report = await drift(s.t, ns);
        expect(report).toMatchObject({ fetch_status: 'ok', commit: commits.c3 });
        expect(report.plan.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 3, invalid: 0 });
        expect(report.plan.results.every((r: any) => r.changes.length === 0)).toBe(true);
        expect((await getNamespace(s.t, ns)).status).toBe('synced');

        const dep = await sync(s.t, ns);
        expect(dep).toMatchObject({ status: 'noop', commit: commits.c3, summary: { noop: 3, update: 0 } });
        const after = await liveSnapshot(s.t, ns);
        for (const key of Object.keys(snapshot)) {
          const { updated_at: _a, ...was } = snapshot[key] as any;
          const { updated_at: _b, ...now } = after[key] as any;
          expect(now, key).toEqual(was);
        }
        // Declaring a value live already has makes it git's from now on.
        const worker = await resource(s.t, ns, 'Workload', 'worker');
        expect(worker.managed_fields).toEqual(['/spec/deploy_strategy', '/spec/max_instances', '/spec/port']);
        expectError(await patch(s.t, ns, 'Workload', 'worker', { max_instances: 2 }), 409, 'field_managed_by_git');
      });

      it('a field dropped from git is removed from live and its default comes back', async () => {
        commits.c4 = await commitFiles(repo, { 'cfg/worker.yaml': workload('worker', 'port: 9000', 'max_instances: 4') }, 'scale worker');
        expect(await sync(s.t, ns)).toMatchObject({ status: 'success', summary: { update: 1 } });
        expect((await resource(s.t, ns, 'Workload', 'worker')).spec.max_instances).toBe(4);

        commits.c5 = await commitFiles(repo, { 'cfg/worker.yaml': workload('worker', 'port: 9000') }, 'unscale worker');
        const dep = await sync(s.t, ns);
        expect(dep).toMatchObject({ status: 'success', commit: commits.c5, summary: { update: 1 } });
        expect(dep.results.find((r: any) => r.name === 'worker').changes).toEqual([expect.objectContaining({ path: '/spec/max_instances', from: 4 })]);
        const worker = await resource(s.t, ns, 'Workload', 'worker');
        expect(worker.spec).toEqual({ port: 9000, deploy_strategy: 'recreate', max_instances: 1 });
        expect(worker.managed_fields).toEqual(['/spec/port']);
      });

      it('the merged result is validated before anything is written (merged_invalid → 422)', async () => {
        // Git stops declaring healthcheck.path, but the PATCHed interval_seconds stays: the
        // merged healthcheck has no path, which the schema requires.
        const before = await liveSnapshot(s.t, ns);
        commits.c6 = await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 8082') }, 'drop healthcheck');
        const err = expectError(await syncReq(s.t, ns), 422, 'invalid_specs');
        const bad = err.details.deployment.results.find((r: any) => r.operation === 'invalid');
        expect(bad).toMatchObject({ kind: 'Workload', name: 'api', file: 'cfg/api.yaml', code: 'merged_invalid' });
        expect(bad.message).toMatch(/^cfg\/api\.yaml:\d+:\d+: .*path.*after merging with the live resource/);
        expect(await liveSnapshot(s.t, ns)).toEqual(before);
        expect((await getNamespace(s.t, ns)).status).toBe('error');
        expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'invalid', commit: commits.c6 });
      });

      it('rollback: syncing an older commit on the branch restores its values, and the plan shows exactly that', async () => {
        const plan = ok(await planReq(s.t, ns, commits.c1));
        expect(plan).toMatchObject({ ref: commits.c1, commit: commits.c1, summary: { update: 1, noop: 2, invalid: 0 } });
        expect(plan.results.find((r: any) => r.operation === 'update')).toMatchObject({
          name: 'api',
          changes: [{ path: '/spec/port', from: 8081, to: 8080 }],
        });

        const dep = await sync(s.t, ns, commits.c1!.slice(0, 8));
        expect(dep).toMatchObject({ status: 'success', commit: commits.c1, summary: { update: 1 } });
        expect(dep.results.find((r: any) => r.operation === 'update').changes).toEqual(plan.results.find((r: any) => r.operation === 'update').changes);
        const api1 = await resource(s.t, ns, 'Workload', 'api');
        expect(api1).toMatchObject({ commit: commits.c1, managed_fields: ['/spec/deploy_strategy', '/spec/healthcheck/path', '/spec/port'] });
        expect(api1.spec.port).toBe(8080);
        expect((await getNamespace(s.t, ns)).status).toBe('synced');
        // The branch head has moved on (and is invalid): drift says so without touching live.
        expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'invalid' });
        expect((await getNamespace(s.t, ns)).status).toBe('out_of_sync');
        expect((await deployments(s.t, ns))[0].id).toBe(dep.id);
      });
    });

    it('a declared empty mapping is a presence leaf: PATCH may fill it, the next sync keeps the content', async () => {
      const { repo, ns } = await setup('flags', { 'cfg/flags.yaml': y('kind: Config', 'name: flags', 'spec:', '  data: {}') });
      await sync(s.t, ns);
      expect(await resource(s.t, ns, 'Config', 'flags')).toMatchObject({ spec: { data: {} }, managed_fields: ['/spec/data'] });

      const res = await patch(s.t, ns, 'Config', 'flags', { data: { checkout_v2: true } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().spec).toEqual({ data: { checkout_v2: true } });
      // Replacing or removing the mapping itself is still git's call.
      expectError(await patch(s.t, ns, 'Config', 'flags', { data: null }), 409, 'field_managed_by_git');
      expectError(await patch(s.t, ns, 'Config', 'flags', { data: 'off' }), 409, 'field_managed_by_git');

      expect(await drift(s.t, ns)).toMatchObject({ fetch_status: 'ok', plan: { summary: { noop: 1, update: 0 } } });
      await commitFiles(repo, { 'cfg/other.yaml': y('kind: Config', 'name: other', 'spec:', '  data: {a: 1}') }, 'another');
      expect(await sync(s.t, ns)).toMatchObject({ status: 'success', summary: { create: 1, noop: 1 } });
      expect((await resource(s.t, ns, 'Config', 'flags')).spec).toEqual({ data: { checkout_v2: true } });
    });

    it('an unchanged document moved to another file: noop, and the live resource names the new file', async () => {
      const { repo, ns } = await setup('moves', { 'cfg/api.yaml': workload('api', 'port: 1') });
      await sync(s.t, ns);
      const before = await resource(s.t, ns, 'Workload', 'api');
      expect(before.file).toBe('cfg/api.yaml');
      await commitFiles(repo, { 'cfg/api.yaml': null, 'cfg/services/api.yml': workload('api', 'port: 1') }, 'move');
      const dep = await sync(s.t, ns);
      expect(dep).toMatchObject({ status: 'noop', summary: { noop: 1 } });
      expect(dep.results[0].file).toBe('cfg/services/api.yml');
      const after = await resource(s.t, ns, 'Workload', 'api');
      expect(after).toMatchObject({ file: 'cfg/services/api.yml', hash: before.hash, commit: before.commit });
    });

    it('prune deletes resources removed from git only when the namespace has prune: true', async () => {
      const { repo, ns: keep } = await setup('fleet', {
        'cfg/a.yaml': workload('a', 'port: 1'),
        'cfg/b.yaml': workload('b', 'port: 2'),
        'cfg/m.yml': metric('m', 'up'),
      });
      const pruned = 'fleet.pruned';
      await putNamespace(s.t, pruned, { source: 'fleet', branch: 'main', path: 'cfg', prune: true });
      await sync(s.t, keep);
      await sync(s.t, pruned);

      const gone = await commitFiles(repo, { 'cfg/b.yaml': null, 'cfg/m.yml': null }, 'remove b and m');

      // Without prune: not listed, not deleted.
      const keepPlan = ok(await planReq(s.t, keep));
      expect(keepPlan.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 1, invalid: 0 });
      expect(await drift(s.t, keep)).toMatchObject({ plan: { summary: { delete: 0 } } });
      expect((await getNamespace(s.t, keep)).status).toBe('synced');
      expect(await sync(s.t, keep)).toMatchObject({ status: 'noop', commit: gone });
      expect((await resources(s.t, keep)).map((r: any) => `${r.kind}/${r.name}`)).toEqual(['Metric/m', 'Workload/a', 'Workload/b']);

      // With prune: planned as deletes, then deleted.
      const prunePlan = ok(await planReq(s.t, pruned));
      expect(prunePlan.summary).toEqual({ create: 0, update: 0, delete: 2, noop: 1, invalid: 0 });
      expect(prunePlan.results.filter((r: any) => r.operation === 'delete').map((r: any) => `${r.kind}/${r.name}`)).toEqual(['Metric/m', 'Workload/b']);
      const dep = await sync(s.t, pruned);
      expect(dep).toMatchObject({ status: 'success', commit: gone, summary: { delete: 2, noop: 1 } });
      expect((await resources(s.t, pruned)).map((r: any) => `${r.kind}/${r.name}`)).toEqual(['Workload/a']);
      expectError(await api(s.t, 'GET', `/namespaces/${pruned}/resources/Workload/b`), 404, 'not_found');

      // Turning prune on later deletes on the next sync.
      await putNamespace(s.t, keep, { source: 'fleet', branch: 'main', path: 'cfg', prune: true });
      expect(await sync(s.t, keep)).toMatchObject({ status: 'success', summary: { delete: 2 } });
      expect((await resources(s.t, keep)).map((r: any) => `${r.kind}/${r.name}`)).toEqual(['Workload/a']);
    });

    it('ETag: strong, If-None-Match → 304, changes after an update (sync or PATCH), stable across a noop', async () => {
      const { repo, ns } = await setup('etag', { 'cfg/api.yaml': workload('api', 'port: 1') });
      await sync(s.t, ns);
      const url = `/namespaces/${ns}/resources/Workload/api`;
      const first = await api(s.t, 'GET', url);
      const etag = first.headers.etag as string;
      expect(etag).toBe(`"${first.json().hash}"`);
      expect(etag).not.toMatch(/^W\//);

      for (const inm of [etag, `"nope", ${etag}`, '*']) {
        const res = await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': inm } });
        expect(res.statusCode, inm).toBe(304);
        expect(res.body).toBe('');
        expect(res.headers.etag).toBe(etag);
      }
      expect((await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': '"other"' } })).statusCode).toBe(200);
      // If-None-Match compares weakly (RFC 9110 §13.1.2): a proxy that weakened the tag still gets a 304.
      expect((await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': `W/${etag}` } })).statusCode).toBe(304);

      // A noop sync keeps it.
      await commitFiles(repo, { 'cfg/README.md': 'docs only\n' }, 'docs');
      expect(await sync(s.t, ns)).toMatchObject({ status: 'noop' });
      expect((await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': etag } })).statusCode).toBe(304);

      // An update changes it.
      await commitFiles(repo, { 'cfg/api.yaml': workload('api', 'port: 2') }, 'port 2');
      await sync(s.t, ns);
      const second = await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': etag } });
      expect(second.statusCode).toBe(200);
      expect(second.json().spec.port).toBe(2);
      const etag2 = second.headers.etag as string;
      expect(etag2).not.toBe(etag);
      expect((await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': etag2 } })).statusCode).toBe(304);

      // So does a PATCH.
      const patched = await patch(s.t, ns, 'Workload', 'api', { max_instances: 2 });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.headers.etag).not.toBe(etag2);
      const third = await api(s.t, 'GET', url, undefined, { headers: { 'if-none-match': etag2 } });
      expect(third.statusCode).toBe(200);
      expect(third.headers.etag).toBe(patched.headers.etag);
    });
  });
}
