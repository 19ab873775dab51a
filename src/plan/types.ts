/**
 * Plain data types of the plan layer (diff, merge, plan, drift). JSON-shaped on purpose: the
 * lead mirrors them as zod schemas at the HTTP boundary (see docs/API.md, Plan / Deployment).
 */
import type { InvalidCode, InvalidResult, JsonObject, JsonValue, SpecContent, SpecDocument, SpecMetadata } from '../specs/types.js';
import type { KindRegistry } from '../specs/kinds.js';

export type Operation = 'create' | 'update' | 'delete' | 'noop' | 'invalid';
export type PlanStatus = 'pending' | 'invalid';

/**
 * One changed field. `path` is a document-relative JSON pointer (`/spec/port`,
 * `/metadata/labels/team`). `from` is absent when the field did not exist before (create, or a
 * newly declared field); `to` is absent when the field is removed (a previously managed field no
 * longer declared in git, with no schema default). In JSON, "absent" means the key is missing;
 * `null` is a real null value.
 */
export interface FieldChange {
  path: string;
  from?: JsonValue;
  to?: JsonValue;
}

/** A live resource as stored (the planning input for one existing resource). */
export interface LiveResource {
  kind: string;
  name: string;
  spec: JsonObject;
  metadata: SpecMetadata;
  /** Document-relative pointers of the leaves git declared at the last sync. */
  managed_fields: string[];
  hash: string;
}

export interface PlanResult {
  /** null only for an invalid document whose kind / name could not be read. */
  kind: string | null;
  name: string | null;
  /** The spec file; null for `delete` (the resource is no longer in git). */
  file: string | null;
  /** Where the document (or, for invalid results, the first problem) is; null for `delete`. */
  line: number | null;
  column: number | null;
  operation: Operation;
  status: PlanStatus;
  /** For invalid results, the machine code of the first problem; otherwise null. */
  code: InvalidCode | null;
  /** Human summary. For invalid results it starts with `file:line:column:`. */
  message: string;
  /** Field-level changes over declared fields (plus removed managed fields). */
  changes: FieldChange[];
  /** The normalised content to store: present for create, update and noop. */
  merged?: SpecContent;
  /** Leaves declared in git now (sorted) — what the live resource's `managed_fields` becomes. */
  managedFields: string[];
  /** contentHash of the merged content (create/update/noop), the live hash (delete), null (invalid). */
  hash: string | null;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  noop: number;
  invalid: number;
}

export interface Plan {
  summary: PlanSummary;
  /** Sorted by kind, then name (unknown identities last), then file and position. */
  results: PlanResult[];
}

export interface BuildPlanInput {
  desired: SpecDocument[];
  invalid: InvalidResult[];
  live: LiveResource[];
  registry: KindRegistry;
  prune: boolean;
  /** Reuse per-document results across calls (see PlanMemo). */
  memo?: import('./plan.js').PlanMemo;
}

/** Identity + content, the input of `contentHash`. */
export interface ResourceContent extends SpecContent {
  kind: string;
  name: string;
}
