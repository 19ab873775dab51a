/**
 * The `source.refresh` job: what a push (or a poll that saw a branch move) does to one source.
 *
 * Fetch the source once; for each branch its namespaces track, compare the branch head with the
 * last head handled (`source_heads`), diff the two with git, and touch only namespaces whose path
 * changed: `auto_sync` ones sync to the head (only forward: the head must descend from what is
 * deployed), the others (and paused ones) get a drift refresh. Namespaces whose path did not
 * change get no plan and no write. Idempotent: a re-run (at-least-once) or a second trigger for
 * the same commit finds the head already handled, or the namespace already at that commit.
 */
import { SynclineError } from '../errors.js';
import { changedPaths, commitIsAncestor, hasCommit } from '../git/changes.js';
import { ensureMirror, openMirror } from '../git/mirror-cache.js';
import { resolveBranch } from '../git/refs.js';
import type { JobInfo } from '../jobs/queue.js';
import type { AppContext } from '../app-context.js';
import { nowIso } from '../store/json.js';
import type { NamespaceRow } from '../store/namespaces.js';
import { getSourceRow, type SourceRow } from '../store/sources.js';
import { recordCopy, stampCopy } from '../mirror/copies.js';
import { autoSyncPause } from '../sync/auto-sync.js';
import { connectSource } from '../sync/remote.js';
import { driftNamespace, syncNamespace } from '../sync/service.js';
import { gitTimeouts } from '../sync/settings.js';
import { enqueueDeploymentReport } from './reports.js';
import type { PushJobPayload } from './ingest.js';
import { touchedNamespaces, trackedBranches } from './touched.js';

export interface RefreshOutcome {
  branches: { branch: string; from: string | null; to: string; changed: number | 'all'; synced: string[]; refreshed: string[]; skipped: string[] }[];
}

/** Fetches the source's mirror once (or opens it as it is in air-gap mode); returns its dir. */
export async function fetchSourceMirror(ctx: AppContext, src: SourceRow): Promise<string> {
  if (!ctx.settings.mirror_runtime_sync) {
    const m = await openMirror(src.name, { mirrorsDir: ctx.settings.mirror_dir });
    if (!m) throw new SynclineError('fetch_failed', `No mirror of source '${src.name}' on disk and runtime sync is disabled`);
    return m.dir;
  }
  // Checked and pinned at the connection (sync/remote.ts), like every sync.
  const remote = await connectSource(ctx, src);
  const m = await ensureMirror({ name: src.name, ...remote }, { mirrorsDir: ctx.settings.mirror_dir, timeouts: gitTimeouts(ctx.settings) });
  await stampCopy(m.dir, src);
  // This replica's copy moved: record it (and its syncline.mirror.updated event) as the scheduler would.
  if (src.mirror_enabled === 1 && m.updated) {
    await recordCopy(
      ctx,
      src,
      { status: 'ready', head_commit: m.headCommit ?? null, last_synced: nowIso(), last_error: null, last_error_code: null },
      true,
    );
  }
  return m.dir;
}

async function deployedCommit(ctx: AppContext, ns: NamespaceRow): Promise<string | null> {
  if (!ns.last_deployment_id) return null;
  const d = await ctx.db.db
    .selectFrom('deployments')
    .select(['commit', 'status'])
    .where('id', '=', ns.last_deployment_id)
    .executeTakeFirst();
  return d?.commit ?? null;
}

export async function refreshSource(ctx: AppContext, payload: PushJobPayload, job?: Pick<JobInfo, 'delivery'>): Promise<RefreshOutcome> {
  const delivery = job?.delivery ?? null;
  const db = ctx.db.db;
  const out: RefreshOutcome = { branches: [] };
  let src: SourceRow;
  try {
    src = await getSourceRow(db, payload.source);
  } catch {
    return out; // source deleted since: nothing to do
  }
  const branches = await trackedBranches(db, src.name);
  if (branches.length === 0) return out;
  const dir = await fetchSourceMirror(ctx, src);
  const actor = payload.trigger || 'poll';

  for (const branch of branches) {
    let head: string;
    try {
      head = await resolveBranch(dir, branch, { sourceName: src.name });
    } catch {
      continue; // branch gone (deleted upstream): nothing to sync to
    }
    const last = await db
      .selectFrom('source_heads')
      .select('commit')
      .where('source', '=', src.name)
      .where('branch', '=', branch)
      .executeTakeFirst();
    if (last?.commit === head) continue;
    // The diff base: the last head handled; for the first push seen, the payload's `before`.
    // A base git no longer has (force push, new branch) means everything changed.
    let base = last?.commit ?? (payload.branch === branch ? payload.before ?? null : null);
    if (base && !(await hasCommit(dir, base))) base = null;
    const changed = base ? await changedPaths(dir, base, head) : 'all';
    const entry = { branch, from: base, to: head, changed: changed === 'all' ? ('all' as const) : changed.length, synced: [] as string[], refreshed: [] as string[], skipped: [] as string[] };
    out.branches.push(entry);

    // Only the namespaces whose path changed are read (by path, not all of the branch's).
    for (const ns of await touchedNamespaces(db, src.name, branch, changed)) {
      if (ns.auto_sync === 1 && !autoSyncPause(ns)) {
        const deployed = await deployedCommit(ctx, ns);
        if (deployed === head) {
          entry.skipped.push(ns.name);
          continue;
        }
        // Never backwards: sync the head only if it descends from what is deployed.
        if (deployed && (!(await hasCommit(dir, deployed)) || !(await commitIsAncestor(dir, deployed, head)))) {
          await driftNamespace(ctx, ns.name, { skipFetch: true });
          entry.refreshed.push(ns.name);
          continue;
        }
        try {
          const d = await syncNamespace(ctx, ns.name, head, actor, { skipFetch: true });
          entry.synced.push(ns.name);
          await enqueueDeploymentReport(ctx, src, ns.name, d, delivery);
        } catch (err) {
          const failed = err instanceof SynclineError ? (err.details as { deployment?: { id: string; commit: string | null } }).deployment : undefined;
          if (err instanceof SynclineError && err.code === 'invalid_specs' && failed) {
            // A recorded failed deployment is an outcome, not a job failure: report it.
            entry.synced.push(ns.name);
            await enqueueDeploymentReport(ctx, src, ns.name, failed as never, delivery);
            continue;
          }
          throw err;
        }
      } else {
        await driftNamespace(ctx, ns.name, { skipFetch: true });
        entry.refreshed.push(ns.name);
      }
    }
    await recordHead(ctx, src.name, branch, head);
  }
  return out;
}

async function recordHead(ctx: AppContext, source: string, branch: string, commit: string): Promise<void> {
  const now = nowIso();
  await ctx.db.db
    .insertInto('source_heads')
    .values({ source, branch, commit, updated_at: now })
    .onConflict((oc) => oc.columns(['source', 'branch']).doUpdateSet({ commit, updated_at: now }))
    .execute();
}

/** The last handled head of each tracked branch (the poller compares ls-remote against it). */
export async function recordedHeads(ctx: AppContext, source: string): Promise<Map<string, string>> {
  const rows = await ctx.db.db.selectFrom('source_heads').select(['branch', 'commit']).where('source', '=', source).execute();
  return new Map(rows.map((r) => [r.branch, r.commit]));
}
