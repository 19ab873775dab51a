import type { Command } from 'commander';
import type { Deployment, ErrorBody, Operation, Plan, ResultItem, Summary } from '../../contracts/index.js';
import { CliError } from '../api-client.js';
import { colour, printJson } from '../output.js';
import { withClient } from './shared.js';


const SIGN: Record<Operation, string> = { create: '+', update: '~', delete: '-', noop: '=', invalid: '!' };
const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

function paint(op: Operation, text: string): string {
  if (op === 'create') return colour.green(text);
  if (op === 'delete' || op === 'invalid') return colour.red(text);
  if (op === 'update') return colour.yellow(text);
  return colour.dim(text);
}

/** A readable diff: one line per resource, one per changed field. */
export function formatResults(results: readonly ResultItem[], opts: { showNoop?: boolean } = {}): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.operation === 'noop' && !opts.showNoop) continue;
    const id = `${r.kind ?? '?'}/${r.name ?? '?'}`;
    lines.push(paint(r.operation, `${SIGN[r.operation]} ${id}${r.file ? colour.dim(`  (${r.file})`) : ''}`));
    if (r.operation === 'invalid') lines.push(colour.red(`    ${r.message}`));
    for (const c of r.changes) {
      lines.push(`    ${c.path}: ${c.from === undefined ? '' : `${colour.red(show(c.from))} → `}${colour.green(show(c.to))}`);
    }
  }
  return lines.join('\n');
}

function summaryLine(s: Summary): string {
  return `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.noop} unchanged, ${s.invalid} invalid`;
}

export function registerSyncCommands(program: Command): void {
  withClient(
    program
      .command('plan <namespace>')
      .description('Show what a sync would change (fetches the ref server-side, applies nothing)')
      .option('--ref <ref>', 'commit, branch or tag (default: the tracked branch head)')
      .option('--all', 'also list unchanged resources'),
    async (client, opts, ns: string) => {
      const res = await client.request('POST', `/namespaces/${encodeURIComponent(ns)}/plan`, opts.ref ? { ref: opts.ref } : {});
      if (res.status !== 200) throw apiError(res.body, res.status);
      if (opts.json) return printJson(res.body);
      const plan = res.body as Plan;
      console.log(colour.bold(`Plan for ${plan.namespace} at ${plan.commit.slice(0, 12)} (${plan.ref})`));
      const body = formatResults(plan.results, { showNoop: opts.all });
      if (body) console.log(body);
      console.log(summaryLine(plan.summary));
      if (plan.summary.invalid > 0) throw new CliError('plan has invalid documents', 1);
    },
  );

  withClient(
    program
      .command('sync <namespace>')
      .description('Sync a namespace from git at a ref (the server fetches and validates it)')
      .option('--ref <ref>', 'commit, branch or tag (default: the tracked branch head)')
      .option('--reason <text>', 'why (kept on the deployment, its audit entry and, for a rollback, the auto-sync pause)'),
    async (client, opts, ns: string) => {
      const body = { ...(opts.ref ? { ref: opts.ref } : {}), ...(opts.reason ? { reason: opts.reason } : {}) };
      const res = await client.request('POST', `/namespaces/${encodeURIComponent(ns)}/sync-from-git`, body);
      const deployment = (res.status === 200 ? res.body : (res.body as ErrorBody | null)?.error?.details?.deployment) as Deployment | undefined;
      if (opts.json) printJson(res.body);
      else if (deployment) {
        const head = `Deployment ${deployment.id}: ${deployment.status} at ${deployment.commit?.slice(0, 12) ?? '?'} (${deployment.ref})`;
        console.log(deployment.status === 'failed' ? colour.red(head) : colour.bold(head));
        if (deployment.reason) console.log(`Reason: ${deployment.reason}`);
        const body = formatResults(deployment.results);
        if (body) console.log(body);
        console.log(summaryLine(deployment.summary));
      }
      if (res.status !== 200) throw apiError(res.body, res.status);
    },
  );
}

function apiError(body: unknown, status: number): CliError {
  const err = (body as Partial<ErrorBody> | null)?.error;
  return new CliError(err ? `${err.code}: ${err.message}` : `HTTP ${status}`, 1);
}
