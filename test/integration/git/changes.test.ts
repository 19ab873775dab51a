/**
 * commitIsAncestor (src/git/changes.ts): the webhook job's "never backwards" check walks the
 * pushed head's parents through the cat-file worker before it starts `git merge-base`. Its answers
 * must equal git's for near and far ancestors, merges, unrelated roots and non-ancestors.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCESTRY_WALK_LIMIT, commitIsAncestor } from '../../../src/git/changes.js';
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
