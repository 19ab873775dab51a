import { describe, expect, it } from 'vitest';
import { isInSync } from '../../../src/plan/drift.js';
import type { PlanSummary } from '../../../src/plan/types.js';

const summary = (s: Partial<PlanSummary>): PlanSummary => ({ create: 0, update: 0, delete: 0, noop: 0, invalid: 0, ...s });

describe('isInSync', () => {
  it.each([
    [summary({}), true],
    [summary({ noop: 7 }), true],
    [summary({ noop: 1, create: 1 }), false],
    [summary({ update: 1 }), false],
    [summary({ delete: 1 }), false],
    [summary({ invalid: 1, noop: 3 }), false],
    [summary({ invalid: 1, update: 2 }), false],
  ] as const)('%o → %s', (s, inSync) => {
    expect(isInSync({ summary: s })).toBe(inSync);
  });
});
