import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/plan/plan.js';

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
