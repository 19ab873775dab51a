import type { Command } from 'commander';
import type { ClusterStatus } from '../../contracts/cluster.js';
import { expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { withClient } from './shared.js';

export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('Replicas sharing the database (admin)');
  withClient(cluster.command('status').description('List live replicas and the singletons each holds'), async (client, opts) => {
    const body = expectOk<ClusterStatus>(await client.request('GET', '/cluster'));
    if (opts.json) printJson(body);
    else printTable(body.replicas.map((r) => ({ ...r, roles: r.roles.join(',') || '-' })), ['id', 'host', 'version', 'started_at', 'last_seen', 'roles']);
  });
}
