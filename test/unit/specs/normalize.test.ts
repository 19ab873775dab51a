import { describe, expect, it } from 'vitest';
import { compileKind } from '../../../src/specs/kinds.js';
import type { CompiledKind } from '../../../src/specs/kinds.js';
import { jsonEqual } from '../../../src/specs/json.js';
import { canonicalizeEquivalents, normalizeContent, normalizeSpec } from '../../../src/specs/normalize.js';
import type { SpecContent } from '../../../src/specs/types.js';
import type { JsonObject } from '../../../src/contracts/json.js';
import { WORKLOAD, exampleRegistry } from './fixtures.js';

const workload = exampleRegistry().get('Workload') as CompiledKind;

describe('normalizeSpec: defaults', () => {
  it('fills top-level defaults for missing properties', () => {
    expect(normalizeSpec(workload, { port: 80 })).toEqual({ port: 80, deploy_strategy: 'recreate', max_instances: 1 });
  });

  it('fills nested defaults only inside mappings that exist', () => {
    expect(normalizeSpec(workload, { port: 80, healthcheck: { path: '/h' } })).toMatchObject({
      healthcheck: { path: '/h', interval_seconds: 10 },
    });
    expect(normalizeSpec(workload, { port: 80 })).not.toHaveProperty('healthcheck');
  });

  it('never overrides declared values, including falsy ones', () => {
    const kind = compileKind({
      name: 'Flags',
      schema: {
        type: 'object',
        properties: {
          on: { type: 'boolean', default: true },
          count: { type: 'integer', default: 5 },
          label: { type: ['string', 'null'], default: 'x' },
        },
      },
    });
    expect(normalizeSpec(kind, { on: false, count: 0, label: null })).toEqual({ on: false, count: 0, label: null });
    expect(normalizeSpec(kind, {})).toEqual({ on: true, count: 5, label: 'x' });
  });

  it('copies default values (no shared references with the schema)', () => {
    const kind = compileKind({
      name: 'Lists',
      schema: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, default: ['a'] } } },
    });
    const first = normalizeSpec(kind, {});
    (first['tags'] as string[]).push('mutated');
    expect(normalizeSpec(kind, {})).toEqual({ tags: ['a'] });
  });

  it('follows $ref, allOf, array items and additionalProperties schemas', () => {
    const kind = compileKind({
      name: 'Composite',
      schema: {
        type: 'object',
        $defs: {
          port: { type: 'object', properties: { protocol: { type: 'string', default: 'tcp' }, number: { type: 'integer' } } },
        },
        properties: {
          main: { $ref: '#/$defs/port' },
          ports: { type: 'array', items: { $ref: '#/$defs/port' } },
          named: { type: 'object', additionalProperties: { $ref: '#/$defs/port' } },
          withDefaultObject: { type: 'object', default: {}, properties: { retries: { type: 'integer', default: 3 } } },
        },
        allOf: [{ properties: { mode: { type: 'string', default: 'fast' } } }],
        unevaluatedProperties: false,
      },
    });
    expect(normalizeSpec(kind, { main: { number: 1 }, ports: [{ number: 2 }, { number: 3, protocol: 'udp' }], named: { web: { number: 80 } } })).toEqual({
      main: { number: 1, protocol: 'tcp' },
      ports: [
        { number: 2, protocol: 'tcp' },
        { number: 3, protocol: 'udp' },
      ],
      named: { web: { number: 80, protocol: 'tcp' } },
      withDefaultObject: { retries: 3 },
      mode: 'fast',
    });
  });

});

describe('normalizeSpec: equivalents', () => {
  it('maps equivalent values to the canonical (first) value', () => {
    expect(normalizeSpec(workload, { port: 80, deploy_strategy: '' })['deploy_strategy']).toBe('recreate');
    expect(normalizeSpec(workload, { port: 80, deploy_strategy: 'recreate' })['deploy_strategy']).toBe('recreate');
    expect(normalizeSpec(workload, { port: 80, deploy_strategy: 'rolling' })['deploy_strategy']).toBe('rolling');
  });

  it('accepts spec-relative pointers as well as /spec/… pointers', () => {
    const relative = compileKind({ ...WORKLOAD, name: 'Workload2', equivalents: { '/deploy_strategy': [['recreate', '']] } });
    expect(normalizeSpec(relative, { port: 1, deploy_strategy: '' })['deploy_strategy']).toBe('recreate');
  });

  it('compares by JSON value: numbers by value, no type coercion', () => {
    const kind = compileKind({
      name: 'Ports',
      schema: { type: 'object', properties: { port: { type: ['integer', 'string'] } } },
      equivalents: { '/port': [[80, 'http']] },
    });
    expect(normalizeSpec(kind, { port: 'http' })).toEqual({ port: 80 });
    expect(normalizeSpec(kind, { port: 80.0 })).toEqual({ port: 80 });
    expect(normalizeSpec(kind, { port: '80' })).toEqual({ port: '80' }); // a string is not a number
    expect(jsonEqual('8080', 8080)).toBe(false);
    expect(jsonEqual(1.0, 1)).toBe(true);
  });

  it('supports several groups, structured values and * wildcards', () => {
    const kind = compileKind({
      name: 'Jobs',
      schema: {
        type: 'object',
        properties: {
          jobs: {
            type: 'array',
            items: { type: 'object', properties: { restart: { type: ['string', 'boolean'] }, limits: { type: ['object', 'null'] } } },
          },
        },
      },
      equivalents: {
        '/jobs/*/restart': [
          ['always', true, 'yes'],
          ['never', false, 'no'],
        ],
        '/jobs/*/limits': [[{}, null]],
      },
    });
    expect(normalizeSpec(kind, { jobs: [{ restart: true }, { restart: 'no', limits: null }, { restart: 'on-failure', limits: { cpu: 1 } }] })).toEqual({
      jobs: [{ restart: 'always' }, { restart: 'never', limits: {} }, { restart: 'on-failure', limits: { cpu: 1 } }],
    });
  });

  it('applies metadata equivalents to whole documents only', () => {
    const kind = compileKind({ ...WORKLOAD, name: 'Tiered', equivalents: { '/metadata/labels/tier': [['frontend', 'fe']] } });
    const content: SpecContent = { spec: { port: 1 }, metadata: { labels: { tier: 'fe', team: 'fe' } } };
    expect(normalizeContent(kind, content).metadata).toEqual({ labels: { tier: 'frontend', team: 'fe' } });
    expect(canonicalizeEquivalents(kind.equivalenceRules, content).metadata).toEqual({ labels: { tier: 'frontend', team: 'fe' } });
  });

  it('leaves absent values absent (defaults are a separate rule)', () => {
    const kind = compileKind({ name: 'Nullable', schema: { type: 'object', properties: { a: { type: ['string', 'null'] } } }, equivalents: { '/a': [[null, '']] } });
    expect(normalizeSpec(kind, {})).toEqual({});
    expect(normalizeSpec(kind, { a: '' })).toEqual({ a: null });
  });
});

describe('normalisation is idempotent and pure', () => {
  const samples: JsonObject[] = [
    { port: 80 },
    { port: 80, deploy_strategy: '' },
    { port: 80, healthcheck: { path: '/h' }, resources: {} },
    { max_instances: 3, port: 8080.0, deploy_strategy: 'rolling', healthcheck: { interval_seconds: 30, path: '/x' } },
  ];

  it.each(samples.map((s) => [JSON.stringify(s), s] as const))('normalize(normalize(%s)) = normalize(...)', (_label, spec) => {
    const once = normalizeSpec(workload, spec);
    expect(normalizeSpec(workload, once)).toEqual(once);
  });

  it('reaches a fixpoint when a canonical value itself gets defaults', () => {
    const kind = compileKind({
      name: 'Probe',
      schema: {
        type: 'object',
        properties: {
          probe: {
            type: ['object', 'string'],
            properties: { path: { type: 'string' }, interval: { type: 'integer', default: 10 } },
          },
        },
      },
      equivalents: { '/probe': [[{ path: '/' }, 'default']] },
    });
    const once = normalizeSpec(kind, { probe: 'default' });
    expect(once).toEqual({ probe: { path: '/', interval: 10 } });
    expect(normalizeSpec(kind, once)).toEqual(once);
  });

  it('does not mutate its input', () => {
    const input: JsonObject = { port: 80, deploy_strategy: '', healthcheck: { path: '/h' } };
    const copy = structuredClone(input);
    normalizeSpec(workload, input);
    normalizeContent(workload, { spec: input, metadata: { labels: { a: 'b' } } });
    expect(input).toEqual(copy);
  });

  it('makes key order irrelevant', () => {
    const a = normalizeSpec(workload, { port: 1, healthcheck: { path: '/h', interval_seconds: 5 }, max_instances: 2 });
    const b = normalizeSpec(workload, { max_instances: 2, healthcheck: { interval_seconds: 5, path: '/h' }, port: 1 });
    expect(jsonEqual(a, b)).toBe(true);
  });
});
