import type { Generated } from 'kysely';

/**
 * Table shapes. One schema for SQLite and PostgreSQL: JSON is stored as text, booleans as
 * 0/1 integers and timestamps as ISO-8601 text, so rows read the same on both dialects.
 */
export interface TokensTable {
  id: string;
  name: string;
  role: string;
  namespaces: string; // JSON array of patterns
  token_hash: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
}

export interface SourcesTable {
  name: string;
  url: string;
  provider: string;
  auth_type: string;
  auth_username: string | null;
  auth_app_id: string | null;
  auth_installation_id: string | null;
  /** Sealed (SecretBox) JSON of {token?, password?, private_key?}. */
  auth_secret: string | null;
  webhook_secret: string | null;
  mirror_enabled: number;
  mirror_access: string;
  mirror_slug: string | null;
  mirror_status: string;
  mirror_head_commit: string | null;
  mirror_last_synced: string | null;
  mirror_last_error: string | null;
  /** Code of the last mirror sync error (see 002-mirror-error-code); null after a success. */
  mirror_last_error_code: string | null;
  default_branch: string | null;
  created_at: string;
  updated_at: string;
  /** JSON array of namespace patterns allowed to bind this source; null = unscoped admins only. */
  namespaces: string | null;
  /** Forge REST base given explicitly; null = derived from the URL (sourceApiUrl). */
  api_url: Generated<string | null>;
}

export interface KindsTable {
  name: string;
  schema: string;
  equivalents: string;
  /** JSON array of apiVersions the kind accepts (`["apps/v1"]`); NULL = any. */
  api_versions: string | null;
  created_at: string;
  updated_at: string;
}

export interface NamespacesTable {
  name: string;
  source: string | null;
  branch: string;
  path: string;
  auto_sync: number;
  prune: number;
  allow_unmerged_refs: number;
  /** JSON arrays of globs choosing the spec files; NULL = the defaults. */
  include_globs: string | null;
  exclude_globs: string | null;
  status: string;
  last_deployment_id: string | null;
  created_at: string;
  updated_at: string;
  /** JSON {by, reason, at, commit} while auto-sync is paused by a rollback; null otherwise. */
  auto_sync_paused: Generated<string | null>;
  /**
   * Moved by the database on every write to this namespace's live resources (triggers on
   * `resources`, migration 121); only compared for equality (src/sync/last-plan.ts).
   */
  live_generation: Generated<number>;
}

export interface ResourcesTable {
  namespace: string;
  kind: string;
  name: string;
  spec: string;
  metadata: string;
  commit: string | null;
  hash: string;
  managed_fields: string;
  file: string | null;
  updated_at: string;
}

export interface DeploymentsTable {
  id: string;
  seq: Generated<number>;
  namespace: string;
  status: string;
  ref: string;
  commit: string | null;
  source: string | null;
  author_name: string | null;
  author_email: string | null;
  actor: string;
  started_at: string;
  finished_at: string | null;
  summary: string;
  results: string;
  /** sync-from-git's optional `reason`. */
  reason: Generated<string | null>;
  /** JSON [{path, rule}] (migration 006); NULL on older rows. */
  skipped_files: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string;
  namespace: string | null;
  details: string;
}

export interface JobsTable {
  id: string;
  kind: string;
  key: string | null;
  payload: string;
  state: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: string;
  locked_by: string | null;
  locked_at: string | null;
  delivery: string | null;
  namespace: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  provider: string;
  delivery_id: string;
  event: string;
  action: string | null;
  repository: string | null;
  status: string;
  error: string | null;
  ignored: string | null;
  /** JSON array of job ids this delivery queued. */
  job_ids: Generated<string>;
  payload: string;
  received_at: string;
  updated_at: string;
}

export interface PlansTable {
  id: string;
  namespace: string;
  trigger: string;
  ref: string;
  commit: string;
  pull_request: string | null;
  body: string;
  created_at: string;
}

export interface SourceHeadsTable {
  source: string;
  branch: string;
  commit: string;
  updated_at: string;
}

export interface Database {
  tokens: TokensTable;
  sources: SourcesTable;
  kinds: KindsTable;
  namespaces: NamespacesTable;
  resources: ResourcesTable;
  deployments: DeploymentsTable;
  audit_events: AuditEventsTable;
  sessions: SessionsTable;
  outbox: OutboxTable;
  jobs: JobsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  plans: PlansTable;
  source_heads: SourceHeadsTable;
  subscriptions: SubscriptionsTable;
  subscription_deliveries: SubscriptionDeliveriesTable;
  replicas: ReplicasTable;
  mirror_copies: MirrorCopiesTable;
}

/** One replica's copy of one mirror (migration 131). */
export interface MirrorCopiesTable {
  replica: string;
  source: string;
  status: string;
  head_commit: string | null;
  last_synced: string | null;
  last_error: string | null;
  last_error_code: string | null;
  updated_at: string;
}

export interface SessionsTable {
  id_hash: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
}

export interface OutboxTable {
  /** bigserial on PostgreSQL: read back as a string by pg; use Number(). */
  seq: Generated<number>;
  id: string;
  type: string;
  namespace: string | null;
  /** The CloudEvent as JSON. */
  event: string;
  /** JSON array of resource events (for `/watch`), or null. */
  watch: string | null;
  created_at: string;
  published_at: string | null;
}

export interface SubscriptionsTable {
  id: string;
  url: string;
  types: string; // JSON array of type patterns
  namespaces: string; // JSON array of namespace patterns
  /** Sealed (SecretBox) `whsec_…` secret. */
  secret: string;
  enabled: number;
  disabled_reason: string | null;
  created_at: string;
  created_by: string;
}

export interface SubscriptionDeliveriesTable {
  id: Generated<number>;
  subscription_id: string;
  event_id: string;
  type: string;
  event: string;
  status: string; // pending | delivered | failed
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface ReplicasTable {
  id: string;
  version: string;
  host: string;
  started_at: string;
  last_seen: string;
  roles: string; // JSON array
}
