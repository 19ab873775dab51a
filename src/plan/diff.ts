/**
 * Field-level diff over DECLARED leaves.
 *
 * Git manages only what a document declares. A declared leaf is:
 * - a scalar (string, number, boolean, null);
 * - a list — lists are compared as whole values, never item by item;
 * - an EMPTY mapping (`data: {}`) — a "presence" leaf: it declares that the mapping exists, not
 *   what is inside it (a live mapping with content satisfies it; an absent one is created empty).
 * Non-empty mappings are recursed into. Under `metadata`, every label (`/metadata/labels/team`),
 * every annotation, the description, the apiVersion and the namespace are leaves.
 *
 * Paths are document-relative JSON pointers: `/spec/port`, `/spec/healthcheck/path`.
 */
import { isJsonObject, jsonEqual } from '../specs/json.js';
import { escapeSegment, getAt, pointerSegments } from '../specs/pointer.js';
import type { SpecContent, SpecMetadata } from '../specs/types.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { FieldChange } from './types.js';

/** The managed fields of a document: its declared leaf paths, in document order. */
export function declaredLeafPaths(doc: { spec: JsonObject; metadata?: SpecMetadata }): string[] {
  const out: string[] = [];
  collectLeaves(doc.spec, '/spec', out);
  const metadata = doc.metadata ?? {};
  if (metadata.labels !== undefined) {
    const keys = Object.keys(metadata.labels);
    if (keys.length === 0) out.push('/metadata/labels');
    for (const k of keys) out.push(`/metadata/labels/${escapeSegment(k)}`);
  }
  if (metadata.description !== undefined) out.push('/metadata/description');
  // Kubernetes form: each annotation, the apiVersion and the namespace are leaves too.
  if (metadata.annotations !== undefined) {
    const keys = Object.keys(metadata.annotations);
    if (keys.length === 0) out.push('/metadata/annotations');
    for (const k of keys) out.push(`/metadata/annotations/${escapeSegment(k)}`);
  }
  if (metadata.apiVersion !== undefined) out.push('/metadata/apiVersion');
  if (metadata.namespace !== undefined) out.push('/metadata/namespace');
  return out;
}

function collectLeaves(obj: JsonObject, prefix: string, out: string[]): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key] as JsonValue;
    const path = `${prefix}/${escapeSegment(key)}`;
    if (isJsonObject(value) && Object.keys(value).length > 0) collectLeaves(value, path, out);
    else out.push(path);
  }
}

function asDoc(content: SpecContent | null): JsonObject | undefined {
  if (content === null) return undefined;
  return { spec: content.spec, metadata: (content.metadata ?? {}) as JsonObject };
}

function change(path: string, from: JsonValue | undefined, to: JsonValue | undefined): FieldChange {
  const c: FieldChange = { path };
  if (from !== undefined) c.from = from;
  if (to !== undefined) c.to = to;
  return c;
}

/**
 * Compare `before` and `after` at each path (document-relative pointers); one change per path
 * whose values differ. `before` null means the resource does not exist yet.
 */
export function diffPaths(paths: readonly string[], before: SpecContent | null, after: SpecContent | null): FieldChange[] {
  const a = asDoc(before);
  const b = asDoc(after);
  const out: FieldChange[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i] as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const segments = pointerSegments(path);
    const from = getAt(a, segments);
    const to = getAt(b, segments);
    if (!jsonEqual(from, to)) out.push(change(path, from, to));
  }
  return out;
}

/**
 * Changes between what a document declares and the live content, over the declared leaves only.
 * Give both sides normalised (see specs/normalize.ts) so equivalents and defaults do not show as
 * drift. A declared empty mapping is satisfied by any live mapping (presence leaf).
 */
export function diffDeclared(desired: SpecContent, live: SpecContent | null): FieldChange[] {
  const d = asDoc(desired);
  const l = asDoc(live);
  const out: FieldChange[] = [];
  for (const path of declaredLeafPaths(desired)) {
    const segments = pointerSegments(path);
    const to = getAt(d, segments);
    const from = getAt(l, segments);
    if (isJsonObject(to) && Object.keys(to).length === 0 && isJsonObject(from)) continue;
    if (!jsonEqual(from, to)) out.push(change(path, from, to));
  }
  return out;
}
