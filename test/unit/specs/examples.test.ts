/**
 * The shipped examples (examples/kinds/*.json, examples/repo/) must stay valid: they are what
 * the docs and the quick start point people at.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/plan.js';
import type { LiveResource } from '../../../src/plan/types.js';
import { validateKindDefinition } from '../../../src/specs/kinds.js';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import type { SpecFile } from '../../../src/specs/types.js';
import { REPO_ROOT, exampleRegistry } from './fixtures.js';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const repoDir = join(REPO_ROOT, 'examples/repo');
const files: SpecFile[] = walk(repoDir).map((abs) => ({ path: relative(repoDir, abs), content: readFileSync(abs) }));

describe('examples', () => {
  it('kind files are PUT /kinds bodies with valid definitions', () => {
    for (const name of ['Workload', 'Metric']) {
      const body = JSON.parse(readFileSync(join(REPO_ROOT, `examples/kinds/${name}.json`), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(body).every((k) => k === 'schema' || k === 'equivalents')).toBe(true);
      expect(() => validateKindDefinition({ name, ...body })).not.toThrow();
    }
  });

  it('the example repository parses and validates clean', () => {
    const out = parseSpecFiles(files, { registry: exampleRegistry() });
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => `${d.file} ${d.kind}/${d.name}`)).toEqual([
      'shop/prod/api.yaml Workload/api',
      'shop/prod/metrics.yaml Metric/orders-per-minute',
      'shop/prod/metrics.yaml Metric/checkout-latency-p99',
      'shop/prod/worker.yml Workload/order-worker',
      'shop/prod/worker.yml Config/order-worker.settings',
    ]);
    expect(files.some((f) => f.path.endsWith('README.md'))).toBe(true); // present, and ignored
  });

  it('plans as all-create against an empty namespace, then in sync once applied', () => {
    const registry = exampleRegistry();
    const parsed = parseSpecFiles(files, { registry });
    const first = buildPlan({ desired: parsed.documents, invalid: parsed.invalid, live: [], registry, prune: true });
    expect(first.summary).toEqual({ create: 5, update: 0, delete: 0, noop: 0, invalid: 0 });
    const worker = first.results.find((r) => r.name === 'order-worker');
    expect(worker?.merged?.spec).toEqual({
      port: 9090,
      healthcheck: { path: '/ready', interval_seconds: 10 },
      deploy_strategy: 'recreate',
      max_instances: 1,
    });

    const live: LiveResource[] = first.results.map((r) => ({
      kind: r.kind as string,
      name: r.name as string,
      spec: r.merged?.spec ?? {},
      metadata: r.merged?.metadata ?? {},
      managed_fields: r.managedFields,
      hash: r.hash as string,
    }));
    const second = buildPlan({ desired: parsed.documents, invalid: parsed.invalid, live, registry, prune: true });
    expect(second.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 5, invalid: 0 });
  });
});
