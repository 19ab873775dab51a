import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Kind } from '../../contracts/kinds.js';
import type { ErrorBody } from '../../contracts/errors.js';
import { CliError, expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { emit, withClient } from './shared.js';

const enc = encodeURIComponent;

/** One `PUT /kinds/{name}` to make from a file. */
export interface KindUpload {
  name: string;
  body: Record<string, unknown>;
  file: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What a file holds, as kind uploads: CustomResourceDefinitions (named `Kind.group`), and
 * Syncline kind bodies (`{schema, equivalents?, api_versions?}`, named by `name` or the file's
 * base name). JSON or YAML, several YAML documents per file.
 */
export async function kindUploadsFromFile(file: string): Promise<KindUpload[]> {
  const { parseAllDocuments } = await import('yaml');
  const text = fs.readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: KindUpload[] = [];
  for (const doc of list) {
    if (doc.errors.length) throw new CliError(`${file}: ${doc.errors[0]!.message}`, 1);
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    if (!isObject(value)) throw new CliError(`${file}: expected a CustomResourceDefinition or a kind definition ({schema: …})`, 1);
    if (value['kind'] === 'CustomResourceDefinition') {
      const spec = isObject(value['spec']) ? value['spec'] : {};
      const names = isObject(spec['names']) ? spec['names'] : {};
      const kind = names['kind'];
      const group = spec['group'];
      if (typeof kind !== 'string' || typeof group !== 'string') throw new CliError(`${file}: a CustomResourceDefinition needs spec.group and spec.names.kind`, 1);
      out.push({ name: `${kind}.${group}`, body: { crd: value }, file });
    } else if (isObject(value['schema'])) {
      const { name, ...body } = value;
      const base = path.basename(file).replace(/\.(json|ya?ml)$/i, '');
      out.push({ name: typeof name === 'string' ? name : base, body, file });
    } else {
      throw new CliError(`${file}: expected a CustomResourceDefinition or a kind definition ({schema: …})`, 1);
    }
  }
  return out;
}

function kindFiles(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new CliError(`${target}: no such file or directory`, 2);
  if (stat.isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => /\.(json|ya?ml)$/i.test(f))
    .sort()
    .map((f) => path.join(target, f));
}

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
      const uploads = await kindUploadsFromFile(file);
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
      const uploads: KindUpload[] = [];
      for (const file of kindFiles(target)) uploads.push(...(await kindUploadsFromFile(file)));
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
