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

  describe('applied(): the plan after a committed apply is a noop without planning again', () => {
    // Each case: git's document and the live resource before the sync (null: a create).
    const cases: Array<{ name: string; git: string; live: LiveResource | null }> = [
      { name: 'a create (defaults filled in)', git: 'kind: Workload\nname: api\nspec:\n  port: 8080\n  healthcheck:\n    path: /h\n', live: null },
      {
        name: 'an update that drops a no-longer-declared managed field and keeps an unmanaged one',
        git: 'kind: Workload\nname: api\nmetadata:\n  labels:\n    team: shop\nspec:\n  port: 9090\n',
        live: {
          kind: 'Workload',
          name: 'api',
          spec: { port: 8080, max_instances: 4, deploy_strategy: 'rolling' },
          metadata: { labels: { team: 'ops', owner: 'someone' } },
          managed_fields: ['/spec/port', '/spec/deploy_strategy', '/metadata/labels/team'],
          hash: 'live-before',
        },
      },
      {
        name: 'a noop whose managed fields change',
        git: 'kind: Workload\nname: api\nspec:\n  port: 8080\n  max_instances: 1\n',
        live: { kind: 'Workload', name: 'api', spec: { port: 8080, max_instances: 1 }, metadata: {}, managed_fields: ['/spec/port'], hash: 'x' },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const parsed = parseSpecFiles([{ path: 'a.yaml', content: c.git }], { registry });
        const doc = parsed.documents[0]!;
        const memo = new PlanMemo();
        const planned = memo.plan(doc, c.live, registry);
        expect(planned.operation, planned.message).toBe(c.name.split(' ')[1]);
        // What the apply writes, and what planning afresh against it says.
        const after = toLive(planned);
        const fresh = new PlanMemo().plan(doc, after, registry);
        expect(fresh.operation).toBe('noop');
        memo.applied(doc, planned, registry);
        const remembered = memo.plan(doc, after, registry);
        expect(remembered).toEqual(fresh);
        // Remembered, not planned again: the same object each time.
        expect(memo.plan(doc, after, registry)).toBe(remembered);
        // Another live state (a PATCH since) is planned afresh.
        expect(memo.plan(doc, { ...after, spec: { ...after.spec, port: 1 }, hash: 'patched' }, registry).operation).toBe('update');
      });
    }

    it('ignores results that were not applied (invalid, delete) and results of another document', () => {
      const one = parseSpecFiles([{ path: 'a.yaml', content: doc(8080) }], { registry }).documents[0]!;
      const memo = new PlanMemo();
      const planned = memo.plan(one, null, registry);
      memo.applied(one, { ...planned, operation: 'invalid', hash: null }, registry);
      memo.applied(one, { ...planned, name: 'other' }, registry);
      expect(memo.plan(one, null, registry)).toBe(planned);
    });
  });
});
