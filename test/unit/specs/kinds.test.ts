import { describe, expect, it } from 'vitest';
import { SynclineError } from '../../../src/errors.js';
import {
  BUILTIN_KINDS,
  CONFIG_KIND,
  KindRegistry,
  closeObjectSchemas,
  compileKind,
  validateKindDefinition,
  validateSpec,
} from '../../../src/specs/kinds.js';
import type { CompiledKind } from '../../../src/specs/kinds.js';
import type { KindDefinition } from '../../../src/specs/types.js';
import type { JsonObject } from '../../../src/contracts/json.js';
import { METRIC, WORKLOAD, exampleRegistry } from './fixtures.js';

function kindError(fn: () => unknown): SynclineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SynclineError);
    const e = err as SynclineError;
    expect(e.code).toBe('invalid_kind');
    expect(e.retryable).toBe(false);
    return e;
  }
  throw new Error('expected an invalid_kind error');
}

const get = (registry: KindRegistry, name: string): CompiledKind => {
  const kind = registry.get(name);
  if (!kind) throw new Error(`no kind ${name}`);
  return kind;
};

describe('KindRegistry', () => {
  it('always has the built-in Config kind', () => {
    const registry = new KindRegistry();
    expect(registry.names()).toEqual(['Config']);
    expect(BUILTIN_KINDS.map((k) => k.name)).toEqual(['Config']);
    expect(get(registry, 'Config').builtin).toBe(true);
  });

  it('lists kinds sorted and looks them up', () => {
    const registry = exampleRegistry();
    expect(registry.names()).toEqual(['Config', 'Metric', 'Workload']);
    expect(registry.has('Workload')).toBe(true);
    expect(registry.has('workload')).toBe(false);
    expect(registry.get('Nope')).toBeUndefined();
    expect(registry.list().map((k) => k.name)).toEqual(['Config', 'Metric', 'Workload']);
  });

  it('refuses to redefine a built-in kind or define a kind twice', () => {
    expect(kindError(() => new KindRegistry([{ name: 'Config', schema: { type: 'object' } }])).message).toMatch(/built in/);
    expect(kindError(() => new KindRegistry([WORKLOAD, WORKLOAD])).message).toMatch(/defined twice/);
  });

  it('compiles each distinct definition once', () => {
    expect(compileKind(WORKLOAD)).toBe(compileKind({ ...WORKLOAD }));
    expect(get(exampleRegistry(), 'Workload')).toBe(get(exampleRegistry(), 'Workload'));
    expect(compileKind({ ...WORKLOAD, equivalents: {} })).not.toBe(compileKind(WORKLOAD));
  });
});

describe('Config (built in)', () => {
  const config = get(new KindRegistry(), 'Config');

  it('accepts any data', () => {
    expect(validateSpec(config, { data: {} })).toEqual([]);
    expect(validateSpec(config, { data: { anything: { nested: [1, 'two', null] }, 'x-y': true } })).toEqual([]);
  });

  it('requires data to be a mapping and rejects other spec fields', () => {
    expect(validateSpec(config, {})).toEqual([{ path: '/spec', keyword: 'required', message: "missing required field 'data'" }]);
    expect(validateSpec(config, { data: [1] })[0]).toMatchObject({ path: '/spec/data', keyword: 'type' });
    expect(validateSpec(config, { data: {}, extra: 1 })).toEqual([
      { path: '/spec/extra', keyword: 'additionalProperties', message: expect.stringContaining("unknown field 'extra' (not allowed by the schema: its object schema at # has no \"additionalProperties\"") },
    ]);
  });

  it('is exported as a plain definition', () => {
    expect(CONFIG_KIND.name).toBe('Config');
    expect(JSON.parse(JSON.stringify(CONFIG_KIND))).toEqual(CONFIG_KIND);
  });
});

describe('closeObjectSchemas (additionalProperties enforcement)', () => {
  it('closes object schemas that say nothing, at every depth', () => {
    const input: JsonObject = {
      type: 'object',
      properties: {
        a: { type: 'object', properties: { b: { type: 'string' } } },
        list: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' } } } },
        tuple: { type: 'array', prefixItems: [{ type: 'object' }] },
        choice: { anyOf: [{ type: 'object', properties: { y: { type: 'string' } } }, { type: 'string' }] },
        ref: { $ref: '#/$defs/thing' },
        negated: { not: { type: 'object' } },
      },
      $defs: { thing: { properties: { z: { type: 'string' } } } },
    };
    const out = closeObjectSchemas(input) as JsonObject;
    expect(out).toMatchObject({
      additionalProperties: false,
      properties: {
        a: { additionalProperties: false },
        list: { items: { additionalProperties: false } },
        tuple: { prefixItems: [{ additionalProperties: false }] },
        choice: { anyOf: [{ additionalProperties: false }, { type: 'string' }] },
        negated: { not: { additionalProperties: false } },
      },
      $defs: { thing: { additionalProperties: false } },
    });
    expect((out['properties'] as JsonObject)['ref']).toEqual({ $ref: '#/$defs/thing' });
    expect(input['additionalProperties']).toBeUndefined(); // input not mutated
  });

  it('respects schemas that decide for themselves', () => {
    const out = closeObjectSchemas({
      type: 'object',
      properties: {
        open: { type: 'object', additionalProperties: true },
        typed: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
        patterned: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
        evaluated: { type: 'object', unevaluatedProperties: false },
      },
    }) as JsonObject;
    const props = out['properties'] as Record<string, JsonObject>;
    expect(props['open']?.['additionalProperties']).toBe(true);
    expect(props['typed']?.['additionalProperties']).toEqual({ type: 'object', properties: { v: { type: 'string' } }, additionalProperties: false });
    expect(props['patterned']).not.toHaveProperty('additionalProperties');
    expect(props['evaluated']).not.toHaveProperty('additionalProperties');
  });

  it('treats a type list containing object as an object schema, and leaves data keywords alone', () => {
    const out = closeObjectSchemas({
      type: 'object',
      properties: {
        maybe: { type: ['object', 'null'] },
        withDefault: { type: 'object', default: { type: 'object' }, examples: [{ type: 'object' }] },
      },
    }) as JsonObject;
    const props = out['properties'] as Record<string, JsonObject>;
    expect(props['maybe']?.['additionalProperties']).toBe(false);
    expect(props['withDefault']?.['default']).toEqual({ type: 'object' });
    expect(props['withDefault']?.['examples']).toEqual([{ type: 'object' }]);
  });

  it('rejects unknown fields at every level when validating', () => {
    const kind = compileKind({
      name: 'Pipeline',
      schema: {
        type: 'object',
        properties: {
          steps: { type: 'array', items: { type: 'object', properties: { run: { type: 'string' } } } },
          env: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    });
    expect(validateSpec(kind, { steps: [{ run: 'make' }], env: { A: 'b' } })).toEqual([]);
    expect(validateSpec(kind, { steps: [{ run: 'make', shell: 'sh' }] })).toEqual([
      { path: '/spec/steps/0/shell', keyword: 'additionalProperties', message: expect.stringContaining("unknown field 'shell' (not allowed by the schema: its object schema at #/properties/steps/items") },
    ]);
    expect(validateSpec(kind, { stages: [] })[0]?.path).toBe('/spec/stages');
    expect(validateSpec(kind, { env: { A: 1 } })[0]).toMatchObject({ path: '/spec/env/A', keyword: 'type' });
  });
});

describe('validateSpec', () => {
  const workload = get(exampleRegistry(), 'Workload');
  const metric = get(exampleRegistry(), 'Metric');

  it('returns no errors for a valid spec', () => {
    expect(validateSpec(workload, { port: 8080, healthcheck: { path: '/h', interval_seconds: 5 }, deploy_strategy: 'rolling' })).toEqual([]);
    expect(validateSpec(metric, { name: 'm', query: 'up', tags: ['a'], required_dimensions: ['region'] })).toEqual([]);
  });

  it('reports every error with a document-relative JSON pointer', () => {
    const errors = validateSpec(workload, {
      port: '8080',
      healthcheck: { interval_seconds: 0 },
      resources: { cpu_limit: 'lots', gpu: '1' },
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: '/spec/port', keyword: 'type', message: 'must be an integer (got string "8080")' },
        { path: '/spec/healthcheck', keyword: 'required', message: "missing required field 'path'" },
        { path: '/spec/healthcheck/interval_seconds', keyword: 'minimum', message: 'must be >= 1' },
        { path: '/spec/resources/cpu_limit', keyword: 'pattern', message: expect.stringMatching(/must match pattern/) as unknown as string },
        { path: '/spec/resources/gpu', keyword: 'additionalProperties', message: expect.stringContaining("unknown field 'gpu' (not allowed by the schema") },
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  it('does not coerce types: "8080" is not an integer, 1.0 is', () => {
    expect(validateSpec(workload, { port: '8080' })).toHaveLength(1);
    expect(validateSpec(workload, { port: 8080.0 })).toEqual([]);
    expect(validateSpec(workload, { port: 80.5 })[0]?.keyword).toBe('type');
  });

  it('escapes JSON pointer segments', () => {
    const kind = compileKind({ name: 'Routes', schema: { type: 'object', properties: { map: { type: 'object', additionalProperties: { type: 'integer' } } } } });
    expect(validateSpec(kind, { map: { 'a/b~c': 'x' } })[0]?.path).toBe('/spec/map/a~1b~0c');
  });

  it('supports formats (ajv-formats)', () => {
    const kind = compileKind({ name: 'Contact', schema: { type: 'object', properties: { email: { type: 'string', format: 'email' } } } });
    expect(validateSpec(kind, { email: 'ops@example.com' })).toEqual([]);
    expect(validateSpec(kind, { email: 'nope' })[0]?.keyword).toBe('format');
  });
});

describe('validateKindDefinition', () => {
  it('accepts the example kinds', () => {
    expect(() => validateKindDefinition(WORKLOAD)).not.toThrow();
    expect(() => validateKindDefinition(METRIC)).not.toThrow();
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'Workload', /must be an object/],
    ['lower-case name', { name: 'workload', schema: { type: 'object' } }, /Invalid kind name "workload"/],
    ['name starting with a digit', { name: '9Lives', schema: { type: 'object' } }, /Invalid kind name/],
    ['name too long', { name: `A${'b'.repeat(63)}`, schema: { type: 'object' } }, /Invalid kind name/],
    ['built-in name', { name: 'Config', schema: { type: 'object' } }, /built in/],
    ['schema not an object', { name: 'K', schema: true }, /schema must be a JSON Schema object/],
    ['schema for a non-object spec', { name: 'K', schema: { type: 'string' } }, /"type": "object"/],
    ['schema without a type', { name: 'K', schema: { properties: {} } }, /"type": "object"/],
    ['unknown keyword (strict mode)', { name: 'K', schema: { type: 'object', properties: { a: { type: 'string', maxLenght: 3 } } } }, /invalid schema: strict mode: unknown keyword: "maxLenght"/],
    ['bad type name', { name: 'K', schema: { type: 'object', properties: { a: { type: 'str' } } } }, /invalid schema/],
    ['bad regular expression', { name: 'K', schema: { type: 'object', properties: { a: { type: 'string', pattern: '([' } } } }, /invalid schema/],
    ['unknown format', { name: 'K', schema: { type: 'object', properties: { a: { type: 'string', format: 'colour' } } } }, /unknown format "colour"/],
    ['dangling $ref', { name: 'K', schema: { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } } }, /invalid schema: can't resolve reference/],
    ['required field that is not a property', { name: 'K', schema: { type: 'object', required: ['a'], properties: {} } }, /invalid schema: strict mode: required property "a" is not defined/],
    ['draft-07 $schema', { name: 'K', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } }, /only JSON Schema 2020-12/],
    ['async schema', { name: 'K', schema: { $async: true, type: 'object' } }, /asynchronous/],
    ['equivalents not an object', { name: 'K', schema: { type: 'object' }, equivalents: [] }, /equivalents must be an object/],
    ['equivalents with a bad pointer', { name: 'K', schema: { type: 'object' }, equivalents: { mode: [['a', 'b']] } }, /must start with '\/'/],
    ['equivalents as a flat list', { name: 'K', schema: { type: 'object' }, equivalents: { '/mode': ['recreate', ''] } }, /each group must be a list of at least two/],
    ['equivalents group of one', { name: 'K', schema: { type: 'object' }, equivalents: { '/mode': [['a']] } }, /at least two/],
    ['equivalents value in two groups', { name: 'K', schema: { type: 'object' }, equivalents: { '/mode': [['a', 'b'], ['c', 'a']] } }, /"a" appears more than once/],
    ['equivalents on an unknown metadata field', { name: 'K', schema: { type: 'object' }, equivalents: { '/metadata/annotations/x': [['a', 'b']] } }, /metadata pointers/],
    ['equivalents on the document root', { name: 'K', schema: { type: 'object' }, equivalents: { '': [['a', 'b']] } }, /must name a field/],
  ];
  it.each(bad)('rejects %s', (_label, def, message) => {
    expect(kindError(() => validateKindDefinition(def)).message).toMatch(message);
  });

  it('accepts open mappings, unions and composition with unevaluatedProperties', () => {
    const def: KindDefinition = {
      name: 'Flexible',
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        allOf: [{ properties: { a: { type: 'string' } } }],
        properties: { b: { type: ['string', 'null'] }, extra: { type: 'object', additionalProperties: true } },
        unevaluatedProperties: false,
      },
    };
    const kind = compileKind(def);
    expect(validateSpec(kind, { a: 'x', b: null, extra: { anything: 1 } })).toEqual([]);
    expect(validateSpec(kind, { c: 1 })).toEqual([
      { path: '/spec/c', keyword: 'unevaluatedProperties', message: "unknown field 'c' (not allowed by the schema)" },
    ]);
    // the branch was left open because the parent governs unknown fields
    expect(((kind.effectiveSchema['allOf'] as JsonObject[])[0] as JsonObject)['additionalProperties']).toBeUndefined();
  });

  it('without unevaluatedProperties on the parent, parent and branches are all closed (documented rule)', () => {
    const kind = compileKind({ name: 'Strict', schema: { type: 'object', allOf: [{ properties: { a: { type: 'string' } } }] } });
    expect(kind.effectiveSchema['additionalProperties']).toBe(false);
    expect(((kind.effectiveSchema['allOf'] as JsonObject[])[0] as JsonObject)['additionalProperties']).toBe(false);
    // `a` is declared only in the branch, so the closed parent rejects it: use unevaluatedProperties to compose.
    expect(validateSpec(kind, { a: 'x' }).map((e) => e.path)).toEqual(['/spec/a']);
  });
});
