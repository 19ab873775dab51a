/**
 * The benches' "forge": `git http-backend` over real smart HTTP (bench/git-server.ts) in a child
 * process, so its request handling and CGI spawns (each spawn holds the spawning event loop for
 * several milliseconds) stay off the event loop being measured: a real forge is another machine.
 * Its CPU is reported through `stats()`.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchFailure } from './support.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

/** What the forge served so far: pack negotiations, HTTP requests, its CPU and its children's. */
export interface ForgeStats {
  fetches: number;
  requests: number;
  cpuMs: number;
  childCpuMs: number;
}

/** The forge: bench/git-server.ts in a child process. */
export interface ForgeProcess {
  url: string;
  stats(): Promise<ForgeStats>;
  close(): Promise<void>;
}

export async function startForge(root: string): Promise<ForgeProcess> {
  const child = fork(path.join(BENCH_DIR, 'git-server.ts'), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, SYNCLINE_BENCH_GIT_ROOT: root },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) => (m.url ? resolve(m.url) : reject(new BenchFailure('git server: no url'))));
    child.once('exit', (code) => reject(new BenchFailure(`git server exited (${code})`)));
  });
  return {
    url,
    stats: () =>
      new Promise((resolve) => {
        const on = (m: { stats?: ForgeStats }) => {
          if (!m.stats) return;
          child.off('message', on);
          resolve(m.stats);
        };
        child.on('message', on);
        child.send({ stats: true });
      }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
