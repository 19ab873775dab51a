import type { Command } from 'commander';
import type { Job } from '../../contracts/jobs.js';
import { expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { withClient } from './shared.js';

/** `syncline jobs [--state S] [retry ID]` and `syncline deliveries [show ID] [redeliver ID]` (admin). */
export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('Background jobs: list (default) or retry (admin)');
  withClient(
    jobs
      .command('list', { isDefault: true })
      .description('List jobs, newest first')
      .option('--state <state>', 'queued | running | done | failed')
      .option('--limit <n>', 'how many', '50'),
    async (client, opts) => {
      const q = new URLSearchParams({ limit: String(opts.limit) });
      if (opts.state) q.set('state', opts.state);
      const body = expectOk<{ items: Job[] }>(await client.request('GET', `/jobs?${q}`));
      if (opts.json) printJson(body);
      else printTable(body.items, ['id', 'kind', 'state', 'attempts', 'max_attempts', 'namespace', 'run_at', 'last_error']);
    },
  );
  withClient(jobs.command('retry <id>').description('Queue a failed job again'), async (client, _opts, id: string) => {
    const job = expectOk<Job>(await client.request('POST', `/jobs/${encodeURIComponent(id)}/retry`));
    console.log(`Queued ${job.id} (${job.kind}) again`);
  });

  const deliveries = program.command('deliveries').description('Received webhook deliveries: list (default), show, redeliver (admin)');
  withClient(
    deliveries.command('list', { isDefault: true }).description('List deliveries, newest first').option('--limit <n>', 'how many', '50'),
    async (client, opts) => {
      const body = expectOk<{ items: any[] }>(await client.request('GET', `/webhooks/deliveries?limit=${encodeURIComponent(opts.limit)}`));
      if (opts.json) printJson(body);
      else
        printTable(
          body.items.map((d) => ({ ...d, jobs: d.jobs.length, error: d.error ?? d.ignored ?? '' })),
          ['id', 'provider', 'event', 'action', 'status', 'received_at', 'jobs', 'error'],
        );
    },
  );
  withClient(deliveries.command('show <id>').description('One delivery with its jobs'), async (client, _opts, id: string) => {
    printJson(expectOk(await client.request('GET', `/webhooks/deliveries/${encodeURIComponent(id)}`)));
  });
  withClient(deliveries.command('redeliver <id>').description('Run a stored delivery again'), async (client, _opts, id: string) => {
    printJson(expectOk(await client.request('POST', `/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`)));
  });
}
