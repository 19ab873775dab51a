/**
 * Kinds: named JSON Schemas (2020-12) for `spec`, held by the server — never by the repo, so a
 * commit cannot loosen validation.
 *
 * - Schemas are compiled once per distinct definition (memoised), with Ajv in strict mode and
 *   `allErrors`. `useDefaults` is off: defaults are applied by normalisation (normalize.ts) so
 *   that they are visible and comparable, never silently injected by the validator.
 * - Unknown fields are rejected: before compiling, every object schema that does not say
 *   otherwise gets `additionalProperties: false` (see `closeObjectSchemas`).
 * - A kind may declare equivalent values (`""` ≡ `"recreate"`); see types.ts `Equivalents`.
 * - `Config` is built in: `spec.data` is any mapping.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { KIND_NAME_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import { cloneJson, describeJson, hasOwn, isJsonObject, jsonEqual } from './json.js';
import { escapeSegment, getAt, parsePointer } from './pointer.js';
import type { Equivalents, KindDefinition, SpecValidationError } from './types.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';

// ajv-formats is CommonJS (`module.exports = plugin; exports.default = plugin`); under NodeNext the
// default import is typed as the module object, at runtime it is the plugin itself. Both carry `.default`.
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule.default }).default;

export const KIND_NAME_PATTERN = KIND_NAME_RE;
const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The built-in `Config` kind: `spec.data` is a free-form mapping. */
export const CONFIG_KIND: KindDefinition = Object.freeze({
  name: 'Config',
  schema: {
    type: 'object',
    required: ['data'],
    properties: {
      data: {
        type: 'object',
        description: 'Free-form configuration: any keys, any JSON values.',
        additionalProperties: true,
      },
    },
  },
});

export const BUILTIN_KINDS: readonly KindDefinition[] = Object.freeze([CONFIG_KIND]);

export function isBuiltinKind(name: string): boolean {
  return BUILTIN_KINDS.some((k) => k.name === name);
}

/** One compiled equivalence rule; `segments` are document-relative (start with `spec` or `metadata`). */
export interface EquivalenceRule {
  pointer: string;
  segments: string[];
  groups: JsonValue[][];
}

export interface CompiledKind {
  readonly name: string;
  readonly builtin: boolean;
  /** The schema as defined (what `GET /kinds/{kind}` shows). */
  readonly schema: JsonObject;
  /** The schema actually enforced: `schema` with `additionalProperties: false` added where unspecified. */
  readonly effectiveSchema: JsonObject;
  readonly equivalents: Equivalents;
  readonly equivalenceRules: readonly EquivalenceRule[];
  /** apiVersions accepted from Kubernetes-form documents; null = any. */
  readonly apiVersions: readonly string[] | null;
  /** The API group in the kind's name (`Deployment.apps` → `apps`), or null. */
  readonly group: string | null;
  /** Validate a spec; errors carry document-relative pointers (`/spec/...`). */
  validate(spec: unknown): SpecValidationError[];
}

// ---------------------------------------------------------------------------------------------
// Closing object schemas

const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
] as const;
const SCHEMA_ARRAY_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;

function describesObject(schema: JsonObject): boolean {
  const type = schema['type'];
  if (type === 'object') return true;
  if (Array.isArray(type) && type.includes('object')) return true;
  return hasOwn(schema, 'properties');
}

/**
 * Returns a copy of `schema` where every (sub)schema that describes an object — `type: "object"`
 * (or a type list containing it) or a `properties` keyword — and has none of
 * `additionalProperties`, `unevaluatedProperties`, `patternProperties` gets
 * `additionalProperties: false`. Values under `default`, `const`, `enum`, `examples` are data,
 * not schemas, and are left alone.
 *
 * Composition: a branch of `allOf` / `anyOf` / `oneOf` / `if` / `then` / `else` /
 * `dependentSchemas` is closed too — unless its parent sets `unevaluatedProperties` (typically
 * `false`), which then governs unknown fields for the whole instance. So compose with
 * `unevaluatedProperties: false` on the parent. Say `additionalProperties: true` to open a
 * mapping on purpose (as `Config.spec.data` does).
 */
export function closeObjectSchemas(schema: JsonValue): JsonValue {
  if (!isJsonObject(schema)) return cloneJson(schema); // boolean schemas and junk are left to Ajv
  const out = cloneJson(schema);
  walkClose(out);
  return out;
}

/** Kubernetes: unknown fields are allowed at this level (and the level is not closed). */
export const PRESERVE_UNKNOWN = 'x-kubernetes-preserve-unknown-fields';

/** Keywords whose subschemas apply to the SAME instance as their parent. */
const IN_PLACE_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'dependentSchemas'] as const;

/**
 * `inPlaceOfUnevaluated`: this schema is an in-place applicator branch (allOf/anyOf/oneOf/if/
 * then/else/dependentSchemas) of a parent that sets `unevaluatedProperties`. The parent then
 * decides about unknown fields for the whole instance, and closing the branch would break the
 * composition, so the branch is left open.
 */
function walkClose(schema: JsonObject, inPlaceOfUnevaluated = false): void {
  if (
    !inPlaceOfUnevaluated &&
    schema[PRESERVE_UNKNOWN] !== true &&
    describesObject(schema) &&
    !hasOwn(schema, 'additionalProperties') &&
    !hasOwn(schema, 'unevaluatedProperties') &&
    !hasOwn(schema, 'patternProperties')
  ) {
    schema['additionalProperties'] = false;
  }
  const handlesUnevaluated = hasOwn(schema, 'unevaluatedProperties');
  const inPlace = (kw: string): boolean => handlesUnevaluated && (IN_PLACE_KEYWORDS as readonly string[]).includes(kw);
  for (const kw of SCHEMA_MAP_KEYWORDS) {
    const map = hasOwn(schema, kw) ? schema[kw] : undefined;
    if (isJsonObject(map)) for (const key of Object.keys(map)) visitSub(map[key], inPlace(kw));
  }
  for (const kw of SCHEMA_KEYWORDS) {
    const sub = hasOwn(schema, kw) ? schema[kw] : undefined;
    if (Array.isArray(sub)) sub.forEach((s) => visitSub(s, false)); // draft-07 style tuple `items: [...]`
    else visitSub(sub, inPlace(kw));
  }
  for (const kw of SCHEMA_ARRAY_KEYWORDS) {
    const list = hasOwn(schema, kw) ? schema[kw] : undefined;
    if (Array.isArray(list)) list.forEach((s) => visitSub(s, inPlace(kw)));
  }
}

function visitSub(sub: JsonValue | undefined, inPlaceOfUnevaluated: boolean): void {
  if (isJsonObject(sub)) walkClose(sub, inPlaceOfUnevaluated);
}

// ---------------------------------------------------------------------------------------------
// Definition checks and compilation

function invalidKind(message: string, details: Record<string, unknown> = {}): SynclineError {
  return new SynclineError('invalid_kind', message, details);
}

function isJsonData(value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonData(v, depth + 1));
  if (isJsonObject(value)) return Object.keys(value).every((k) => isJsonData(value[k], depth + 1));
  return false;
}

/** Document-relative segments for an equivalents pointer (see types.ts `Equivalents`). */
export function equivalencePointerSegments(pointer: string): string[] {
  const segs = parsePointer(pointer);
  if (segs[0] === 'spec' || segs[0] === 'metadata') return segs;
  return ['spec', ...segs];
}

function compileEquivalents(kind: string, equivalents: unknown): EquivalenceRule[] {
  if (equivalents === undefined) return [];
  if (!isJsonObject(equivalents)) {
    throw invalidKind(`Kind '${kind}': equivalents must be an object of JSON pointer → [[value, …], …]`);
  }
  const rules: EquivalenceRule[] = [];
  for (const pointer of Object.keys(equivalents)) {
    const where = `Kind '${kind}': equivalents[${JSON.stringify(pointer)}]`;
    if (pointer === '') throw invalidKind(`${where}: the pointer must name a field`);
    let segments: string[];
    try {
      segments = equivalencePointerSegments(pointer);
    } catch (err) {
      throw invalidKind(`${where}: ${(err as Error).message}`);
    }
    if (segments[0] === 'metadata') {
      const ok =
        (segments.length === 2 && segments[1] === 'description') ||
        (segments.length === 3 && segments[1] === 'labels');
      if (!ok) throw invalidKind(`${where}: metadata pointers must be /metadata/description or /metadata/labels/<key>`);
    }
    const groups = equivalents[pointer];
    if (!Array.isArray(groups) || groups.length === 0) {
      throw invalidKind(`${where}: must be a non-empty list of groups, e.g. [["recreate", ""]]`);
    }
    const seen: JsonValue[] = [];
    for (const group of groups) {
      if (!Array.isArray(group) || group.length < 2) {
        throw invalidKind(`${where}: each group must be a list of at least two equivalent values, e.g. ["recreate", ""]`);
      }
      for (const value of group) {
        if (!isJsonData(value)) throw invalidKind(`${where}: values must be JSON values`);
        if (seen.some((s) => jsonEqual(s, value))) {
          throw invalidKind(`${where}: ${JSON.stringify(value)} appears more than once`);
        }
        seen.push(value);
      }
    }
    rules.push({ pointer, segments, groups: cloneJson(groups as JsonValue[][]) });
  }
  return rules;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    useDefaults: false,
    coerceTypes: false,
    removeAdditional: false,
    allowUnionTypes: true,
    validateFormats: true,
    logger: false,
  });
  addFormats(ajv);
  addKubernetesVocabulary(ajv);
  return ajv;
}

/**
 * Kubernetes' OpenAPI extensions and formats, so schemas taken from Kubernetes or a CRD compile
 * in strict mode:
 * - `x-kubernetes-preserve-unknown-fields: true`: unknown fields are allowed there (the level is
 *   left open by closeObjectSchemas);
 * - `x-kubernetes-int-or-string: true`: an integer or a string;
 * - `x-kubernetes-list-type: set` (items unique) and `map` (unique by `x-kubernetes-list-map-keys`);
 * - `x-kubernetes-embedded-resource`, `-map-type`, `-list-map-keys`, `-patch-*`, `-validations`
 *   (CEL is not evaluated), `-group-version-kind`: accepted as annotations;
 * - the OpenAPI formats int32, int64, float, double, byte, int-or-string (Ajv knows `nullable`).
 */
function addKubernetesVocabulary(ajv: Ajv2020): void {
  for (const keyword of [
    'x-kubernetes-embedded-resource',
    'x-kubernetes-map-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-patch-strategy',
    'x-kubernetes-patch-merge-key',
    'x-kubernetes-validations',
    'x-kubernetes-group-version-kind',
    'x-kubernetes-unions',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({ keyword: PRESERVE_UNKNOWN, schemaType: 'boolean' });
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: false,
    validate: (on: boolean, data: unknown) => !on || typeof data === 'string' || (typeof data === 'number' && Number.isInteger(data)),
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    schemaType: 'string',
    errors: false,
    validate: function listType(this: unknown, type: string, data: unknown[], parentSchema?: Record<string, unknown>) {
      if (type === 'set') return new Set(data.map((v) => JSON.stringify(v))).size === data.length;
      if (type === 'map') {
        const keys = Array.isArray(parentSchema?.['x-kubernetes-list-map-keys']) ? (parentSchema['x-kubernetes-list-map-keys'] as string[]) : [];
        if (!keys.length) return true;
        const seen = new Set<string>();
        for (const item of data) {
          const k = JSON.stringify(keys.map((key) => (item && typeof item === 'object' ? (item as Record<string, unknown>)[key] : undefined)));
          if (seen.has(k)) return false;
          seen.add(k);
        }
      }
      return true;
    },
  });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('int-or-string', true);
}

function compileDefinition(def: unknown, builtin: boolean): CompiledKind {
  if (!isJsonObject(def)) throw invalidKind('A kind definition must be an object with name and schema');
  const name = def['name'];
  if (typeof name !== 'string' || !KIND_NAME_PATTERN.test(name)) {
    throw invalidKind(
      `Invalid kind name ${JSON.stringify(name)}: must match ${KIND_NAME_PATTERN.source} (e.g. Workload)`,
    );
  }
  const schema = def['schema'];
  if (!isJsonObject(schema)) throw invalidKind(`Kind '${name}': schema must be a JSON Schema object`);
  if (!isJsonData(schema)) throw invalidKind(`Kind '${name}': schema must be plain JSON`);
  if (hasOwn(schema, '$schema') && schema['$schema'] !== SCHEMA_DIALECT) {
    throw invalidKind(`Kind '${name}': only JSON Schema 2020-12 is supported ($schema must be ${SCHEMA_DIALECT} or absent)`);
  }
  if (hasOwn(schema, '$async')) throw invalidKind(`Kind '${name}': asynchronous schemas are not supported`);
  if (schema['type'] !== 'object') {
    throw invalidKind(`Kind '${name}': the schema must have "type": "object" (spec is always a mapping)`);
  }
  const equivalenceRules = compileEquivalents(name, def['equivalents']);
  const group = kindGroup(name);
  const apiVersions = compileApiVersions(name, group, def['api_versions']);
  const effectiveSchema = closeObjectSchemas(schema) as JsonObject;

  let validateFn: ValidateFunction;
  try {
    validateFn = newAjv().compile(effectiveSchema);
  } catch (err) {
    throw invalidKind(`Kind '${name}': invalid schema: ${(err as Error).message}`);
  }
  const equivalents = (def['equivalents'] ?? {}) as Equivalents;
  return Object.freeze({
    name,
    builtin,
    schema: cloneJson(schema),
    effectiveSchema,
    equivalents: cloneJson(equivalents as JsonObject) as Equivalents,
    equivalenceRules,
    apiVersions,
    group,
    validate(spec: unknown): SpecValidationError[] {
      if (validateFn(spec)) return [];
      return mapAjvErrors(validateFn.errors ?? [], spec as JsonValue, schema);
    },
  });
}

/** `Deployment.apps` → `apps`; `Workload` → null. */
export function kindGroup(name: string): string | null {
  const dot = name.indexOf('.');
  return dot < 0 ? null : name.slice(dot + 1);
}

/** `group/version` or a core `version`. */
export const API_VERSION_RE = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;

function compileApiVersions(kind: string, group: string | null, value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && API_VERSION_RE.test(v))) {
    throw invalidKind(`Kind '${kind}': api_versions must be a non-empty list like ["apps/v1"] or ["v1"]`);
  }
  if (group !== null) {
    const outside = (value as string[]).find((v) => !v.startsWith(`${group}/`));
    if (outside) throw invalidKind(`Kind '${kind}': apiVersion '${outside}' is not in the kind's group '${group}' (use ${group}/<version>)`);
  }
  return [...new Set(value as string[])];
}

const COMPILE_CACHE_LIMIT = 256;
const compileCache = new Map<string, CompiledKind>();

/**
 * Check and compile a kind definition; throws SynclineError('invalid_kind') with Ajv's message
 * for a bad schema, a bad name or bad equivalents. Memoised on the definition's JSON text, so
 * rebuilding a registry from the same rows does not recompile.
 */
export function compileKind(def: KindDefinition): CompiledKind {
  return compileCached(def, false);
}

function compileCached(def: unknown, builtin: boolean): CompiledKind {
  let key: string | undefined;
  try {
    key = `${builtin ? 'b' : 'u'}:${JSON.stringify(def)}`;
  } catch {
    key = undefined; // cyclic junk: let compileDefinition reject it
  }
  const hit = key === undefined ? undefined : compileCache.get(key);
  if (hit) return hit;
  const compiled = compileDefinition(def, builtin);
  if (key !== undefined) {
    if (compileCache.size >= COMPILE_CACHE_LIMIT) {
      const oldest = compileCache.keys().next().value;
      if (oldest !== undefined) compileCache.delete(oldest);
    }
    compileCache.set(key, compiled);
  }
  return compiled;
}

/**
 * Validate a kind definition `{name, schema, equivalents?}` (e.g. a `PUT /kinds/{kind}` body
 * with the name from the URL). Throws SynclineError('invalid_kind', message) when it is bad —
 * including an attempt to redefine a built-in kind.
 */
export function validateKindDefinition(def: unknown): asserts def is KindDefinition {
  if (isJsonObject(def) && typeof def['name'] === 'string' && isBuiltinKind(def['name'])) {
    throw invalidKind(`Kind '${def['name']}' is built in and cannot be redefined`);
  }
  compileCached(def, false);
}

/** The kinds known to one planning run: the built-ins plus the admin-defined ones. */
export class KindRegistry {
  private readonly kinds = new Map<string, CompiledKind>();
  /** The stored (non-built-in) definitions this registry was made from, as given (the parse workers rebuild it from them). */
  readonly definitions: readonly KindDefinition[];

  constructor(definitions: Iterable<KindDefinition> = []) {
    this.definitions = [...definitions];
    for (const def of BUILTIN_KINDS) this.kinds.set(def.name, compileCached(def, true));
    for (const def of this.definitions) {
      validateKindDefinition(def);
      if (this.kinds.has(def.name)) throw invalidKind(`Kind '${def.name}' is defined twice`);
      this.kinds.set(def.name, compileCached(def, false));
    }
  }

  get(name: string): CompiledKind | undefined {
    return this.kinds.get(name);
  }

  has(name: string): boolean {
    return this.kinds.has(name);
  }

  /**
   * The kind a document names: with an apiVersion in a group (`apps/v1`), `<kind>.<group>` when
   * defined, else `<kind>` itself.
   */
  resolve(kind: string, apiVersion: string | null): CompiledKind | undefined {
    const slash = apiVersion?.indexOf('/') ?? -1;
    if (apiVersion && slash > 0) {
      const qualified = this.kinds.get(`${kind}.${apiVersion.slice(0, slash)}`);
      if (qualified) return qualified;
    }
    return this.kinds.get(kind);
  }

  /** Kind names, sorted. */
  names(): string[] {
    return [...this.kinds.keys()].sort(compareStrings);
  }

  list(): CompiledKind[] {
    return this.names().map((n) => this.kinds.get(n) as CompiledKind);
  }
}

/**
 * Validate `spec` against a kind. Errors carry document-relative JSON pointers (`/spec/port`);
 * an unknown field's pointer is the unknown key itself, a missing field's is its parent mapping.
 */
export function validateSpec(kind: CompiledKind, spec: unknown): SpecValidationError[] {
  return kind.validate(spec);
}

// ---------------------------------------------------------------------------------------------
// Ajv errors → SpecValidationError

/**
 * Whether the `additionalProperties: false` that failed was added by closeObjectSchemas (the
 * kind's own schema says nothing there) rather than written by the kind's author.
 */
function implicitlyClosed(schemaPath: string, defined: JsonObject): { implicit: boolean; at: string } {
  const segs = schemaPath.replace(/^#/, '').split('/').filter((x) => x !== '').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segs[segs.length - 1] !== 'additionalProperties') return { implicit: false, at: '' };
  const parentSegs = segs.slice(0, -1);
  const parent = getAt(defined, parentSegs);
  const at = `#/${parentSegs.map(escapeSegment).join('/')}`;
  return { implicit: isJsonObject(parent) && !hasOwn(parent, 'additionalProperties'), at: at === '#/' ? '#' : at };
}

function mapAjvErrors(errors: readonly ErrorObject[], spec: JsonValue, defined: JsonObject): SpecValidationError[] {
  const out: SpecValidationError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // `if` only says "must match then/else"; the failing keyword inside is reported on its own.
    if (e.keyword === 'if') continue;
    const base = `/spec${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    let path = base;
    let message: string;
    switch (e.keyword) {
      case 'required':
        message = `missing required field '${String(params['missingProperty'])}'`;
        break;
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const prop = String(params['additionalProperty'] ?? params['unevaluatedProperty']);
        path = `${base}/${escapeSegment(prop)}`;
        const closed = e.keyword === 'additionalProperties' ? implicitlyClosed(e.schemaPath, defined) : { implicit: false, at: '' };
        message = closed.implicit
          ? `unknown field '${prop}' (not allowed by the schema: its object schema at ${closed.at} has no "additionalProperties", so Syncline closes it — ` +
            `to allow unknown fields there, set "additionalProperties": true or "x-kubernetes-preserve-unknown-fields": true at ${closed.at})`
          : `unknown field '${prop}' (not allowed by the schema)`;
        break;
      }
      case 'type':
        message = `must be ${aOrAn(String(params['type']))} (got ${describeJson(valueAt(spec, e.instancePath))})`;
        break;
      case 'enum': {
        const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
        message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')} (got ${describeJson(valueAt(spec, e.instancePath))})`;
        break;
      }
      case 'const':
        message = `must be ${JSON.stringify(params['allowedValue'])} (got ${describeJson(valueAt(spec, e.instancePath))})`;
        break;
      case 'propertyNames':
        path = `${base}/${escapeSegment(String(params['propertyName']))}`;
        message = `field name '${String(params['propertyName'])}' is not allowed`;
        break;
      default:
        message = e.message ?? `fails '${e.keyword}'`;
        if (typeof params['propertyName'] === 'string') path = `${base}/${escapeSegment(params['propertyName'])}`;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, keyword: e.keyword, message });
  }
  return out;
}

function valueAt(spec: JsonValue, instancePath: string): JsonValue | undefined {
  try {
    return getAt(spec, parsePointer(instancePath));
  } catch {
    return undefined;
  }
}

function aOrAn(type: string): string {
  const words = type.split(',').map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`));
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : (words[0] ?? type);
}

/** Plain code-unit comparison (locale-independent, deterministic). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
