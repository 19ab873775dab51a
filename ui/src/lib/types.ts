/**
 * API shapes, inferred from the server's zod schemas (one source of shapes). Type-only imports:
 * nothing of zod or the server ends up in the bundle.
 */
import type { z } from 'zod';
import type { auditEvent } from '../../../src/contracts/audit.js';
import type { deployment, driftReport, plan, resultItem, summary, deploymentSummary } from '../../../src/contracts/deployments.js';
import type { mirror, mirrorSyncSummary } from '../../../src/contracts/mirrors.js';
import type { namespace } from '../../../src/contracts/namespaces.js';
import type { resource } from '../../../src/contracts/resources.js';
import type { source, sourceCheckResult, sourceCreateBody, sourcePatchBody } from '../../../src/contracts/sources.js';
import type { tokenCreated, tokenInfo } from '../../../src/contracts/tokens.js';
import type { NamespaceFiles, Whoami } from '../../../src/contracts/web.js';

export type { NamespaceFiles, Whoami };
export type Role = Whoami['role'];

/** Fields other streams add (auto-sync pause, issue 9) are optional until they land. */
export type Namespace = z.infer<typeof namespace> & {
  auto_sync_paused?: { by: string; reason: string | null; at: string; commit: string | null } | null;
};
export type DeploymentSummary = z.infer<typeof deploymentSummary>;
export type Deployment = z.infer<typeof deployment> & { reason?: string | null };
export type Plan = z.infer<typeof plan>;
export type ResultItem = z.infer<typeof resultItem>;
export type Summary = z.infer<typeof summary>;
export type DriftReport = z.infer<typeof driftReport>;
export type Resource = z.infer<typeof resource>;
export type Source = z.infer<typeof source>;
export type SourceCheckResult = z.infer<typeof sourceCheckResult>;
export type SourceCreateBody = z.infer<typeof sourceCreateBody>;
export type SourcePatchBody = z.infer<typeof sourcePatchBody>;
export type Mirror = z.infer<typeof mirror>;
export type MirrorSyncSummary = z.infer<typeof mirrorSyncSummary>;
export type TokenInfo = z.infer<typeof tokenInfo>;
export type TokenCreated = z.infer<typeof tokenCreated>;
export type AuditEvent = z.infer<typeof auditEvent>;

/** Stored PR plans and webhook/job records (issue 9); shapes from API.md. */
export type StoredPlan = Plan & {
  id: string;
  trigger: 'pull_request' | 'api';
  pull_request: { number: number; url: string } | null;
  created_at: string;
  stale?: boolean;
};
export interface Delivery {
  id: string;
  provider: string;
  event: string;
  action: string | null;
  repository: string | null;
  received_at: string;
  status: 'queued' | 'done' | 'failed' | 'ignored' | 'duplicate';
  error: string | null;
}
export interface Job {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'failed' | 'done';
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: string;
  created_at: string;
  delivery: string | null;
  namespace: string | null;
}
