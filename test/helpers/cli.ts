/**
 * The `syncline` CLI for tests, one implementation for every suite:
 *  - runCli: in-process (`runCli` of src/cli/program.ts) with the given environment and working
 *    directory, capturing stdout/stderr — fast, no process start per call. Calls are serialised
 *    (they swap process-wide state: env, cwd, console).
 *  - spawnCli: `node bin/syncline.js`, run the way a user runs it, for the few end-to-end wiring
 *    cases (the executable, concurrent processes, signals).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGitHome, setGitHome } from '../../src/git/env.js';
import { runCli as runProgram } from '../../src/cli/program.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/syncline.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without any SYNCLINE_* setting, plus `env`. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNCLINE_')));
  return { ...base, NO_COLOR: '1', ...env };
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs the CLI in this process with exactly `env` (plus the parent's non-SYNCLINE_ variables). */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = os.tmpdir()): Promise<CliResult> {
  const run = queue.then(() => runInProcess(args, env, cwd));
  queue = run.catch(() => undefined);
  return run;
}

async function runInProcess(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const savedGitHome = getGitHome();
  const out: string[] = [];
  const err: string[] = [];
  const text = (parts: unknown[]) => `${parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ')}\n`;
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info, out: process.stdout.write, err: process.stderr.write };
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, cliEnv(env));
  process.chdir(cwd);
  console.log = console.info = (...p: unknown[]) => void out.push(text(p));
  console.error = console.warn = (...p: unknown[]) => void err.push(text(p));
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runProgram(['node', 'syncline', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn, info: saved.info });
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    setGitHome(savedGitHome);
  }
}

/** `node bin/syncline.js …` in a child process, as a user runs it. */
export function spawnCli(args: string[], env: Record<string, string> = {}, cwd = os.tmpdir()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
