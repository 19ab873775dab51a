import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { onGitSpawn, runGit } from '../../../src/git/runner.js';
import { listTree, readEntries, selectTree, type ReadTreeOptions, type TreeFile } from '../../../src/git/tree.js';
import { cleanupTempDirs, commitFiles, makeRepo, tempDir } from '../../helpers/git-fixtures.js';

/** Every file under `path` at `commit`: selectTree (caps checked on the listing) then readEntries. */
async function readTree(dir: string, commit: string, path: string, opts: ReadTreeOptions = {}): Promise<TreeFile[]> {
  return readEntries(dir, await selectTree(dir, commit, path, opts), opts.timeouts);
}

let dir: string;
let commit: string;

const yamlOnly = (p: string): boolean => /\.ya?ml$/.test(p);

beforeAll(async () => {
  const repo = await makeRepo({ name: 'tree' });
  const sub = await commitFiles(repo, { 'placeholder.txt': 'x' });
  commit = await commitFiles(repo, {
    'config/prod/app.yaml': 'kind: Config\nname: app\n',
    'config/prod/db.yml': 'kind: Config\nname: db\n',
    'config/prod/nested/deep/x.yaml': 'kind: Config\nname: x\n',
    'config/prod/README.md': '# readme\n',
    'config/prod/run.sh': { executable: '#!/bin/sh\n' },
    'config/prod/copy.yaml': 'kind: Config\nname: app\n', // same blob as app.yaml
    'config/prod/link.yaml': { symlink: '/etc/passwd' },
    'config/prod/rel-link.yaml': { symlink: 'app.yaml' },
    'config/prod/vendor': { submodule: sub },
    'config/prodlike/other.yaml': 'kind: Config\nname: other\n',
    'config/big/huge.yaml': 'x'.repeat(2048),
    'config/big/small.yaml': 'y: 1\n',
    'config/bin/data.bin': Buffer.from([0, 1, 2, 255, 10, 13]),
    '.syncline.yml': 'kind: Config\nname: root\n',
  });
  const mirrorsDir = await tempDir('syncline-mirrors-');
  ({ dir } = await ensureMirror({ name: 'tree', url: repo.fileUrl }, { mirrorsDir }));
});
afterAll(cleanupTempDirs);

const paths = (files: Array<{ path: string }>): string[] => files.map((f) => f.path).sort();

describe('readTree', () => {
  it('reads a folder recursively, regular files only, with repo-relative paths', async () => {
    const files = await readTree(dir, commit, 'config/prod');
    expect(paths(files)).toEqual([
      'config/prod/README.md',
      'config/prod/app.yaml',
      'config/prod/copy.yaml',
      'config/prod/db.yml',
      'config/prod/nested/deep/x.yaml',
      'config/prod/run.sh',
    ]);
    const app = files.find((f) => f.path === 'config/prod/app.yaml');
    expect(app?.content.toString()).toBe('kind: Config\nname: app\n');
    expect(app?.size).toBe(app?.content.length);
    expect(app?.blobSha).toMatch(/^[0-9a-f]{40}$/);
    expect(files.find((f) => f.path === 'config/prod/copy.yaml')?.content.toString()).toBe('kind: Config\nname: app\n');
    expect(files.find((f) => f.path === 'config/prod/run.sh')?.executable).toBe(true);
  });

  it('skips symlinks (never following them) and submodules', async () => {
    const entries = await listTree(dir, commit, 'config/prod');
    expect(entries.map((e) => e.path)).not.toContain('config/prod/link.yaml');
    expect(entries.map((e) => e.path)).not.toContain('config/prod/rel-link.yaml');
    expect(entries.map((e) => e.path)).not.toContain('config/prod/vendor');
    await expect(readTree(dir, commit, 'config/prod/link.yaml')).resolves.toEqual([]);
  });

  it('lists what `git ls-tree -r --long` lists (regular files, in its order), for a tree large enough to be walked in slices', async () => {
    const repo = await makeRepo({ name: 'tree-large' });
    const files: Record<string, string | { executable: string }> = {};
    for (let i = 0; i < 3_000; i++) files[`ns/d${i % 7}/${i % 3 ? 'sub/' : ''}f-${i}.yaml`] = `i: ${i % 50}\n`;
    files['ns/run.sh'] = { executable: '#!/bin/sh\n' };
    files['ns/ü-ñ.yaml'] = 'u: 1\n';
    const c = await commitFiles(repo, files);
    const { dir: d } = await ensureMirror({ name: 'tree-large', url: repo.fileUrl }, { mirrorsDir: await tempDir('syncline-mirrors-') });
    const { stdout } = await runGit(['ls-tree', '-r', '--long', '-z', c, '--', 'ns'], { cwd: d });
    const expected = stdout
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map((line) => /^(\d{6}) blob ([0-9a-f]+) +(\d+)\t(.*)$/s.exec(line)!)
      .map((m) => ({ path: m[4], mode: m[1], size: Number(m[3]), blobSha: m[2] }));
    expect(expected.length).toBe(3_002);
    expect(await listTree(d, c, 'ns')).toEqual(expected);
  });

  it('reads a single file', async () => {
    const files = await readTree(dir, commit, '.syncline.yml');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ path: '.syncline.yml', size: 24 });
    expect(files[0]?.content.toString()).toBe('kind: Config\nname: root\n');
  });

  it('does not treat a path as a string prefix of siblings', async () => {
    expect(paths(await readTree(dir, commit, 'config/prod', { filter: yamlOnly }))).not.toContain(
      'config/prodlike/other.yaml',
    );
  });

  it('reads nested folders and accepts ./ and trailing slashes', async () => {
    expect(paths(await readTree(dir, commit, './config/prod/nested/'))).toEqual(['config/prod/nested/deep/x.yaml']);
  });

  it('reads the repo root for "" and "."', async () => {
    const root = paths(await readTree(dir, commit, '', { filter: yamlOnly, maxFileBytes: 10_000 }));
    expect(root).toContain('.syncline.yml');
    expect(root).toContain('config/prodlike/other.yaml');
    expect(paths(await readTree(dir, commit, '.', { filter: yamlOnly, maxFileBytes: 10_000 }))).toEqual(root);
  });

  it('returns binary content byte for byte', async () => {
    const [bin] = await readTree(dir, commit, 'config/bin/data.bin');
    expect([...(bin?.content ?? [])]).toEqual([0, 1, 2, 255, 10, 13]);
  });

  it('answers a missing path with path_not_found', async () => {
    await expect(readTree(dir, commit, 'config/nope')).rejects.toMatchObject({ code: 'path_not_found', retryable: false });
    await expect(readTree(dir, commit, 'config/prod/app.yaml/x')).rejects.toMatchObject({ code: 'path_not_found' });
    await expect(readTree(dir, commit, '../outside')).rejects.toMatchObject({ code: 'path_not_found' });
  });

  it('takes pathspec magic literally', async () => {
    await expect(readTree(dir, commit, ':(glob)**/*.yaml')).rejects.toMatchObject({ code: 'path_not_found' });
    await expect(readTree(dir, commit, 'config/*')).rejects.toMatchObject({ code: 'path_not_found' });
  });

  it('refuses a file over the per-file cap, naming it, before reading', async () => {
    let catFiles = 0;
    const off = onGitSpawn((i) => i.args[0] === 'cat-file' && (catFiles += 1));
    await expect(readTree(dir, commit, 'config/big', { maxFileBytes: 1024 })).rejects.toMatchObject({
      code: 'specs_too_large',
      retryable: false,
      message: expect.stringContaining("'config/big/huge.yaml'"),
    });
    off();
    expect(catFiles).toBe(0);
  });

  it('refuses too many files and too many bytes', async () => {
    await expect(readTree(dir, commit, 'config/prod', { maxFiles: 3 })).rejects.toMatchObject({
      code: 'specs_too_large',
      message: expect.stringMatching(/6 files exceed the limit of 3/),
    });
    await expect(readTree(dir, commit, 'config/big', { maxTotalBytes: 2000 })).rejects.toMatchObject({
      code: 'specs_too_large',
      message: expect.stringMatching(/limit is 2000 bytes/),
    });
  });

  it('applies the filter before caps and before reading', async () => {
    const files = await readTree(dir, commit, 'config/big', { maxFileBytes: 1024, filter: (p) => p.endsWith('small.yaml') });
    expect(paths(files)).toEqual(['config/big/small.yaml']);
    await expect(readTree(dir, commit, 'config/prod', { filter: () => false })).resolves.toEqual([]);
  });

  it('lists and reads through one long-lived cat-file worker, reused by the next read', async () => {
    const repo = await makeRepo({ name: 'many' });
    const many: Record<string, string> = {};
    for (let i = 0; i < 200; i += 1) many[`specs/f${i}.yaml`] = `kind: Config\nname: f${i}\nspec: {data: {i: ${i}}}\n`;
    const c = await commitFiles(repo, many);
    const { dir: d } = await ensureMirror({ name: 'many', url: repo.fileUrl }, { mirrorsDir: await tempDir() });

    const spawned: string[][] = [];
    const off = onGitSpawn((info) => spawned.push([...info.args]));
    const files = await readTree(d, c, 'specs');
    off();
    expect(files).toHaveLength(200);
    expect(files.find((f) => f.path === 'specs/f123.yaml')?.content.toString()).toContain('i: 123');
    // The mirror's worker may already run (ensureMirror does not start one); at most one process.
    expect(spawned.filter((a) => a[0] !== 'cat-file')).toEqual([]);
    expect(spawned.length).toBeLessThanOrEqual(1);
    spawned.length = 0;
    const off2 = onGitSpawn((info) => spawned.push([...info.args]));
    const again = await readTree(d, c, 'specs');
    off2();
    expect(again.map((f) => f.content.toString())).toEqual(files.map((f) => f.content.toString()));
    expect(spawned).toEqual([]);
  });

  it('rejects a non-commit-id and an unknown commit', async () => {
    await expect(readTree(dir, 'main', 'config')).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(readTree(dir, 'e'.repeat(40), 'config')).rejects.toMatchObject({ code: 'ref_not_found' });
  });
});
