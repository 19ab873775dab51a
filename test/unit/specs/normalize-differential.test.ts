/**
 * normalizeContent (a walk that says whether a round changed the document) and isNormalized (a
 * read-only walk) against the normalisation by copied-and-compared rounds they replace
 * (normalize-reference.ts, verbatim from 4f769f8): the same answer, key for key and in the same
 * key order, on generated schemas (defaults, $ref, allOf, items, prefixItems,
 * additionalProperties, a self-referencing definition), equivalence rules (wildcards, structured
 * canonical values, rules that undo each other) and documents; and isNormalized only says yes
 * when normalising would give back the very same content.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledKind, EquivalenceRule } from '../../../src/specs/kinds.js';
import { setOwn } from '../../../src/specs/json.js';
import { isNormalized, normalizeByRounds, normalizeContent } from '../../../src/specs/normalize.js';
import type { SpecContent } from '../../../src/specs/types.js';
import type { JsonObject, JsonValue } from '../../../src/contracts/json.js';
import { referenceNormalizeContent } from './normalize-reference.js';
import { exampleRegistry } from './fixtures.js';
import { mulberry32 } from '../../helpers/prng.js';

const KEYS = ['a', 'b', 'c', 'd', 'port', 'x/y', 't~1', '0', '__proto__'];
const SCALARS: JsonValue[] = [0, -0, 1, 2.5, 'x', '', 'y', true, false, null];

/** Same value, same key order, same primitives (Object.is: -0 is not 0), own keys only. */
function identical(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length || ak.some((k, i) => k !== bk[i])) return false;
  return ak.every((k) => identical((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function generator(seed: number) {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const chance = (p: number) => r() < p;

  function value(depth: number): JsonValue {
    if (depth > 2 || chance(0.6)) return pick(SCALARS);
    if (chance(0.5)) return Array.from({ length: Math.floor(r() * 3) }, () => value(depth + 1));
    const o: JsonObject = {};
    for (let i = Math.floor(r() * 3); i > 0; i--) setOwn(o, pick(KEYS), value(depth + 1));
    return o;
  }

  function schema(depth: number): JsonObject {
    const s: JsonObject = {};
    if (chance(0.35)) s['default'] = value(1);
    if (depth < 3 && chance(0.7)) {
      const props: JsonObject = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) setOwn(props, pick(KEYS), schema(depth + 1));
      s['properties'] = props;
    }
    if (depth < 3 && chance(0.2)) s['additionalProperties'] = schema(depth + 1);
    if (depth < 3 && chance(0.2)) s['items'] = schema(depth + 1);
    if (depth < 3 && chance(0.15)) s['prefixItems'] = [schema(depth + 1), schema(depth + 1)];
    if (depth < 3 && chance(0.15)) s['allOf'] = [schema(depth + 1), schema(depth + 1)];
    if (chance(0.2)) s['$ref'] = pick(['#/$defs/leaf', '#/$defs/obj', '#/$defs/self', '#/$defs/missing', '#bad~']);
    return s;
  }

  function kind(): CompiledKind {
    const root = schema(0);
    root['$defs'] = {
      leaf: { default: value(1) },
      obj: { properties: { a: { default: value(1) }, b: { properties: { c: { default: pick(SCALARS) } } } } },
      self: { $ref: '#/$defs/self', properties: { d: { default: 'd' } } },
    };
    const rules: EquivalenceRule[] = [];
    for (let i = Math.floor(r() * 4); i > 0; i--) {
      const segments = [pick(['spec', 'spec', 'metadata'])];
      for (let n = 1 + Math.floor(r() * 2); n > 0; n--) segments.push(chance(0.3) ? '*' : pick(KEYS));
      const groups: JsonValue[][] = [];
      for (let g = 1 + Math.floor(r() * 2); g > 0; g--) groups.push(Array.from({ length: 1 + Math.floor(r() * 3) }, () => (chance(0.8) ? pick(SCALARS) : value(1))));
      rules.push({ pointer: `/${segments.join('/')}`, segments, groups });
    }
    // Sometimes two rules that turn a value back and forth.
    if (chance(0.1)) {
      const key = pick(KEYS);
      rules.push({ pointer: `/spec/${key}`, segments: ['spec', key], groups: [['x', 'y']] });
      rules.push({ pointer: '/spec/*', segments: ['spec', '*'], groups: [['y', 'x']] });
    }
    return { effectiveSchema: root, equivalenceRules: rules } as unknown as CompiledKind;
  }

  function content(): SpecContent {
    const spec = value(0);
    const metadata: JsonObject = {};
    if (chance(0.5)) metadata['labels'] = { team: pick(['x', 'y', '']) };
    if (chance(0.3)) metadata['description'] = pick(SCALARS);
    return { spec: (typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec : { a: spec }) as JsonObject, metadata: metadata as SpecContent['metadata'] };
  }

  return { kind, content };
}

describe('normalizeContent equals the copied-rounds normalisation', () => {
  it('on 1,500 generated kinds × 3 documents (and on their normal forms)', () => {
    let normalizedYes = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const g = generator(seed);
      const kind = g.kind();
      for (let d = 0; d < 3; d++) {
        const input = g.content();
        const before = structuredClone(input);
        const want = referenceNormalizeContent(kind, input);
        const got = normalizeContent(kind, input);
        expect(identical(got, want), `seed ${seed}/${d}: ${JSON.stringify(input)}`).toBe(true);
        expect(identical(normalizeByRounds(kind, input), want)).toBe(true);
        expect(identical(input, before), 'input untouched').toBe(true);
        // isNormalized: yes only when the reference gives back the very same content.
        for (const c of [input, want]) {
          if (isNormalized(kind, c)) {
            normalizedYes++;
            expect(identical(referenceNormalizeContent(kind, c), { spec: c.spec, metadata: c.metadata ?? {} }), `seed ${seed}: ${JSON.stringify(c)}`).toBe(true);
          }
        }
      }
    }
    expect(normalizedYes).toBeGreaterThan(1000); // not vacuous
  });

  it('on the Workload kind: defaults, the deploy_strategy equivalent, live content as stored', () => {
    const workload = exampleRegistry().get('Workload')!;
    const specs: JsonObject[] = [
      { port: 80 },
      { port: 80, deploy_strategy: '' },
      { port: 80, deploy_strategy: 'recreate', max_instances: 1 },
      { port: 80, healthcheck: { path: '/h' }, resources: { cpu_limit: '1m' } },
      { port: 80, healthcheck: { path: '/h', interval_seconds: 10 }, deploy_strategy: 'rolling', max_instances: 1 },
    ];
    for (const spec of specs) {
      const c: SpecContent = { spec, metadata: { labels: { team: 'a' } } };
      const want = referenceNormalizeContent(workload, c);
      expect(identical(normalizeContent(workload, c), want)).toBe(true);
      expect(isNormalized(workload, c)).toBe(identical(want, c));
      // What an apply stores is its own normal form.
      expect(isNormalized(workload, want)).toBe(true);
      expect(isNormalized(workload, JSON.parse(JSON.stringify(want)) as SpecContent)).toBe(true);
    }
  });
});
