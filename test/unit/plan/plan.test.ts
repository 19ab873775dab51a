import { describe, expect, it } from 'vitest';
import { isInSync } from '../../../src/plan/drift.js';
import { buildPlan, buildPlanSteps, contentHash } from '../../../src/plan/plan.js';
import type { LiveResource, Plan, PlanResult } from '../../../src/plan/types.js';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import type { ParseResult } from '../../../src/specs/types.js';
import { exampleRegistry, y } from '../specs/fixtures.js';

const registry = exampleRegistry();

function parse(files: Record<string, string>, withRegistry = true): ParseResult {
  return parseSpecFiles(
    Object.entries(files).map(([path, content]) => ({ path, content })),
    withRegistry ? { registry } : {},
  );
}

function plan(files: Record<string, string>, live: LiveResource[] = [], prune = false): Plan {
  const parsed = parse(files);
  return buildPlan({ desired: parsed.documents, invalid: parsed.invalid, live, registry, prune });
}

/** What the sync layer would store for a result. */
function toLive(r: PlanResult): LiveResource {
  if (!r.merged || r.kind === null || r.name === null || r.hash === null) throw new Error(`not applicable: ${r.operation}`);
  return { kind: r.kind, name: r.name, spec: r.merged.spec, metadata: r.merged.metadata, managed_fields: r.managedFields, hash: r.hash };
}

function only(p: Plan): PlanResult {
  expect(p.results).toHaveLength(1);
  return p.results[0] as PlanResult;
}

const API = y(
  'kind: Workload',
  'name: api',
  'metadata:',
  '  labels:',
  '    team: storefront',
  'spec:',
  '  port: 8080',
  '  healthcheck:',
  '    path: /healthz',
);

describe('buildPlan: create', () => {
  it('creates a resource with declared changes, normalised content, managed fields and a hash', () => {
    const r = only(plan({ 'shop/api.yaml': API }));
    expect(r).toMatchObject({
      kind: 'Workload',
      name: 'api',
      file: 'shop/api.yaml',
      line: 1,
      column: 1,
      operation: 'create',
      status: 'pending',
      code: null,
    });
    expect(r.changes).toEqual([
      { path: '/spec/port', to: 8080 },
      { path: '/spec/healthcheck/path', to: '/healthz' },
      { path: '/metadata/labels/team', to: 'storefront' },
    ]);
    expect(r.merged).toEqual({
      spec: { port: 8080, healthcheck: { path: '/healthz', interval_seconds: 10 }, deploy_strategy: 'recreate', max_instances: 1 },
      metadata: { labels: { team: 'storefront' } },
    });
    expect(r.managedFields).toEqual(['/metadata/labels/team', '/spec/healthcheck/path', '/spec/port']);
    expect(r.hash).toBe(contentHash({ kind: 'Workload', name: 'api', ...(r.merged as NonNullable<PlanResult['merged']>) }));
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('creates the built-in Config kind', () => {
    const r = only(plan({ 'a.yaml': y('kind: Config', 'name: flags', 'spec:', '  data:', '    beta: true', '    limits: {rps: 10}') }));
    expect(r.operation).toBe('create');
    expect(r.merged?.spec).toEqual({ data: { beta: true, limits: { rps: 10 } } });
    expect(r.managedFields).toEqual(['/spec/data/beta', '/spec/data/limits/rps']);
  });
});

describe('buildPlan: noop and no false drift', () => {
  it('is in sync right after applying its own plan', () => {
    const first = plan({ 'shop/api.yaml': API });
    const second = plan({ 'shop/api.yaml': API }, first.results.map(toLive));
    const r = only(second);
    expect(r.operation).toBe('noop');
    expect(r.changes).toEqual([]);
    expect(r.hash).toBe(first.results[0]?.hash);
    expect(isInSync(second)).toBe(true);
  });

  it('shows no drift for equivalents, defaults, 1.0 vs 1 and key order', () => {
    const live: LiveResource = {
      kind: 'Workload',
      name: 'api',
      spec: { max_instances: 1, deploy_strategy: 'recreate', healthcheck: { interval_seconds: 10, path: '/h' }, port: 8080 },
      metadata: {},
      managed_fields: ['/spec/port', '/spec/deploy_strategy', '/spec/healthcheck/path'],
      hash: 'h0',
    };
    const git = y(
      'kind: Workload',
      'name: api',
      'spec:',
      '  healthcheck: {path: /h}', // interval_seconds: default 10
      '  deploy_strategy: ""', // ≡ recreate
      '  port: 8080.0', // = 8080
    );
    const r = only(plan({ 'a.yaml': git }, [live]));
    expect(r.operation).toBe('noop');
    expect(r.changes).toEqual([]);
    expect(r.merged?.spec).toEqual({ port: 8080, healthcheck: { path: '/h', interval_seconds: 10 }, deploy_strategy: 'recreate', max_instances: 1 });
  });

  it('shows no drift when live was stored without defaults and git spells the defaults out', () => {
    const live: LiveResource = { kind: 'Workload', name: 'api', spec: { port: 1 }, metadata: {}, managed_fields: ['/spec/port'], hash: 'old' };
    const r = only(plan({ 'a.yaml': y('kind: Workload', 'name: api', 'spec:', '  port: 1', '  max_instances: 1', '  deploy_strategy: recreate') }, [live]));
    expect(r.operation).toBe('noop');
    // git now manages the two extra fields: the applier stores managedFields even for noop
    expect(r.managedFields).toEqual(['/spec/deploy_strategy', '/spec/max_instances', '/spec/port']);
  });

  it('does show drift for "8080" vs 8080 (no type coercion)', () => {
    const live: LiveResource = {
      kind: 'Config',
      name: 'c',
      spec: { data: { port: 8080 } },
      metadata: {},
      managed_fields: ['/spec/data/port'],
      hash: 'x',
    };
    const r = only(plan({ 'a.yaml': y('kind: Config', 'name: c', 'spec:', '  data:', '    port: "8080"') }, [live]));
    expect(r.operation).toBe('update');
    expect(r.changes).toEqual([{ path: '/spec/data/port', from: 8080, to: '8080' }]);
  });
});

describe('buildPlan: update and merge', () => {
  const base = (): LiveResource => ({
    kind: 'Workload',
    name: 'api',
    spec: {
      port: 8080,
      healthcheck: { path: '/healthz', interval_seconds: 10 },
      deploy_strategy: 'recreate',
      max_instances: 5,
      resources: { cpu_limit: '500m', memory_limit: '256Mi' },
    },
    metadata: { labels: { team: 'storefront', oncall: 'alice' } },
    managed_fields: ['/metadata/labels/team', '/spec/healthcheck/path', '/spec/max_instances', '/spec/port', '/spec/resources/cpu_limit'],
    hash: 'live-hash',
  });
  const git = (...specLines: string[]): string => y('kind: Workload', 'name: api', 'metadata:', '  labels:', '    team: storefront', 'spec:', ...specLines);

  it('reports field-level changes and keeps omitted fields', () => {
    const r = only(plan({ 'a.yaml': git('  port: 9090', '  healthcheck: {path: /healthz}', '  max_instances: 5', '  resources: {cpu_limit: 500m}') }, [base()]));
    expect(r.operation).toBe('update');
    expect(r.message).toBe("Workload 'api': 1 field changed");
    expect(r.changes).toEqual([{ path: '/spec/port', from: 8080, to: 9090 }]);
    expect(r.merged?.spec['resources']).toEqual({ cpu_limit: '500m', memory_limit: '256Mi' }); // memory_limit is not git's
    expect(r.merged?.metadata.labels).toEqual({ team: 'storefront', oncall: 'alice' }); // oncall label is not git's
  });

  it('removes a previously managed field that git no longer declares', () => {
    // max_instances (default 1) and resources.cpu_limit (no default) are dropped from git
    const r = only(plan({ 'a.yaml': git('  port: 8080', '  healthcheck: {path: /healthz}') }, [base()]));
    expect(r.operation).toBe('update');
    expect(r.changes).toEqual([
      { path: '/spec/max_instances', from: 5, to: 1 }, // back to the kind's default
      { path: '/spec/resources/cpu_limit', from: '500m' }, // gone: no `to`
    ]);
    expect(r.merged?.spec).toEqual({
      port: 8080,
      healthcheck: { path: '/healthz', interval_seconds: 10 },
      deploy_strategy: 'recreate',
      max_instances: 1,
      resources: { memory_limit: '256Mi' },
    });
    expect(r.managedFields).toEqual(['/metadata/labels/team', '/spec/healthcheck/path', '/spec/port']);
  });

  it('removes a managed label that git no longer declares', () => {
    const r = only(plan({ 'a.yaml': y('kind: Workload', 'name: api', 'spec:', '  port: 8080', '  healthcheck: {path: /healthz}', '  max_instances: 5', '  resources: {cpu_limit: 500m}') }, [base()]));
    expect(r.changes).toEqual([{ path: '/metadata/labels/team', from: 'storefront' }]);
    expect(r.merged?.metadata).toEqual({ labels: { oncall: 'alice' } });
  });

  it('reports metadata changes', () => {
    const r = only(
      plan(
        { 'a.yaml': y('kind: Workload', 'name: api', 'metadata:', '  description: Public API', '  labels: {team: checkout}', 'spec:', '  port: 8080', '  healthcheck: {path: /healthz}', '  max_instances: 5', '  resources: {cpu_limit: 500m}') },
        [base()],
      ),
    );
    expect(r.changes).toEqual([
      { path: '/metadata/labels/team', from: 'storefront', to: 'checkout' },
      { path: '/metadata/description', to: 'Public API' },
    ]);
  });

  it('turns a merged result that fails the schema into an invalid result pointing at the document', () => {
    const live = base();
    live.spec['resources'] = { cpu_limit: '500m', memory_limit: 'a lot' }; // set by hand, not managed, now invalid
    const r = only(plan({ 'shop/api.yaml': git('  port: 8080', '  healthcheck: {path: /healthz}', '  max_instances: 5', '  resources: {cpu_limit: 500m}') }, [live]));
    expect(r).toMatchObject({ operation: 'invalid', status: 'invalid', code: 'merged_invalid', kind: 'Workload', name: 'api', hash: null });
    expect(r.merged).toBeUndefined();
    // /spec/resources/memory_limit is not in the document: the nearest declared ancestor is `resources` (line 10)
    expect(r.message).toMatch(/^shop\/api\.yaml:10:3: \/spec\/resources\/memory_limit: must match pattern .* \(after merging with the live resource\)$/);
    expect([r.line, r.column]).toEqual([10, 3]);
  });
});

describe('buildPlan: prune', () => {
  const orphan: LiveResource = { kind: 'Metric', name: 'old', spec: { name: 'old', query: 'up' }, metadata: {}, managed_fields: ['/spec/name'], hash: 'orphan-hash' };

  it('deletes live resources missing from git only when prune is on', () => {
    const pruned = plan({ 'a.yaml': API }, [orphan], true);
    expect(pruned.summary).toEqual({ create: 1, update: 0, delete: 1, noop: 0, invalid: 0 });
    expect(pruned.results.find((r) => r.operation === 'delete')).toEqual({
      kind: 'Metric',
      name: 'old',
      file: null,
      line: null,
      column: null,
      operation: 'delete',
      status: 'pending',
      code: null,
      message: "Metric 'old' is no longer declared in git and will be deleted (prune)",
      changes: [],
      managedFields: [],
      hash: 'orphan-hash',
    });

    const kept = plan({ 'a.yaml': API }, [orphan], false);
    expect(kept.summary).toEqual({ create: 1, update: 0, delete: 0, noop: 0, invalid: 0 });
    expect(kept.results.map((r) => r.name)).toEqual(['api']); // not listed at all
  });

  it('never deletes a resource whose document is merely invalid', () => {
    const p = plan({ 'a.yaml': y('kind: Metric', 'name: old', 'spec:', '  name: old', '  query: 42') }, [orphan], true);
    expect(p.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 0, invalid: 1 });
    expect(isInSync(p)).toBe(false);
  });
});

describe('buildPlan: invalid results', () => {
  it('carries parse failures over with their position and code', () => {
    const p = plan({ 'a.yaml': API, 'b.yaml': y('kind: Workload', 'name: web', 'spec:', '  port: "80"'), 'c.yaml': '- not a mapping\n' });
    expect(p.summary).toEqual({ create: 1, update: 0, delete: 0, noop: 0, invalid: 2 });
    const web = p.results.find((r) => r.name === 'web');
    expect(web).toMatchObject({ operation: 'invalid', status: 'invalid', code: 'schema_violation', file: 'b.yaml', line: 4, column: 3, changes: [], managedFields: [], hash: null });
    expect(web?.message).toMatch(/^b\.yaml:4:3: /);
    const list = p.results.find((r) => r.file === 'c.yaml');
    expect(list).toMatchObject({ kind: null, name: null, code: 'not_a_mapping' });
  });

  it('reports unknown kinds when documents were parsed without a registry', () => {
    const parsed = parse({ 'a.yaml': y('# x', 'kind: Gadget', 'name: g', 'spec: {}') }, false);
    const p = buildPlan({ desired: parsed.documents, invalid: parsed.invalid, live: [], registry, prune: false });
    expect(only(p)).toMatchObject({ operation: 'invalid', code: 'unknown_kind', line: 2, column: 1 });
    expect(only(p).message).toBe("a.yaml:2:1: unknown kind 'Gadget' (known kinds: Config, Metric, Workload)");
  });

  it('reports duplicates handed in directly (without parseSpecFiles)', () => {
    const a = parse({ 'a.yaml': API }).documents;
    const b = parse({ 'b.yaml': API }).documents;
    const p = buildPlan({ desired: [...a, ...b], invalid: [], live: [], registry, prune: false });
    expect(p.summary.invalid).toBe(2);
    expect(p.results.map((r) => r.message)).toEqual([
      "a.yaml:2:1: duplicate Workload 'api': also defined at b.yaml:2:1",
      "b.yaml:2:1: duplicate Workload 'api': also defined at a.yaml:2:1",
    ]);
  });
});

describe('buildPlan: ordering and determinism', () => {
  const files = {
    'z.yaml': y('kind: Workload', 'name: b', 'spec: {port: 1}', '---', 'kind: Config', 'name: z', 'spec: {data: {}}'),
    'a.yaml': y('kind: Workload', 'name: a', 'spec: {port: 2}', '---', 'kind: Metric', 'name: m', 'spec: {name: m, query: up}'),
    'broken.yaml': 'kind: [\n',
  };
  const live: LiveResource[] = [
    { kind: 'Workload', name: 'a', spec: { port: 3 }, metadata: {}, managed_fields: ['/spec/port'], hash: '1' },
    { kind: 'Config', name: 'gone', spec: { data: {} }, metadata: {}, managed_fields: [], hash: '2' },
  ];

  it('sorts results by kind then name, unknown identities last', () => {
    const p = plan(files, live, true);
    expect(p.results.map((r) => `${r.kind}/${r.name}:${r.operation}`)).toEqual([
      'Config/gone:delete',
      'Config/z:create',
      'Metric/m:create',
      'Workload/a:update',
      'Workload/b:create',
      'null/null:invalid',
    ]);
    expect(p.summary).toEqual({ create: 3, update: 1, delete: 1, noop: 0, invalid: 1 });
  });

  it('does not depend on the order of its inputs', () => {
    const parsed = parse(files);
    const one = buildPlan({ desired: parsed.documents, invalid: parsed.invalid, live, registry, prune: true });
    const two = buildPlan({ desired: [...parsed.documents].reverse(), invalid: [...parsed.invalid].reverse(), live: [...live].reverse(), registry, prune: true });
    expect(two).toEqual(one);
  });

  it('gives the same hash whatever the key order in git', () => {
    const x = only(plan({ 'a.yaml': y('kind: Workload', 'name: api', 'spec:', '  port: 1', '  healthcheck: {path: /h, interval_seconds: 3}') }));
    const z = only(plan({ 'b.yaml': y('spec:', '  healthcheck: {interval_seconds: 3, path: /h}', '  port: 1', 'name: api', 'kind: Workload') }));
    expect(z.hash).toBe(x.hash);
  });

  it('produces plain JSON', () => {
    const p = plan(files, live, true);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('buildPlanSteps', () => {
  it('pauses between documents and live resources and returns the plan buildPlan makes', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`s/${String(i).padStart(2, '0')}.yaml`] = y('kind: Workload', `name: w${i % 37}`, 'spec:', `  port: ${8000 + i}`);
    files['s/bad.yaml'] = y('kind: Workload', 'name: bad', 'spec:', '  port: nope');
    const parsed = parse(files);
    const live = (name: string, port: number): LiveResource => ({ kind: 'Workload', name, spec: { port }, metadata: {}, managed_fields: ['/spec/port'], hash: `h-${name}` });
    const input = { desired: parsed.documents, invalid: parsed.invalid, live: [live('w10', 1), live('w5', 8005), live('gone', 2), live('bad', 3)], registry, prune: true };
    const steps = buildPlanSteps(input, 1);
    let pauses = 0;
    let step = steps.next();
    while (!step.done) {
      pauses += 1;
      step = steps.next();
    }
    expect(pauses).toBeGreaterThan(40);
    expect(step.value).toEqual(buildPlan(input));
    expect(new Set(step.value.results.map((r) => r.operation))).toEqual(new Set(['create', 'update', 'noop', 'delete', 'invalid']));
  });
});
