/**
 * listTree remembers blob sizes by object id: a listing after a one-file commit asks the
 * cat-file worker for the size of the one new blob only, and every size is still the blob's own.
 */
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as worker from '../../../src/git/cat-file-worker.js';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { clearBlobSizes, listTree, readEntries } from '../../../src/git/tree.js';
import { cleanupTempDirs, commitFiles, makeRepo, tempDir } from '../../helpers/git-fixtures.js';

vi.mock('../../../src/git/cat-file-worker.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/git/cat-file-worker.js')>();
  return { ...actual, catFile: vi.fn(actual.catFile) };
});

afterAll(cleanupTempDirs);
beforeEach(() => clearBlobSizes());

/** The `info` commands (size lookups) sent to the cat-file worker while `fn` runs. */
async function infoAsked<T>(fn: () => Promise<T>): Promise<{ result: T; info: string[] }> {
  const spy = vi.mocked(worker.catFile);
  const from = spy.mock.calls.length;
  const result = await fn();
  const info = spy.mock.calls.slice(from).flatMap(([, commands]) => commands.filter((c) => c.op === 'info').map((c) => c.name));
  return { result, info };
}

describe('listTree blob sizes', () => {
  it('asks only for blobs it has not listed before; sizes stay right when a file changes', async () => {
    const repo = await makeRepo({ name: 'sizes' });
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`ns/f${i}.yaml`] = `n: ${i}\n`;
    const c1 = await commitFiles(repo, files);
    const c2 = await commitFiles(repo, { 'ns/f3.yaml': 'n: a longer value now\n' });
    const { dir } = await ensureMirror({ name: 'sizes', url: repo.fileUrl }, { mirrorsDir: await tempDir('syncline-mirrors-') });

    const first = await infoAsked(() => listTree(dir, c1, 'ns'));
    // The commit, then one size per blob.
    expect(first.info.filter((n) => n !== c1)).toHaveLength(20);
    const second = await infoAsked(() => listTree(dir, c2, 'ns'));
    const changed = second.result.find((e) => e.path === 'ns/f3.yaml')!;
    expect(second.info.filter((n) => n !== c2)).toEqual([changed.blobSha]);
    expect(changed.size).toBe('n: a longer value now\n'.length);
    // Every listed size is the blob's own, whether remembered or asked.
    for (const listing of [first.result, second.result]) {
      const read = await readEntries(dir, listing);
      expect(read.map((f) => f.size)).toEqual(read.map((f) => f.content.length));
    }
    // The same listing again asks for no size at all.
    expect((await infoAsked(() => listTree(dir, c1, 'ns'))).info).toEqual([c1]);
  });
});
