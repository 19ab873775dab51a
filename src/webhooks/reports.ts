/**
 * Plans and deployments → forge reports (check runs / commit statuses), sent by the
 * `forge.report` job so a failing forge retries on its own and, when it finally fails, the job
 * is listed as failed with the reason (nothing is dropped silently).
 */
import type { AppContext } from '../app-context.js';
import type { Deployment, Plan, ResultItem } from '../contracts/deployments.js';
import { getSourceRow, type SourceRow } from '../store/sources.js';
import { reportMode, sendReport, type Annotation, type ForgeReport } from '../providers/forge.js';
import { guardOptions } from '../sync/remote.js';

export const REPORT_JOB = 'forge.report';

export interface ReportJobPayload {
  source: string;
  namespace: string;
  report: ForgeReport;
}

const ISSUE_RE = /^(.+?):(\d+):(\d+): ?(.*)$/;

/** One annotation per problem of every invalid result (a message may list several, `; `-separated). */
export function annotationsFor(results: ResultItem[], nsPath: string): Annotation[] {
  const out: Annotation[] = [];
  for (const r of results) {
    if (r.operation !== 'invalid') continue;
    const parts = (r.message ?? '').split(/; (?=[^;]+:\d+:\d+:)/);
    for (const part of parts) {
      const m = ISSUE_RE.exec(part);
      const file = m?.[1] ?? r.file ?? nsPath;
      const line = m ? Number(m[2]) : (r.line ?? 1);
      out.push({
        path: repoRelative(file, nsPath),
        start_line: Math.max(1, line),
        end_line: Math.max(1, line),
        annotation_level: 'failure',
        message: (m?.[4] ?? part).slice(0, 64_000) || 'invalid document',
      });
    }
  }
  return out;
}

/** Result files are repository paths already; keep them so (annotations need repo paths). */
function repoRelative(file: string, _nsPath: string): string {
  return file.replace(/^\/+/, '');
}

const fmt = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? '(absent)' : s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

export function markdownSummary(what: string, summary: Plan['summary'], results: ResultItem[]): string {
  const lines = [
    `**${what}**`,
    '',
    '| create | update | delete | unchanged | invalid |',
    '|---:|---:|---:|---:|---:|',
    `| ${summary.create} | ${summary.update} | ${summary.delete} | ${summary.noop} | ${summary.invalid} |`,
    '',
  ];
  const changed = results.filter((r) => r.operation !== 'noop');
  for (const r of changed.slice(0, 200)) {
    const label = `${r.kind ?? '?'}/${r.name ?? '?'}`;
    if (r.operation === 'invalid') {
      lines.push(`- ❌ **invalid** \`${r.file ?? label}\`: ${(r.message ?? '').slice(0, 500)}`);
      continue;
    }
    lines.push(`- **${r.operation}** \`${label}\`${r.file ? ` (${r.file})` : ''}`);
    for (const c of r.changes.slice(0, 20)) lines.push(`  - \`${c.path}\`: ${fmt(c.from)} → ${fmt(c.to)}`);
    if (r.changes.length > 20) lines.push(`  - … ${r.changes.length - 20} more field(s)`);
  }
  if (changed.length > 200) lines.push(`- … ${changed.length - 200} more resource(s)`);
  if (changed.length === 0) lines.push('No changes.');
  return lines.join('\n');
}

function counts(s: Plan['summary']): string {
  return `${s.create} to create, ${s.update} to update, ${s.delete} to delete${s.invalid ? `, ${s.invalid} invalid` : ''}`;
}

export function planReport(ctx: AppContext, planId: string, plan: Plan, nsPath: string, sha: string): ForgeReport {
  const ok = plan.summary.invalid === 0;
  const base = ctx.settings.public_url?.replace(/\/+$/, '');
  return {
    sha,
    name: `syncline/${plan.namespace}`,
    conclusion: ok ? 'success' : 'failure',
    title: ok ? counts(plan.summary) : `${plan.summary.invalid} invalid document(s)`,
    summary: markdownSummary(`Plan for ${plan.namespace} at ${sha.slice(0, 12)}`, plan.summary, plan.results),
    description: ok ? `Plan: ${counts(plan.summary)}` : `Plan: ${plan.summary.invalid} invalid document(s)`,
    target_url: base ? `${base}/api/v1/plans/${planId}` : null,
    annotations: annotationsFor(plan.results, nsPath),
  };
}

export function deploymentReport(ctx: AppContext, d: Deployment, nsPath: string): ForgeReport {
  const ok = d.status !== 'failed';
  const base = ctx.settings.public_url?.replace(/\/+$/, '');
  return {
    sha: d.commit ?? '',
    name: `syncline/${d.namespace}`,
    conclusion: ok ? 'success' : 'failure',
    title: ok ? (d.status === 'noop' ? 'Deployed: no changes' : `Deployed: ${counts(d.summary)}`) : `Deployment failed: ${d.summary.invalid} invalid document(s)`,
    summary: markdownSummary(`Deployment ${d.id} of ${d.namespace}`, d.summary, d.results),
    description: ok ? `Deployed (${d.status})` : `Deployment failed: ${d.summary.invalid} invalid document(s)`,
    target_url: base ? `${base}/api/v1/deployments/${d.id}` : null,
    annotations: annotationsFor(d.results, nsPath),
  };
}

function canReport(ctx: AppContext, src: SourceRow): boolean {
  return ctx.settings.mirror_runtime_sync && reportMode(src) !== null;
}

/**
 * Queues a report. `delivery`: the webhook delivery whose job led to it (the job that handled it
 * passes its own), so `GET /jobs` shows which delivery it belongs to and a report that fails for good raises
 * `syncline.delivery.failed` for that delivery like the job before it would.
 */
export async function enqueueReport(ctx: AppContext, src: SourceRow, namespace: string, report: ForgeReport, delivery: string | null = null): Promise<void> {
  if (!canReport(ctx, src) || !report.sha) return;
  const payload: ReportJobPayload = { source: src.name, namespace, report };
  await ctx.jobs.enqueue(REPORT_JOB, payload, { namespace, delivery });
}

/** After an auto-sync: the deployment's result on the synced commit. */
export async function enqueueDeploymentReport(ctx: AppContext, src: SourceRow, namespace: string, d: Deployment, delivery: string | null = null): Promise<void> {
  if (!canReport(ctx, src) || !d.commit) return;
  const ns = await ctx.db.db.selectFrom('namespaces').select('path').where('name', '=', namespace).executeTakeFirst();
  await enqueueReport(ctx, src, namespace, deploymentReport(ctx, d, ns?.path ?? ''), delivery);
}

export function registerReportJobs(ctx: AppContext): void {
  ctx.jobs.register<ReportJobPayload>(
    REPORT_JOB,
    async (p) => {
      let src: SourceRow;
      try {
        src = await getSourceRow(ctx.db.db, p.source);
      } catch {
        return;
      }
      await sendReport({ box: ctx.box, guard: guardOptions(ctx.settings, ctx.resolver), offline: !ctx.settings.mirror_runtime_sync }, src, p.report);
    },
    { maxAttempts: 6 },
  );
}
