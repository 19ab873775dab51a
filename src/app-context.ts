/**
 * The application context: what every layer that does work (sync, mirror, jobs, routes, CLI) is
 * handed. It lives outside the HTTP layer so `sync/`, `mirror/` and `store/` never import `server/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedSettings } from './config/load.js';
import { EventHub } from './events/hub.js';
import { createInvalidationBus, type InvalidationBus } from './cache/invalidation.js';
import { forwardInvalidations } from './cluster/cache-bridge.js';
import { forgetGithubAppTokens } from './providers/github-app.js';
import type { ReplicaRegistry } from './cluster/registry.js';
import type { OutboxRelay } from './events/relay.js';
import { setGitHome } from './git/env.js';
import { loadOrCreateReplicaId } from './cluster/identity.js';
import { assertGitVersion } from './git/version.js';
import { createJobQueue } from './jobs/drivers.js';
import type { JobQueue } from './jobs/queue.js';
import { registerWebhookJobs } from './webhooks/jobs.js';
import { SecretBox, loadOrCreateSecretKey } from './security/secret-box.js';
import type { Resolver } from './security/url-guard.js';
import { openDatabase, type DatabaseHandle } from './store/db.js';

/** Everything the app needs, built once by the entry point (or a test) and shared. */
export interface AppContext {
  settings: ResolvedSettings;
  db: DatabaseHandle;
  box: SecretBox;
  events: EventHub;
  /** The outbox relay, when this process runs one (`syncline serve`). */
  relay?: OutboxRelay;
  /** This process in the replica registry, when it serves (`syncline serve`). */
  cluster?: ReplicaRegistry;
  /** DNS resolver for the outbound URL guard; the system resolver when absent (tests inject one). */
  resolver?: Resolver;
  /** This replica's id (kept in the data dir; see cluster/identity.ts): keys its mirror copies and its registry row. */
  replicaId: string;
  /** Background jobs (webhook work, polling, reports); workers run only once `jobs.start()` is called. */
  jobs: JobQueue;
  /** Cache invalidation (token and resource caches); see cache/invalidation.ts. */
  cache: InvalidationBus;
  /**
   * Aborted when the server starts shutting down: a sync in progress stops at its next step or
   * slice (its one transaction rolls back, nothing is applied) and answers 503 `busy`, so
   * SIGTERM/SIGINT do not wait for a long sync to finish.
   */
  shutdown: AbortController;
}

/**
 * Every job kind's handler, registered once per context. Add yours here (one line per module):
 * each module exports a `register…Jobs(ctx)` that calls `ctx.jobs.register(kind, handler)`.
 */
export function registerJobKinds(ctx: AppContext): void {
  registerWebhookJobs(ctx);
}

/** umask 077: files 0600, directories 0700 (not available in worker threads; then a no-op). */
export function privateUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // Worker threads cannot change the umask; the directories above are still created 0700.
  }
}

/**
 * Opens everything the app needs from settings: data dir, secret key, database (migrated).
 * Shared by `syncline serve`, the CLI's local mode and tests.
 */
export async function openContext(settings: ResolvedSettings, opts: { schema?: string } = {}): Promise<AppContext> {
  // Refuse to run with a git that cannot be pinned to the checked address (http.curloptResolve).
  await assertGitVersion();
  // Everything Syncline (and the git it runs) creates is private: database, mirrors, keys.
  privateUmask();
  fs.mkdirSync(settings.data_dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(settings.mirror_dir, { recursive: true, mode: 0o700 });
  const gitHome = path.join(settings.data_dir, 'git-home');
  fs.mkdirSync(gitHome, { recursive: true, mode: 0o700 });
  setGitHome(gitHome);
  const box = new SecretBox(loadOrCreateSecretKey(settings.data_dir, settings.secret_key));
  const db = await openDatabase({
    url: settings.database_url,
    poolSize: settings.database_pool_size,
    acquireTimeoutMs: settings.database_acquire_timeout * 1000,
    ...(opts.schema ? { schema: opts.schema } : {}),
  });
  let jobs;
  try {
    await db.migrate();
    jobs = await createJobQueue(db, settings.database_url, {
      concurrency: settings.job_concurrency,
      leaseMs: settings.job_lease * 1000,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const ctx: AppContext = { settings, db, box, events: new EventHub(db), jobs, replicaId: loadOrCreateReplicaId(settings.data_dir), cache: createInvalidationBus(), shutdown: new AbortController() };
  // Every local invalidation also goes to the other replicas (NOTIFY; a CLI in local mode too).
  forwardInvalidations(db, ctx.cache);
  // GitHub App installation tokens are cached per process (providers/github-app.ts).
  ctx.cache.subscribe('github_app', forgetGithubAppTokens);
  registerJobKinds(ctx);
  return ctx;
}
