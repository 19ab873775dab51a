import { describe, expect, it } from 'vitest';
import { driftState, driftedResults, isInSync } from '../../../src/plan/drift.js';
import type { Plan, PlanResult, PlanSummary } from '../../../src/plan/types.js';

const summary = (s: Partial<PlanSummary>): PlanSummary => ({ create: 0, update: 0, delete: 0, noop: 0, invalid: 0, ...s });

describe('drift helpers', () => {
  it.each([
    [summary({}), true, 'in_sync'],
    [summary({ noop: 7 }), true, 'in_sync'],
    [summary({ noop: 1, create: 1 }), false, 'out_of_sync'],
    [summary({ update: 1 }), false, 'out_of_sync'],
    [summary({ delete: 1 }), false, 'out_of_sync'],
    [summary({ invalid: 1, noop: 3 }), false, 'invalid'],
    [summary({ invalid: 1, update: 2 }), false, 'invalid'],
  ] as const)('%o → inSync=%s, state=%s', (s, inSync, state) => {
    expect(isInSync({ summary: s })).toBe(inSync);
    expect(driftState({ summary: s })).toBe(state);
  });

  it('lists the results a sync would act on', () => {
    const r = (operation: PlanResult['operation'], name: string): PlanResult => ({
      kind: 'Config',
      name,
      file: 'a.yaml',
      line: 1,
      column: 1,
      operation,
      status: operation === 'invalid' ? 'invalid' : 'pending',
      code: null,
      message: '',
      changes: [],
      managedFields: [],
      hash: null,
    });
    const plan: Plan = { summary: summary({ noop: 1, update: 1, invalid: 1 }), results: [r('noop', 'a'), r('update', 'b'), r('invalid', 'c')] };
    expect(driftedResults(plan).map((x) => x.name)).toEqual(['b', 'c']);
  });
});
