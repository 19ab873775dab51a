/**
 * The bearer token parser (server/auth.ts `bearer`) answers exactly what the expression
 * `/^Bearer\s+(\S+)\s*$/i` takes, for the common form (parsed without it) and every other.
 */
import { describe, expect, it } from 'vitest';
import { bearer } from '../../../src/server/auth.js';

const reference = (h: string | undefined) => (h ? (/^Bearer\s+(\S+)\s*$/i.exec(h)?.[1] ?? null) : null);

describe('bearer', () => {
  it('matches the regular expression', () => {
    const headers = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer syl_abc-DEF_123',
      'bearer syl_abc',
      'BEARER syl_abc',
      'Bearer  syl_abc',
      'Bearer\tsyl_abc',
      'Bearer syl_abc ',
      'Bearer syl_abc \t',
      'Bearer syl abc',
      'Bearer syl_abc\u00a0',
      'Bearer syl_\u00e9',
      'Bearer a\u0001b',
      'Bearer !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
      'Basic dXNlcjpwYXNz',
      'Bearerx syl_abc',
      'Bearer\u00a0syl_abc',
      ' Bearer syl_abc',
    ];
    for (const h of headers) expect(bearer({ headers: { authorization: h } }), JSON.stringify(h)).toBe(reference(h));
  });
});
