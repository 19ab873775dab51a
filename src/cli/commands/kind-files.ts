/**
 * Reading kind definitions from files for `kind put` / `kind import` (loaded only by those
 * commands, so other CLI calls do not load yaml).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError } from '../api-client.js';

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
export function kindUploadsFromFile(file: string): KindUpload[] {
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

/** The definition files of `target`: the file itself, or a folder's .json/.yaml/.yml files, sorted. */
export function kindFilesIn(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new CliError(`${target}: no such file or directory`, 2);
  if (stat.isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => /\.(json|ya?ml)$/i.test(f))
    .sort()
    .map((f) => path.join(target, f));
}
