/**
 * "Nothing moved" (src/sync/last-plan.ts): a sync whose content at the namespace path, kinds,
 * planning settings and live state are those of the namespace's last plan reuses that plan
 * without reading files, parsing or reading live rows; anything that could change the plan makes
 * it plan again: a PATCH of a resource, live rows written from outside Syncline, a kind's schema,
 * the namespace's prune / include / exclude, the namespace deleted and created again, and (on
 * PostgreSQL) another replica's sync or PATCH. Each of those cases checks the answer itself, not
 * only the counters: a wrongly reused plan answers `noop` where the right answer is not.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext } from '../../../src/app-context.js';
import { planNamespace } from '../../../src/sync/service.js';
import { lastPlanStats } from '../../../src/sync/last-plan.js';
import { PLAN_STEPS } from '../../../src/sync/steps.js';
import { getNamespaceRow } from '../../../src/store/namespaces.js';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS, testPgUrl } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, expectError, kindBody, makeSyncApp, ok, planReq, putNamespace, resource, syncReq, workload } from './support.js';

const FILES = {
  'cfg/a.yaml': workload('a', 'port: 8080'),
  'cfg/b.yaml': workload('b', 'port: 8081', 'deploy_strategy: rolling'),
  'cfg/c.yaml': workload('c', 'port: 8082', 'healthcheck:', '  path: /c'),
  'other/x.yaml': workload('x', 'port: 9000'),
};

for (const dialect of DIALECTS) {
  describe(`${dialect}: a sync with nothing moved reuses the last plan`, () => {
    let t: TestApp & { schema?: string };
    let server: GitHttpServer;
    let root: string;
    let n = 0;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      root = await tempDir('syncline-upstream-');
      server = await serveGitHttp(root);
    });
    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    /** A repo, its source and a namespace on `cfg`, synced once. */
    async function setup(): Promise<{ ns: string; repo: FixtureRepo; c1: string }> {
      const name = `lp${++n}`;
      const repo = await makeRepo({ root, name });
      const c1 = await commitFiles(repo, FILES, 'three services');
      await createSource(t, name, server.repoUrl(name));
      await putNamespace(t, `${name}.prod`, { source: name, branch: 'main', path: 'cfg' });
      const d = ok(await syncReq(t, `${name}.prod`));
      expect(d.summary).toMatchObject({ create: 3 });
      return { ns: `${name}.prod`, repo, c1 };
    }

    /** A sync (or any request) and whether it was answered by the stored plan. */
    async function counted<T>(fn: () => Promise<T>): Promise<{ value: T; reused: number; planned: number }> {
      const before = { ...lastPlanStats(t.ctx) };
      const value = await fn();
      const after = lastPlanStats(t.ctx);
      return { value, reused: after.reused - before.reused, planned: after.planned - before.planned };
    }
    const syncOk = (ns: string, ref?: string) => counted(async () => ok(await syncReq(t, ns, ref)));
    const summaryOf = (d: { results: Array<{ name: string; operation: string }> }) => Object.fromEntries(d.results.map((r) => [r.name, r.operation]));

    it('reuses the plan after an apply, also across a commit to another path; the answer is the one a fresh replica plans', async () => {
      const { ns, repo } = await setup();
      const again = await syncOk(ns);
      expect(again).toMatchObject({ reused: 1, planned: 0 });
      expect(again.value.status).toBe('noop');
      expect(summaryOf(again.value)).toEqual({ a: 'noop', b: 'noop', c: 'noop' });

      const c2 = await commitFiles(repo, { 'other/x.yaml': workload('x', 'port: 9001') }, 'another path');
      const other = await syncOk(ns);
      expect(other).toMatchObject({ reused: 1, planned: 0 });
      expect(other.value).toMatchObject({ status: 'noop', commit: c2 });
      // Each reused sync still records its own deployment with every result, as it answered.
      expect(other.value.id).not.toBe(again.value.id);
      expect(other.value.results).toEqual(again.value.results);
      for (const d of [again.value, other.value]) expect(ok(await api(t, 'GET', `/deployments/${d.id}`))).toEqual(d);

      // An update, then the settled plan against a plan made from scratch by a second context
      // on the same database (no caches of any kind).
      await commitFiles(repo, { 'cfg/a.yaml': workload('a', 'port: 8090'), 'cfg/d.yaml': workload('d', 'port: 8093') }, 'update a, add d');
      const updated = await syncOk(ns);
      expect(updated.planned).toBe(1);
      expect(summaryOf(updated.value)).toEqual({ a: 'update', b: 'noop', c: 'noop', d: 'create' });
      const reusedPlan = await counted(async () => ok(await planReq(t, ns)));
      expect(reusedPlan).toMatchObject({ reused: 1, planned: 0 });
      const fresh = await openContext(t.settings, t.schema ? { schema: t.schema } : {});
      try {
        const freshPlan = await planNamespace(fresh, ns, undefined);
        const strip = (p: { results: unknown[]; summary: unknown; commit: string }) => ({ results: p.results, summary: p.summary, commit: p.commit });
        expect(strip(reusedPlan.value)).toEqual(strip(freshPlan));
      } finally {
        await fresh.jobs.stop();
        await fresh.db.close();
      }
    });

    it('a reused settled plan writes nothing: rows and generation stay as the apply left them; a later move is still written', async () => {
      const { ns, repo } = await setup();
      const rows = async () =>
        (await t.ctx.db.db.selectFrom('resources').selectAll().where('namespace', '=', ns).orderBy('name').execute()).map((r) => ({ ...r }));
      const generation = async () =>
        Number((await t.ctx.db.db.selectFrom('namespaces').select('live_generation').where('name', '=', ns).executeTakeFirstOrThrow()).live_generation);
      // An update and a noop that is written (b moved to another file).
      await commitFiles(repo, { 'cfg/a.yaml': workload('a', 'port: 8091'), 'cfg/b.yaml': null, 'cfg/b2.yaml': FILES['cfg/b.yaml'] }, 'update a, move b');
      const updated = await syncOk(ns);
      expect(summaryOf(updated.value)).toEqual({ a: 'update', b: 'noop', c: 'noop' });
      const before = await rows();
      expect(before.find((r) => r.name === 'b')?.file).toBe('cfg/b2.yaml');
      const g = await generation();
      for (let i = 0; i < 2; i++) {
        const again = await syncOk(ns);
        expect(again).toMatchObject({ reused: 1, planned: 0 });
        expect(again.value.status).toBe('noop');
        expect(summaryOf(again.value)).toEqual({ a: 'noop', b: 'noop', c: 'noop' });
        expect(await generation()).toBe(g);
        expect(await rows()).toEqual(before);
      }
      // After the reused plans, a move of c is a noop that is written, and a is unchanged.
      await commitFiles(repo, { 'cfg/c.yaml': null, 'cfg/c2.yaml': FILES['cfg/c.yaml'] }, 'move c');
      const moved = await syncOk(ns);
      expect(moved).toMatchObject({ reused: 0, planned: 1 });
      expect(summaryOf(moved.value)).toEqual({ a: 'noop', b: 'noop', c: 'noop' });
      const after = await rows();
      expect(after.find((r) => r.name === 'c')?.file).toBe('cfg/c2.yaml');
      expect(after.find((r) => r.name === 'a')).toEqual(before.find((r) => r.name === 'a'));
      expect(await generation()).toBeGreaterThan(g);
      expect(await syncOk(ns)).toMatchObject({ reused: 1 });
    });

    it('a PATCH of a resource makes the next sync plan again', async () => {
      const { ns } = await setup();
      ok(await api(t, 'PATCH', `/namespaces/${ns}/resources/Workload/a`, { spec: { max_instances: 3 } }));
      const next = await syncOk(ns);
      expect(next).toMatchObject({ reused: 0, planned: 1 });
      expect(next.value.status).toBe('noop');
      expect((await resource(t, ns, 'Workload', 'a')).spec.max_instances).toBe(3);
      expect(await syncOk(ns)).toMatchObject({ reused: 1, planned: 0 });
    });

    /** SQL from another connection (no code path of this process runs): `a` edited, `b` deleted. */
    async function writeOutside(ns: string): Promise<void> {
      const port7 = JSON.stringify({ port: 7, deploy_strategy: 'recreate', max_instances: 1 });
      if (dialect === 'sqlite') {
        // Another connection to the file: no code path of this process runs.
        const other = new Database(path.join(t.dataDir, 'syncline.db'));
        try {
          other.prepare('update resources set spec = ?, hash = ? where namespace = ? and name = ?').run(port7, 'edited', ns, 'a');
          other.prepare('delete from resources where namespace = ? and name = ?').run(ns, 'b');
        } finally {
          other.close();
        }
      } else {
        const other = new pg.Client({ connectionString: testPgUrl() });
        await other.connect();
        try {
          await other.query(`update "${t.schema}".resources set spec = $1, hash = $2 where namespace = $3 and name = $4`, [port7, 'edited', ns, 'a']);
          await other.query(`delete from "${t.schema}".resources where namespace = $1 and name = $2`, [ns, 'b']);
        } finally {
          await other.end();
        }
      }
    }

    it('live rows written from outside Syncline (SQL on the database) make the next sync plan again', async () => {
      const { ns } = await setup();
      await writeOutside(ns);
      const next = await syncOk(ns);
      expect(next).toMatchObject({ reused: 0, planned: 1 });
      expect(summaryOf(next.value)).toEqual({ a: 'update', b: 'create', c: 'noop' });
      expect((await resource(t, ns, 'Workload', 'a')).spec.port).toBe(8080);
    });

    it('rows written while a run reads its files (its live rows are read meanwhile) leave no plan the next sync reuses', async () => {
      const { ns, repo } = await setup();
      await commitFiles(repo, { 'cfg/c.yaml': workload('c', 'port: 8092', 'healthcheck:', '  path: /c') }, 'move c');
      // A plan run (as POST /plan: no lock) from the namespace row read first, as every run is;
      // readSpecs has started the live read when the outside write begins, which may or may not
      // see it. Either way the plan is kept under the generation read with the namespace row.
      const namespace = await getNamespaceRow(t.ctx.db.db, ns);
      let written: Promise<void> | undefined;
      const run = await PLAN_STEPS.run({ app: t.ctx, namespace, requestedRef: undefined }, { after: (step) => void (step === 'readSpecs' && (written = writeOutside(ns))) });
      await written;
      expect(run.reuse).toBeNull();
      expect(run.plan.results.find((r) => r.name === 'c')?.operation).toBe('update');
      const next = await syncOk(ns);
      expect(next).toMatchObject({ reused: 0, planned: 1 });
      expect(summaryOf(next.value)).toEqual({ a: 'update', b: 'create', c: 'update' });
      expect((await resource(t, ns, 'Workload', 'a')).spec.port).toBe(8080);
      expect(await syncOk(ns)).toMatchObject({ reused: 1, planned: 0 });
    });

    it("a change of a kind's schema makes the next sync plan again", async () => {
      const { ns } = await setup();
      const body = kindBody('Workload') as { schema: { properties: { port: { maximum: number } } } };
      try {
        body.schema.properties.port.maximum = 8081;
        ok(await api(t, 'PUT', '/kinds/Workload', body));
        const refused = expectError(await syncReq(t, ns), 422, 'invalid_specs');
        expect(refused.details.deployment.results.filter((r: { operation: string }) => r.operation === 'invalid').map((r: { name: string }) => r.name)).toEqual(['c']);
      } finally {
        ok(await api(t, 'PUT', '/kinds/Workload', kindBody('Workload') as object));
      }
      expect((await syncOk(ns)).value.status).toBe('noop');
    });

    it("the namespace's prune, include and exclude make the next sync plan again", async () => {
      const { ns, repo } = await setup();
      await commitFiles(repo, { 'cfg/c.yaml': null }, 'c no longer declared');
      const kept = await syncOk(ns);
      expect(summaryOf(kept.value)).toEqual({ a: 'noop', b: 'noop' });
      expect(await syncOk(ns)).toMatchObject({ reused: 1 });

      ok(await api(t, 'PATCH', `/namespaces/${ns}`, { prune: true }));
      const pruned = await syncOk(ns);
      expect(pruned).toMatchObject({ reused: 0, planned: 1 });
      expect(summaryOf(pruned.value)).toEqual({ a: 'noop', b: 'noop', c: 'delete' });

      ok(await api(t, 'PATCH', `/namespaces/${ns}`, { prune: false, exclude: ['b.yaml'] }));
      const excluded = await syncOk(ns);
      expect(excluded).toMatchObject({ reused: 0, planned: 1 });
      expect(summaryOf(excluded.value)).toEqual({ a: 'noop' });
      expect(excluded.value.skipped_files.map((f: { path: string }) => f.path)).toEqual(['cfg/b.yaml']);

      ok(await api(t, 'PATCH', `/namespaces/${ns}`, { include: ['a.yaml'], exclude: [] }));
      const included = await syncOk(ns);
      expect(included).toMatchObject({ reused: 0, planned: 1 });
      expect(included.value.skipped_files.map((f: { path: string }) => f.path)).toEqual(['cfg/b.yaml']);
    });

    it('a namespace deleted and created again under the same name plans again', async () => {
      const { ns } = await setup();
      const name = ns.replace(/\.prod$/, '');
      expect((await api(t, 'DELETE', `/namespaces/${ns}`)).statusCode).toBe(204);
      await putNamespace(t, ns, { source: name, branch: 'main', path: 'cfg' });
      const first = await syncOk(ns);
      expect(first.planned).toBe(1);
      expect(summaryOf(first.value)).toEqual({ a: 'create', b: 'create', c: 'create' });
    });

    it.runIf(dialect === 'postgres')("another replica's sync and PATCH make the next sync here plan again", async () => {
      const { ns, repo, c1 } = await setup();
      await commitFiles(repo, { 'cfg/a.yaml': workload('a', 'port: 8095') }, 'move a');
      expect(summaryOf((await syncOk(ns)).value)).toMatchObject({ a: 'update' });
      expect(await syncOk(ns)).toMatchObject({ reused: 1 });

      const other = await makeSyncApp(dialect, {}, { schema: t.schema });
      try {
        // The other replica rolls a back to the first commit: here the head must update it again.
        expect(summaryOf(ok(await syncReq(other, ns, c1)))).toMatchObject({ a: 'update' });
        const here = await syncOk(ns);
        expect(here).toMatchObject({ reused: 0, planned: 1 });
        expect(summaryOf(here.value)).toMatchObject({ a: 'update' });
        expect((await resource(t, ns, 'Workload', 'a')).spec.port).toBe(8095);

        ok(await api(other, 'PATCH', `/namespaces/${ns}/resources/Workload/b`, { spec: { max_instances: 4 } }));
        const afterPatch = await syncOk(ns);
        expect(afterPatch).toMatchObject({ reused: 0, planned: 1 });
        expect(afterPatch.value.status).toBe('noop');
      } finally {
        // The schema is the first app's: only the second app's connections and workers end here.
        await other.ctx.jobs.stop();
        await other.app.close();
        await other.ctx.db.close();
      }
    });
  });
}
