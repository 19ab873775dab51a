/**
 * Runs the native git binary. Every process:
 *  - gets an argv array (never a shell) and the minimal env from env.ts;
 *  - is killed with its whole process group (git forks remote-https, index-pack, …) when it
 *    produces no output for `idleMs`, runs longer than `totalMs`, or the caller aborts;
 *  - has stderr drained continuously (a full stderr pipe would block git forever) into a
 *    bounded tail buffer that is redacted before anyone sees it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { buildGitEnv, getGitHome, type GitEnvOptions } from './env.js';
import { cleanStderr, GitError, type GitFailureReason } from './git-error.js';

export interface GitTimeouts {
  /** Kill when neither stdout nor stderr produced a byte for this long. Default 120 s. */
  idleMs?: number;
  /** Kill after this long whatever happens. Default 10 min. */
  totalMs?: number;
}

export interface GitSpawnOptions extends GitEnvOptions, GitTimeouts {
  /** Working directory (the repository); defaults to the empty git HOME. */
  cwd?: string;
  signal?: AbortSignal;
  /** A long-lived helper (the cat-file worker): its timers never keep the event loop alive. */
  background?: boolean;
}

export interface GitExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Redacted tail of stderr. */
  stderr: string;
  /** Why we killed it, if we did. */
  killedFor?: Exclude<GitFailureReason, 'exit' | 'output_too_large'>;
  spawnError?: Error;
}

export interface GitProcess {
  child: ChildProcess;
  stdin: Writable;
  stdout: Readable;
  /** Resolves (never rejects) once the process exited and its pipes closed. */
  done: Promise<GitExit>;
  /** Kills the whole process group. */
  kill(): void;
  readonly args: readonly string[];
}

export interface GitSpawnInfo {
  args: readonly string[];
  cwd: string;
  pid: number | undefined;
}

export const DEFAULT_IDLE_MS = 120_000;
export const DEFAULT_TOTAL_MS = 600_000;
const STDERR_KEEP_BYTES = 64 * 1024;

const spawnListeners = new Set<(info: GitSpawnInfo) => void>();
let spawnCount = 0;

/** How many git processes this process has started (the benchmark reports processes per sync). */
export function gitSpawnCount(): number {
  return spawnCount;
}

/** Observe every git process started (tests count cat-file processes this way). */
export function onGitSpawn(listener: (info: GitSpawnInfo) => void): () => void {
  spawnListeners.add(listener);
  return () => spawnListeners.delete(listener);
}

export function spawnGit(args: readonly string[], opts: GitSpawnOptions = {}): GitProcess {
  const cwd = opts.cwd ?? getGitHome();
  const child = spawn('git', [...args], {
    cwd,
    env: buildGitEnv(opts),
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group, so a timeout kills git's helpers too, not just the parent.
    detached: true,
    windowsHide: true,
  });
  spawnCount += 1;
  for (const listener of spawnListeners) listener({ args, cwd, pid: child.pid });

  let killedFor: GitExit['killedFor'];
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const killFor = (reason: NonNullable<GitExit['killedFor']>): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killedFor ??= reason;
    kill();
  };

  // Drain stderr into a tail buffer: git blocks once a pipe fills, and the end is what matters.
  let stderrChunks: Buffer[] = [];
  let stderrBytes = 0;
  let stderrSeen = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    stderrSeen += chunk.length;
    stderrChunks.push(chunk);
    stderrBytes += chunk.length;
    if (stderrBytes > STDERR_KEEP_BYTES * 2) {
      const joined = Buffer.concat(stderrChunks).subarray(-STDERR_KEEP_BYTES);
      stderrChunks = [joined];
      stderrBytes = joined.length;
    }
  });
  // EPIPE when git exits before reading all input is reported through the exit status instead.
  child.stdin.on('error', () => {});

  // Idle detection polls byte counters instead of adding 'data' listeners, so it never changes
  // the flow mode of a stdout the caller is streaming.
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const totalMs = opts.totalMs ?? DEFAULT_TOTAL_MS;
  const stdoutSocket = child.stdout as unknown as Socket;
  let lastActivity = Date.now();
  let lastCount = -1;
  const idleTimer = setInterval(
    () => {
      const count = (stdoutSocket.bytesRead ?? 0) + stderrSeen;
      if (count !== lastCount) {
        lastCount = count;
        lastActivity = Date.now();
      } else if (Date.now() - lastActivity >= idleMs) {
        killFor('idle_timeout');
      }
    },
    Math.max(10, Math.min(1000, Math.floor(idleMs / 5))),
  );
  const totalTimer = setTimeout(() => killFor('timeout'), totalMs);
  if (opts.background) {
    idleTimer.unref();
    totalTimer.unref();
  }
  const onAbort = (): void => killFor('aborted');
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<GitExit>((resolve) => {
    let spawnError: Error | undefined;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearInterval(idleTimer);
      clearTimeout(totalTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        code,
        signal,
        stderr: cleanStderr(Buffer.concat(stderrChunks).subarray(-STDERR_KEEP_BYTES).toString('utf8')),
        ...(killedFor ? { killedFor } : {}),
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.on('error', (err) => {
      spawnError = err;
      // 'close' may not follow a failed spawn.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });

  return { child, stdin: child.stdin, stdout: child.stdout, done, kill, args };
}

export interface GitRunOptions extends GitSpawnOptions {
  input?: string | Buffer;
  /** Exit codes that are answers rather than failures (e.g. 1 for merge-base --is-ancestor). */
  okCodes?: readonly number[];
  /** Stdout larger than this kills git and fails with reason `output_too_large`. Default 64 MiB. */
  maxStdoutBytes?: number;
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;

/** Runs git to completion; throws GitError on a non-ok exit, timeout, abort or oversize output. */
export async function runGit(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
  const proc = spawnGit(args, opts);
  const maxStdout = opts.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  proc.stdout.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > maxStdout) {
      tooLarge = true;
      chunks.length = 0;
      proc.kill();
      return;
    }
    chunks.push(chunk);
  });
  proc.stdin.end(opts.input ?? undefined);

  const exit = await proc.done;
  if (exit.spawnError && exit.code === null) {
    throw new GitError('spawn', args, null, '', `could not start git (${exit.spawnError.message})`);
  }
  if (tooLarge) {
    throw new GitError('output_too_large', args, exit.code, exit.stderr, `output exceeded ${maxStdout} bytes`);
  }
  if (exit.killedFor === 'idle_timeout') {
    throw new GitError('idle_timeout', args, exit.code, exit.stderr, `no output for ${opts.idleMs ?? DEFAULT_IDLE_MS} ms`);
  }
  if (exit.killedFor === 'timeout') {
    throw new GitError('timeout', args, exit.code, exit.stderr, `still running after ${opts.totalMs ?? DEFAULT_TOTAL_MS} ms`);
  }
  if (exit.killedFor === 'aborted') {
    throw new GitError('aborted', args, exit.code, exit.stderr, 'aborted');
  }
  const code = exit.code ?? -1;
  if (!(opts.okCodes ?? [0]).includes(code)) {
    throw new GitError('exit', args, exit.code, exit.stderr);
  }
  return { stdout: Buffer.concat(chunks), stderr: exit.stderr, code };
}
