import type { Command } from 'commander';
import type { Kind } from '../../contracts/kinds.js';
import type { ErrorBody } from '../../contracts/errors.js';
import { CliError, expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { emit, withClient } from './shared.js';
import type { KindUpload } from './kind-files.js';

// Loaded by the commands that read files: yaml is not loaded for the other CLI calls.
const kindFiles = () => import('./kind-files.js');

const enc = encodeURIComponent;

export function registerKindCommands(program: Command): void {
  const kind = program.command('kind').description('Kinds: the JSON Schemas the server validates specs with');
  withClient(kind.command('list').description('List kinds'), async (client, opts) => {
    const body = expectOk<{ items: Kind[] }>(await client.request('GET', '/kinds'));
    emit(opts, body, () =>
      printTable(
        body.items.map((k) => ({ ...k, api_versions: (k as { api_versions?: string[] | null }).api_versions ?? null })),
        ['name', 'api_versions', 'builtin', 'updated_at'],
      ),
    );
  });
  withClient(kind.command('get <name>').description('Show a kind with its schema'), async (client, opts, name: string) => {
    const body = expectOk<Kind>(await client.request('GET', `/kinds/${enc(name)}`));
    emit(opts, body, () => printJson(body));
  });
  withClient(
    kind.command('put <name> <file>').description('Define or replace a kind from a file: {schema, equivalents?, api_versions?} or a CustomResourceDefinition'),
    async (client, opts, name: string, file: string) => {
      const uploads = await (await kindFiles()).kindUploadsFromFile(file);
      if (uploads.length !== 1) throw new CliError(`${file}: expected exactly one kind definition (found ${uploads.length}); use 'kind import' for several`, 2);
      const body = expectOk<Kind>(await client.request('PUT', `/kinds/${enc(name)}`, uploads[0]!.body));
      emit(opts, body, () => console.log(`Kind ${body.name} saved`));
    },
  );
  withClient(
    kind
      .command('import <path>')
      .description('Load every CustomResourceDefinition or kind definition in a file or a folder (.json, .yaml, .yml); a CRD becomes the kind <Kind>.<group>'),
    async (client, opts, target: string) => {
      const { kindUploadsFromFile, kindFilesIn } = await kindFiles();
      const uploads: KindUpload[] = [];
      for (const file of kindFilesIn(target)) uploads.push(...kindUploadsFromFile(file));
      if (!uploads.length) throw new CliError(`${target}: no kind definitions found`, 1);
      const saved: Kind[] = [];
      for (const u of uploads) {
        const res = await client.request('PUT', `/kinds/${enc(u.name)}`, u.body);
        if (res.status !== 200) {
          const err = (res.body as Partial<ErrorBody> | null)?.error;
          throw new CliError(`${u.file}: kind ${u.name}: ${err ? `${err.code}: ${err.message}` : `HTTP ${res.status}`}${saved.length ? ` (saved before it: ${saved.map((k) => k.name).join(', ')})` : ''}`);
        }
        saved.push(res.body as Kind);
      }
      emit(opts, { items: saved }, () => {
        for (const k of saved) console.log(`Kind ${k.name} saved`);
      });
    },
  );
}
