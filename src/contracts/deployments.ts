/**
 * Plans and deployments: what a sync would change and what it did. The plan layer's results
 * (`plan/types.ts`), the sync service, the store, the routes and the CLI all use these shapes.
 */
import { z } from 'zod';
import { jsonValue } from './json.js';

export const OPERATIONS = ['create', 'update', 'delete', 'noop', 'invalid'] as const;
export const operation = z.enum(OPERATIONS);
export type Operation = z.infer<typeof operation>;

/** A plan's results are `pending` (or `invalid`); a deployment's say what happened to each. */
export const PLAN_STATUSES = ['pending', 'invalid'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export const DEPLOYMENT_RESULT_STATUSES = ['success', 'failed', 'invalid', 'skipped'] as const;
export type DeploymentResultStatus = (typeof DEPLOYMENT_RESULT_STATUSES)[number];
export const resultStatus = z.enum([...DEPLOYMENT_RESULT_STATUSES, ...PLAN_STATUSES]);
export type ResultStatus = z.infer<typeof resultStatus>;

/** Stable machine codes of invalid results (`code` on an invalid result). */
export const INVALID_CODES = [
  'invalid_encoding', // file is not UTF-8
  'yaml_syntax', // any YAML syntax error (unclosed quote, bad indentation, …)
  'tab_indentation', // tabs used as indentation
  'duplicate_key', // same key twice in one mapping
  'alias_limit', // too many alias expansions (billion laughs), or a recursive alias
  'resource_limit', // parser gave up (e.g. stack exhausted by pathological nesting)
  'too_deep', // nesting deeper than the limit
  'unsupported_yaml', // merge keys `<<`, explicit tags (!!binary, !!timestamp, !custom), non-string keys
  'invalid_number', // .inf, .nan, integers beyond ±(2^53-1)
  'not_a_mapping', // the document is a list or a scalar
  'missing_field', // kind, name or spec missing
  'invalid_field', // kind/name/spec/metadata of the wrong type or shape
  'unknown_field', // a top-level or metadata key that is not allowed
  'unknown_kind', // kind not defined on the server
  'schema_violation', // the spec fails its kind's JSON Schema
  'duplicate_resource', // two documents with the same kind and name
  'merged_invalid', // declared fields merged onto live state fail the kind's schema
  'mixed_forms', // a document mixes the Syncline form (top-level name) and the Kubernetes form (apiVersion, metadata.name)
  'unsupported_api_version', // the kind declares api_versions and the document's apiVersion is not one of them
] as const;
export type InvalidCode = (typeof INVALID_CODES)[number];

/**
 * One changed field. `path` is a document-relative JSON pointer (`/spec/port`,
 * `/metadata/labels/team`). `from` is absent when the field did not exist before (create, or a
 * newly declared field); `to` is absent when the field is removed (a previously managed field no
 * longer declared in git, with no schema default). In JSON, "absent" means the key is missing;
 * `null` is a real null value.
 */
export const change = z.object({ path: z.string(), from: jsonValue.optional(), to: jsonValue.optional() });
export type FieldChange = z.infer<typeof change>;

export const resultItem = z.object({
  /** null only for an invalid document whose kind/name could not be read. */
  kind: z.string().nullable(),
  name: z.string().nullable(),
  /** The spec file; null for `delete` (the resource is no longer in git). */
  file: z.string().nullable(),
  /** Where the document (or, for an invalid result, the first problem) is. */
  line: z.number().nullable().optional(),
  column: z.number().nullable().optional(),
  operation,
  status: resultStatus,
  /** Machine code of an invalid result's first problem (e.g. `schema_violation`); otherwise null. */
  code: z.enum(INVALID_CODES).nullable().optional(),
  /** For invalid results: starts with `file:line:column:`. */
  message: z.string().nullable(),
  /** Field-level changes over declared fields (plus removed managed fields). */
  changes: z.array(change),
});
export type ResultItem = z.infer<typeof resultItem>;

export const summary = z.object({
  create: z.number(),
  update: z.number(),
  delete: z.number(),
  noop: z.number(),
  invalid: z.number(),
});
export type Summary = z.infer<typeof summary>;

export const DEPLOYMENT_STATUSES = ['success', 'noop', 'failed'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** A file a namespace's rules skipped, with the rule (`exclude: charts/**`, `.synclineignore: charts/`, `include: …`). */
export const skippedFile = z.object({ path: z.string(), rule: z.string() });
export type SkippedFile = z.infer<typeof skippedFile>;

export const deployment = z.object({
  id: z.string(),
  namespace: z.string(),
  status: z.enum(DEPLOYMENT_STATUSES),
  ref: z.string(),
  commit: z.string().nullable(),
  source: z.string().nullable(),
  author: z.object({ name: z.string(), email: z.string() }).nullable(),
  actor: z.string(),
  /** Why the sync was asked for (sync-from-git's optional `reason`); null when none was given. */
  reason: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  summary,
  results: z.array(resultItem),
  /** Files under the namespace path that a rule skipped (include/exclude globs, .synclineignore). */
  skipped_files: z.array(skippedFile).optional(),
});
export type Deployment = z.infer<typeof deployment>;

export const deploymentSummary = deployment.pick({
  id: true,
  status: true,
  ref: true,
  commit: true,
  author: true,
  actor: true,
  reason: true,
  started_at: true,
  finished_at: true,
  summary: true,
});
export type DeploymentSummary = z.infer<typeof deploymentSummary>;

export const deploymentList = z.object({ items: z.array(deployment) });
export const deploymentParams = z.object({ id: z.string().min(1).max(100) });

export const plan = z.object({
  namespace: z.string(),
  ref: z.string(),
  commit: z.string(),
  source: z.string().nullable(),
  summary,
  results: z.array(resultItem),
  skipped_files: z.array(skippedFile),
});
export type Plan = z.infer<typeof plan>;

/** `GET /namespaces/{ns}/drift`: the tracked branch head vs live. */
export const DRIFT_FETCH_STATUSES = ['ok', 'no_file', 'fetch_failed', 'invalid'] as const;
export const driftReport = z.object({
  fetch_status: z.enum(DRIFT_FETCH_STATUSES),
  commit: z.string().nullable(),
  message: z.string().nullable(),
  plan: plan.nullable(),
});
export type DriftReport = z.infer<typeof driftReport>;

/** Body of sync-from-git and plan. */
export const refBody = z.object({ ref: z.string().min(1).max(255).optional() }).strict();
/** sync-from-git: a ref and, optionally, why (kept on the deployment and on the auto-sync pause a rollback causes). */
export const syncBody = z.object({ ref: z.string().min(1).max(255).optional(), reason: z.string().min(1).max(500).optional() }).strict();
