/**
 * commitIsAncestor and changedPaths (src/git/changes.ts): the webhook job's "never backwards"
 * check walks the pushed head's parents, and its "what changed" compares the two trees, through
 * the cat-file worker before starting `git merge-base` / `git diff`. Their answers must equal
 * git's: near and far ancestors, merges, unrelated roots; modified, added, deleted files, mode
 * changes, symlinks, submodules, a file becoming a folder and back, no change at all.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedPaths, commitIsAncestor, TREE_DIFF_LIMIT } from '../../../src/git/changes.js';
import { ANCESTRY_WALK_LIMIT } from '../../../src/git/refs.js';
import { closeCatFileWorker } from '../../../src/git/cat-file-worker.js';
import { onGitSpawn } from '../../../src/git/runner.js';
import { cleanupTempDirs, git, tempDir } from '../../helpers/git-fixtures.js';

let dir: string;
const main: string[] = [];
let side: string[] = [];
let merge: string;
let orphan: string;

/** One fast-import stream: `main` c0…c79, `side` s0, s1 from c5, `merged` = merge of c79 and s1, `orphan` a second root. */
function history(): string {
  const lines: string[] = [];
  let t = 1_700_000_000;
  const commit = (ref: string, mark: number, msg: string, from: number | null, merges: number[] = []) => {
    t += 60;
    lines.push(`commit ${ref}`, `mark :${mark}`, `committer T <t@example.test> ${t} +0000`, `data ${Buffer.byteLength(msg)}`, msg);
    if (from !== null) lines.push(`from :${from}`);
    for (const m of merges) lines.push(`merge :${m}`);
    lines.push(`M 100644 inline f${mark}.txt`, `data 2`, `${mark % 10}`, '');
  };
  for (let i = 0; i < 80; i++) commit('refs/heads/main', i + 1, `c${i}`, i === 0 ? null : i);
  commit('refs/heads/side', 101, 's0', 6);
  commit('refs/heads/side', 102, 's1', 101);
  commit('refs/heads/merged', 103, 'merge', 80, [102]);
  commit('refs/heads/orphan', 104, 'root', null);
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  dir = join(await tempDir('syncline-ancestry-'), 'repo.git');
  await git(await tempDir('syncline-ancestry-cwd-'), ['init', '--quiet', '--bare', dir]);
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: history() });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  const revs = (ref: string) => git(dir, ['rev-list', '--reverse', '--first-parent', ref]).then((s) => s.split('\n'));
  main.push(...(await revs('refs/heads/main')));
  side = (await git(dir, ['rev-list', '--reverse', 'refs/heads/main..refs/heads/side'])).split('\n');
  merge = await git(dir, ['rev-parse', 'refs/heads/merged']);
  orphan = await git(dir, ['rev-parse', 'refs/heads/orphan']);
});

afterAll(async () => {
  closeCatFileWorker(dir);
  await cleanupTempDirs();
});

async function gitSays(a: string, b: string): Promise<boolean> {
  try {
    await git(dir, ['merge-base', '--is-ancestor', a, b]);
    return true;
  } catch {
    return false;
  }
}

describe('commitIsAncestor', () => {
  it('answers what `git merge-base --is-ancestor` answers; near ancestors and short histories start no process', async () => {
    expect(main).toHaveLength(80);
    expect(side).toHaveLength(2);
    const mergeBases: string[][] = [];
    const off = onGitSpawn((i) => {
      if (i.args[0] === 'merge-base') mergeBases.push([...i.args]);
    });
    const near: Array<[string, string, string]> = [
      ['parent', main[78]!, main[79]!],
      ['same', main[79]!, main[79]!],
      ['a few back', main[70]!, main[79]!],
      ["merge's second parent", side[1]!, merge],
      ['through the side branch', side[0]!, merge],
      ['an old commit, reached through the short side branch', main[2]!, merge],
      ['child is not an ancestor of its parent (root reached)', main[3]!, main[2]!],
      ['unrelated root', main[0]!, orphan],
      ['root of the other history', orphan, main[1]!],
    ];
    for (const [what, a, b] of near) expect(await commitIsAncestor(dir, a, b), what).toBe(await gitSays(a, b));
    expect(mergeBases, 'no merge-base process for these').toEqual([]);

    const far: Array<[string, string, string]> = [
      ['far ancestor', main[0]!, main[79]!],
      ['far, just past the limit', main[10]!, main[79]!],
      ['not an ancestor, long history', side[1]!, main[79]!],
      ['descendant asked as ancestor, long history', main[79]!, main[78]!],
    ];
    for (const [what, a, b] of far) expect(await commitIsAncestor(dir, a, b), what).toBe(await gitSays(a, b));
    off();
    // Past the walk limit git answers.
    expect(mergeBases.length).toBe(far.length);
    expect(ANCESTRY_WALK_LIMIT).toBeLessThan(78);
  });
});

describe('changedPaths', () => {
  const diffs: string[] = [];
  let big: string;

  /** c0…c7 on `diffs`, each one kind of change; then `big` adds more folders than the walk reads. */
  beforeAll(async () => {
    const sub = main[0]!;
    const steps: string[][] = [
      ['M 100644 inline a.txt', 'data 2', 'a', 'M 100644 inline dir/x.txt', 'data 2', 'x', 'M 100644 inline dir/sub/y.txt', 'data 2', 'y',
        'M 100644 inline keep/k.txt', 'data 2', 'k', 'M 100644 inline keep/deep/er/z.txt', 'data 2', 'z', 'M 100644 inline exe.sh', 'data 2', 'e'],
      ['M 100644 inline dir/sub/y.txt', 'data 3', 'y2'],
      ['M 100755 inline exe.sh', 'data 2', 'e'],
      ['M 120000 inline lnk', 'data 5', 'a.txt', `M 160000 ${sub} mod`],
      ['D a.txt', 'M 100644 inline a.txt/inner.txt', 'data 2', 'i'],
      ['D dir', 'M 100644 inline dir', 'data 2', 'd'],
      ['D keep', `M 160000 ${main[1]!} mod`],
      [],
    ];
    let t = 1_800_000_000;
    const lines: string[] = [];
    steps.forEach((ops, i) => {
      t += 60;
      lines.push('commit refs/heads/diffs', `mark :${200 + i}`, `committer T <t@example.test> ${t} +0000`, 'data 2', `${i}`);
      if (i > 0) lines.push(`from :${199 + i}`);
      lines.push(...ops, '');
    });
    t += 60;
    lines.push('commit refs/heads/big', 'mark :300', `committer T <t@example.test> ${t} +0000`, 'data 3', 'big', 'from :207');
    for (let i = 0; i < TREE_DIFF_LIMIT + 100; i++) lines.push(`M 100644 inline many/f${i}/a.txt`, `data ${String(i).length + 1}`, `${i}`); // distinct trees
    lines.push('');
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: `${lines.join('\n')}\n` });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    diffs.push(...(await git(dir, ['rev-list', '--reverse', 'refs/heads/diffs'])).split('\n'));
    big = await git(dir, ['rev-parse', 'refs/heads/big']);
  });

  const gitDiff = async (a: string, b: string) => (await git(dir, ['diff', '--name-only', '--no-renames', '-z', a, b, '--'])).split('\0').filter(Boolean).sort();

  it("lists what git diff lists for every pair of commits, without a git process", async () => {
    expect(diffs).toHaveLength(8);
    const spawned: string[] = [];
    const off = onGitSpawn((i) => void spawned.push(i.args[0]!));
    try {
      for (const a of diffs) {
        for (const b of diffs) {
          const got = (await changedPaths(dir, a, b)).sort();
          expect(got, `${diffs.indexOf(a)} → ${diffs.indexOf(b)}`).toEqual(await gitDiff(a, b));
        }
      }
    } finally {
      off();
    }
    expect(spawned.filter((c) => c === 'diff')).toEqual([]);
    // The kinds of change are all there.
    expect((await changedPaths(dir, diffs[3]!, diffs[4]!)).sort()).toEqual(['a.txt', 'a.txt/inner.txt']);
    expect((await changedPaths(dir, diffs[5]!, diffs[6]!)).sort()).toEqual(['keep/deep/er/z.txt', 'keep/k.txt', 'mod']);
    expect(await changedPaths(dir, diffs[6]!, diffs[7]!)).toEqual([]);
  });

  it('a diff over more trees than the walk reads is asked of git', async () => {
    const spawned: string[] = [];
    const off = onGitSpawn((i) => void spawned.push(i.args[0]!));
    const got = (await changedPaths(dir, diffs[7]!, big)).sort();
    off();
    expect(got).toHaveLength(TREE_DIFF_LIMIT + 100);
    expect(got).toEqual(await gitDiff(diffs[7]!, big));
    expect(spawned).toEqual(['diff']);
  });
});
