/**
 * Invalid YAML end to end, table-driven: each case is a commit on the tracked branch that also
 * carries a VALID change (Workload/api's port). Syncing it must answer 422 `invalid_specs` with
 * the failed deployment, name the offending file:line:column, and write nothing — live resources
 * (valid change included) stay as they were — while the failed deployment, its audit event and
 * the namespace's `error` status are recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureFile, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
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
  ok,
  planReq,
  putNamespace,
  sync,
  syncReq,
  workload,
  y,
} from './support.js';

const DIR = 'shop/prod';
const BAD = `${DIR}/bad.yaml`;

interface Case {
  name: string;
  /** Content of shop/prod/bad.yaml … */
  content?: string | Buffer;
  /** … or other files (repo-relative). */
  files?: Record<string, FixtureFile>;
  code: string;
  /** `file:line:column` an invalid result's message must start with. */
  at: string;
  match: RegExp;
  /** Kind/name of a valid document in the same commit that must not be created. */
  notCreated?: string;
}

const W = ['kind: Workload', 'name: bad', 'spec:'];
const CFG = ['kind: Config', 'name: c', 'spec:', '  data:'];
const lol = Array.from({ length: 9 }, () => 'lol').join(', ');
const aliases = (a: string): string => Array.from({ length: 9 }, () => `*${a}`).join(', ');
const BILLION_LAUGHS = y(
  ...CFG,
  `    a: &a [${lol}]`,
  `    b: &b [${aliases('a')}]`,
  `    c: &c [${aliases('b')}]`,
  `    d: &d [${aliases('c')}]`,
  `    e: &e [${aliases('d')}]`,
  `    f: &f [${aliases('e')}]`,
  `    g: &g [${aliases('f')}]`,
  `    h: &h [${aliases('g')}]`,
);

const at = (line: number, column: number, file = BAD) => `${file}:${line}:${column}`;

const cases: Case[] = [
  // YAML syntax
  { name: 'tab used as indentation', content: y(...W, '\tport: 8080'), code: 'tab_indentation', at: at(4, 1), match: /tabs/i },
  { name: 'duplicate top-level key', content: y('kind: Workload', 'name: bad', 'kind: Metric', 'spec:', '  port: 1'), code: 'duplicate_key', at: at(3, 1), match: /duplicate key 'kind'/ },
  { name: 'duplicate nested key', content: y(...W, '  port: 1', '  port: 2'), code: 'duplicate_key', at: at(5, 3), match: /duplicate key 'port'/ },
  { name: 'unclosed single quote', content: y('kind: Workload', "name: 'bad", 'spec:', '  port: 1'), code: 'yaml_syntax', at: at(2, 7), match: /unclosed single-quoted string/ },
  { name: 'unclosed double quote', content: y(...W, '  healthcheck:', '    path: "/healthz', '  port: 1'), code: 'yaml_syntax', at: at(5, 11), match: /unclosed double-quoted string/ },
  { name: 'unclosed flow sequence', content: y('kind: Metric', 'name: m', 'spec:', '  tags: [a, b', '  query: x'), code: 'yaml_syntax', at: at(4, 9), match: /unclosed flow sequence/ },
  { name: 'inconsistent indentation', content: y(...W, '  port: 1', ' max_instances: 2'), code: 'yaml_syntax', at: at(5, 1), match: /same column/ },
  { name: 'key without a value', content: y(...W, '  port: 1', '  oops'), code: 'yaml_syntax', at: at(5, 3), match: /map values/ },
  { name: 'undefined alias', content: y(...CFG, '    k: *nope'), code: 'yaml_syntax', at: at(5, 5), match: /unknown alias \*nope/ },
  // aliases, tags, numbers, depth, encoding
  { name: 'alias bomb (billion laughs)', content: BILLION_LAUGHS, code: 'alias_limit', at: at(8, 12), match: /more than 100 alias expansions/ },
  { name: 'recursive alias', content: y(...CFG, '    k: &x [1, *x]'), code: 'alias_limit', at: at(5, 15), match: /refers to itself/ },
  { name: 'merge key <<', content: y(...W, '  <<: {port: 1}'), code: 'unsupported_yaml', at: at(4, 3), match: /merge keys/ },
  { name: '!!binary tag', content: y(...CFG, '    blob: !!binary aGVsbG8='), code: 'unsupported_yaml', at: at(5, 5), match: /!!binary/ },
  { name: 'custom tag', content: y(...CFG, '    password: !secret vault:db'), code: 'unsupported_yaml', at: at(5, 15), match: /!secret/ },
  { name: '.inf', content: y(...CFG, '    ratio: .inf'), code: 'invalid_number', at: at(5, 5), match: /not a JSON number/ },
  { name: 'integer beyond 2^53', content: y(...CFG, '    id: 12345678901234567890'), code: 'invalid_number', at: at(5, 5), match: /precision/ },
  { name: 'nesting deeper than 64', content: y(...CFG, `    x: ${'['.repeat(70)}${']'.repeat(70)}`), code: 'too_deep', at: at(5, 69), match: /deeper than 64/ },
  { name: 'not UTF-8', content: Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), code: 'invalid_encoding', at: at(1, 1), match: /UTF-8/ },
  // document shape
  { name: 'list document', content: y('- kind: Workload', '  name: bad'), code: 'not_a_mapping', at: at(1, 1), match: /must be a mapping/ },
  { name: 'scalar document', content: 'just some text\n', code: 'not_a_mapping', at: at(1, 1), match: /got a scalar/ },
  {
    name: 'scalar as the second document after a valid one',
    content: y('kind: Config', 'name: c', 'spec:', '  data: {}', '---', '42'),
    code: 'not_a_mapping',
    at: at(6, 1),
    match: /got a scalar \(number 42\)/,
    notCreated: 'Config/c',
  },
  { name: 'missing kind', content: y('name: bad', 'spec:', '  port: 1'), code: 'missing_field', at: at(1, 1), match: /'kind'/ },
  { name: 'missing spec', content: y('kind: Workload', 'name: bad'), code: 'missing_field', at: at(1, 1), match: /'spec'/ },
  { name: 'name with bad characters', content: y('kind: Workload', 'name: my api!', 'spec:', '  port: 1'), code: 'invalid_field', at: at(2, 1), match: /is not valid/ },
  { name: 'name is a number', content: y('kind: Workload', 'name: 404', 'spec:', '  port: 1'), code: 'invalid_field', at: at(2, 1), match: /must be a string/ },
  { name: 'spec is a list', content: y(...W, '  - port: 1'), code: 'invalid_field', at: at(3, 1), match: /spec must be a mapping/ },
  { name: 'unknown top-level key', content: y(...W, '  port: 1', 'labels:', '  team: a'), code: 'unknown_field', at: at(5, 1), match: /'labels'/ },
  { name: 'unknown metadata key', content: y('kind: Workload', 'name: bad', 'metadata:', '  annotations:', '    a: b', 'spec:', '  port: 1'), code: 'unknown_field', at: at(4, 3), match: /'annotations'/ },
  // kinds and schemas
  { name: 'unknown kind', content: y('kind: Workloads', 'name: bad', 'spec:', '  port: 1'), code: 'unknown_kind', at: at(1, 1), match: /unknown kind 'Workloads' \(known kinds: Config, Metric, Workload\)/ },
  { name: 'port as a string', content: y(...W, '  max_instances: 2', '  port: "8080"'), code: 'schema_violation', at: at(5, 3), match: /\/spec\/port: must be an integer/ },
  { name: 'enum violation', content: y(...W, '  port: 1', '  deploy_strategy: blue-green'), code: 'schema_violation', at: at(5, 3), match: /must be one of/ },
  { name: 'unknown spec field', content: y(...W, '  port: 1', '  replicas: 3'), code: 'schema_violation', at: at(5, 3), match: /unknown field 'replicas'/ },
  { name: 'missing required field', content: y(...W, '  max_instances: 2'), code: 'schema_violation', at: at(3, 1), match: /missing required field 'port'/ },
  { name: 'number out of range', content: y(...W, '  port: 70000'), code: 'schema_violation', at: at(4, 3), match: /65535/ },
  {
    name: 'invalid .yml deep in a sub-folder',
    files: { [`${DIR}/team/deep/svc.yml`]: y('kind: Metric', 'name: m', 'spec:', '  name: Bad-Name', '  query: up') },
    code: 'schema_violation',
    at: at(4, 3, `${DIR}/team/deep/svc.yml`),
    match: /\/spec\/name: must match pattern/,
  },
  {
    name: 'a second file redefining the valid Workload/api',
    files: { [`${DIR}/copy.yml`]: y('# copy', 'kind: Workload', 'name: api', 'spec:', '  port: 2') },
    code: 'duplicate_resource',
    at: at(2, 1, `${DIR}/api.yaml`),
    match: /also defined at shop\/prod\/copy\.yml:3:1/,
  },
];

/**
 * What a case exercises beyond the parser (unit-tested case by case in parse-invalid.test.ts) is
 * the pipeline and the store: 422, nothing written, the failed deployment recorded. The parser
 * does not depend on the database, so every case runs on the first dialect and one case per
 * code on the others.
 */
const onePerCode = cases.filter((c, i) => cases.findIndex((d) => d.code === c.code) === i);

for (const [dialectIndex, dialect] of DIALECTS.entries()) {
  const runCases = dialectIndex === 0 ? cases : onePerCode;
  describe(dialect, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let repo: FixtureRepo;
    let good: string;
    const commitOf = new Map<string, string>();
    let baseline: Record<string, unknown>;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'shop' });
      good = await commitFiles(repo, { [`${DIR}/api.yaml`]: workload('api', 'port: 8080'), [`${DIR}/metrics.yml`]: metric('rps', 'up') }, 'good');
      // One commit per case, each also changing api's port (a valid update that must not land).
      let previous: string[] = [];
      for (const [i, c] of cases.entries()) {
        const files: Record<string, FixtureFile | null> = c.files ?? { [BAD]: c.content ?? '' };
        const change: Record<string, FixtureFile | null> = { [`${DIR}/api.yaml`]: workload('api', `port: ${9000 + i}`), ...files };
        for (const p of previous) if (!(p in change)) change[p] = null;
        previous = Object.keys(files);
        commitOf.set(c.name, await commitFiles(repo, change, `case ${i}: ${c.name}`));
      }
      server = await serveGitHttp(root);
      await createSource(t, 'shop', server.repoUrl('shop'));
      await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: DIR });
      expect(await sync(t, 'shop.prod', good)).toMatchObject({ status: 'success', summary: { create: 2 } });
      baseline = await liveSnapshot(t, 'shop.prod');
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it(`has at least 25 cases (${cases.length})`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(25);
    });

    it.each(runCases.map((c) => [c.name, c] as const))('%s → 422 invalid_specs, nothing applied', async (_name, c) => {
      const commit = commitOf.get(c.name)!;
      const before = await deployments(t, 'shop.prod');

      const err = expectError(await syncReq(t, 'shop.prod', commit), 422, 'invalid_specs');
      const failed = err.details.deployment;
      expect(failed).toMatchObject({ namespace: 'shop.prod', status: 'failed', ref: commit, commit, source: 'shop', actor: 'admin' });
      expect(failed.summary.invalid).toBeGreaterThanOrEqual(1);
      const invalid = failed.results.filter((r: any) => r.operation === 'invalid');
      const hit = invalid.find((r: any) => r.message?.startsWith(`${c.at}:`));
      expect(hit, `no invalid result at ${c.at}: ${JSON.stringify(invalid, null, 2)}`).toBeDefined();
      expect(hit).toMatchObject({ status: 'invalid', code: c.code });
      expect(`${hit.file}:${hit.line}:${hit.column}`).toBe(c.at);
      expect(hit.message).toMatch(c.match);
      // Everything else in the commit was skipped, including the valid change to api.
      for (const r of failed.results.filter((x: any) => x.operation !== 'invalid')) expect(r.status).toBe('skipped');
      if (c.code !== 'duplicate_resource') {
        expect(failed.results.find((r: any) => r.kind === 'Workload' && r.name === 'api')).toMatchObject({ operation: 'update', status: 'skipped' });
      }

      // Nothing written…
      expect(await liveSnapshot(t, 'shop.prod')).toEqual(baseline);
      if (c.notCreated) {
        const [kind, name] = c.notCreated.split('/');
        expectError(await api(t, 'GET', `/namespaces/shop.prod/resources/${kind}/${name}`), 404, 'not_found');
      }
      // …but the failed deployment is recorded (newest first), with its audit event and status.
      const after = await deployments(t, 'shop.prod');
      expect(after).toHaveLength(before.length + 1);
      expect(after[0]).toEqual(failed);
      expect(ok(await api(t, 'GET', `/deployments/${failed.id}`))).toEqual(failed);
      const ns = await getNamespace(t, 'shop.prod');
      expect(ns.status).toBe('error');
      expect(ns.last_deployment).toMatchObject({ id: failed.id, status: 'failed' });
      const audit = ok(await api(t, 'GET', '/audit?namespace=shop.prod&limit=1')).items;
      expect(audit[0]).toMatchObject({ action: 'namespace.sync_failed', actor: 'admin' });
      expect(audit[0].details).toMatchObject({ deployment: failed.id, commit });

      // A plan of the same commit shows the same invalid result and applies nothing either.
      const plan = ok(await planReq(t, 'shop.prod', commit));
      expect(plan.summary.invalid).toBe(failed.summary.invalid);
      expect(plan.results.find((r: any) => r.message?.startsWith(`${c.at}:`))).toMatchObject({ operation: 'invalid', status: 'invalid', code: c.code });
    });

    it('drift of an invalid branch head is fetch_status invalid; fixing it in git syncs again', async () => {
      const report = await drift(t, 'shop.prod');
      expect(report.fetch_status).toBe('invalid');
      expect(report.plan.summary.invalid).toBeGreaterThanOrEqual(1);
      expect(report.commit).toBe(commitOf.get(cases.at(-1)!.name));

      const last = cases.at(-1)!;
      const fixed = await commitFiles(repo, Object.fromEntries(Object.keys(last.files ?? { [BAD]: '' }).map((p) => [p, null])), 'fix');
      const dep = await sync(t, 'shop.prod');
      expect(dep).toMatchObject({ status: 'success', commit: fixed, summary: { update: 1, invalid: 0 } });
      expect((await getNamespace(t, 'shop.prod')).status).toBe('synced');
      expect(await drift(t, 'shop.prod')).toMatchObject({ fetch_status: 'ok', commit: fixed, plan: { summary: { create: 0, update: 0, delete: 0, invalid: 0 } } });
    });
  });
}
