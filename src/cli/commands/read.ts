import type { Command } from 'commander';
import type { Deployment, DriftReport } from '../../contracts/deployments.js';
import type { Resource } from '../../contracts/resources.js';
import { CliError, expectOk } from '../api-client.js';
import { colour, printJson, printTable } from '../output.js';
import { formatResults } from './sync.js';
import { emit, withClient } from './shared.js';

const enc = encodeURIComponent;

/** Read-only views of what the API holds: live resources, deployments, drift. */
export function registerReadCommands(program: Command): void {
  const resources = program.command('resources').description('Live resources of a namespace (what applications read)');
  withClient(resources.command('list <namespace>').description('List the live resources of a namespace'), async (client, opts, ns: string) => {
    const body = expectOk<{ items: Resource[] }>(await client.request('GET', `/namespaces/${enc(ns)}/resources`));
    emit(opts, body, () =>
      printTable(
        body.items.map((r) => ({ ...r, commit: r.commit ? String(r.commit).slice(0, 12) : null })),
        ['kind', 'name', 'commit', 'file', 'updated_at'],
      ),
    );
  });
  withClient(resources.command('get <namespace> <kind> <name>').description('Show one live resource (spec and metadata)'), async (client, opts, ns: string, kind: string, name: string) => {
    const body = expectOk<Resource>(await client.request('GET', `/namespaces/${enc(ns)}/resources/${enc(kind)}/${enc(name)}`));
    emit(opts, body, () => printJson({ kind: body.kind, name: body.name, metadata: body.metadata, spec: body.spec }));
  });

  withClient(
    program.command('deployments <namespace>').description("A namespace's deployments, newest first").option('--limit <n>', 'at most this many', '20'),
    async (client, opts, ns: string) => {
      const limit = Number.parseInt(opts.limit, 10);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer', 2);
      const body = expectOk<{ items: Deployment[] }>(await client.request('GET', `/namespaces/${enc(ns)}/deployments?limit=${limit}`));
      emit(opts, body, () =>
        printTable(
          body.items.map((d) => ({
            ...d,
            commit: d.commit ? String(d.commit).slice(0, 12) : null,
            changes: `+${d.summary.create} ~${d.summary.update} -${d.summary.delete} !${d.summary.invalid}`,
          })),
          ['id', 'status', 'ref', 'commit', 'actor', 'changes', 'finished_at', 'reason'],
        ),
      );
    },
  );
  withClient(program.command('deployment <id>').description('Show one deployment with its per-resource results'), async (client, opts, id: string) => {
    const d = expectOk<Deployment>(await client.request('GET', `/deployments/${enc(id)}`));
    emit(opts, d, () => {
      console.log(colour.bold(`Deployment ${d.id}: ${d.status} in ${d.namespace} at ${String(d.commit ?? '?').slice(0, 12)} (${d.ref}) by ${d.actor}`));
      if (d.reason) console.log(`Reason: ${d.reason}`);
      const text = formatResults(d.results, { showNoop: true });
      if (text) console.log(text);
    });
  });

  withClient(
    program.command('drift <namespace>').description('Compare the tracked branch head with the live state (exits 1 when out of sync or invalid)'),
    async (client, opts, ns: string) => {
      const body = expectOk<DriftReport>(await client.request('GET', `/namespaces/${enc(ns)}/drift`));
      const plan = body.plan;
      const drifted = plan ? plan.summary.create + plan.summary.update + plan.summary.delete + plan.summary.invalid > 0 : true;
      emit(opts, body, () => {
        if (!plan) {
          console.log(`${ns}: ${body.fetch_status}${body.message ? ` — ${body.message}` : ''}`);
          return;
        }
        console.log(colour.bold(`Drift of ${ns} at ${String(body.commit).slice(0, 12)}: ${drifted ? 'out of sync' : 'in sync'}`));
        const text = formatResults(plan.results);
        if (text) console.log(text);
      });
      if (drifted) process.exitCode = 1;
    },
  );
}
