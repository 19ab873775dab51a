import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { commitInfo, defaultBranch, isAncestor, lsRemote, resolveBranch, resolveRef } from '../../../src/git/refs.js';
import { onGitSpawn } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  forcePush,
  makeRepo,
  serveGitHttp,
  tempDir,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';

const opts = { sourceName: 'shop' };
let server: GitHttpServer;
let repo: FixtureRepo;
let mirrorsDir: string;
let dir: string;
let c1: string;
let c2: string;
let cFeature: string;
let cTagged: string;

beforeAll(async () => {
  repo = await makeRepo({ name: 'shop' });
  c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' }, 'first commit', {
    author: { name: 'Ada Lovelace', email: 'ada@example.test' },
  });
  cTagged = c1;
  await createTag(repo, 'v1.0.0', { message: 'annotated release' });
  await createTag(repo, 'light');
  c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' }, 'second commit\n\nWith a body line.');
  await createBranch(repo, 'feature/x');
  cFeature = await commitFiles(repo, { 'b.yaml': 'b: 1\n' }, 'feature work', { branch: 'feature/x' });
  server = await serveGitHttp(repo.root);
  mirrorsDir = await tempDir('syncline-mirrors-');
  ({ dir } = await ensureMirror({ name: 'shop', url: server.repoUrl('shop') }, { mirrorsDir }));
});
afterAll(async () => {
  await server.close();
  await cleanupTempDirs();
});

describe('resolveRef', () => {
  it('resolves full and abbreviated commit ids', async () => {
    expect(await resolveRef(dir, c1, opts)).toBe(c1);
    expect(await resolveRef(dir, c1.slice(0, 12), opts)).toBe(c1);
    expect(await resolveRef(dir, c2.slice(0, 7), opts)).toBe(c2);
  });

  it('resolves branches, tags (peeled) and full ref names', async () => {
    expect(await resolveRef(dir, 'main', opts)).toBe(c2);
    expect(await resolveRef(dir, 'feature/x', opts)).toBe(cFeature);
    expect(await resolveRef(dir, 'v1.0.0', opts)).toBe(cTagged);
    expect(await resolveRef(dir, 'light', opts)).toBe(cTagged);
    expect(await resolveRef(dir, 'refs/heads/main', opts)).toBe(c2);
    expect(await resolveRef(dir, 'refs/tags/v1.0.0', opts)).toBe(cTagged);
    expect(await resolveRef(dir, 'HEAD', opts)).toBe(c2);
  });

  it('answers unknown refs with ref_not_found naming ref and source', async () => {
    await expect(resolveRef(dir, 'nope', opts)).rejects.toMatchObject({
      code: 'ref_not_found',
      retryable: false,
      message: "Ref 'nope' not found in source 'shop'",
    });
    await expect(resolveRef(dir, 'f'.repeat(40), opts)).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(resolveRef(dir, 'refs/heads/nope', opts)).rejects.toMatchObject({ code: 'ref_not_found' });
  });

  it.each(['--upload-pack=touch /tmp/pwned', '-h', 'main~1', 'main^{tree}', 'HEAD@{0}', 'a..b', 'x\ny', 'main:a.yaml', ''])(
    'rejects malicious or revision-syntax ref %j without running git',
    async (ref) => {
      let spawned = 0;
      const off = onGitSpawn(() => (spawned += 1));
      await expect(resolveRef(dir, ref, opts)).rejects.toMatchObject({ code: 'ref_not_found' });
      off();
      expect(spawned).toBe(0);
    },
  );

  it('prefers a branch over a same-named tag', async () => {
    const r = await makeRepo({ name: 'clash' });
    const onMain = await commitFiles(r, { 'x.yaml': 'x: 1\n' });
    await createTag(r, 'release');
    const onBranch = await commitFiles(r, { 'x.yaml': 'x: 2\n' }, 'on branch', { branch: 'release' });
    const { dir: d } = await ensureMirror({ name: 'clash', url: r.fileUrl }, { mirrorsDir });
    expect(await resolveRef(d, 'release', opts)).toBe(onBranch);
    expect(await resolveRef(d, 'refs/tags/release', opts)).toBe(onMain);
  });

  it('resolveBranch only accepts branches', async () => {
    expect(await resolveBranch(dir, 'main', opts)).toBe(c2);
    await expect(resolveBranch(dir, 'v1.0.0', opts)).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(resolveBranch(dir, 'refs/tags/v1.0.0', opts)).rejects.toMatchObject({ code: 'ref_not_found' });
  });
});

describe('isAncestor', () => {
  /** The reviewed-branch check as the sync does it: the branch tip first, then ids only. */
  const onBranch = async (d: string, commit: string, branch: string) => isAncestor(d, commit, await resolveBranch(d, branch, opts));

  it('is true for commits on the branch and false for commits elsewhere', async () => {
    expect(await onBranch(dir, c1, 'main')).toBe(true);
    expect(await onBranch(dir, c2, 'main')).toBe(true);
    expect(await onBranch(dir, cFeature, 'main')).toBe(false);
    expect(await onBranch(dir, c2, 'feature/x')).toBe(true);
  });

  it('answers near commits through the cat-file worker (no merge-base process), as git does', async () => {
    const spawned: string[] = [];
    const off = onGitSpawn((i) => spawned.push(i.args[0] ?? ''));
    try {
      expect(await isAncestor(dir, c1, c2)).toBe(true);
      expect(await isAncestor(dir, c2, c2)).toBe(true);
      expect(await isAncestor(dir, c2, c1)).toBe(false);
      expect(await isAncestor(dir, cFeature, c2)).toBe(false);
      expect(await isAncestor(dir, c1, cFeature)).toBe(true);
    } finally {
      off();
    }
    expect(spawned.filter((a) => a === 'merge-base')).toEqual([]);
    // An id the repository does not hold still fails as git fails, walk or not.
    await expect(isAncestor(dir, '1'.repeat(40), c1)).rejects.toMatchObject({ code: 'git_failed' });
  });

  it('follows a force-push: rewritten commits are no longer on the branch', async () => {
    const r = await makeRepo({ name: 'rewrite' });
    const base = await commitFiles(r, { 'x.yaml': 'x: 1\n' });
    const doomed = await commitFiles(r, { 'x.yaml': 'x: 2\n' }, 'to be rewritten');
    const source = { name: 'rewrite', url: r.fileUrl };
    const { dir: d } = await ensureMirror(source, { mirrorsDir });
    expect(await onBranch(d, doomed, 'main')).toBe(true);

    await forcePush(r, 'main', base);
    const replacement = await commitFiles(r, { 'x.yaml': 'x: 3\n' }, 'replacement');
    await ensureMirror(source, { mirrorsDir });
    expect(await onBranch(d, doomed, 'main')).toBe(false);
    expect(await onBranch(d, replacement, 'main')).toBe(true);
    // The old commit is still in the object store, so it resolves; it just is not reviewed.
    expect(await resolveRef(d, doomed, opts)).toBe(doomed);
  });

  it('takes full commit ids only; an unknown branch is ref_not_found when resolved', async () => {
    await expect(onBranch(dir, c1, 'nope')).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(isAncestor(dir, 'main', c1)).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(isAncestor(dir, c1.slice(0, 12), c2)).rejects.toMatchObject({ code: 'ref_not_found' });
    await expect(isAncestor(dir, '0'.repeat(40), c2)).rejects.toMatchObject({ code: 'git_failed' });
  });
});

describe('metadata', () => {
  it('reads the default branch from the mirror HEAD', async () => {
    expect(await defaultBranch(dir)).toBe('main');
    const r = await makeRepo({ name: 'trunky', defaultBranch: 'trunk' });
    await commitFiles(r, { 'a.yaml': 'a: 1\n' });
    const { dir: d } = await ensureMirror({ name: 'trunky', url: r.fileUrl }, { mirrorsDir });
    expect(await defaultBranch(d)).toBe('trunk');
  });

  it('reads author, committer and message', async () => {
    const info = await commitInfo(dir, c1);
    expect(info.commit).toBe(c1);
    expect(info.author).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.test' });
    expect(info.committer).toMatchObject({ name: 'Fixture Committer', email: 'committer@example.test' });
    expect(info.author.date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(info.message).toBe('first commit');
    const second = await commitInfo(dir, c2);
    expect(second.message).toBe('second commit\n\nWith a body line.');
    expect(second.subject).toBe('second commit');
  });
});

describe('lsRemote', () => {
  it('lists default branch, head, branches and peeled tags', async () => {
    const refs = await lsRemote(server.repoUrl('shop'), { type: 'none' }, { sourceName: 'shop' });
    expect(refs).toEqual({
      defaultBranch: 'main',
      head: c2,
      branches: { main: c2, 'feature/x': cFeature },
      tags: { 'v1.0.0': cTagged, light: cTagged },
    });
  });

  it('maps a missing repository to repo_not_found (400)', async () => {
    await expect(lsRemote(server.repoUrl('missing'), undefined, { sourceName: 'shop' })).rejects.toMatchObject({
      code: 'repo_not_found',
      retryable: false,
    });
  });

  it('maps a server error to retryable fetch_failed (502)', async () => {
    server.setFault({ kind: 'status', status: 500 });
    try {
      await expect(lsRemote(server.repoUrl('shop'), undefined, { sourceName: 'shop' })).rejects.toMatchObject({
        code: 'fetch_failed',
        retryable: true,
      });
    } finally {
      server.setFault(null);
    }
  });

  it('maps an unreachable host to fetch_failed', async () => {
    const dead = await serveGitHttp(repo.root);
    const url = dead.repoUrl('shop');
    await dead.close();
    await expect(lsRemote(url, undefined, { sourceName: 'shop' })).rejects.toMatchObject({ code: 'fetch_failed' });
  });
});
