import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPLETE_MARKER,
  ensureMirror,
  isCompleteMirror,
  COMMIT_GRAPH_MIN_OBJECTS,
  lastFetchedAt,
  maintainMirror,
  mirrorPath,
  openMirror,
  packedObjectCount,
  removeMirror,
} from '../../../src/git/mirror-cache.js';
import { onGitSpawn, runGit } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  deleteBranch,
  git,
  makeRepo,
  serveGitHttp,
  setDefaultBranch,
  tempDir,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';

let server: GitHttpServer;
let root: string;

beforeAll(async () => {
  root = await tempDir('syncline-served-');
  server = await serveGitHttp(root);
});
afterAll(async () => {
  await server.close();
  await cleanupTempDirs();
});

/** Every ref except the hidden keep refs (previous tips kept through an update, never served as refs). */
async function refs(dir: string): Promise<string[]> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(refname)'], { cwd: dir });
  return stdout
    .toString()
    .split('\n')
    .filter((r) => r && !r.startsWith('refs/syncline/keep/'))
    .sort();
}

function countNetworkSpawns(): { count: () => number; stop: () => void } {
  let n = 0;
  const stop = onGitSpawn((info) => {
    // A network fetch: git clone, git fetch, or a fetch request from Node into unpack-objects / index-pack.
    if (['clone', 'fetch', 'unpack-objects', 'index-pack'].includes(info.args[0] ?? '')) n += 1;
  });
  return { count: () => n, stop };
}

describe('ensureMirror', () => {
  it('clones over HTTP, then fetches incrementally and prunes deleted branches', async () => {
    const repo = await makeRepo({ root, name: 'incr' });
    const c1 = await commitFiles(repo, { 'app.yaml': 'v: 1\n' });
    await createBranch(repo, 'feature');
    await createTag(repo, 'v1', { message: 'release 1' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'incr', url: server.repoUrl('incr') };

    const first = await ensureMirror(source, { mirrorsDir });
    expect(first).toMatchObject({ dir: join(mirrorsDir, 'incr.git'), fetched: true, created: true, updated: true });
    expect(first.headCommit).toBe(c1);
    expect(first.defaultBranch).toBe('main');
    expect(await isCompleteMirror(first.dir)).toBe(true);
    expect(await refs(first.dir)).toEqual(['refs/heads/feature', 'refs/heads/main', 'refs/tags/v1']);
    const { stdout: bare } = await runGit(['rev-parse', '--is-bare-repository'], { cwd: first.dir });
    expect(bare.toString().trim()).toBe('true');

    const c2 = await commitFiles(repo, { 'app.yaml': 'v: 2\n' });
    await deleteBranch(repo, 'feature');
    await createTag(repo, 'v2');
    await git(repo.workDir, ['push', '--quiet', 'origin', ':refs/tags/v1']);
    const second = await ensureMirror(source, { mirrorsDir });
    expect(second).toMatchObject({ fetched: true, created: false, updated: true, headCommit: c2 });
    expect(await refs(second.dir)).toEqual(['refs/heads/main', 'refs/tags/v2']);
    // The pruned tips stay reachable for a while, under hidden keep refs only.
    const kept = (await runGit(['for-each-ref', '--format=%(refname)', 'refs/syncline/keep'], { cwd: second.dir })).stdout.toString();
    expect(kept.split('\n').filter(Boolean).length).toBeGreaterThan(0);

    const third = await ensureMirror(source, { mirrorsDir });
    expect(third).toMatchObject({ fetched: true, created: false, updated: false, headCommit: c2 });
  });

  it('a small first clone answers without a commit-graph process; the mirror scheduler writes one', async () => {
    const repo = await makeRepo({ root, name: 'graph' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const spawned: string[] = [];
    const stop = onGitSpawn((info) => spawned.push(info.args[0] ?? ''));
    let dir: string;
    try {
      ({ dir } = await ensureMirror({ name: 'graph', url: server.repoUrl('graph') }, { mirrorsDir }));
    } finally {
      stop();
    }
    expect(spawned).not.toContain('commit-graph');
    // The count comes from the pack index: the same as git's.
    const { stdout } = await runGit(['count-objects', '-v'], { cwd: dir });
    const inPack = Number(/^in-pack: (\d+)$/m.exec(stdout.toString())?.[1]);
    expect(inPack).toBeGreaterThan(0);
    expect(await packedObjectCount(dir)).toBe(inPack);
    expect(inPack).toBeLessThan(COMMIT_GRAPH_MIN_OBJECTS);
    await expect(stat(join(dir, 'objects', 'info', 'commit-graph'))).rejects.toThrow();
    // Ancestry is answered the same without one.
    const { code } = await runGit(['merge-base', '--is-ancestor', c1, c2], { cwd: dir, okCodes: [0, 1] });
    expect(code).toBe(0);
    expect(await maintainMirror(dir)).toBe(true);
    expect((await stat(join(dir, 'objects', 'info', 'commit-graph'))).isFile()).toBe(true);
  });

  it('packedObjectCount counts an unreadable index as large', async () => {
    const dir = await tempDir('syncline-idx-');
    await mkdir(join(dir, 'objects', 'pack'), { recursive: true });
    expect(await packedObjectCount(dir)).toBe(0);
    await writeFile(join(dir, 'objects', 'pack', 'pack-x.idx'), 'not an index');
    expect(await packedObjectCount(dir)).toBe(Number.POSITIVE_INFINITY);
  });

  it('never downloads forge refs such as refs/pull/*', async () => {
    const repo = await makeRepo({ root, name: 'pulls' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    await runGit(['update-ref', 'refs/pull/1/head', c1], { cwd: repo.bareDir });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const { dir } = await ensureMirror({ name: 'pulls', url: server.repoUrl('pulls') }, { mirrorsDir });
    await ensureMirror({ name: 'pulls', url: server.repoUrl('pulls') }, { mirrorsDir });
    expect(await refs(dir)).toEqual(['refs/heads/main']);
  });

  it('replaces a half-made mirror and removes stale temp dirs', async () => {
    const repo = await makeRepo({ root, name: 'half' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    // A run killed mid-clone leaves a temp dir; one killed after an older layout, a marker-less repo.
    const stale = join(mirrorsDir, '.tmp-half-0123456789abcdef');
    await mkdir(join(stale, 'objects'), { recursive: true });
    const otherSourceTemp = join(mirrorsDir, '.tmp-half-other-0123456789abcdef');
    await mkdir(otherSourceTemp);
    const dir = mirrorPath(mirrorsDir, 'half');
    await runGit(['init', '--bare', '--quiet', dir]);
    expect(await openMirror('half', { mirrorsDir })).toBeNull();

    const res = await ensureMirror({ name: 'half', url: server.repoUrl('half') }, { mirrorsDir });
    expect(res).toMatchObject({ created: true, headCommit: c1 });
    const entries = await readdir(mirrorsDir);
    expect(entries).toContain('half.git');
    expect(entries).not.toContain('.tmp-half-0123456789abcdef');
    // Another source's temp dir is not ours to delete.
    expect(entries).toContain('.tmp-half-other-0123456789abcdef');
    expect(await isCompleteMirror(dir)).toBe(true);
  });

  it('follows a changed source URL', async () => {
    const a = await makeRepo({ root, name: 'url-a' });
    const b = await makeRepo({ root, name: 'url-b' });
    await commitFiles(a, { 'a.yaml': 'from: a\n' });
    const cb = await commitFiles(b, { 'b.yaml': 'from: b\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    await ensureMirror({ name: 'moving', url: server.repoUrl('url-a') }, { mirrorsDir });
    const res = await ensureMirror({ name: 'moving', url: b.fileUrl }, { mirrorsDir });
    expect(res.headCommit).toBe(cb);
    const { stdout } = await runGit(['config', '--get', 'remote.origin.url'], { cwd: res.dir });
    expect(stdout.toString().trim()).toBe(b.fileUrl);
  });

  it('runs one clone and one fetch for concurrent callers of one source', async () => {
    const repo = await makeRepo({ root, name: 'conc' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'conc', url: server.repoUrl('conc') };

    const counter = countNetworkSpawns();
    try {
      const firsts = await Promise.all(Array.from({ length: 5 }, () => ensureMirror(source, { mirrorsDir })));
      expect(counter.count()).toBe(1);
      expect(new Set(firsts.map((r) => r.headCommit))).toEqual(new Set([c1]));

      const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
      server.setFault({ kind: 'delay', ms: 150 });
      const seconds = await Promise.all(Array.from({ length: 5 }, () => ensureMirror(source, { mirrorsDir })));
      expect(counter.count()).toBe(2);
      expect(new Set(seconds.map((r) => r.headCommit))).toEqual(new Set([c2]));
    } finally {
      server.setFault(null);
      counter.stop();
    }
  });

  it('serialises fetches of one source whose URL differs between callers', async () => {
    const repo = await makeRepo({ root, name: 'serial' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const results = await Promise.all([
      ensureMirror({ name: 'serial', url: server.repoUrl('serial') }, { mirrorsDir }),
      ensureMirror({ name: 'serial', url: repo.fileUrl }, { mirrorsDir }),
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false]);
  });

  it('skips the fetch when the mirror is younger than maxAgeMs', async () => {
    const repo = await makeRepo({ root, name: 'fresh' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'fresh', url: server.repoUrl('fresh') };
    await ensureMirror(source, { mirrorsDir });
    expect(await lastFetchedAt('fresh', { mirrorsDir })).toBeInstanceOf(Date);
    const res = await ensureMirror(source, { mirrorsDir, maxAgeMs: 60_000 });
    expect(res.fetched).toBe(false);
    const res2 = await ensureMirror(source, { mirrorsDir, maxAgeMs: 0 });
    expect(res2.fetched).toBe(true);
  });

  it('openMirror opens a complete mirror without the network', async () => {
    const repo = await makeRepo({ root, name: 'open' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    expect(await openMirror('open', { mirrorsDir })).toBeNull();
    await ensureMirror({ name: 'open', url: server.repoUrl('open') }, { mirrorsDir });
    const counter = countNetworkSpawns();
    const opened = await openMirror('open', { mirrorsDir });
    counter.stop();
    expect(counter.count()).toBe(0);
    expect(opened).toEqual({ dir: join(mirrorsDir, 'open.git'), headCommit: c1, defaultBranch: 'main' });
  });

  it('repairs HEAD when the upstream default branch is deleted', async () => {
    const repo = await makeRepo({ root, name: 'head' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const cTrunk = await createBranch(repo, 'trunk');
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'head', url: server.repoUrl('head') };
    await ensureMirror(source, { mirrorsDir });
    await setDefaultBranch(repo, 'trunk');
    await deleteBranch(repo, 'main');
    const res = await ensureMirror(source, { mirrorsDir });
    expect(res).toMatchObject({ defaultBranch: 'trunk', headCommit: cTrunk });
  });

  it('refuses an empty upstream and leaves nothing behind', async () => {
    await makeRepo({ root, name: 'empty' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    await expect(ensureMirror({ name: 'empty', url: server.repoUrl('empty') }, { mirrorsDir })).rejects.toMatchObject({
      code: 'repo_empty',
    });
    expect(await readdir(mirrorsDir)).toEqual([]);
  });

  it('refuses names that could escape mirrorsDir and option-like URLs', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    await expect(ensureMirror({ name: '../evil', url: 'https://x/y' }, { mirrorsDir })).rejects.toMatchObject({
      code: 'invalid_source_name',
    });
    await expect(ensureMirror({ name: 'ok', url: '--upload-pack=touch /tmp/pwned' }, { mirrorsDir })).rejects.toMatchObject({
      code: 'invalid_source_url',
    });
  });

  it('maps a missing upstream repo to repo_not_found', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    await expect(ensureMirror({ name: 'ghost', url: server.repoUrl('ghost') }, { mirrorsDir })).rejects.toMatchObject({
      code: 'repo_not_found',
      retryable: false,
    });
    expect(await readdir(mirrorsDir)).toEqual([]);
  });

  it('removeMirror deletes the mirror', async () => {
    const repo = await makeRepo({ root, name: 'gone' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const { dir } = await ensureMirror({ name: 'gone', url: repo.fileUrl }, { mirrorsDir });
    await removeMirror('gone', { mirrorsDir });
    await expect(stat(dir)).rejects.toThrow();
  });

  it('treats a repo with the marker as complete and one without as not', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const dir = join(mirrorsDir, 'x.git');
    await mkdir(dir);
    expect(await isCompleteMirror(dir)).toBe(false);
    await writeFile(join(dir, COMPLETE_MARKER), '{}');
    expect(await isCompleteMirror(dir)).toBe(true);
    await rm(dir, { recursive: true });
  });
});
