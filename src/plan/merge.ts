/**
 * Merging declared fields onto live state.
 *
 * Git owns exactly the leaves a document declares (see diff.ts `declaredLeafPaths`); everything
 * else in the live resource — fields set by an admin through the API, or never declared — keeps
 * its live value. So:
 *
 * 1. Omitted fields keep their live value.
 * 2. Declared leaves overwrite the live value (lists and scalars as whole values). A declared
 *    empty mapping only makes sure a mapping exists there.
 * 3. REMOVING a field from git removes it from live. A path that git managed before (it is in
 *    the live resource's `managed_fields`) and that the document no longer declares is deleted
 *    from the live resource — that is what a GitOps user expects: deleting a line in git deletes
 *    the setting, it does not freeze its last value. Afterwards, mappings left empty by such a
 *    removal are deleted too (unless declared). The kind's default, if any, comes back when the
 *    merged result is normalised.
 *    Two careful exceptions: a stale path that is now an ANCESTOR of a declared path is not
 *    removed (that would wipe unmanaged siblings); and a stale presence leaf (formerly `{}`) whose
 *    live mapping now has content is kept — that content was never git's.
 *
 * Pure: inputs are not mutated. Normalisation and validation of the result are the caller's
 * job (plan.ts).
 */
import { cloneJson, deleteOwn, getOwn, isJsonObject, setOwn } from '../specs/json.js';
import { formatPointer, getAt, isPrefixOf, pointerSegments } from '../specs/pointer.js';
import type { SpecContent, SpecMetadata } from '../specs/types.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import { declaredLeafPaths } from './diff.js';

export interface MergeOptions {
  /** Declared leaf paths; computed from `desired` when omitted. */
  declared?: readonly string[];
  /** The live resource's `managed_fields` (paths git declared at the previous sync). */
  previouslyManaged?: readonly string[];
}

export interface MergeResult {
  merged: SpecContent;
  /** Previously managed paths that were removed from live (sorted). */
  removed: string[];
}

function isEmptyObject(v: JsonValue | undefined): boolean {
  return isJsonObject(v) && Object.keys(v).length === 0;
}

/** Parse a managed-field pointer; only `/spec/…` and `/metadata/…` below the root count. */
function managedSegments(path: string): readonly string[] | null {
  try {
    const segs = pointerSegments(path);
    if (segs.length < 2 || (segs[0] !== 'spec' && segs[0] !== 'metadata')) return null;
    return segs;
  } catch {
    return null;
  }
}

/**
 * Paths managed before and not declared now (sorted, deduplicated), excluding ancestors of a
 * declared path. Paths outside `/spec` and `/metadata` are ignored.
 */
export function staleManagedPaths(previouslyManaged: readonly string[], declared: readonly string[]): string[] {
  // The usual case, every managed path still declared: answered without building sets.
  if (allIn(previouslyManaged, declared)) return [];
  const declaredSet = new Set(declared);
  // Parsed only when a previously managed path is not declared any more (most syncs: none is).
  let declaredSegs: Array<readonly string[]> | null = null;
  const out = new Set<string>();
  for (let i = 0; i < previouslyManaged.length; i++) {
    const path = previouslyManaged[i] as string;
    if (declaredSet.has(path)) continue;
    const segs = managedSegments(path);
    if (!segs) continue;
    declaredSegs ??= declared.map((p) => managedSegments(p)).filter((s): s is readonly string[] => s !== null);
    if (declaredSegs.some((d) => isPrefixOf(segs, d))) continue; // ancestor of something declared
    out.add(formatPointer(segs));
  }
  return [...out].sort();
}

/** Whether every path of `paths` is in `declared`, for short lists (false: not known, ask the sets). */
function allIn(paths: readonly string[], declared: readonly string[]): boolean {
  if (paths.length > 32 || declared.length > 64) return false;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    let found = false;
    for (let j = 0; j < declared.length && !found; j++) found = declared[j] === p;
    if (!found) return false;
  }
  return true;
}

/** Set `value` at `segments` below `root`, creating (or replacing non-mapping) intermediates. */
function setAt(root: JsonObject, segments: readonly string[], value: JsonValue): void {
  let cur = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i] as string;
    let next = getOwn(cur, seg);
    if (!isJsonObject(next)) {
      next = {};
      setOwn(cur, seg, next);
    }
    cur = next;
  }
  setOwn(cur, segments[segments.length - 1] as string, value);
}

function removeAt(root: JsonObject, segments: readonly string[]): boolean {
  const parent = getAt(root, segments.slice(0, -1));
  const key = segments[segments.length - 1] as string;
  if (!isJsonObject(parent) || getOwn(parent, key) === undefined) return false;
  deleteOwn(parent, key);
  return true;
}

/**
 * Merge the fields `desired` declares onto `live` (null: the resource does not exist yet), and
 * remove the previously managed fields that are no longer declared. See the module comment.
 */
export function mergeDeclared(live: SpecContent | null, desired: SpecContent, options: MergeOptions = {}): MergeResult {
  const doc: JsonObject = {
    spec: cloneJson(live?.spec ?? {}),
    metadata: cloneJson((live?.metadata ?? {}) as JsonObject),
  };
  const desiredDoc: JsonObject = { spec: desired.spec, metadata: (desired.metadata ?? {}) as JsonObject };
  const declared = options.declared ?? declaredLeafPaths(desired);
  let declaredSet: Set<string> | null = null; // made for the first removal (most merges have none)

  // 3. Remove what git managed before and no longer declares.
  const removed: string[] = [];
  for (const path of staleManagedPaths(options.previouslyManaged ?? [], declared)) {
    declaredSet ??= new Set(declared);
    const segs = pointerSegments(path);
    const current = getAt(doc, segs);
    if (isJsonObject(current) && Object.keys(current).length > 0) continue; // unmanaged content inside a former `{}` leaf
    if (!removeAt(doc, segs)) continue;
    removed.push(path);
    // Delete mappings this removal left empty (never `spec` / `metadata` themselves, never declared ones).
    for (let n = segs.length - 1; n >= 2; n--) {
      const ancestor = segs.slice(0, n);
      if (declaredSet.has(formatPointer(ancestor))) break;
      if (!isEmptyObject(getAt(doc, ancestor))) break;
      removeAt(doc, ancestor);
    }
  }

  // 1-2. Declared leaves overwrite; declared empty mappings only ensure a mapping exists.
  for (let i = 0; i < declared.length; i++) {
    const segs = managedSegments(declared[i] as string);
    if (!segs) continue;
    const value = getAt(desiredDoc, segs);
    if (value === undefined) continue;
    if (isEmptyObject(value)) {
      if (!isJsonObject(getAt(doc, segs))) setAt(doc, segs, {});
    } else {
      setAt(doc, segs, cloneJson(value));
    }
  }

  return {
    merged: { spec: doc['spec'] as JsonObject, metadata: doc['metadata'] as SpecMetadata },
    removed,
  };
}
