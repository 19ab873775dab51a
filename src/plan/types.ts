/**
 * Data types of the plan layer (diff, merge, plan, drift). The API-facing parts (operations,
 * changes, summary, result item) are the contracts' (contracts/deployments.ts); these add what
 * planning and applying need.
 */
import type { InvalidCode, PlanStatus, ResultItem, Summary } from '../contracts/deployments.js';
import type { InvalidResult, SpecContent, SpecDocument, SpecMetadata } from '../specs/types.js';
import type { JsonObject } from '../contracts/json.js';
import type { KindRegistry } from '../specs/kinds.js';

export type { FieldChange, Operation, PlanStatus } from '../contracts/deployments.js';

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

/**
 * One planned resource: the API's result item (contracts/deployments.ts) with its plan-time
 * status, plus what applying it needs (the merged content, the managed fields, the hash).
 */
export interface PlanResult extends Omit<ResultItem, 'line' | 'column' | 'status' | 'code' | 'message'> {
  /** Where the document (or, for invalid results, the first problem) is; null for `delete`. */
  line: number | null;
  column: number | null;
  status: PlanStatus;
  /** For invalid results, the machine code of the first problem; otherwise null. */
  code: InvalidCode | null;
  /** Human summary. For invalid results it starts with `file:line:column:`. */
  message: string;
  /** The normalised content to store: present for create, update and noop. */
  merged?: SpecContent;
  /** Leaves declared in git now (sorted) — what the live resource's `managed_fields` becomes. */
  managedFields: string[];
  /** contentHash of the merged content (create/update/noop), the live hash (delete), null (invalid). */
  hash: string | null;
}

export type PlanSummary = Summary;

/** The pure plan (the API's Plan adds namespace, ref, commit and source). */
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
