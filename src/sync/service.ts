import { SynclineError } from '../errors.js';
import { isInSync } from '../plan/drift.js';
import type { AppContext } from '../app-context.js';
import type { Deployment, DriftReport, Plan } from '../contracts/deployments.js';
import { nowIso } from '../store/json.js';
import { withLock, LockTimeoutError } from '../store/locks.js';
import { getNamespaceRow } from '../store/namespaces.js';
import { applyPlan, recordFailedDeployment } from './apply.js';
import { outboxCommitted, recordStatusChange } from '../events/outbox.js';
import { planItems } from './results.js';
import { readEntries } from '../git/tree.js';
import { GIT_STEPS, listSpecEntries, PLAN_STEPS, type PlannedRun } from './steps.js';
import { pauseAutoSyncOnRollback } from './auto-sync.js';

export interface SyncOptions {
  /** The caller fetched the source's mirror just now (webhook/poll jobs): don't fetch again. */
  skipFetch?: boolean;
  /** Why (sync-from-git's `reason`): kept on the deployment, its audit entry and the auto-sync pause a rollback causes. */
  reason?: string;
  /**
   * A webhook or poll names the provider's new head commit: when the mirror already holds it on
   * the branch, no fetch at all (see steps.ts namedCommitPresent).
   */
  trustNamedCommit?: boolean;
}

/**
 * The orchestrator: lock → fetch → resolve → branch check → read → parse → plan → apply →
 * publish. Routes and webhooks call these; they hold no HTTP concerns.
 */
export async function syncNamespace(
  app: AppContext,
  namespace: string,
  ref: string | undefined,
  actor: string,
  opts: SyncOptions = {},
): Promise<Deployment> {
  const startedAt = nowIso();
  const { deployment } = await withNamespaceLock(app, namespace, async () => {
    // Read once, under the lock: the binding used is the one current when the sync runs.
    const ns = await getNamespaceRow(app.db.db, namespace);
    const run = await PLAN_STEPS.run({ app, namespace: ns, requestedRef: ref, skipFetch: opts.skipFetch, trustNamedCommit: opts.trustNamedCommit });
    if (run.plan.summary.invalid > 0) {
      const failed = await recordFailedDeployment(run, { actor, startedAt, reason: opts.reason });
      outboxCommitted();
      throw new SynclineError(
        'invalid_specs',
        `${run.plan.summary.invalid} invalid document(s) at ${run.commit.slice(0, 12)}; nothing was applied`,
        { deployment: failed },
      );
    }
    const applied = await applyPlan(run, { actor, startedAt, reason: opts.reason });
    await pauseAutoSyncOnRollback(run, actor, opts.reason);
    return applied;
  });
  // Watchers (SSE on every replica), AMQP and webhooks learn of it through the outbox rows the
  // apply transaction wrote; this only wakes the local relay and tail at once.
  outboxCommitted();
  return deployment;
}

/**
 * Runs `fn` holding the namespace's sync lock (every writer of live resources takes it: a sync
 * plans from live state and writes it back, so an unserialised write in between would be lost).
 * Waits up to `sync_lock_timeout`, then `sync_in_progress`.
 */
export async function withNamespaceLock<T>(app: AppContext, namespace: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withLock(app.db, `namespace:${namespace}`, app.settings.sync_lock_timeout * 1000, fn);
  } catch (err) {
    if (err instanceof LockTimeoutError) {
      throw new SynclineError('sync_in_progress', `Another sync of namespace '${namespace}' is still running`, { namespace });
    }
    throw err;
  }
}

function toPlan(run: PlannedRun): Plan {
  return {
    namespace: run.namespace.name,
    ref: run.ref,
    commit: run.commit,
    source: run.source.name,
    summary: run.plan.summary,
    results: planItems(run.plan),
    skipped_files: run.skippedFiles,
  };
}

/** The plan a sync of `ref` would apply; nothing is written. */
export async function planNamespace(
  app: AppContext,
  namespace: string,
  ref: string | undefined,
  opts: { skipFetch?: boolean; allowUnmerged?: boolean } = {},
): Promise<Plan> {
  const ns = await getNamespaceRow(app.db.db, namespace);
  return toPlan(await PLAN_STEPS.run({ app, namespace: ns, requestedRef: ref, ...opts }));
}

/**
 * The tracked branch head vs live. Never throws for git-side problems: they are reported as a
 * fetch_status so dashboards can show them. A synced namespace that has drifted is marked
 * out_of_sync (and back to synced when git and live agree again).
 */
export async function driftNamespace(app: AppContext, namespace: string, opts: { skipFetch?: boolean } = {}): Promise<DriftReport> {
  const ns = await getNamespaceRow(app.db.db, namespace);
  // The commit, once resolved, is reported even when a later step fails.
  let commit: string | null = null;
  const keepCommit = { after: (_step: string, ctx: { commit?: string }) => void (commit = ctx.commit ?? commit) };
  let report: DriftReport;
  try {
    const plan = toPlan(await PLAN_STEPS.run({ app, namespace: ns, requestedRef: undefined, skipFetch: opts.skipFetch }, keepCommit));
    report = plan.summary.invalid > 0
      ? { fetch_status: 'invalid', commit: plan.commit, message: `${plan.summary.invalid} invalid document(s)`, plan }
      : { fetch_status: 'ok', commit: plan.commit, message: null, plan };
  } catch (err) {
    if (!(err instanceof SynclineError)) throw err;
    if (err.code === 'git_not_configured') throw err;
    const noFile = err.code === 'path_not_found' || err.code === 'ref_not_found';
    report = { fetch_status: noFile ? 'no_file' : 'fetch_failed', commit, message: err.message, plan: null };
  }
  if (report.plan && (ns.status === 'synced' || ns.status === 'out_of_sync')) {
    const status = isInSync(report.plan) ? 'synced' : 'out_of_sync';
    if (status !== ns.status) {
      await app.db.db.transaction().execute(async (tx) => {
        await tx.updateTable('namespaces').set({ status, updated_at: nowIso() }).where('name', '=', namespace).execute();
        await recordStatusChange(tx, app, namespace, ns.status, status);
      });
      outboxCommitted();
    }
  }
  return report;
}

/** The spec files under the namespace's path at `ref` (the tracked head by default), for previews. */
export async function namespaceFiles(
  app: AppContext,
  namespace: string,
  ref: string | undefined,
): Promise<{ commit: string; ref: string; files: { path: string; size: number; content: string }[] }> {
  const ns = await getNamespaceRow(app.db.db, namespace);
  const run = await GIT_STEPS.run({ app, namespace: ns, requestedRef: ref });
  const files = await readEntries(run.mirrorDir, (await listSpecEntries(run)).entries);
  return {
    commit: run.commit,
    ref: run.ref,
    files: files.map((f) => ({ path: f.path, size: f.size, content: f.content.toString('utf8') })),
  };
}
