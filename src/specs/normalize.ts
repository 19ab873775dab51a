/**
 * Normalisation: the one canonical form of a spec for its kind, so that comparing git with live
 * state never shows false drift.
 *
 * 1. Defaults: for every property missing from a mapping whose schema declares a `default`, the
 *    default is inserted (deep copy), recursively through `properties`, `additionalProperties`
 *    (object schemas), `items` / `prefixItems`, `allOf` branches and local `$ref`s
 *    (`#/$defs/...`). Defaults are only applied inside mappings that exist: a missing
 *    `healthcheck` stays missing unless `healthcheck` itself has a default. `anyOf` / `oneOf` /
 *    `if` are not followed (which branch applies is ambiguous).
 * 2. Equivalents: a value equal to any member of an equivalence group is replaced by the group's
 *    FIRST member (the canonical value): with `[["recreate", ""]]`, `""` becomes `"recreate"`.
 *    Absent values are not touched (that is what defaults are for).
 * 3. Values compare as JSON: numbers by value (`1.0` is `1`), key order irrelevant, and no type
 *    coercion — `"8080"` is a string and stays one.
 *
 * Steps 1-2 repeat until nothing changes (a canonical value may be a mapping that itself gets
 * defaults), so normalisation is idempotent: normalize(normalize(x)) equals normalize(x).
 * Inputs are never mutated.
 */
import { cloneJson, getOwn, hasOwn, isJsonObject, jsonEqual, setOwn } from './json.js';
import type { CompiledKind, EquivalenceRule } from './kinds.js';
import { parsePointer, getAt } from './pointer.js';
import type { SpecContent, SpecMetadata } from './types.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';

const MAX_SCHEMA_DEPTH = 64;
const MAX_ROUNDS = 5;

function resolveRef(schema: JsonObject, root: JsonObject): JsonValue | undefined {
  const ref = getOwn(schema, '$ref');
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  try {
    const segments = parsePointer(ref.slice(1)).map((s) => decodeURIComponent(s));
    return getAt(root, segments);
  } catch {
    return undefined;
  }
}

function defaultOf(schema: JsonValue | undefined, root: JsonObject, depth = 0): JsonValue | undefined {
  if (!isJsonObject(schema) || depth > MAX_SCHEMA_DEPTH) return undefined;
  if (hasOwn(schema, 'default')) return schema['default'];
  const target = resolveRef(schema, root);
  return target === undefined ? undefined : defaultOf(target, root, depth + 1);
}

/**
 * What one walk found. `inserted`: a default was inserted (the document changed). `replaced`: an
 * equivalent was replaced by a canonical value it is not equal to. `dry`: only look — stop at the
 * first insertion or replacement that would change the document's structure.
 */
interface Walk {
  dry: boolean;
  inserted: boolean;
  replaced: boolean;
}

/**
 * A schema object as fillDefaults reads it, read once: its properties with their defaults
 * (`defaultOf`, a pure function of the property's schema and the root), the `properties` key set,
 * and its `$ref` target, `allOf` branches, `additionalProperties`, `prefixItems` and `items` as
 * nodes, resolved on first use (a schema may refer to itself). One node per schema object and
 * root (`nodeFor`); a kind's effective schema never changes once compiled.
 */
interface SchemaNode {
  readonly schema: JsonObject;
  readonly root: JsonObject;
  /** undefined: not resolved yet. */
  ref?: SchemaNode | null;
  allOf?: Array<SchemaNode | null> | null;
  props?: SchemaProp[] | null;
  known?: Set<string> | null;
  additional?: SchemaNode | null;
  prefix?: Array<SchemaNode | null> | null;
  items?: SchemaNode | null;
  /** undefined: not known yet (see isTreeSchema). */
  tree?: boolean;
}

interface SchemaProp {
  readonly key: string;
  readonly dflt: JsonValue | undefined;
  readonly sub: JsonValue | undefined;
  node?: SchemaNode | null;
}

const schemaNodes = new WeakMap<JsonObject, WeakMap<JsonObject, SchemaNode>>();

function nodeFor(schema: JsonValue | undefined, root: JsonObject): SchemaNode | null {
  if (!isJsonObject(schema)) return null;
  let byRoot = schemaNodes.get(root);
  if (!byRoot) schemaNodes.set(root, (byRoot = new WeakMap()));
  let node = byRoot.get(schema);
  if (!node) byRoot.set(schema, (node = { schema, root }));
  return node;
}

function refOf(node: SchemaNode): SchemaNode | null {
  if (node.ref === undefined) {
    const target = resolveRef(node.schema, node.root);
    node.ref = target === undefined ? null : nodeFor(target, node.root);
  }
  return node.ref;
}

function allOfOf(node: SchemaNode): Array<SchemaNode | null> | null {
  if (node.allOf === undefined) {
    const allOf = getOwn(node.schema, 'allOf');
    node.allOf = Array.isArray(allOf) ? allOf.map((branch) => nodeFor(branch, node.root)) : null;
  }
  return node.allOf;
}

function propsOf(node: SchemaNode): SchemaProp[] | null {
  if (node.props === undefined) {
    const props = getOwn(node.schema, 'properties');
    if (isJsonObject(props)) {
      node.props = Object.keys(props).map((key) => ({ key, sub: props[key], dflt: defaultOf(props[key], node.root) }));
      node.known = new Set(Object.keys(props));
    } else {
      node.props = null;
      node.known = null;
    }
  }
  return node.props;
}

function propNode(prop: SchemaProp, root: JsonObject): SchemaNode | null {
  if (prop.node === undefined) prop.node = nodeFor(prop.sub, root);
  return prop.node;
}

function additionalOf(node: SchemaNode): SchemaNode | null {
  if (node.additional === undefined) {
    const additional = getOwn(node.schema, 'additionalProperties');
    node.additional = isJsonObject(additional) ? nodeFor(additional, node.root) : null;
  }
  return node.additional;
}

function prefixOf(node: SchemaNode): Array<SchemaNode | null> | null {
  if (node.prefix === undefined) {
    const prefix = getOwn(node.schema, 'prefixItems');
    node.prefix = Array.isArray(prefix) ? prefix.map((sub) => nodeFor(sub, node.root)) : null;
  }
  return node.prefix;
}

function itemsOf(node: SchemaNode): SchemaNode | null {
  if (node.items === undefined) {
    const items = getOwn(node.schema, 'items');
    node.items = isJsonObject(items) ? nodeFor(items, node.root) : null;
  }
  return node.items;
}

/**
 * Whether the schema below `node` is a tree for fillDefaults: no `$ref` and no `allOf` anywhere
 * the walk can reach (properties, additionalProperties, prefixItems, items). Then every place in
 * a document is walked by exactly one node, once per round, after the defaults of the mapping
 * holding it were inserted — so a round inserts every default its result lacks, and the next
 * round inserts none. Unknown (false) beyond MAX_SCHEMA_DEPTH or on a schema object met again
 * on its own path.
 */
function isTreeSchema(node: SchemaNode | null, depth = 0, path: Set<SchemaNode> = new Set()): boolean {
  if (node === null) return true;
  if (node.tree !== undefined) return node.tree;
  if (depth > MAX_SCHEMA_DEPTH || path.has(node)) return false;
  path.add(node);
  let tree = !hasOwn(node.schema, '$ref') && !hasOwn(node.schema, 'allOf');
  if (tree) {
    const props = propsOf(node);
    if (props !== null) for (const prop of props) tree &&= isTreeSchema(propNode(prop, node.root), depth + 1, path);
    tree &&= isTreeSchema(additionalOf(node), depth + 1, path);
    const prefix = prefixOf(node);
    if (prefix !== null) for (const sub of prefix) tree &&= isTreeSchema(sub, depth + 1, path);
    tree &&= isTreeSchema(itemsOf(node), depth + 1, path);
  }
  path.delete(node);
  node.tree = tree;
  return tree;
}

/**
 * Fills defaults in place, walking the schema's nodes (see SchemaNode) in the order the schema
 * itself was walked before: `$ref` target, `allOf` branches, then properties (insert the default,
 * then descend), `additionalProperties` for the other keys, `prefixItems`, `items`. In a dry walk,
 * sets `inserted` at the first default it would insert instead.
 */
function fillDefaults(node: SchemaNode | null, value: JsonValue, depth: number, walk: Walk): void {
  if (node === null || depth > MAX_SCHEMA_DEPTH || (walk.dry && walk.inserted)) return;
  const target = refOf(node);
  if (target !== null) fillDefaults(target, value, depth + 1, walk);
  const allOf = allOfOf(node);
  if (allOf !== null) for (const branch of allOf) fillDefaults(branch, value, depth + 1, walk);

  if (isJsonObject(value)) {
    const props = propsOf(node);
    if (props !== null) {
      for (const prop of props) {
        if (prop.dflt !== undefined && !hasOwn(value, prop.key)) {
          walk.inserted = true;
          if (walk.dry) return;
          setOwn(value, prop.key, cloneJson(prop.dflt));
        }
        const child = getOwn(value, prop.key);
        if (child !== undefined) fillDefaults(propNode(prop, node.root), child, depth + 1, walk);
      }
    }
    const additional = additionalOf(node);
    if (additional !== null) {
      const known = node.known ?? null;
      for (const key of Object.keys(value)) {
        if (known === null || !known.has(key)) fillDefaults(additional, value[key] as JsonValue, depth + 1, walk);
      }
    }
  } else if (Array.isArray(value)) {
    const prefix = prefixOf(node);
    const prefixLen = prefix !== null ? prefix.length : 0;
    if (prefix !== null) prefix.forEach((sub, i) => i < value.length && fillDefaults(sub, value[i] as JsonValue, depth + 1, walk));
    const items = itemsOf(node);
    if (items !== null) {
      for (let i = prefixLen; i < value.length; i++) fillDefaults(items, value[i] as JsonValue, depth + 1, walk);
    }
  }
}

/**
 * Replace values equivalent to a group's canonical (first) member, in place, over a
 * document-shaped object `{spec, metadata}`. A value already equal to its canonical one is still
 * replaced (by a copy of the canonical value, as always); one that is not sets `walk.replaced`.
 * A dry walk replaces nothing and stops at the first replacement that would not leave the value
 * exactly as it is.
 */
function canonicalizeInPlace(rules: readonly EquivalenceRule[], doc: JsonObject, walk: Walk): void {
  for (const rule of rules) {
    visitRule(doc, rule.segments, 0, rule.groups, walk);
    if (walk.dry && walk.replaced) return;
  }
}

/** Whether replacing `cur` by `canonical` leaves the document exactly as it is (for a dry walk). */
function sameValue(cur: JsonValue, canonical: JsonValue): boolean {
  return (typeof canonical !== 'object' || canonical === null) && Object.is(cur, canonical);
}

function visitRule(container: JsonValue, segments: readonly string[], i: number, groups: readonly JsonValue[][], walk: Walk): void {
  const seg = segments[i];
  if (seg === undefined) return;
  const last = i === segments.length - 1;
  const keys: string[] =
    seg === '*'
      ? Array.isArray(container)
        ? container.map((_, idx) => String(idx))
        : isJsonObject(container)
          ? Object.keys(container)
          : []
      : [seg];
  for (const key of keys) {
    if (walk.dry && walk.replaced) return;
    if (Array.isArray(container)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key)) continue;
      const idx = Number(key);
      const cur = container[idx];
      if (cur === undefined) continue;
      if (last) {
        const canonical = canonicalFor(groups, cur);
        if (canonical === undefined) continue;
        if (walk.dry) {
          if (!sameValue(cur, canonical)) walk.replaced = true;
        } else {
          if (!jsonEqual(cur, canonical)) walk.replaced = true;
          container[idx] = cloneJson(canonical);
        }
      } else {
        visitRule(cur, segments, i + 1, groups, walk);
      }
    } else if (isJsonObject(container)) {
      const cur = getOwn(container, key);
      if (cur === undefined) continue;
      if (last) {
        const canonical = canonicalFor(groups, cur);
        if (canonical === undefined) continue;
        if (walk.dry) {
          if (!sameValue(cur, canonical)) walk.replaced = true;
        } else {
          if (!jsonEqual(cur, canonical)) walk.replaced = true;
          setOwn(container, key, cloneJson(canonical));
        }
      } else {
        visitRule(cur, segments, i + 1, groups, walk);
      }
    }
  }
}

function canonicalFor(groups: readonly JsonValue[][], value: JsonValue): JsonValue | undefined {
  for (const group of groups) {
    if (group.some((member) => jsonEqual(member, value))) return group[0];
  }
  return undefined;
}

/** Apply only the equivalence rules (no defaults) to a `{spec, metadata}` content; returns a copy. */
export function canonicalizeEquivalents(rules: readonly EquivalenceRule[], content: SpecContent): SpecContent {
  const doc = toDoc(content);
  canonicalizeInPlace(rules, doc, { dry: false, inserted: false, replaced: false });
  return fromDoc(doc);
}

function toDoc(content: SpecContent): JsonObject {
  return {
    spec: cloneJson(content.spec),
    metadata: cloneJson((content.metadata ?? {}) as JsonObject),
  };
}

function fromDoc(doc: JsonObject): SpecContent {
  return { spec: doc['spec'] as JsonObject, metadata: doc['metadata'] as SpecMetadata };
}

/**
 * Normalise a document's spec and metadata for its kind (defaults, then equivalents, to a
 * fixpoint): the rounds as `normalizeByRounds` makes them, each round's "did anything change"
 * answered by the walk instead of a copy of the document compared afterwards. A round changed the
 * document exactly when it inserted a default — keys are only ever added, and a replacement by an
 * equal canonical value leaves the document equal — as long as no value was replaced by a
 * canonical value it is not equal to. When one was (a document that spells an equivalent the
 * non-canonical way), the document is normalised by `normalizeByRounds` instead, so the answer is
 * always the one the rounds give. test/unit/specs/normalize-differential.test.ts compares both
 * on generated schemas, rules and documents.
 */
export function normalizeContent(kind: CompiledKind, content: SpecContent): SpecContent {
  const doc = toDoc(content);
  const walk: Walk = { dry: false, inserted: false, replaced: false };
  const root = nodeFor(kind.effectiveSchema, kind.effectiveSchema);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    walk.inserted = false;
    fillDefaults(root, doc['spec'] as JsonValue, 0, walk);
    canonicalizeInPlace(kind.equivalenceRules, doc, walk);
    if (walk.replaced) return normalizeByRounds(kind, content);
    if (!walk.inserted) break;
    // A tree schema's round inserted every default; with only equal replacements (each value
    // equal to what it replaced, so the same keys and the same group), the next round would
    // insert nothing and replace each canonical value by the same canonical value: it is not run.
    if (isTreeSchema(root)) break;
  }
  return fromDoc(doc);
}

/**
 * True when `content` is already normalised for `kind`, exactly: normalizeContent would return a
 * copy of it, key for key and value for value (no default missing, no equivalent spelled other
 * than its canonical value). One read-only walk, nothing copied; a canonical value that is a
 * mapping or a list counts as "not normalised" (normalizeContent then decides).
 */
export function isNormalized(kind: CompiledKind, content: SpecContent): boolean {
  const doc: JsonObject = { spec: content.spec, metadata: (content.metadata ?? {}) as JsonObject };
  const walk: Walk = { dry: true, inserted: false, replaced: false };
  fillDefaults(nodeFor(kind.effectiveSchema, kind.effectiveSchema), doc['spec'] as JsonValue, 0, walk);
  if (walk.inserted) return false;
  canonicalizeInPlace(kind.equivalenceRules, doc, walk);
  return !walk.replaced;
}

/**
 * Normalisation as rounds compared by copies: each round copies the document, fills defaults,
 * replaces equivalents, and stops when the document equals its copy. What normalizeContent
 * answers; it uses this for documents whose equivalents must be replaced.
 */
export function normalizeByRounds(kind: CompiledKind, content: SpecContent): SpecContent {
  const doc = toDoc(content);
  const walk: Walk = { dry: false, inserted: false, replaced: false };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = cloneJson(doc);
    fillDefaults(nodeFor(kind.effectiveSchema, kind.effectiveSchema), doc['spec'] as JsonValue, 0, walk);
    canonicalizeInPlace(kind.equivalenceRules, doc, walk);
    if (jsonEqual(before, doc)) break;
  }
  return fromDoc(doc);
}

/** Normalise only a spec (equivalents that point into metadata do not apply). */
export function normalizeSpec(kind: CompiledKind, spec: JsonObject): JsonObject {
  return normalizeContent(kind, { spec, metadata: {} }).spec;
}
