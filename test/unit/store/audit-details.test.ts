/** A 10,000-resource sync's audit details are redacted and serialised in slices: the same text. */
import { afterEach, describe, expect, it } from 'vitest';
import { auditDetailsParts } from '../../../src/store/audit.js';
import { toJson } from '../../../src/store/json.js';
import { clearRegisteredSecrets, redactDeep, registerSecret } from '../../../src/security/redact.js';

describe('auditDetailsParts', () => {
  afterEach(() => clearRegisteredSecrets());

  it('joins to exactly toJson(redactDeep(details)), secrets masked in every slice', async () => {
    registerSecret('hunter2-secret');
    for (const n of [0, 1, 500, 501, 1234]) {
      const changed = Array.from({ length: n }, (_, i) => ({ operation: i % 2 ? 'update' : 'create', kind: 'Workload', name: i % 97 ? `svc-${i}` : 'svc-hunter2-secret', hash: i % 3 ? `h${i}` : null }));
      const details = { deployment: 'dep_1', status: 'success', ref: 'https://u:pw@example.com/x', reason: undefined, summary: { create: n }, changed, after: ['é', { deep: 'hunter2-secret' }] };
      let turns = 0;
      const parts = await auditDetailsParts(details, 'changed', async () => void (turns += 1));
      const joined = parts.join('');
      expect(joined).toBe(toJson(redactDeep(details)));
      expect(joined).not.toContain('hunter2-secret');
      expect(turns).toBe(n > 500 ? Math.ceil(n / 500) - 1 : 0);
    }
    expect((await auditDetailsParts({}, 'changed', async () => undefined)).join('')).toBe('{}');
  });
});
