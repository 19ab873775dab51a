import { z } from 'zod';

export const OPERATIONS = ['create', 'update', 'delete', 'noop', 'invalid'] as const;

/** `from` is absent for a field that did not exist; `to` is absent for a removed field. */
export const change = z.object({ path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() });

export const resultItem = z.object({
  /** null only for an invalid document whose kind/name could not be read. */
  kind: z.string().nullable(),
  name: z.string().nullable(),
  file: z.string().nullable(),
  line: z.number().nullable().optional(),
  column: z.number().nullable().optional(),
  operation: z.enum(OPERATIONS),
  status: z.enum(['success', 'failed', 'invalid', 'skipped', 'pending']),
  /** Machine code of an invalid result's first problem (e.g. `schema_violation`). */
  code: z.string().nullable().optional(),
  /** For invalid results: starts with `file:line:column:`. */
  message: z.string().nullable(),
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

export const deployment = z.object({
  id: z.string(),
  namespace: z.string(),
  status: z.enum(['success', 'noop', 'failed']),
  ref: z.string(),
  commit: z.string().nullable(),
  source: z.string().nullable(),
  author: z.object({ name: z.string(), email: z.string() }).nullable(),
  actor: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  summary,
  results: z.array(resultItem),
});
export type Deployment = z.infer<typeof deployment>;

export const deploymentSummary = deployment.pick({
  id: true,
  status: true,
  ref: true,
  commit: true,
  actor: true,
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
});
export type Plan = z.infer<typeof plan>;
