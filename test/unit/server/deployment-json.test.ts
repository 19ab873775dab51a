/**
 * The sync route serialises its (possibly 10,000-result) deployment in slices; the bytes must be
 * exactly what the response schema's serializer makes of it (zod parse, then JSON.stringify):
 * key order, omitted optional keys, stripped unknown keys, every slice size.
 */
import { describe, expect, it } from 'vitest';
import { deployment, type Deployment } from '../../../src/contracts/deployments.js';
import { deploymentJson } from '../../../src/server/routes/sync.js';

const result = (i: number) => ({
  kind: 'Workload',
  name: `svc-${i}`,
  file: `svc/${i}.yaml`,
  ...(i % 2 ? { line: 1, column: 1 } : {}),
  operation: i % 3 ? 'update' : 'create',
  status: 'success',
  ...(i % 4 ? { code: null } : {}),
  message: i % 5 ? `Workload 'svc-${i}': 1 field changed` : null,
  changes: i % 3 ? [{ path: '/spec/port', from: i, to: i + 1 }, { path: '/spec/gone', from: 'x' }] : [{ path: '/spec/new', to: { a: [1, 'two', null] } }],
  // Not in the schema: the serializer strips it, so must the sliced one.
  internal: 'not on the wire',
});

function sample(n: number, extra: Partial<Deployment> = {}): Deployment {
  return {
    id: 'dep_1',
    namespace: 'shop.prod',
    status: 'success',
    ref: 'main',
    commit: 'a'.repeat(40),
    source: 'shop',
    author: { name: 'A "quoted" name', email: 'a@example.com' },
    actor: 'admin',
    reason: null,
    started_at: '2026-11-30T00:00:00.000Z',
    finished_at: '2026-11-30T00:00:01.000Z',
    summary: { create: 1, update: 2, delete: 0, noop: 0, invalid: 0 },
    results: Array.from({ length: n }, (_, i) => result(i)) as unknown as Deployment['results'],
    ...extra,
  };
}

describe('deploymentJson', () => {
  for (const [n, extra] of [
    [0, {}],
    [1, {}],
    [7, { skipped_files: [{ path: 'charts/x.yaml', rule: 'exclude: charts/**' }] }],
    [10, { reason: 'roll back \u2028 please', skipped_files: [] }],
  ] as Array<[number, Partial<Deployment>]>) {
    it(`${n} results${Object.keys(extra).length ? ` with ${Object.keys(extra).join(', ')}` : ''}: the serializer's bytes for every slice size`, async () => {
      const d = sample(n, extra);
      const expected = JSON.stringify(deployment.parse(d));
      for (const slice of [1, 2, 3, 500]) {
        let turns = 0;
        expect(await deploymentJson(d, async () => void (turns += 1), slice)).toBe(expected);
        expect(turns).toBe(Math.max(0, Math.ceil(n / slice) - 1));
      }
      expect(expected).not.toContain('not on the wire');
    });
  }
});
