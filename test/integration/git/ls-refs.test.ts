/**
 * The mirror cache asks an HTTP remote for its refs with one protocol-v2 `ls-refs` request and
 * fetches only when a branch or tag moved (real git over real HTTP): nothing moved → no git
 * process and one request; a moved branch, a new tag, a force-push → one `fetch` request into
 * `git unpack-objects` (or `index-pack` for 100 objects or more; no git fetch); a deleted branch → a full git fetch that prunes; a server
 * without protocol v2, or a fetch request that fails → git fetch as before.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { lsRefsHttp, lsRefsRequestBody, parseLsRefsResponse } from '../../../src/git/smart-http.js';
import { onGitSpawn, runGit } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  createTag,
  deleteBranch,
  forcePush,
  makeRepo,
  serveGitHttp,
  tempDir,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import { startHttpFront, type HttpFront } from '../../helpers/http-front.js';

const TOKEN = `ghs_lsrefs${randomBytes(12).toString('hex')}`;

let root: string;
let server: GitHttpServer;
let front: HttpFront;

beforeAll(async () => {
  root = await tempDir('syncline-served-');
  server = await serveGitHttp(root);
  front = await startHttpFront(server.url);
});
afterAll(async () => {
  await front.close();
  await server.close();
  await cleanupTempDirs();
});

/** Runs `fn`, returning the git commands it started (argv without the subcommand's options' values). */
async function spawned<T>(fn: () => Promise<T>): Promise<{ result: T; git: string[][] }> {
  const git: string[][] = [];
  const off = onGitSpawn((i) => git.push([...i.args]));
  try {
    return { result: await fn(), git };
  } finally {
    off();
  }
}

async function refs(dir: string): Promise<string[]> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'], { cwd: dir });
  return stdout.toString().split('\n').filter(Boolean).sort();
}

describe('ensureMirror over HTTP with ls-refs', () => {
  it('no change: one ls-refs request, no git process; a moved branch: a fetch of that branch only', async () => {
    const repo = await makeRepo({ root, name: 'moves' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    await createBranch(repo, 'other');
    await createTag(repo, 'v1', { message: 'v1' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'moves', url: server.repoUrl('moves') };
    await ensureMirror(source, { mirrorsDir });

    let seen = server.requests.length;
    const same = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(same.result).toMatchObject({ fetched: true, created: false, updated: false });
    expect(same.git).toEqual([]);
    expect(server.requests.slice(seen).map((r) => `${r.method} ${r.url} ${r.gitProtocol}`)).toEqual(['POST /moves.git/git-upload-pack version=2']);

    const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    seen = server.requests.length;
    const moved = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(moved.result).toMatchObject({ updated: true, headCommit: c2 });
    // ls-refs, then one fetch request whose (small) pack goes into unpack-objects: no git fetch.
    expect(moved.git.map((a) => a[0])).toEqual(['unpack-objects']);
    expect(moved.git[0]).toContain('--strict');
    expect(server.requests.slice(seen).map((r) => `${r.method} ${r.url} ${r.gitProtocol}`)).toEqual(Array(2).fill('POST /moves.git/git-upload-pack version=2'));
    expect(await refs(moved.result.dir)).toEqual(await refs(repo.bareDir));
    await runGit(['fsck', '--connectivity-only', '--no-dangling'], { cwd: moved.result.dir });
    // No .keep left behind: the pack is an ordinary one once the ref points into it.
    expect((await readdir(join(moved.result.dir, 'objects', 'pack'))).filter((f) => f.endsWith('.keep'))).toEqual([]);

    // And quiet again.
    expect((await spawned(() => ensureMirror(source, { mirrorsDir }))).git).toEqual([]);
  });

  it('a new tag alone is fetched; a branch deleted upstream is pruned by a full fetch', async () => {
    const repo = await makeRepo({ root, name: 'tags' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    await createBranch(repo, 'gone');
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'tags', url: server.repoUrl('tags') };
    const { dir } = await ensureMirror(source, { mirrorsDir });

    await createTag(repo, 'v2', { message: 'v2' });
    const tagged = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(tagged.result.updated).toBe(true);
    expect(tagged.git.map((a) => a[0])).toEqual(['unpack-objects']);
    expect(await refs(dir)).toEqual(await refs(repo.bareDir));

    await deleteBranch(repo, 'gone');
    const pruned = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(pruned.result.updated).toBe(true);
    expect(pruned.git[0]).toEqual(expect.arrayContaining(['fetch', '--prune', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']));
    expect(await refs(dir)).toEqual(await refs(repo.bareDir));
    expect((await refs(dir)).some((r) => r.endsWith('refs/heads/gone'))).toBe(false);
  });

  it('a pack of 100 objects or more is kept as a pack (index-pack --strict), its .keep dropped', async () => {
    const repo = await makeRepo({ root, name: 'big' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'big', url: server.repoUrl('big') };
    const { dir } = await ensureMirror(source, { mirrorsDir });
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`many/f${i}.yaml`] = `n: ${i}\n`;
    const c2 = await commitFiles(repo, files);
    const res = await spawned(() => ensureMirror(source, { mirrorsDir }));
    // An update of main: unpack-objects was started early, for a small pack; the header said 120+
    // objects, so it got no input (and wrote nothing) and index-pack took the pack.
    expect(res.git.map((a) => a[0])).toEqual(['unpack-objects', 'index-pack']);
    expect(res.git[1]).toEqual(expect.arrayContaining(['--stdin', '--fix-thin', '--strict']));
    expect(res.result).toMatchObject({ updated: true, headCommit: c2 });
    const packDir = await readdir(join(dir, 'objects', 'pack'));
    expect(packDir.filter((f) => f.endsWith('.keep') || f.startsWith('tmp_'))).toEqual([]);
    // The early unpack-objects wrote no loose object.
    expect((await runGit(['count-objects', '-v'], { cwd: dir })).stdout.toString()).toMatch(/^count: 0$/m);
    await runGit(['fsck', '--connectivity-only', '--no-dangling'], { cwd: dir });
  });

  it('a force-push is fetched from Node too; the old tip stays reachable under a keep ref', async () => {
    const repo = await makeRepo({ root, name: 'forced' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'forced', url: server.repoUrl('forced') };
    const { dir } = await ensureMirror(source, { mirrorsDir });
    await forcePush(repo, 'main', c1);
    const c3 = await commitFiles(repo, { 'a.yaml': 'a: 3\n' });
    const res = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(res.git.map((a) => a[0])).toEqual(['unpack-objects']);
    expect(res.result).toMatchObject({ updated: true, headCommit: c3 });
    const kept = (await runGit(['for-each-ref', '--format=%(objectname)', 'refs/syncline/keep'], { cwd: dir })).stdout.toString();
    expect(kept.split('\n')).toContain(c2);
    await runGit(['fsck', '--connectivity-only', '--no-dangling'], { cwd: dir });
  });

  it('when the fetch from Node fails, git fetch does it', async () => {
    const repo = await makeRepo({ root, name: 'fallback' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'fallback', url: front.repoUrl('fallback') };
    const { dir } = await ensureMirror(source, { mirrorsDir });
    const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    front.failNodeFetch = true;
    try {
      const res = await spawned(() => ensureMirror(source, { mirrorsDir }));
      // The refused request left no temporary pack (the unpack-objects started early for it got
      // no input and wrote nothing); git fetch then fetched the one moved branch.
      expect(res.git.map((a) => a[0])).toEqual(['unpack-objects', 'fetch']);
      expect(res.git[1]).toContain('+refs/heads/main:refs/heads/main');
      expect((await readdir(join(dir, 'objects', 'pack'))).filter((f) => f.startsWith('tmp_'))).toEqual([]);
      expect(res.result).toMatchObject({ updated: true, headCommit: c2 });
      expect(await refs(dir)).toEqual(await refs(repo.bareDir));
    } finally {
      front.failNodeFetch = false;
    }
  });

  it('connects to the pinned address: a name no resolver knows is asked and fetched from Node', async () => {
    const repo = await makeRepo({ root, name: 'pinned' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const port = Number(new URL(server.url).port);
    const pin = { host: 'git.pinned.invalid', port, address: '127.0.0.1' };
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'pinned', url: `http://git.pinned.invalid:${port}/pinned.git`, pin };
    await ensureMirror(source, { mirrorsDir });
    expect((await spawned(() => ensureMirror(source, { mirrorsDir }))).git).toEqual([]);
    const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    const moved = await spawned(() => ensureMirror(source, { mirrorsDir }));
    expect(moved.git.map((a) => a[0])).toEqual(['unpack-objects']);
    expect(moved.result.headCommit).toBe(c2);
    // A pin for another host is never used for this URL: git fetch (pinned its own way) instead.
    expect(await lsRefsHttp(source.url, undefined, { ...pin, host: 'other.invalid' })).toBeNull();
  });

  it('a server without protocol v2 is fetched from as before', async () => {
    const repo = await makeRepo({ root, name: 'v0' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'v0', url: front.repoUrl('v0') };
    front.mode = 'v0';
    try {
      await ensureMirror(source, { mirrorsDir });
      expect(await lsRefsHttp(source.url, undefined, null)).toBeNull();
      const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
      const res = await spawned(() => ensureMirror(source, { mirrorsDir }));
      expect(res.result).toMatchObject({ updated: true, headCommit: c2 });
      expect(res.git.map((a) => a[0])).toEqual(['fetch']);
      // Nothing moved, but the remote cannot say so in one request: git fetch decides, as before.
      const again = await spawned(() => ensureMirror(source, { mirrorsDir }));
      expect(again.result.updated).toBe(false);
      expect(again.git.map((a) => a[0])).toEqual(['fetch']);
    } finally {
      front.mode = 'pass';
    }
  });

  it('sends the credential with the ls-refs request, to the source origin only', async () => {
    const privateRoot = await tempDir('syncline-private-');
    const repo = await makeRepo({ root: privateRoot, name: 'private' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const locked = await serveGitHttp(privateRoot, { token: TOKEN, username: 'x-access-token' });
    const attacker = await serveGitHttp(privateRoot);
    const hop = await startHttpFront(locked.url);
    try {
      const mirrorsDir = await tempDir('syncline-mirrors-');
      const auth = { type: 'token', token: TOKEN, provider: 'github' } as const;
      const source = { name: 'private', url: hop.repoUrl('private'), auth };
      await ensureMirror(source, { mirrorsDir });

      const seen = locked.requests.length;
      const same = await spawned(() => ensureMirror(source, { mirrorsDir }));
      expect(same.git).toEqual([]);
      const asked = locked.requests.slice(seen);
      expect(asked.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual(['POST /private.git/git-upload-pack 200']);
      expect(asked[0]!.authorization).toBe(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
      // A moved branch: the fetch request carries the credential too.
      const c2 = await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
      const seen2 = locked.requests.length;
      const moved = await spawned(() => ensureMirror(source, { mirrorsDir }));
      expect(moved.result.headCommit).toBe(c2);
      expect(moved.git.map((a) => a[0])).toEqual(['unpack-objects']);
      expect(locked.requests.slice(seen2).map((r) => `${r.method} ${r.status} ${r.authorization?.split(' ')[0]}`)).toEqual(Array(2).fill('POST 200 Basic'));
      // Without the credential the listing is refused (401) and git fetch reports it.
      await expect(ensureMirror({ ...source, auth: undefined }, { mirrorsDir })).rejects.toMatchObject({ code: 'auth_failed' });

      // The source's origin now redirects elsewhere: nothing is sent there, least of all the token.
      hop.mode = 'redirect';
      hop.redirectTo = attacker.url;
      const err = await ensureMirror(source, { mirrorsDir }).catch((e) => e);
      expect(err).toMatchObject({ code: 'fetch_failed', details: { reason: 'redirect' } });
      expect(attacker.requests).toEqual([]);
      expect(`${err.message} ${err.stack} ${JSON.stringify(err.details)}`).not.toContain(TOKEN);
    } finally {
      await hop.close();
      await attacker.close();
      await locked.close();
    }
  });
});

describe('ls-refs protocol', () => {
  it('asks for the prefixes in pkt-lines and reads the answer up to the flush packet', () => {
    expect(lsRefsRequestBody(['refs/heads/']).toString()).toBe('0014command=ls-refs\n0001001bref-prefix refs/heads/\n0000');
    const oid = 'a'.repeat(40);
    const line = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const answer = `${line(`${oid} refs/heads/main\n`)}${line(`${oid} refs/tags/v1 peeled:${'b'.repeat(40)}\n`)}${line(`${oid} HEAD symref-target:refs/heads/main\n`)}0000`;
    expect(parseLsRefsResponse(Buffer.from(answer), ['refs/heads/', 'refs/tags/'])).toEqual(
      new Map([
        ['refs/heads/main', oid],
        ['refs/tags/v1', oid],
      ]),
    );
    expect(parseLsRefsResponse(Buffer.from(`${answer}0002`), ['refs/heads/'])?.size).toBe(1);
    // Truncated, an error packet, junk: no answer (the caller fetches instead).
    expect(parseLsRefsResponse(Buffer.from(answer.slice(0, -4)), ['refs/heads/'])).toBeNull();
    expect(parseLsRefsResponse(Buffer.from(`${line('ERR upload-pack: not our ref\n')}0000`), ['refs/heads/'])).toBeNull();
    expect(parseLsRefsResponse(Buffer.from('<html>'), ['refs/heads/'])).toBeNull();
    expect(parseLsRefsResponse(Buffer.from(''), ['refs/heads/'])).toBeNull();
  });
});
