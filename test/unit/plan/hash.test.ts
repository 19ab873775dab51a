import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/plan/plan.js';
import { sortKeys } from '../../../src/plan/hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every level, keeps array order, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 0, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,1,{"y":null,"z":0}]},"b":1}');
  });

  it('is independent of key insertion order', () => {
    expect(canonicalJson({ x: 1, y: { p: true, q: false } })).toBe(canonicalJson({ y: { q: false, p: true }, x: 1 }));
  });

  it('writes numbers by value and escapes strings like JSON', () => {
    expect(canonicalJson([1.0, -0, 1e21, 0.1, 'a"b\n', '\u2028'])).toBe('[1,0,1e+21,0.1,"a\\"b\\n","\u2028"]');
  });

  it('sorts keys by code unit, not locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, _: 5 })).toBe('{"B":2,"_":5,"a":3,"b":1,"é":4}');
  });

  it('omits undefined object members but refuses anything that is not JSON', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/not a JSON number/);
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(/Date is not plain JSON/);
    expect(() => canonicalJson({ b: Buffer.from('x') })).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });

  it('accepts objects without a prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['k'] = 1;
    expect(canonicalJson(o)).toBe('{"k":1}');
  });
});

describe('contentHash', () => {
  const resource = { kind: 'Workload', name: 'api', spec: { port: 1, healthcheck: { path: '/h' } }, metadata: { labels: { a: 'b' } } };

  it('is a sha256 hex digest', () => {
    expect(contentHash(resource)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key order', () => {
    expect(contentHash({ metadata: { labels: { a: 'b' } }, spec: { healthcheck: { path: '/h' }, port: 1 }, name: 'api', kind: 'Workload' })).toBe(contentHash(resource));
  });

  it('changes with any of kind, name, spec or metadata', () => {
    const h = contentHash(resource);
    expect(contentHash({ ...resource, kind: 'Config' })).not.toBe(h);
    expect(contentHash({ ...resource, name: 'api2' })).not.toBe(h);
    expect(contentHash({ ...resource, spec: { port: 2, healthcheck: { path: '/h' } } })).not.toBe(h);
    expect(contentHash({ ...resource, metadata: {} })).not.toBe(h);
  });

  it('distinguishes "1" from 1', () => {
    expect(contentHash({ ...resource, spec: { port: '1' } })).not.toBe(contentHash({ ...resource, spec: { port: 1 } }));
  });
});

/** canonicalJson's writer as it was before it built its text by concatenation (4f769f8, verbatim). */
function referenceWrite(value: unknown, depth: number): string {
  if (depth > 1000) throw new TypeError('canonicalJson: value nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value
          .map((v) => {
            if (v === undefined) throw new TypeError('canonicalJson: undefined in an array');
            return referenceWrite(v, depth + 1);
          })
          .join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${(value as object).constructor?.name ?? 'object'} is not plain JSON`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${referenceWrite(v, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
}

describe('canonicalJson equals the writer it replaced', () => {
  it('on 5,000 generated JSON values', () => {
    let seed = 7;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const odd = ['back\\slash', 'tab\t', 'lone\ud800', 'low\udc00x', 'pair\ud83d\ude00', 'ctl\u001f', 'del\u007f', 'plain text'];
    const keys = ['a', 'B', 'b', '_', 'é', '10', '9', '', 'x"y', '__proto__', 'u\u2028', ...odd];
    const value = (depth: number): unknown => {
      if (depth > 3 || r() < 0.5) return pick([0, -0, 1.5, 1e21, -3, 'a"b\n', '', '\u2028', true, false, null, undefined, ...odd]);
      if (r() < 0.4) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1) ?? null);
      const o: Record<string, unknown> = r() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
      for (let i = Math.floor(r() * 5); i > 0; i--) Object.defineProperty(o, pick(keys), { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    };
    for (let i = 0; i < 5000; i++) {
      const v = value(0);
      let want: string | Error;
      try {
        want = referenceWrite(v, 0);
      } catch (e) {
        want = e as Error;
      }
      if (want instanceof Error) expect(() => canonicalJson(v)).toThrow(want.message);
      else expect(canonicalJson(v)).toBe(want);
    }
  });
});

describe('sortKeys', () => {
  it('sorts as Array.prototype.sort does, short lists and long', () => {
    let seed = 11;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const alphabet = ['a', 'B', 'b', '_', 'é', '1', '10', '9', '~', '\ud800', '\ud83d\ude00', 'aa', ''];
    for (let i = 0; i < 3000; i++) {
      const keys = [...new Set(Array.from({ length: Math.floor(r() * 30) }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('')))];
      const mine = keys.slice();
      sortKeys(mine);
      expect(mine).toEqual(keys.slice().sort());
    }
  });
});
