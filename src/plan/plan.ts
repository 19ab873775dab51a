/**
 * Building a plan: desired documents (git at a commit) against live resources.
 *
 * For each valid desired document:
 *  - its kind must be known (else `invalid`);
 *  - live content is normalised (defaults, equivalents), the declared leaves are merged onto it
 *    (merge.ts — omitted fields keep live values, previously managed fields no longer declared
 *    are removed), and the merged result is normalised again and VALIDATED against the kind's
 *    schema; a failure is an `invalid` result (`merged_invalid`) pointing at the document;
 *  - no live resource → `create`; merged equals normalised live → `noop`; else `update`, with
 *    field-level changes over the declared leaves plus removed managed fields.
 * Invalid results from parsing are carried over as `invalid`.
 *
 * Live resources absent from git:
 *  - prune: `delete` — except when an invalid result has the same kind and name (a document that
 *    is broken is not a document that was deleted);
 *  - no prune: left alone and NOT listed in the plan (they are not git's; listing them as `noop`
 *    would claim git agrees with them).
 *
 * Any invalid result means the plan must not be applied (the sync layer's rule).
 * Managed-field bookkeeping: a `noop` result may still carry `managedFields` different from the
 * live `managed_fields` (e.g. git now declares a field with the value live already has); the
 * applier should store `managedFields` for noop results too.
 */
import { jsonEqual } from '../specs/json.js';
import { compareStrings, type CompiledKind } from '../specs/kinds.js';
import { isNormalized, normalizeContent } from '../specs/normalize.js';
import { positionFor } from '../specs/parse.js';
import { validatedContent } from '../specs/validated.js';
import type { InvalidResult, SpecContent, SpecDocument } from '../specs/types.js';
import type { InvalidCode } from '../contracts/deployments.js';
import type { JsonObject } from '../contracts/json.js';
import { declaredLeafPaths, diffPaths } from './diff.js';
import { contentHash, sortKeys } from './hash.js';
import { mergeDeclared } from './merge.js';
import type { BuildPlanInput, LiveResource, Plan, PlanResult, PlanSummary } from './types.js';

export { canonicalJson, contentHash } from './hash.js';

const key = (kind: string, name: string): string => `${kind}\u0000${name}`;

/** Position of a pointer in a document (documents built by hand may lack `positions`). */
function at(doc: SpecDocument, pointer: string): { line: number; column: number } {
  return positionFor(doc.positions ?? {}, pointer, { line: doc.line, column: doc.column });
}

export function buildPlan(input: BuildPlanInput): Plan {
  const steps = buildPlanSteps(input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * buildPlan in steps: the same plan, returned when the generator is done, which pauses (yields)
 * every `every` documents or live resources, so a caller can give the event loop a turn between
 * steps (planChanges in src/sync/steps.ts). Pure: nothing happens between steps but the caller's.
 */
export function* buildPlanSteps(input: BuildPlanInput, every = 16): Generator<void, Plan, void> {
  const { registry } = input;
  let n = 0;
  const results: PlanResult[] = [];

  const liveByKey = new Map<string, LiveResource>();
  for (const res of input.live) {
    liveByKey.set(key(res.kind, res.name), res);
    if (++n % every === 0) yield;
  }

  const declaredKeys = new Set<string>();
  for (const inv of input.invalid) {
    results.push(invalidFromParse(inv));
    if (inv.kind !== null && inv.name !== null) declaredKeys.add(key(inv.kind, inv.name));
  }

  // parseSpecFiles already reports duplicates; this guards callers that did not use it.
  const byKey = new Map<string, SpecDocument[]>();
  for (const doc of input.desired) {
    if (++n % every === 0) yield;
    const k = key(doc.kind, doc.name);
    declaredKeys.add(k);
    const list = byKey.get(k);
    if (list) list.push(doc);
    else byKey.set(k, [doc]);
  }
  for (const docs of byKey.values()) {
    if (++n % every === 0) yield;
    if (docs.length > 1) {
      for (const doc of docs) {
        const others = docs
          .filter((o) => o !== doc)
          .map((o) => {
            const p = at(o, '/name');
            return `${o.file}:${p.line}:${p.column}`;
          });
        results.push(
          invalidResult(doc, 'duplicate_resource', at(doc, '/name'), `duplicate ${doc.kind} '${doc.name}': also defined at ${others.join(', ')}`),
        );
      }
      continue;
    }
    const doc = docs[0] as SpecDocument;
    const live = liveByKey.get(key(doc.kind, doc.name)) ?? null;
    results.push(input.memo ? input.memo.plan(doc, live, registry) : planDocument(doc, live, registry));
  }

  if (input.prune) {
    for (const res of input.live) {
      if (++n % every === 0) yield;
      if (declaredKeys.has(key(res.kind, res.name))) continue;
      results.push({
        kind: res.kind,
        name: res.name,
        file: null,
        line: null,
        column: null,
        operation: 'delete',
        status: 'pending',
        code: null,
        message: `${res.kind} '${res.name}' is no longer declared in git and will be deleted (prune)`,
        changes: [],
        managedFields: [],
        hash: res.hash,
      });
    }
  }

  yield;
  results.sort(compareResults);
  yield;
  return { summary: summarize(results), results };
}

/**
 * Per-document plan results, reused while the document object (shared through the ParseCache),
 * the live resource (content hash + managed fields) and the kinds registry are the same. A
 * document's result depends on nothing else, so a sync after a one-file commit re-plans one
 * document. Results are shared: treat them as immutable.
 */
export class PlanMemo {
  /** Per document: the registry, and the live hash and managed fields (null: no live resource) its result was planned against. */
  private readonly entries = new WeakMap<
    SpecDocument,
    {
      registry: BuildPlanInput['registry'];
      hash: string | null;
      managed: readonly string[] | null;
      result: PlanResult;
      /** `result` was applied: the answer is `appliedResult(result)`, made at the first hit. */
      applied: boolean;
    }
  >();

  /**
   * Records that `result`, planned for `doc`, has been applied (committed): the live resource now
   * holds its merged content, hash and managed fields, and `doc` planned against that is a noop
   * with the same content (merge and normalisation are idempotent; test/unit/plan/plan-memo.test.ts
   * checks this against planning afresh). So the sync after an update of every resource re-plans
   * nothing that did not change again.
   */
  applied(doc: SpecDocument, result: PlanResult, registry: BuildPlanInput['registry']): void {
    if (result.kind !== doc.kind || result.name !== doc.name) return;
    // The noop itself is made when a plan asks for it (the next sync of a changed commit asks for
    // a few; an update-all's answer no longer waits for 10,000 of them). It has the result's
    // hash and managed fields (appliedResult copies them).
    if (appliable(result)) this.entries.set(doc, { registry, hash: result.hash, managed: result.managedFields, result, applied: true });
  }

  plan(doc: SpecDocument, live: LiveResource | null, registry: BuildPlanInput['registry']): PlanResult {
    const hit = this.entries.get(doc);
    if (hit && hit.registry === registry && (live ? hit.hash === live.hash && hit.managed !== null && sameStrings(hit.managed, live.managed_fields) : hit.hash === null)) {
      return hit.applied ? (appliedResult(hit.result) as PlanResult) : hit.result;
    }
    const result = planDocument(doc, live, registry);
    this.entries.set(doc, { registry, hash: live ? live.hash : null, managed: live ? live.managed_fields : null, result, applied: false });
    return result;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const inSyncMessage = (doc: { kind: string; name: string }): string => `${doc.kind} '${doc.name}' is in sync`;

const appliedResults = new WeakMap<PlanResult, PlanResult>();

/** Whether an apply writes `result` (a create, update or noop with content): appliedResult is not null. */
function appliable(result: PlanResult): boolean {
  if (result.operation !== 'create' && result.operation !== 'update' && result.operation !== 'noop') return false;
  return !(result.hash === null || !result.merged || result.kind === null || result.name === null);
}

/**
 * What a create, update or noop result is once applied: planned again against the live
 * resource the apply wrote, the same document is a noop with the same content, hash and
 * managed fields. null for results an apply does not write (delete, invalid). One object per
 * result (PlanMemo.applied and the settled plan of src/sync/last-plan.ts share it); immutable.
 */
export function appliedResult(result: PlanResult): PlanResult | null {
  if (!appliable(result)) return null;
  if (result.operation === 'noop') return result;
  let noop = appliedResults.get(result);
  if (!noop) appliedResults.set(result, (noop = { ...result, operation: 'noop', message: inSyncMessage({ kind: result.kind!, name: result.name! }), changes: [] }));
  return noop;
}

/**
 * normalizeContent's answer for `content`: `content` itself when it is already normalised (the
 * copy normalizeContent would make is equal to it key for key, see isNormalized), else the copy.
 * Only for contents nothing will write to.
 */
function normalized(kind: CompiledKind, content: SpecContent): SpecContent {
  return isNormalized(kind, content) ? content : normalizeContent(kind, content);
}

function planDocument(doc: SpecDocument, live: LiveResource | null, registry: BuildPlanInput['registry']): PlanResult {
  const kind = registry.get(doc.kind);
  if (!kind) {
    return invalidResult(
      doc,
      'unknown_kind',
      at(doc, '/kind'),
      `unknown kind '${doc.kind}' (known kinds: ${registry.names().join(', ')})`,
    );
  }
  const declared = declaredLeafPaths(doc);
  // Live content is normally stored normalised (an apply writes merged content): then it is its
  // own normal form, read as it is (nothing downstream writes to it; mergeDeclared copies it).
  const base: SpecContent | null = live ? normalized(kind, { spec: live.spec, metadata: live.metadata ?? {} }) : null;
  // A create is the document itself, already normalised and validated when it was parsed:
  // reuse that instead of doing both again. An update merges onto live state and must be
  // normalised and validated as merged.
  const parsed = base === null ? validatedContent(doc, kind) : undefined;
  let merged: SpecContent;
  let removed: string[] = [];
  if (parsed) merged = parsed;
  else {
    const out = mergeDeclared(base, doc, { declared, previouslyManaged: live?.managed_fields ?? [] });
    merged = normalized(kind, out.merged); // out.merged is mergeDeclared's own copy
    removed = out.removed;
  }

  const errors = parsed ? [] : kind.validate(merged.spec);
  if (errors.length > 0) {
    const located = errors
      .map((e) => ({ e, pos: at(doc, e.path) }))
      .sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
    const first = located[0] as (typeof located)[number];
    const message = located
      .map(({ e, pos }) => `${doc.file}:${pos.line}:${pos.column}: ${e.path}: ${e.message} (after merging with the live resource)`)
      .join('; ');
    return { ...invalidResult(doc, 'merged_invalid', first.pos, ''), message };
  }

  // Strings by code unit: the order compareStrings gives (sortKeys: without sort's work arrays).
  const managedFields = declared.slice();
  sortKeys(managedFields);
  const hash = contentHash({ kind: doc.kind, name: doc.name, spec: merged.spec, metadata: merged.metadata });
  if (!base) return planned(doc, merged, managedFields, hash, 'create', `${doc.kind} '${doc.name}' will be created`, diffPaths(declared, null, merged));
  if (jsonEqual(base.spec, merged.spec) && jsonEqual(base.metadata as JsonObject, merged.metadata as JsonObject)) {
    return planned(doc, merged, managedFields, hash, 'noop', inSyncMessage(doc), []);
  }
  const changes = diffPaths(removed.length > 0 ? [...declared, ...removed] : declared, base, merged);
  return planned(
    doc,
    merged,
    managedFields,
    hash,
    'update',
    changes.length > 0
      ? `${doc.kind} '${doc.name}': ${changes.length} field${changes.length === 1 ? '' : 's'} changed`
      : `${doc.kind} '${doc.name}': normalised content changed`,
    changes,
  );
}

/** A create, update or noop result: one object literal, keys in the order results always had. */
function planned(
  doc: SpecDocument,
  merged: SpecContent,
  managedFields: string[],
  hash: string,
  operation: 'create' | 'update' | 'noop',
  message: string,
  changes: PlanResult['changes'],
): PlanResult {
  return {
    kind: doc.kind,
    name: doc.name,
    file: doc.file,
    line: doc.line,
    column: doc.column,
    status: 'pending',
    code: null,
    merged,
    managedFields,
    hash,
    operation,
    message,
    changes,
  };
}

function invalidResult(
  doc: SpecDocument,
  code: InvalidCode,
  pos: { line: number; column: number },
  text: string,
): PlanResult {
  return {
    kind: doc.kind,
    name: doc.name,
    file: doc.file,
    line: pos.line,
    column: pos.column,
    operation: 'invalid',
    status: 'invalid',
    code,
    message: `${doc.file}:${pos.line}:${pos.column}: ${text}`,
    changes: [],
    managedFields: [],
    hash: null,
  };
}

function invalidFromParse(inv: InvalidResult): PlanResult {
  return {
    kind: inv.kind,
    name: inv.name,
    file: inv.file,
    line: inv.line,
    column: inv.column,
    operation: 'invalid',
    status: 'invalid',
    code: inv.code,
    message: inv.message,
    changes: [],
    managedFields: [],
    hash: null,
  };
}

export function summarize(results: readonly PlanResult[]): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, noop: 0, invalid: 0 };
  for (const r of results) summary[r.operation] += 1;
  return summary;
}

function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return compareStrings(a, b);
}

const OPERATION_ORDER = { invalid: 0, create: 1, update: 2, noop: 3, delete: 4 } as const;

/** Deterministic order: kind, name (unknown last), file, line, column, operation, message. */
function compareResults(a: PlanResult, b: PlanResult): number {
  return (
    compareNullable(a.kind, b.kind) ||
    compareNullable(a.name, b.name) ||
    compareNullable(a.file, b.file) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    OPERATION_ORDER[a.operation] - OPERATION_ORDER[b.operation] ||
    compareStrings(a.message, b.message)
  );
}
