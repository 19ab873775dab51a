/**
 * Shared fixtures for the spec / plan unit tests: the example kinds from examples/kinds/ (so the
 * examples and the tests cannot drift apart) and small helpers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KindRegistry } from '../../../src/specs/kinds.js';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import type { ParseOptions } from '../../../src/specs/parse.js';
import type { KindDefinition, ParseResult, SpecDocument } from '../../../src/specs/types.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function loadKind(name: string): KindDefinition {
  const body = JSON.parse(readFileSync(`${REPO_ROOT}examples/kinds/${name}.json`, 'utf8')) as Omit<KindDefinition, 'name'>;
  return { name, ...body };
}

export const WORKLOAD: KindDefinition = loadKind('Workload');
export const METRIC: KindDefinition = loadKind('Metric');

export function exampleRegistry(): KindRegistry {
  return new KindRegistry([WORKLOAD, METRIC]);
}

/** Parse one file (default path `shop/app.yaml`) with the example registry. */
export function parseOne(content: string, path = 'shop/app.yaml', options: ParseOptions = {}): ParseResult {
  return parseSpecFiles([{ path, content }], { registry: exampleRegistry(), ...options });
}

/** Parse and expect exactly one valid document. */
export function parseValid(content: string, path = 'shop/app.yaml'): SpecDocument {
  const out = parseOne(content, path);
  if (out.invalid.length > 0 || out.documents.length !== 1) {
    throw new Error(`expected one valid document, got ${JSON.stringify(out, null, 2)}`);
  }
  return out.documents[0] as SpecDocument;
}

/** Join lines into a YAML text with a trailing newline. */
export function y(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
