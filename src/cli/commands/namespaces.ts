import type { Command } from 'commander';
import type { Namespace, NamespaceList } from '../../contracts/namespaces.js';
import { expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { withClient } from './shared.js';

export function registerNamespaceCommands(program: Command): void {
  const ns = program.command('namespace').description('Manage namespaces');
  withClient(
    ns
      .command('set <name>')
      .description('Create or replace a namespace binding (omitted flags take their defaults)')
      .option('--source <source>', 'source name')
      .option('--branch <branch>', 'tracked branch', 'main')
      .option('--path <path>', 'folder or file in the repo', '')
      .option('--auto-sync', 'sync on push webhooks')
      .option('--prune', 'delete live resources missing from git')
      .option('--allow-unmerged-refs', 'allow syncing commits that are not on the tracked branch')
      .option('--json', 'print JSON'),
    async (client, opts, name: string) => {
      const body = expectOk<Namespace>(
        await client.request('PUT', `/namespaces/${encodeURIComponent(name)}`, {
          source: opts.source ?? null,
          branch: opts.branch,
          path: opts.path,
          auto_sync: !!opts.autoSync,
          prune: !!opts.prune,
          allow_unmerged_refs: !!opts.allowUnmergedRefs,
        }),
      );
      if (opts.json) printJson(body);
      else console.log(`Namespace ${body.name}: ${body.source ?? '(no source)'}@${body.branch}:${body.path || '/'} (${body.status})`);
    },
  );
  withClient(ns.command('list').description('List namespaces').option('--json', 'print JSON'), async (client, opts) => {
    const body = expectOk<NamespaceList>(await client.request('GET', '/namespaces'));
    if (opts.json) printJson(body);
    else printTable(body.items, ['name', 'source', 'branch', 'path', 'status', 'auto_sync', 'prune']);
  });
}
