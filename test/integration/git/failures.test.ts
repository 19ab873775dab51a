import { readdir, readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SynclineError } from '../../../src/errors.js';
import { ensureMirror, isCompleteMirror } from '../../../src/git/mirror-cache.js';
import { resolveRef } from '../../../src/git/refs.js';
import { onGitSpawn, runGit } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  makeRepo,
  randomBlob,
  serveGitHttp,
  tempDir,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';

let root: string;
let server: GitHttpServer;

beforeAll(async () => {
  root = await tempDir('syncline-served-');
  server = await serveGitHttp(root);
});
afterEach(() => server.setFault(null));
afterAll(async () => {
  await server.close();
  await cleanupTempDirs();
});

/** Process groups of every git started while `fn` runs. */
async function trackingGroups<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; pids: number[] }> {
  const pids: number[] = [];
  const off = onGitSpawn((i) => i.pid && pids.push(i.pid));
  const [result] = await Promise.allSettled([fn()]);
  off();
  return { result: result as PromiseSettledResult<T>, pids };
}

/**
 * Whether any live (non-zombie) process is in the group. Zombies count as dead: orphaned helpers
 * are reaped by PID 1, which in some containers takes its time.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command name: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

describe('timeouts', () => {
  it('kills a clone from a server that accepts and never answers (idle timeout)', async () => {
    const repo = await makeRepo({ root, name: 'hang-clone' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    server.setFault({ kind: 'hang' });
    const started = Date.now();
    const { result, pids } = await trackingGroups(() =>
      ensureMirror({ name: 'hang-clone', url: server.repoUrl('hang-clone') }, { mirrorsDir, timeouts: { idleMs: 400 } }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('rejected');
    const err = (result as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'fetch_failed', details: { reason: 'idle_timeout' } });
    // git, git-remote-http and friends are all gone; no temp clone left behind.
    await new Promise((r) => setTimeout(r, 100));
    for (const pid of pids) expect(await groupAlive(pid)).toBe(false);
    expect(await readdir(mirrorsDir)).toEqual([]);
  });

  it('kills a fetch that exceeds the overall cap even while the server trickles', async () => {
    const repo = await makeRepo({ root, name: 'slow-fetch' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'slow-fetch', url: server.repoUrl('slow-fetch') };
    await ensureMirror(source, { mirrorsDir });
    server.setFault({ kind: 'delay', ms: 3000 });
    const started = Date.now();
    await expect(ensureMirror(source, { mirrorsDir, timeouts: { idleMs: 10_000, totalMs: 500 } })).rejects.toMatchObject({
      code: 'fetch_failed',
      details: { reason: 'timeout' },
    });
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('server dying mid-fetch', () => {
  it('fails with fetch_failed and leaves the previous mirror intact', async () => {
    const repo = await makeRepo({ root, name: 'dies' });
    const c1 = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'dies', url: server.repoUrl('dies') };
    const { dir } = await ensureMirror(source, { mirrorsDir });

    // Incompressible content so the pack is far bigger than what gets through.
    await commitFiles(repo, { 'blob.bin': randomBlob(2 * 1024 * 1024), 'a.yaml': 'a: 2\n' });
    server.setFault({ kind: 'drop-after', bytes: 32 * 1024, on: 'upload-pack' });
    const err = await ensureMirror(source, { mirrorsDir }).catch((e) => e);
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'fetch_failed', retryable: true });

    expect(await isCompleteMirror(dir)).toBe(true);
    expect(await resolveRef(dir, 'main', { sourceName: 'dies' })).toBe(c1);
    await runGit(['fsck', '--connectivity-only', '--no-dangling'], { cwd: dir });

    server.setFault(null);
    const healed = await ensureMirror(source, { mirrorsDir });
    expect(healed.updated).toBe(true);
    expect(healed.headCommit).not.toBe(c1);
  });

  it('fails fast when the server process is killed while git waits', async () => {
    const repo = await makeRepo({ name: 'killed' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const own = await serveGitHttp(repo.root);
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = { name: 'killed', url: own.repoUrl('killed') };
    const { dir } = await ensureMirror(source, { mirrorsDir });
    await commitFiles(repo, { 'a.yaml': 'a: 2\n' });

    own.setFault({ kind: 'hang', on: 'upload-pack' });
    const pending = ensureMirror(source, { mirrorsDir, timeouts: { idleMs: 30_000 } });
    await new Promise((r) => setTimeout(r, 300));
    own.kill();
    const started = Date.now();
    await expect(pending).rejects.toMatchObject({ code: 'fetch_failed' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await isCompleteMirror(dir)).toBe(true);
  });

  it('leaves no mirror and no temp dir when the first clone is cut off', async () => {
    const repo = await makeRepo({ root, name: 'cut-clone' });
    await commitFiles(repo, { 'blob.bin': randomBlob(1024 * 1024) });
    const mirrorsDir = await tempDir('syncline-mirrors-');
    server.setFault({ kind: 'drop-after', bytes: 16 * 1024, on: 'upload-pack' });
    await expect(
      ensureMirror({ name: 'cut-clone', url: server.repoUrl('cut-clone') }, { mirrorsDir }),
    ).rejects.toMatchObject({ code: 'fetch_failed' });
    expect(await readdir(mirrorsDir)).toEqual([]);
  });
});
