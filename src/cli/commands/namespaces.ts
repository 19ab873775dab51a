import type { Command } from 'commander';
import type { Namespace, NamespaceList } from '../../contracts/namespaces.js';
import { expectOk } from '../api-client.js';
import { printTable } from '../output.js';
import { emit, withClient } from './shared.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerNamespaceCommands(program: Command): void {
  const ns = program.command('namespace').description('Manage namespaces');
  withClient(
    ns
      .command('set <name>')
      .description(
        'Create a namespace, or change only the given settings of an existing one ' +
          "(a new namespace's branch defaults to the source's default branch, its path to the repository root)",
      )
      .option('--source <source>', 'source name')
      .option('--branch <branch>', "tracked branch (default: the source's default branch)")
      .option('--path <path>', 'folder or file in the repo')
      .option('--auto-sync', 'sync on push webhooks')
      .option('--no-auto-sync', 'do not sync on push')
      .option('--prune', 'delete live resources missing from git')
      .option('--no-prune', 'keep live resources missing from git')
      .option('--allow-unmerged-refs', 'allow syncing commits that are not on the tracked branch')
      .option('--no-allow-unmerged-refs', 'only sync commits on the tracked branch')
      .option('--include <glob>', 'spec files to read, relative to the path (repeatable; default **/*.yaml, **/*.yml)', collect)
      .option('--exclude <glob>', 'files to skip, relative to the path (repeatable)', collect)
      .option('--default-globs', 'restore the default include and exclude globs'),
    async (client, opts, name: string) => {
      const path = `/namespaces/${encodeURIComponent(name)}`;
      const fields: Record<string, unknown> = {};
      if (opts.source !== undefined) fields.source = opts.source;
      if (opts.branch !== undefined) fields.branch = opts.branch;
      if (opts.path !== undefined) fields.path = opts.path;
      if (opts.autoSync !== undefined) fields.auto_sync = opts.autoSync;
      if (opts.prune !== undefined) fields.prune = opts.prune;
      if (opts.allowUnmergedRefs !== undefined) fields.allow_unmerged_refs = opts.allowUnmergedRefs;
      if (opts.defaultGlobs) Object.assign(fields, { include: null, exclude: null });
      if (opts.include !== undefined) fields.include = opts.include;
      if (opts.exclude !== undefined) fields.exclude = opts.exclude;
      const exists = (await client.request('GET', path)).status === 200;
      // An existing namespace: PATCH changes only what was given (never resets the rest).
      const body = expectOk<Namespace>(await client.request(exists ? 'PATCH' : 'PUT', path, fields));
      emit(opts, body, () =>
        console.log(`Namespace ${body.name}: ${body.source ?? '(no source)'}@${body.branch}:${body.path || '/'} (${body.status})`),
      );
    },
  );
  withClient(ns.command('list').description('List namespaces'), async (client, opts) => {
    const body = expectOk<NamespaceList>(await client.request('GET', '/namespaces'));
    emit(opts, body, () => printTable(body.items, ['name', 'source', 'branch', 'path', 'status', 'auto_sync', 'prune']));
  });
  withClient(ns.command('get <name>').description('Show a namespace'), async (client, opts, name: string) => {
    const body = expectOk<Namespace>(await client.request('GET', `/namespaces/${encodeURIComponent(name)}`));
    emit(opts, body, () => printTable([{ ...body, last_deployment: body.last_deployment?.id ?? null }], ['name', 'source', 'branch', 'path', 'include', 'exclude', 'status', 'auto_sync', 'prune', 'last_deployment']));
  });
  withClient(
    ns.command('delete <name>').description('Delete a namespace with its live resources and deployments').requiredOption('--yes', 'confirm'),
    async (client, opts, name: string) => {
      expectOk(await client.request('DELETE', `/namespaces/${encodeURIComponent(name)}`));
      emit(opts, { deleted: name }, () => console.log(`Deleted namespace ${name}`));
    },
  );
}
