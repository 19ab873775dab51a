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

/** Fills defaults in place; in a dry walk, sets `inserted` at the first default it would insert instead. */
function fillDefaults(schema: JsonValue | undefined, value: JsonValue, root: JsonObject, depth: number, walk: Walk): void {
  if (!isJsonObject(schema) || depth > MAX_SCHEMA_DEPTH || (walk.dry && walk.inserted)) return;
  const target = resolveRef(schema, root);
  if (target !== undefined) fillDefaults(target, value, root, depth + 1, walk);
  const allOf = getOwn(schema, 'allOf');
  if (Array.isArray(allOf)) for (const branch of allOf) fillDefaults(branch, value, root, depth + 1, walk);

  if (isJsonObject(value)) {
    const props = getOwn(schema, 'properties');
    let known: Set<string> | null = null;
    if (isJsonObject(props)) {
      known = new Set<string>();
      for (const key of Object.keys(props)) {
        known.add(key);
        const sub = props[key];
        if (!hasOwn(value, key)) {
          const dflt = defaultOf(sub, root);
          if (dflt !== undefined) {
            walk.inserted = true;
            if (walk.dry) return;
            setOwn(value, key, cloneJson(dflt));
          }
        }
        const child = getOwn(value, key);
        if (child !== undefined) fillDefaults(sub, child, root, depth + 1, walk);
      }
    }
    const additional = getOwn(schema, 'additionalProperties');
    if (isJsonObject(additional)) {
      for (const key of Object.keys(value)) {
        if (known === null || !known.has(key)) fillDefaults(additional, value[key] as JsonValue, root, depth + 1, walk);
      }
    }
  } else if (Array.isArray(value)) {
    const prefix = getOwn(schema, 'prefixItems');
    const prefixLen = Array.isArray(prefix) ? prefix.length : 0;
    if (Array.isArray(prefix)) prefix.forEach((sub, i) => i < value.length && fillDefaults(sub, value[i] as JsonValue, root, depth + 1, walk));
    const items = getOwn(schema, 'items');
    if (isJsonObject(items)) {
      for (let i = prefixLen; i < value.length; i++) fillDefaults(items, value[i] as JsonValue, root, depth + 1, walk);
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
  for (let round = 0; round < MAX_ROUNDS; round++) {
    walk.inserted = false;
    fillDefaults(kind.effectiveSchema, doc['spec'] as JsonValue, kind.effectiveSchema, 0, walk);
    canonicalizeInPlace(kind.equivalenceRules, doc, walk);
    if (walk.replaced) return normalizeByRounds(kind, content);
    if (!walk.inserted) break;
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
  fillDefaults(kind.effectiveSchema, doc['spec'] as JsonValue, kind.effectiveSchema, 0, walk);
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
    fillDefaults(kind.effectiveSchema, doc['spec'] as JsonValue, kind.effectiveSchema, 0, walk);
    canonicalizeInPlace(kind.equivalenceRules, doc, walk);
    if (jsonEqual(before, doc)) break;
  }
  return fromDoc(doc);
}

/** Normalise only a spec (equivalents that point into metadata do not apply). */
export function normalizeSpec(kind: CompiledKind, spec: JsonObject): JsonObject {
  return normalizeContent(kind, { spec, metadata: {} }).spec;
}
