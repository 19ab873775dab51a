import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODE_LIST, ERROR_CODES } from '../../../src/contracts/error-codes.js';
import { errorBody } from '../../../src/contracts/errors.js';

const apiDoc = fs.readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('are each documented in docs/api.md', () => {
    const table = apiDoc.slice(apiDoc.indexOf('## Error codes'));
    const missing = ERROR_CODE_LIST.filter((code) => !table.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents no code the list lacks', () => {
    const table = apiDoc.slice(apiDoc.indexOf('## Error codes'));
    const documented = [...table.matchAll(/^\| \d{3} \| ([^|]+)\|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((c) => c[1]!));
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it('documents the same retry answer as the list', () => {
    const table = apiDoc.slice(apiDoc.indexOf('## Error codes'));
    for (const m of table.matchAll(/^\| \d{3} \| ([^|]+)\| (yes|no) \|/gm)) {
      for (const c of m[1]!.matchAll(/`([a-z_]+)`/g)) {
        expect(ERROR_CODES[c[1] as keyof typeof ERROR_CODES].retryable, c[1]).toBe(m[2] === 'yes');
      }
    }
  });

  it('the error body accepts listed codes only', () => {
    expect(errorBody.safeParse({ error: { code: 'not_found', message: 'x', details: {} } }).success).toBe(true);
    expect(errorBody.safeParse({ error: { code: 'bad_request', message: 'x', details: {} } }).success).toBe(false);
  });
});
