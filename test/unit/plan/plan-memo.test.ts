import { describe, expect, it } from 'vitest';
import { buildPlan, PlanMemo } from '../../../src/plan/plan.js';
import type { LiveResource, PlanResult } from '../../../src/plan/types.js';
import { ParseCache, parseSpecFiles } from '../../../src/specs/parse.js';
import { exampleRegistry } from '../specs/fixtures.js';

const registry = exampleRegistry();
const doc = (port: number) => `kind: Workload\nname: api\nspec:\n  port: ${port}\n`;

function toLive(r: PlanResult): LiveResource {
  return { kind: r.kind!, name: r.name!, spec: r.merged!.spec, metadata: r.merged!.metadata, managed_fields: r.managedFields, hash: r.hash! };
}

describe('PlanMemo', () => {
  const cache = new ParseCache();
  const parse = (port: number, id: string) => parseSpecFiles([{ path: 'a.yaml', id, content: doc(port) }], { registry, cache });

  it('returns the same result as an unmemoised plan and reuses it while nothing changed', () => {
    const memo = new PlanMemo();
    const parsed = parse(8080, 'v1');
    const plain = buildPlan({ ...parsed, desired: parsed.documents, live: [], registry, prune: false });
    const first = buildPlan({ ...parsed, desired: parsed.documents, live: [], registry, prune: false, memo });
    expect(first).toEqual(plain);
    const again = buildPlan({ ...parse(8080, 'v1'), desired: parse(8080, 'v1').documents, live: [], registry, prune: false, memo });
    expect(again.results[0]).toBe(first.results[0]);
  });

  it('re-plans when the live resource changes (e.g. after apply or a PATCH)', () => {
    const memo = new PlanMemo();
    const parsed = parse(8080, 'v1');
    const created = buildPlan({ invalid: [], desired: parsed.documents, live: [], registry, prune: false, memo });
    expect(created.results[0]?.operation).toBe('create');
    const live = [toLive(created.results[0]!)];
    const after = buildPlan({ invalid: [], desired: parsed.documents, live, registry, prune: false, memo });
    expect(after.results[0]?.operation).toBe('noop');
    const patched = [{ ...live[0]!, spec: { ...live[0]!.spec, port: 1 }, hash: 'other' }];
    expect(buildPlan({ invalid: [], desired: parsed.documents, live: patched, registry, prune: false, memo }).results[0]?.operation).toBe('update');
  });

  it('re-plans a changed document and when the kinds change', () => {
    const memo = new PlanMemo();
    const v1 = buildPlan({ invalid: [], desired: parse(8080, 'v1').documents, live: [], registry, prune: false, memo });
    const v2 = buildPlan({ invalid: [], desired: parse(9090, 'v2').documents, live: [], registry, prune: false, memo });
    expect(v2.results[0]?.changes).not.toEqual(v1.results[0]?.changes);
    const other = exampleRegistry();
    const again = buildPlan({ invalid: [], desired: parse(8080, 'v1').documents, live: [], registry: other, prune: false, memo });
    expect(again.results[0]).not.toBe(v1.results[0]);
    expect(again.results[0]).toEqual(v1.results[0]);
  });
});
