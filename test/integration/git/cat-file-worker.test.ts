import { rename, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catFile, closeCatFileWorker, liveCatFileWorkers } from '../../../src/git/cat-file-worker.js';
import { readLocalRefs } from '../../../src/git/local-refs.js';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { commitInfo, parseCommit } from '../../../src/git/refs.js';
import { onGitSpawn, runGit } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  git,
  makeRepo,
  tempDir,
  type FixtureRepo,
} from '../../helpers/git-fixtures.js';

let repo: FixtureRepo;
let dir: string;
let c1: string;

beforeAll(async () => {
  repo = await makeRepo({ name: 'worker' });
  c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' }, 'first commit\n\nbody line\n', {
    author: { name: 'Zoë Ünicode', email: 'zoe@example.test' },
  });
  await createTag(repo, 'v1', { message: 'annotated' });
  await createTag(repo, 'light');
  await createBranch(repo, 'feature/deep/x');
  ({ dir } = await ensureMirror({ name: 'worker', url: repo.fileUrl }, { mirrorsDir: await tempDir() }));
});

afterAll(async () => {
  closeCatFileWorker(dir);
  await cleanupTempDirs();
});

describe('cat-file worker', () => {
  it('answers info and contents in order from one process, reused across calls', async () => {
    const spawned: string[] = [];
    const off = onGitSpawn((i) => spawned.push(i.args[0] ?? ''));
    closeCatFileWorker(dir);
    const [info, contents, missing] = await catFile(dir, [
      { op: 'info', name: `${c1}^{tree}` },
      { op: 'contents', name: `${c1}:a.yaml` },
      { op: 'info', name: 'refs/heads/nope' },
    ]);
    const [again] = await catFile(dir, [{ op: 'contents', name: `${c1}:a.yaml` }]);
    off();
    expect(info).toMatchObject({ type: 'tree' });
    expect(contents?.content.toString()).toBe('a: 1\n');
    expect(missing).toMatchObject({ type: 'missing', oid: 'refs/heads/nope' });
    expect(again?.content.toString()).toBe('a: 1\n');
    expect(spawned).toEqual(['cat-file']);
    expect(liveCatFileWorkers()).toContain(dir);
  });

  it('answers large requests written in batches, concurrent ones interleaved, each in its own order', async () => {
    const tree = `${c1}^{tree}`;
    const big = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) => ((i + offset) % 3 === 0 ? { op: 'contents' as const, name: `${c1}:a.yaml` } : (i + offset) % 3 === 1 ? { op: 'info' as const, name: tree } : { op: 'info' as const, name: `nope-${i}` }));
    const a = big(2_500, 0);
    const b = big(1_700, 1);
    const [ra, rb, rc] = await Promise.all([catFile(dir, a), catFile(dir, b), catFile(dir, [{ op: 'info', name: c1 }])]);
    const check = (cmds: typeof a, answers: typeof ra) => {
      expect(answers).toHaveLength(cmds.length);
      cmds.forEach((c, i) => {
        const ans = answers[i]!;
        if (c.name.startsWith('nope-')) expect(ans).toMatchObject({ type: 'missing', oid: c.name });
        else if (c.op === 'contents') expect(ans.content.toString()).toBe('a: 1\n');
        else expect(ans).toMatchObject({ type: 'tree', content: Buffer.alloc(0) });
      });
    };
    check(a, ra);
    check(b, rb);
    expect(rc[0]?.type).toBe('commit');
    // Closed while a request is still being written: not left hanging (catFile's one retry answers it).
    const cmds = big(5_000, 0);
    const pending = catFile(dir, cmds);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    closeCatFileWorker(dir);
    check(cmds, await pending);
  });

  it('replaces a worker that died, and refuses names with line breaks', async () => {
    await catFile(dir, [{ op: 'info', name: c1 }]);
    const pids: number[] = [];
    const off = onGitSpawn((i) => i.pid && pids.push(i.pid));
    closeCatFileWorker(dir);
    const [a] = await catFile(dir, [{ op: 'info', name: c1 }]);
    off();
    expect(a?.type).toBe('commit');
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGKILL');
    const [b] = await catFile(dir, [{ op: 'info', name: c1 }]);
    expect(b?.type).toBe('commit');
    await expect(catFile(dir, [{ op: 'info', name: `${c1}\ninfo HEAD` }])).rejects.toThrow(/line break/);
  });

  it('never answers from a repository directory that was replaced', async () => {
    const other = await makeRepo({ name: 'other' });
    const c = await commitFiles(other, { 'o.yaml': 'o: 1\n' });
    const { dir: d } = await ensureMirror({ name: 'other', url: other.fileUrl }, { mirrorsDir: await tempDir() });
    expect((await catFile(d, [{ op: 'info', name: c }]))[0]?.type).toBe('commit');
    await rename(d, `${d}.old`);
    const { dir: d2 } = await ensureMirror({ name: 'other', url: repo.fileUrl }, { mirrorsDir: d.slice(0, d.lastIndexOf('/')) });
    expect(d2).toBe(d);
    expect((await catFile(d, [{ op: 'info', name: c }]))[0]?.type).toBe('missing');
    closeCatFileWorker(d);
    await rm(`${d}.old`, { recursive: true, force: true });
  });
});

describe('refs and commits without extra processes', () => {
  it('reads refs from disk exactly as for-each-ref lists them (packed and loose)', async () => {
    const forEachRef = async (): Promise<string> =>
      (await runGit(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'], { cwd: dir })).stdout.toString();
    const byName = (text: string): string =>
      text.trim().split('\n').sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : 1)).join('\n');
    const expected = byName(await forEachRef());
    const fromDisk = await readLocalRefs(dir, async () => {
      throw new Error('fallback not expected');
    });
    expect(fromDisk.snapshot).toBe(expected);
    await git(dir, ['pack-refs', '--all']);
    expect((await readLocalRefs(dir, forEachRef)).snapshot).toBe(expected);
    // A loose ref overrides its packed copy.
    await git(dir, ['update-ref', 'refs/heads/feature/deep/x', c1]);
    expect((await readLocalRefs(dir, forEachRef)).snapshot).toBe(byName(await forEachRef()));
  });

  it('parses commits exactly like git log does', async () => {
    const format = ['%H', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x00');
    const { stdout } = await runGit(['log', '-1', `--format=${format}`, c1], { cwd: dir });
    const [sha, an, ae, ad, cn, ce, cd, ...rest] = stdout.toString('utf8').split('\0');
    const info = await commitInfo(dir, c1);
    expect(info).toEqual({
      commit: sha,
      author: { name: an, email: ae, date: ad },
      committer: { name: cn, email: ce, date: cd },
      message: rest.join('\0').replace(/\n+$/, ''),
      subject: 'first commit',
    });
    const raw = Buffer.from(
      'tree 4b825dc642cb6eb9a060e54bf8d69288fbb4904b\nauthor A B <a@b> 1700000000 -0330\ncommitter C <c@d> 1700000000 +0545\ngpgsig -----BEGIN\n author fake <x> 1 +0000\n\nsubject\n\nbody\n\n',
    );
    expect(parseCommit('c'.repeat(40), raw)).toMatchObject({
      author: { name: 'A B', email: 'a@b', date: '2023-11-14T18:43:20-03:30' },
      committer: { name: 'C', email: 'c@d', date: '2023-11-15T03:58:20+05:45' },
      message: 'subject\n\nbody',
    });
  });
});
