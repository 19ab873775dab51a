/**
 * The normalisation as it was before the walk answered "did this round change anything" (commit
 * 4f769f8, src/specs/normalize.ts, copied verbatim): each round copies the document and compares
 * it afterwards. test/unit/specs/normalize-differential.test.ts holds normalizeContent and
 * isNormalized to it. Do not "fix" this file: it is the reference.
 */
import { cloneJson, getOwn, hasOwn, isJsonObject, jsonEqual, setOwn } from '../../../src/specs/json.js';
import type { CompiledKind, EquivalenceRule } from '../../../src/specs/kinds.js';
import { parsePointer, getAt } from '../../../src/specs/pointer.js';
import type { SpecContent, SpecMetadata } from '../../../src/specs/types.js';
import type { JsonObject, JsonValue } from '../../../src/contracts/json.js';

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

function fillDefaults(schema: JsonValue | undefined, value: JsonValue, root: JsonObject, depth: number): void {
  if (!isJsonObject(schema) || depth > MAX_SCHEMA_DEPTH) return;
  const target = resolveRef(schema, root);
  if (target !== undefined) fillDefaults(target, value, root, depth + 1);
  const allOf = getOwn(schema, 'allOf');
  if (Array.isArray(allOf)) for (const branch of allOf) fillDefaults(branch, value, root, depth + 1);

  if (isJsonObject(value)) {
    const props = getOwn(schema, 'properties');
    const known = new Set<string>();
    if (isJsonObject(props)) {
      for (const key of Object.keys(props)) {
        known.add(key);
        const sub = props[key];
        if (!hasOwn(value, key)) {
          const dflt = defaultOf(sub, root);
          if (dflt !== undefined) setOwn(value, key, cloneJson(dflt));
        }
        const child = getOwn(value, key);
        if (child !== undefined) fillDefaults(sub, child, root, depth + 1);
      }
    }
    const additional = getOwn(schema, 'additionalProperties');
    if (isJsonObject(additional)) {
      for (const key of Object.keys(value)) {
        if (!known.has(key)) fillDefaults(additional, value[key] as JsonValue, root, depth + 1);
      }
    }
  } else if (Array.isArray(value)) {
    const prefix = getOwn(schema, 'prefixItems');
    const prefixLen = Array.isArray(prefix) ? prefix.length : 0;
    if (Array.isArray(prefix)) prefix.forEach((sub, i) => i < value.length && fillDefaults(sub, value[i] as JsonValue, root, depth + 1));
    const items = getOwn(schema, 'items');
    if (isJsonObject(items)) {
      for (let i = prefixLen; i < value.length; i++) fillDefaults(items, value[i] as JsonValue, root, depth + 1);
    }
  }
}

/**
 * Replace values equivalent to a group's canonical (first) member, in place, over a
 * document-shaped object `{spec, metadata}`.
 */
function canonicalizeInPlace(rules: readonly EquivalenceRule[], doc: JsonObject): void {
  for (const rule of rules) visitRule(doc, rule.segments, 0, rule.groups);
}

function visitRule(container: JsonValue, segments: readonly string[], i: number, groups: readonly JsonValue[][]): void {
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
    if (Array.isArray(container)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key)) continue;
      const idx = Number(key);
      const cur = container[idx];
      if (cur === undefined) continue;
      if (last) {
        const canonical = canonicalFor(groups, cur);
        if (canonical !== undefined) container[idx] = cloneJson(canonical);
      } else {
        visitRule(cur, segments, i + 1, groups);
      }
    } else if (isJsonObject(container)) {
      const cur = getOwn(container, key);
      if (cur === undefined) continue;
      if (last) {
        const canonical = canonicalFor(groups, cur);
        if (canonical !== undefined) setOwn(container, key, cloneJson(canonical));
      } else {
        visitRule(cur, segments, i + 1, groups);
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
export function referenceCanonicalizeEquivalents(rules: readonly EquivalenceRule[], content: SpecContent): SpecContent {
  const doc = toDoc(content);
  canonicalizeInPlace(rules, doc);
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

/** Normalise a document's spec and metadata for its kind (defaults, then equivalents, to a fixpoint). */
export function referenceNormalizeContent(kind: CompiledKind, content: SpecContent): SpecContent {
  const doc = toDoc(content);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = cloneJson(doc);
    fillDefaults(kind.effectiveSchema, doc['spec'] as JsonValue, kind.effectiveSchema, 0);
    canonicalizeInPlace(kind.equivalenceRules, doc);
    if (jsonEqual(before, doc)) break;
  }
  return fromDoc(doc);
}

