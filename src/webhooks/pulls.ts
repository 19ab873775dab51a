/**
 * The `pull_request.plan` job: plan every namespace on the base branch whose path changed
 * between the merge-base and the pull request's head, at the head commit (never applied); store
 * each plan and report it on the head commit.
 */
import { SynclineError } from '../errors.js';
import { changedPaths, fetchRefObjects, hasCommit, mergeBase } from '../git/changes.js';
import { resolveBranch } from '../git/refs.js';
import type { AppContext } from '../app-context.js';
import type { Plan } from '../contracts/deployments.js';
import { getSourceRow, type SourceRow } from '../store/sources.js';
import { connectSource } from '../sync/remote.js';
import { storePlan } from '../sync/plans.js';
import { planNamespace } from '../sync/service.js';
import { gitTimeouts } from '../sync/settings.js';
import type { JobInfo } from '../jobs/queue.js';
import type { PrJobPayload } from './ingest.js';
import { fetchSourceMirror } from './push.js';
import { enqueueReport, planReport } from './reports.js';
import { touchedNamespaces } from './touched.js';

function pullRef(provider: string, n: number): string {
  return provider === 'gitlab' ? `refs/merge-requests/${n}/head` : `refs/pull/${n}/head`;
}

export async function planPullRequest(ctx: AppContext, p: PrJobPayload, job?: Pick<JobInfo, 'delivery'>): Promise<{ planned: string[] }> {
  let src: SourceRow;
  try {
    src = await getSourceRow(ctx.db.db, p.source);
  } catch {
    return { planned: [] };
  }
  const tracked = await ctx.db.db
    .selectFrom('namespaces')
    .select('name')
    .where('source', '=', src.name)
    .where('branch', '=', p.base_branch)
    .limit(1)
    .executeTakeFirst();
  if (!tracked) return { planned: [] };
  const dir = await fetchSourceMirror(ctx, src);
  if (!(await hasCommit(dir, p.head_sha))) {
    if (!ctx.settings.mirror_runtime_sync) {
      throw new SynclineError('fetch_failed', `Commit ${p.head_sha} is not in the mirror and runtime sync is disabled`);
    }
    const remote = await connectSource(ctx, src);
    await fetchRefObjects(dir, remote, pullRef(p.provider, p.number), { sourceName: src.name, timeouts: gitTimeouts(ctx.settings) });
    if (!(await hasCommit(dir, p.head_sha))) {
      // The pull request moved on since this delivery: its newer head has its own delivery.
      return { planned: [] };
    }
  }
  const baseHead = await resolveBranch(dir, p.base_branch, { sourceName: src.name });
  const base = await mergeBase(dir, baseHead, p.head_sha);
  const changed = base ? await changedPaths(dir, base, p.head_sha) : 'all';
  const planned: string[] = [];
  for (const ns of await touchedNamespaces(ctx.db.db, src.name, p.base_branch, changed)) {
    let plan: Plan;
    try {
      plan = await planNamespace(ctx, ns.name, p.head_sha, { skipFetch: true, allowUnmerged: true });
    } catch (err) {
      if (!(err instanceof SynclineError) || err.retryable) throw err;
      // A pull request that breaks the namespace (path removed, specs too large…) fails its check.
      plan = {
        namespace: ns.name,
        ref: p.head_sha,
        commit: p.head_sha,
        source: src.name,
        skipped_files: [],
        summary: { create: 0, update: 0, delete: 0, noop: 0, invalid: 1 },
        results: [
          { kind: null, name: null, file: ns.path || null, operation: 'invalid', status: 'invalid', message: `${err.code}: ${err.message}`, changes: [] },
        ],
      };
    }
    const stored = await storePlan(ctx, plan, 'pull_request', { number: p.number, url: p.url });
    planned.push(ns.name);
    const report = planReport(ctx, stored.id, plan, ns.path, p.head_sha);
    if (p.project_id) report.project_id = p.project_id;
    await enqueueReport(ctx, src, ns.name, report, job?.delivery ?? null);
  }
  return { planned };
}
