/**
 * Start-up bench (issue 11): how long `syncline serve` takes to answer /healthz, and how long a
 * CLI call takes end to end (a new process each time, as a user or a script runs it), against
 * baselines measured in the same run:
 *   - server ready: a bare Fastify server (one route) started the same way;
 *   - CLI call: `node -e 0`, the cost of any Node.js process on this machine.
 * Targets: ready < 1.5 s, a CLI call < 0.5 s (medians). It runs the compiled output, as
 * `npm start` and bin/syncline.js do, after compiling the current sources.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const BIN = path.join(ROOT, 'bin/syncline.js');

export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export interface StartupResult {
  ready_first_start: Timing;
  ready_restart: Timing;
  ready_bare_fastify: Timing;
  cli_local: Timing;
  cli_remote: Timing;
  node_floor: Timing;
}

function timing(runs: number[]): Timing {
  const s = [...runs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)!, runs };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Spawns a server, returns ms from spawn to the first 200 from /healthz, and stops it (SIGTERM). */
async function timeReady(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let ms: number | null = null;
  while (ms === null) {
    if (child.exitCode !== null) fail(`server exited ${child.exitCode} before it was ready: ${stderr.slice(0, 500)}`);
    if (performance.now() - started > 30_000) {
      child.kill('SIGKILL');
      fail('server not ready within 30 s');
    }
    if (await healthy(port)) ms = performance.now() - started;
    else await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGTERM');
  await exited;
  return Math.round(ms);
}

/** ms for one process to run to completion (exit 0 required). */
async function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  if (code !== 0) fail(`${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`);
  return Math.round(performance.now() - started);
}

const BARE_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

export async function runStartupBench(opts: { runs?: number } = {}): Promise<StartupResult> {
  const runs = opts.runs ?? 5;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  if (!fs.existsSync(MAIN)) fail('dist/cli/main.js missing after the build');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-bench-startup-'));
  // The bare server must resolve fastify from this project.
  const bare = path.join(ROOT, 'bench/.work/bare-server.mjs');
  fs.mkdirSync(path.dirname(bare), { recursive: true });
  fs.writeFileSync(bare, BARE_SERVER);
  const admin = 'bench-admin-token-0123456789abcdefghijklmnop';
  const envFor = (dataDir: string, port: number): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: work,
    SYNCLINE_DATA_DIR: dataDir,
    SYNCLINE_PORT: String(port),
    SYNCLINE_HOST: '127.0.0.1',
    SYNCLINE_ADMIN_TOKEN: admin,
    SYNCLINE_LOG_LEVEL: 'warn',
    SYNCLINE_POLL_INTERVAL: '0',
  });
  try {
    const first: number[] = [];
    const restart: number[] = [];
    const bareRuns: number[] = [];
    const local: number[] = [];
    const remote: number[] = [];
    const floor: number[] = [];
    const kept = path.join(work, 'kept');
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      first.push(await timeReady([MAIN, 'serve'], envFor(path.join(work, `fresh-${i}`), port), port));
      restart.push(await timeReady([MAIN, 'serve'], envFor(kept, port), port));
      bareRuns.push(await timeReady([bare], { PATH: process.env.PATH, PORT: String(port) }, port));
      floor.push(await timeProcess(['-e', '0'], { PATH: process.env.PATH }));
      local.push(await timeProcess([BIN, 'token', 'list'], envFor(kept, port)));
    }
    // Remote mode: the CLI against a running server.
    const port = await freePort();
    const server = spawn(process.execPath, [MAIN, 'serve'], { env: envFor(kept, port), stdio: 'ignore' });
    try {
      const t0 = performance.now();
      while (!(await healthy(port))) {
        if (performance.now() - t0 > 30_000) fail('server for the remote CLI runs not ready within 30 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      const env = { PATH: process.env.PATH, HOME: work, SYNCLINE_URL: `http://127.0.0.1:${port}`, SYNCLINE_TOKEN: admin };
      for (let i = 0; i < runs; i++) remote.push(await timeProcess([BIN, 'kind', 'list'], env));
    } finally {
      server.kill('SIGTERM');
    }
    const r: StartupResult = {
      ready_first_start: timing(first),
      ready_restart: timing(restart),
      ready_bare_fastify: timing(bareRuns),
      cli_local: timing(local),
      cli_remote: timing(remote),
      node_floor: timing(floor),
    };
    const row = (label: string, t: Timing, base: Timing) =>
      console.log(`${label.padEnd(40)} median ${String(t.median).padStart(5)} ms  (min ${t.min}, max ${t.max})  baseline ${base.median} ms = ${(t.median / base.median).toFixed(1)}×`);
    console.log(`\n== start-up bench (${runs} runs each; load average ${os.loadavg()[0]!.toFixed(2)}) ==`);
    row('server ready, first start (new data dir)', r.ready_first_start, r.ready_bare_fastify);
    row('server ready, restart', r.ready_restart, r.ready_bare_fastify);
    row('CLI local mode: token list', r.cli_local, r.node_floor);
    row('CLI remote mode: kind list', r.cli_remote, r.node_floor);
    console.log(`baselines: bare Fastify ready ${r.ready_bare_fastify.median} ms, node -e 0 ${r.node_floor.median} ms`);
    return r;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
