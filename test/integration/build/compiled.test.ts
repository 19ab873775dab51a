/**
 * The compiled output (dist/, bundled by scripts/build.mjs and built by the test setup): what
 * `npm start` and bin/syncline.js run. The source tree the other tests import cannot show a
 * bundling mistake, so this file checks the two entry points work on their own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, spawnCli } from '../../helpers/cli.js';
import { tempDir, cleanupTempDirs } from '../../helpers/git-fixtures.js';

const DIST_CLI = path.resolve(path.dirname(BIN), '../dist/cli');

afterAll(() => cleanupTempDirs());

describe('compiled output', () => {
  it('puts every chunk beside the entry points, so paths relative to a module hold in any chunk', () => {
    const files = fs.readdirSync(DIST_CLI, { withFileTypes: true });
    expect(files.filter((f) => f.isDirectory())).toEqual([]);
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['main.js', 'parse-worker.js']));
    const siblings = fs.readdirSync(path.dirname(DIST_CLI));
    expect(siblings).toEqual(['cli']);
  });

  it('runs the parse worker from dist: a valid document parses, a bad one is reported', async () => {
    const worker = new Worker(path.join(DIST_CLI, 'parse-worker.js'));
    try {
      const reply = await new Promise<any>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({
          id: 7,
          registryId: 1,
          definitions: [{ name: 'FeatureFlag', schema: { type: 'object', properties: { enabled: { type: 'boolean' } }, required: ['enabled'] } }],
          limits: {},
          files: [
            { path: 'flags/checkout.yaml', content: 'kind: FeatureFlag\nname: checkout\nspec:\n  enabled: true\n' },
            { path: 'flags/broken.yaml', content: 'kind: FeatureFlag\nname: broken\nspec:\n  enabled: "yes"\n' },
          ],
        });
      });
      expect(reply.id).toBe(7);
      expect(reply.error).toBeUndefined();
      const [ok, bad] = reply.results;
      expect(ok.documents.map((d: any) => d.name)).toEqual(['checkout']);
      expect(ok.invalid).toEqual([]);
      expect(ok.validated[0]).not.toBeNull();
      expect(bad.invalid.map((i: any) => [i.result.code, i.result.path, i.result.line])).toEqual([['schema_violation', '/spec/enabled', 4]]);
    } finally {
      await worker.terminate();
    }
  });

  it('runs CLI commands whose code is loaded on demand (the app in local mode, YAML for kind import)', async () => {
    const env = { SYNCLINE_DATA_DIR: await tempDir('syncline-compiled-') };
    const imported = await spawnCli(['kind', 'import', path.join(ROOT, 'examples/kinds/kubernetes')], env);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('Kind ConfigMap saved');
    const listed = await spawnCli(['kind', 'list', '--output', 'json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).items.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['ConfigMap', 'Deployment.apps', 'Service']));
  });
});
