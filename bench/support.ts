/** What the benches share: their own git/process runner, its environment, and a wrong-answer error. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A wrong answer from Syncline or the baseline: the bench must not report a number. */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

export function fail(message: string): never {
  throw new BenchFailure(message);
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

let cmdHome: string | undefined;

/** Environment for the benches' own commands (generation, pushes, baseline clones): no user or system git config. */
export function cmdEnv(): NodeJS.ProcessEnv {
  cmdHome ??= fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-bench-home-'));
  return { PATH: process.env.PATH, HOME: cmdHome, LANG: 'C', LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
}

/** Removes the commands' home (each bench's cleanup; the next command makes a new one). */
export function removeCmdHome(): void {
  if (cmdHome) fs.rmSync(cmdHome, { recursive: true, force: true });
  cmdHome = undefined;
}

/** Runs a command; resolves trimmed stdout, rejects with (the start of) stderr. Both are always drained. */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cmdEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8').trim());
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(0, 2000)}`));
    });
    child.stdin.end(opts.input ?? undefined);
  });
}

export const git = (args: string[], opts: { cwd?: string; input?: Buffer | string } = {}) => run('git', args, opts);

/** CPU ms of this process's reaped children (/proc/self/stat cutime + cstime); 0 where there is no /proc. */
export function childCpuMs(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: field 3 is state, so cutime (16) and cstime (17) are at 13 and 14.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** A bench run as a script on its own: prints the result as JSON and exits 0, or prints the error and exits 1. */
export function printJsonAndExit<T>(work: Promise<T>, shape: (r: T) => unknown = (r) => r): void {
  work.then(
    (r) => {
      console.log(JSON.stringify(shape(r)));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
