/** applyPlan builds the deployment's results and the outbox's resource events as JSON in slices. */
import { describe, expect, it } from 'vitest';
import { jsonArrayParts } from '../../../src/sync/apply.js';

describe('jsonArrayParts', () => {
  it('joins to exactly JSON.stringify(items), turning between slices', async () => {
    const item = (i: number) => ({ kind: 'Workload', name: `svc-${i}`, line: i % 3 ? i : null, message: i % 5 ? `"q" \\ é ${i}` : undefined, changes: [{ path: '/a', after: [i, { x: i }] }] });
    for (const n of [0, 1, 499, 500, 501, 1000, 1234]) {
      const items = Array.from({ length: n }, (_, i) => item(i));
      let turns = 0;
      const parts = await jsonArrayParts(items, async () => {
        turns++;
      });
      expect(parts.join('')).toBe(JSON.stringify(items));
      expect(turns).toBe(Math.max(0, Math.ceil(n / 500) - 1));
    }
  });
});
