import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/git/git-error.js';
import { onGitSpawn, runGit, spawnGit } from '../../../src/git/runner.js';
import { getGitHome } from '../../../src/git/env.js';
import { registerSecret } from '../../../src/security/redact.js';
import { cleanupTempDirs, commitFiles, makeRepo } from '../../helpers/git-fixtures.js';

afterAll(cleanupTempDirs);

describe('runGit', () => {
  it('returns stdout as a Buffer, stderr and the exit code', async () => {
    const res = await runGit(['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toMatch(/^git version \d+\.\d+/);
  });

  it('feeds stdin and accepts declared exit codes', async () => {
    const repo = await makeRepo();
    const sha = await commitFiles(repo, { 'a.txt': 'x' });
    const res = await runGit(['cat-file', '--batch-check'], { cwd: repo.bareDir, input: `${sha}\n` });
    expect(res.stdout.toString()).toBe(`${sha} commit ${res.stdout.toString().split(' ')[2]}`);
    const quiet = await runGit(['rev-parse', '--verify', '--quiet', 'refs/heads/nope'], { cwd: repo.bareDir, okCodes: [0, 1] });
    expect(quiet.code).toBe(1);
  });

  it('throws GitError with redacted, bounded stderr', async () => {
    const secret = 'planted-secret-value-42';
    registerSecret(secret);
    const repo = await makeRepo();
    await commitFiles(repo, { 'a.txt': 'x' });
    const err = await runGit(['rev-parse', '--verify', `refs/heads/${secret}`], { cwd: repo.bareDir }).catch((e) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(err.reason).toBe('exit');
    expect(err.exitCode).toBe(128);
    expect(err.message).toMatch(/^git rev-parse failed \(exit 128\)/);
    expect(`${err.message} ${err.stderr} ${JSON.stringify(err.details)}`).not.toContain(secret);
  });

  it('reports a missing cwd as a spawn failure, not a hang', async () => {
    const err = await runGit(['status'], { cwd: '/nonexistent/dir/for/syncline' }).catch((e) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(err.reason).toBe('spawn');
  });

  it('fails with output_too_large past maxStdoutBytes', async () => {
    const repo = await makeRepo();
    await commitFiles(repo, { 'big.txt': 'y'.repeat(100_000) });
    const err = await runGit(['show', 'HEAD:big.txt'], { cwd: repo.bareDir, maxStdoutBytes: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(err.reason).toBe('output_too_large');
  });

  it('kills a silent process after idleMs', async () => {
    const repo = await makeRepo();
    await commitFiles(repo, { 'a.txt': 'x' });
    const started = Date.now();
    // cat-file --batch waits on stdin forever; we never close it.
    const proc = spawnGit(['cat-file', '--batch'], { cwd: repo.bareDir, idleMs: 300 });
    const exit = await proc.done;
    expect(exit.killedFor).toBe('idle_timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kills a process that keeps talking past totalMs', async () => {
    const repo = await makeRepo();
    const sha = await commitFiles(repo, { 'a.txt': 'x' });
    const proc = spawnGit(['cat-file', '--batch-check'], { cwd: repo.bareDir, idleMs: 10_000, totalMs: 400 });
    proc.stdout.resume();
    const chatter = setInterval(() => proc.stdin.write(`${sha}\n`), 20);
    const exit = await proc.done;
    clearInterval(chatter);
    expect(exit.killedFor).toBe('timeout');
  });

  it('kills on abort', async () => {
    const repo = await makeRepo();
    await commitFiles(repo, { 'a.txt': 'x' });
    const ac = new AbortController();
    const pending = runGit(['cat-file', '--batch'], { cwd: repo.bareDir, signal: ac.signal, input: undefined });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ reason: 'aborted' });
  });

  it('runs git with the minimal environment only (checked in /proc/<pid>/environ)', async () => {
    process.env.SYNCLINE_LEAK_CHECK = 'leaked';
    const repo = await makeRepo();
    await commitFiles(repo, { 'a.txt': 'x' });
    const seen: number[] = [];
    const off = onGitSpawn((info) => info.pid && seen.push(info.pid));
    const proc = spawnGit(['cat-file', '--batch'], { cwd: repo.bareDir });
    off();
    expect(seen).toEqual([proc.child.pid]);
    const raw = await readFile(`/proc/${proc.child.pid}/environ`, 'utf8');
    proc.stdin.end();
    await proc.done;
    const env = Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
    expect(env.SYNCLINE_LEAK_CHECK).toBeUndefined();
    expect(env.HOME).toBe(getGitHome());
    expect(env).toMatchObject({ GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LANG: 'C' });
    expect(env.GIT_ASKPASS).toBe('');
    expect(env.SSH_ASKPASS).toBe('');
  });
});
