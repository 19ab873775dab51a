/**
 * The parse workers (real worker_threads) give the same answer as parsing on the main thread:
 * valid documents (with their normalised, validated content recorded against the main thread's
 * kinds, so planning reuses it), schema violations, YAML errors, non-UTF-8 files and duplicates
 * across files found by the final cross-file pass.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adoptDetachedParse, ParseCache, parseSpecFiles } from '../../../src/specs/parse.js';
import { closeParsePool, parseInWorkers } from '../../../src/specs/parse-pool.js';
import { validatedContent } from '../../../src/specs/validated.js';
import type { SpecFile } from '../../../src/specs/types.js';
import { exampleRegistry as registry } from './fixtures.js';

const files = (): SpecFile[] => [
  ...Array.from({ length: 120 }, (_, i) => ({
    path: `svc/w-${String(i).padStart(3, '0')}.yaml`,
    id: `blob-${i}`,
    content: Buffer.from(`kind: Workload\nname: w-${i}\nspec:\n  port: ${1000 + i}\n  deploy_strategy: ""\n`),
  })),
  { path: 'svc/bad-schema.yaml', id: 'b1', content: 'kind: Workload\nname: bad\nspec:\n  port: "x"\n' },
  { path: 'svc/bad-yaml.yaml', id: 'b2', content: 'kind: Workload\nname: [unclosed\n' },
  { path: 'svc/latin1.yaml', id: 'b3', content: new Uint8Array([0x6b, 0x3a, 0x20, 0xe9, 0x0a]) },
  { path: 'svc/dup.yaml', id: 'b4', content: 'kind: Workload\nname: w-1\nspec:\n  port: 1\n' },
];

afterAll(async () => {
  await closeParsePool();
});

describe('parse workers', () => {
  it('adopting worker results gives exactly what parsing here gives', async () => {
    const reg = registry();
    const direct = parseSpecFiles(files(), { registry: reg });

    const cache = new ParseCache();
    const options = { registry: reg, cache };
    const input = files();
    for (const f of input) expect(cache.has(f.path, f.id!, { registry: reg })).toBe(false);
    const detached = await parseInWorkers(input, reg, {}, 16);
    expect(detached).toHaveLength(input.length);
    input.forEach((f, i) => adoptDetachedParse(f, detached[i]!, options));
    for (const f of input) expect(cache.has(f.path, f.id!, { registry: reg })).toBe(true);
    // Content is no longer needed: everything comes from the cache.
    const viaWorkers = parseSpecFiles(input.map((f) => ({ path: f.path, id: f.id! })), options);

    expect(viaWorkers).toEqual(direct);
    expect(viaWorkers.documents).toHaveLength(119);
    expect(viaWorkers.invalid.map((i) => i.code).sort()).toEqual(['duplicate_resource', 'duplicate_resource', 'invalid_encoding', 'schema_violation', 'yaml_syntax'].sort());
    // Validated once, in the worker: the normalised content is recorded for this thread's kind.
    const doc = viaWorkers.documents.find((d) => d.name === 'w-7')!;
    expect(validatedContent(doc, reg.get('Workload')!)?.spec).toMatchObject({ port: 1007, deploy_strategy: 'recreate' });
  });

  it('a changed registry is sent again', async () => {
    const first = await parseInWorkers(files().slice(0, 2), registry(), {});
    const second = await parseInWorkers(files().slice(0, 2), registry(), {});
    expect(second).toEqual(first);
  });
});
