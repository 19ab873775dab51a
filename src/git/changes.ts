/**
 * What changed between two commits, for webhook/poll handling: which paths, ancestry between
 * commit ids, merge-bases, and fetching one extra ref (a pull request's head) without storing it.
 */
import { assertSafeRemoteUrl, type GitAuth } from './auth.js';
import { throwFetchError } from './classify.js';
import type { RemotePin } from './remote.js';
import { runGit, type GitTimeouts } from './runner.js';
import { ANCESTRY_WALK_LIMIT, hasCommit as hasCommitInWorker, walkAncestry } from './refs.js';
import { catFile } from './cat-file-worker.js';
import { parseTree, type RawTreeEntry } from './tree.js';
import { FULL_SHA_RE } from '../contracts/common.js';

const LOCAL: GitTimeouts = { idleMs: 60_000, totalMs: 120_000 };

/** Whether `sha` (a full commit id) names a commit present in the repository: asked of the repository's cat-file worker, no process. */
export async function hasCommit(dir: string, sha: string): Promise<boolean> {
  return FULL_SHA_RE.test(sha) && hasCommitInWorker(dir, sha);
}

/**
 * Whether commit `a` is an ancestor of (or equal to) commit `b`; both must be commit ids.
 *
 * A push is usually a few commits on top of what is deployed, so `b`'s history is walked first
 * through the repository's cat-file worker (no process), one round trip per generation, up to
 * ANCESTRY_WALK_LIMIT commits: finding `a` answers yes, running out of parents (the whole
 * history of `b` read) answers no. Anything else — a longer history, an object the worker cannot
 * read — is asked of `git merge-base --is-ancestor`.
 */
export async function commitIsAncestor(dir: string, a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const walked = await walkAncestry(dir, a, b, ANCESTRY_WALK_LIMIT).catch(() => null);
  if (walked !== null) return walked;
  const { code } = await runGit(['merge-base', '--is-ancestor', a, b], { cwd: dir, okCodes: [0, 1], ...LOCAL });
  return code === 0;
}

export async function mergeBase(dir: string, a: string, b: string): Promise<string | null> {
  const { code, stdout } = await runGit(['merge-base', a, b], { cwd: dir, okCodes: [0, 1], ...LOCAL });
  const sha = stdout.toString('utf8').trim();
  return code === 0 && FULL_SHA_RE.test(sha) ? sha : null;
}

/** How many tree objects changedPaths reads through the cat-file worker before it asks git. */
export const TREE_DIFF_LIMIT = 2_000;

/**
 * Paths whose content differs between two commits (a tree diff: right after a force push too),
 * renames reported as delete + add so both folders count as changed — what
 * `git diff --name-only --no-renames` lists, in no particular order.
 *
 * The two trees are compared through the repository's cat-file worker (no process), one round trip
 * per depth, descending only into subtrees whose ids differ: a push that changed one file of one
 * folder reads the few trees on its path. A diff that needs more than TREE_DIFF_LIMIT trees (or
 * one the worker cannot read) is asked of `git diff`.
 */
export async function changedPaths(dir: string, from: string, to: string): Promise<string[]> {
  const walked = FULL_SHA_RE.test(from) && FULL_SHA_RE.test(to) ? await diffTrees(dir, from, to, TREE_DIFF_LIMIT).catch(() => null) : null;
  if (walked) return walked;
  const { stdout } = await runGit(['diff', '--name-only', '--no-renames', '-z', from, to, '--'], { cwd: dir, ...LOCAL });
  return stdout.toString('utf8').split('\0').filter(Boolean);
}

/** One side of a compared path: a tree to descend into, or a leaf (blob, symlink, submodule). */
interface Side {
  tree: string | null;
  leaf: string | null;
}

/** The tree diff of changedPaths, or null past `limit` trees read (the caller asks git). */
async function diffTrees(dir: string, from: string, to: string, limit: number): Promise<string[] | null> {
  const oidBytes = from.length / 2;
  const [a, b] = await catFile(dir, [
    { op: 'info', name: `${from}^{tree}` },
    { op: 'info', name: `${to}^{tree}` },
  ]);
  if (a?.type !== 'tree' || b?.type !== 'tree') return null;
  if (a.oid === b.oid) return [];
  const out: string[] = [];
  const trees = new Map<string, RawTreeEntry[]>();
  let read = 0;
  // Pairs still to compare: a path with the tree on each side (null: absent or not a tree).
  let pending: Array<{ path: string; a: string | null; b: string | null }> = [{ path: '', a: a.oid, b: b.oid }];
  while (pending.length > 0) {
    const wanted = [...new Set(pending.flatMap((p) => [p.a, p.b]).filter((o): o is string => o !== null && !trees.has(o)))];
    read += wanted.length;
    if (read > limit) return null;
    const answers = await catFile(dir, wanted.map((name) => ({ op: 'contents' as const, name })));
    answers.forEach((ans, i) => {
      if (ans.type !== 'tree') throw new Error(`Tree ${wanted[i]} could not be read`);
      trees.set(wanted[i]!, parseTree(ans.content, oidBytes));
    });
    const next: typeof pending = [];
    for (const p of pending) {
      const sides = new Map<string, [Side, Side]>();
      const side = (e: RawTreeEntry): Side => (e.mode === '40000' ? { tree: e.oid, leaf: null } : { tree: null, leaf: `${e.mode} ${e.oid}` });
      const none: Side = { tree: null, leaf: null };
      for (const e of p.a ? trees.get(p.a)! : []) sides.set(e.name, [side(e), none]);
      for (const e of p.b ? trees.get(p.b)! : []) sides.set(e.name, [sides.get(e.name)?.[0] ?? none, side(e)]);
      for (const [name, [x, y]] of sides) {
        const path = p.path ? `${p.path}/${name}` : name;
        // A file (or link, or submodule) that is not the same on both sides.
        if ((x.leaf !== null || y.leaf !== null) && x.leaf !== y.leaf) out.push(path);
        // A tree on either side, unless it is the same tree on both: every file in it that differs.
        if ((x.tree !== null || y.tree !== null) && x.tree !== y.tree) next.push({ path, a: x.tree, b: y.tree });
      }
    }
    pending = next;
  }
  return out;
}

/**
 * Whether a namespace at `nsPath` (a folder, a single file, or '' for the repository root) is
 * touched by any of `paths`.
 */
export function pathTouched(nsPath: string, paths: readonly string[]): boolean {
  const p = nsPath.replace(/^\/+|\/+$/g, '');
  if (p === '' || p === '.') return paths.length > 0;
  return paths.some((f) => f === p || f.startsWith(`${p}/`));
}

/**
 * Fetches one ref's objects (e.g. `refs/pull/7/head`) into a mirror without creating a ref, so
 * the mirror serves nothing new; returns nothing — resolve the expected commit afterwards.
 */
export async function fetchRefObjects(
  dir: string,
  remote: { url: string; auth?: GitAuth | undefined; pin?: RemotePin | null | undefined },
  ref: string,
  opts: { sourceName: string; timeouts?: GitTimeouts },
): Promise<void> {
  assertSafeRemoteUrl(remote.url);
  try {
    // The checked URL, pinned like every other fetch (sync/remote.ts); never the stored remote.
    await runGit(['fetch', '--no-tags', '--no-write-fetch-head', remote.url, ref], { cwd: dir, url: remote.url, auth: remote.auth, pin: remote.pin, ...opts.timeouts });
  } catch (err) {
    throwFetchError(err, opts.sourceName);
  }
}
