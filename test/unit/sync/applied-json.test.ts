/**
 * The sync route sends an applied deployment's results as the JSON the apply made for the
 * record (appliedResultsJson in src/sync/apply.ts) instead of passing them through the response
 * schema again: that is only right while the applied items are exactly the schema's result items,
 * key for key and in its order. Checked on a plan with every operation, field changes that add,
 * change and remove values (objects, lists, null), and invalid results.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resultItem } from '../../../src/contracts/deployments.js';
import { buildPlan } from '../../../src/plan/plan.js';
import type { LiveResource } from '../../../src/plan/types.js';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import { jsonArrayParts } from '../../../src/sync/apply.js';
import { appliedItems } from '../../../src/sync/results.js';
import { exampleRegistry } from '../specs/fixtures.js';

describe("an applied deployment's results as JSON", () => {
  it('the JSON of appliedItems is what the response schema makes of them', async () => {
    const registry = exampleRegistry();
    const files = {
      'a.yaml': 'kind: Workload\nname: a\nspec:\n  port: 8080\n',
      'b.yaml': 'kind: Workload\nname: b\nmetadata:\n  labels:\n    team: x\nspec:\n  port: 9090\n  healthcheck:\n    path: /h\n',
      'c.yaml': 'kind: Workload\nname: c\nspec:\n  port: 8082\n',
      'd.yaml': 'kind: Workload\nname: d\nspec:\n  port: "nope"\n',
      'e.yaml': 'kind: Nope\nname: e\nspec: {}\n',
    };
    const parsed = parseSpecFiles(Object.entries(files).map(([path, content]) => ({ path, content })), { registry });
    const live = (name: string, spec: object, metadata: object = {}): LiveResource => ({ kind: 'Workload', name, spec: spec as never, metadata, managed_fields: ['/spec/port', '/spec/max_instances'], hash: `h-${name}` });
    const plan = buildPlan({
      desired: parsed.documents,
      invalid: parsed.invalid,
      live: [live('b', { port: 1, max_instances: 3, resources: { cpu_limit: '1' } }, { labels: { old: 'y' } }), live('c', { port: 8082 }), live('z', { port: 1 })],
      registry,
      prune: true,
    });
    expect(new Set(plan.results.map((r) => r.operation))).toEqual(new Set(['create', 'update', 'noop', 'delete', 'invalid']));
    const items = appliedItems(plan);
    const viaSchema = JSON.stringify(z.array(resultItem).parse(items));
    expect(JSON.stringify(items)).toBe(viaSchema);
    expect((await jsonArrayParts(items, async () => undefined)).join('')).toBe(viaSchema);
  });
});
