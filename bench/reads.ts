/**
 * Config reads and watchers (issue 12, targets 5 and 6).
 *
 * Reads: `GET /api/v1/namespaces/{ns}/resources/{kind}/{name}` with a viewer token on a real
 * Syncline server (startServer, as `syncline serve` runs it: default settings, info-level request
 * logs with redaction written to a discarding stream, and the database's background work — the
 * replica registry, the cache-invalidation LISTEN, the job runner), the 200 path and the 304 path
 * (If-None-Match), measured with autocannon (50 connections, its own process) side by side in the
 * same run with a bare Fastify route returning the same JSON (Fastify's defaults: no logger, no
 * background work). Each server runs in a fresh process of its own (bench/reads-server.ts), one
 * dialect at a time, and reports its own CPU; rounds alternate bare / 200 / 304 so drifting
 * machine load hits all three alike; the median of the rounds is reported.
 *
 * Watchers: 1,000 SSE watchers (`GET /watch`, their own process) on one namespace; a deployment
 * changing 3 resources; the time from the deployment's `finished_at` (stamped before its apply
 * transaction, so conservative) to each watcher holding all of its events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closeAllCatFileWorkers } from '../src/git/cat-file-worker.js';
import { dropSchema, freshSchemaName } from '../test/helpers/db.js';
import { printJsonAndExit } from './support.js';
import { READS_ADMIN_TOKEN as ADMIN, type ReadsServerReady } from './reads-server.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir } from '../test/helpers/git-fixtures.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT_DIR = path.dirname(BENCH_DIR);

export type Dialect = 'sqlite' | 'postgres';

export interface CannonFigure {
  rps: number;
  /** The server's CPU (its process, every thread: user + system) per request, µs; steadier than req/s on a loaded machine. */
  cpu_us_per_req: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
}

export interface ReadsResult {
  dialect: Dialect;
  rounds: number;
  seconds: number;
  bare: CannonFigure;
  get200: CannonFigure;
  get304: CannonFigure;
  ratio200: number;
  ratio304: number;
  /** Bare route's CPU per request ÷ Syncline's (paired per round, median): the throughput ratio with the machine's load taken out. */
  cpuRatio200: number;
  cpuRatio304: number;
  /** CPU each server spent per second while idle (its background work), ms/s, measured over 3 s after the rounds. */
  idle_cpu_ms_per_s: { bare: number; syncline: number };
  load_average: number[];
  watchers?: { count: number; events: number; complete: number; p50_ms: number; p99_ms: number; max_ms: number };
}

/** A server of the bench in its own process (bench/reads-server.ts). */
export interface ServerProcess {
  ready: ReadsServerReady;
  child: ChildProcess;
  /** The process's CPU time so far (user + system, all threads), µs. */
  cpu(): Promise<number>;
  send(msg: object, answer: string): Promise<void>;
  close(): Promise<void>;
}

export const workload = (name: string, port: number) => `kind: Workload\nname: ${name}\nspec:\n  port: ${port}\n  healthcheck:\n    path: /healthz\n`;

/** bench/reads-server.ts of the checkout at `root` (this one by default; reads-ab.ts passes another). */
export function startServerProcess(args: string[], root = ROOT_DIR): Promise<ServerProcess> {
  const tsx = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  // SYNCLINE_READS_NODE_ARGS: extra node options for the server processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.SYNCLINE_READS_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', tsx, path.join(root, 'bench', 'reads-server.ts'), ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = new Map<string, (m: Record<string, unknown>) => void>();
  child.on('message', (m: Record<string, unknown>) => {
    for (const k of Object.keys(m)) {
      const w = waiters.get(k);
      if (w) {
        waiters.delete(k);
        w(m);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ask = (msg: object, answer: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.set(answer, resolve);
      void exited.then((code) => reject(new Error(`reads server ${args.join(' ')} exited ${code}`)));
      if (Object.keys(msg).length) child.send(msg);
    });
  return ask({}, 'ready').then((m) => ({
    ready: m.ready as ReadsServerReady,
    child,
    cpu: async () => {
      const c = (await ask({ cpu: true }, 'cpu')).cpu as NodeJS.CpuUsage;
      return c.user + c.system;
    },
    send: async (msg, answer) => void (await ask(msg, answer)),
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  }));
}

/** autocannon in its own process against `server` (`seconds`, or `amount` requests); its JSON result and the server's CPU meanwhile. */
export async function cannon(server: ServerProcess, url: string, headers: Record<string, string>, seconds: number, connections = 50, amount?: number): Promise<CannonFigure> {
  const bin = path.join(ROOT_DIR, 'node_modules', 'autocannon', 'autocannon.js');
  const args = [bin, '-c', String(connections), ...(amount ? ['-a', String(amount)] : ['-d', String(seconds)]), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  const cpu0 = await server.cpu();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`autocannon exited ${code}: ${err}`))));
  });
  const cpu = (await server.cpu()) - cpu0;
  const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  const cpuUs = r.requests.total > 0 ? Math.round((cpu / r.requests.total) * 10) / 10 : NaN;
  return { rps: Math.round(r.requests.average), cpu_us_per_req: cpuUs, p50_ms: r.latency.p50, p99_ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

/** CPU a server spends per second doing nothing asked of it (timers, polling, heartbeats), ms/s. */
async function idleCpu(server: ServerProcess, ms: number): Promise<number> {
  const c0 = await server.cpu();
  await new Promise((r) => setTimeout(r, ms));
  return Math.round((((await server.cpu()) - c0) / ms) * 100) / 100;
}

function pairedRatio(side: CannonFigure[], base: CannonFigure[]): number {
  const r = side.map((f, i) => f.rps / base[i]!.rps).sort((a, b) => a - b);
  const m = r.length % 2 ? r[(r.length - 1) / 2]! : (r[r.length / 2 - 1]! + r[r.length / 2]!) / 2;
  return Math.round(m * 100) / 100;
}

function pairedCpuRatio(side: CannonFigure[], base: CannonFigure[]): number {
  return pairedRatio(
    side.map((f) => ({ ...f, rps: 1 / f.cpu_us_per_req })),
    base.map((f) => ({ ...f, rps: 1 / f.cpu_us_per_req })),
  );
}

function medianOf(figs: CannonFigure[]): CannonFigure {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  return {
    rps: Math.round(med(figs.map((f) => f.rps))),
    cpu_us_per_req: med(figs.map((f) => f.cpu_us_per_req)),
    p50_ms: med(figs.map((f) => f.p50_ms)),
    p99_ms: med(figs.map((f) => f.p99_ms)),
    non2xx: figs.reduce((a, f) => a + f.non2xx, 0),
    errors: figs.reduce((a, f) => a + f.errors, 0),
  };
}

async function watchersCase(s: ServerProcess, repo: Awaited<ReturnType<typeof makeRepo>>, count: number, log: (m: string) => void): Promise<ReadsResult['watchers']> {
  const viewer = s.ready.viewer!;
  const child = spawn(process.execPath, [path.join(BENCH_DIR, 'watchers.mjs'), String(count), viewer, `${s.ready.base}/api/v1/namespaces/reads.prod/watch`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => (out.includes('ready\n') ? resolve() : undefined));
    child.on('exit', (code) => reject(new Error(`watchers exited ${code}`)));
  });
  log(`  ${count} watchers open`);
  await commitFiles(repo, { 'cfg/a.yaml': workload('a', 2001), 'cfg/b.yaml': workload('b', 2002), 'cfg/c.yaml': workload('c', 2003) }, 'move three');
  const r = await fetch(`${s.ready.base}/api/v1/namespaces/reads.prod/sync-from-git`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`sync → ${r.status}: ${text.slice(0, 300)}`);
  const d = JSON.parse(text) as { id: string; finished_at: string; summary: { update: number } };
  if (d.summary.update !== 3) throw new Error(`expected 3 updates, got ${JSON.stringify(d.summary)}`);
  child.stdin.write(`${d.id} 3\n`);
  const result = await new Promise<{ complete: number; last: Array<number | null> }>((resolve, reject) => {
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { complete: number; last: Array<number | null> });
      else reject(new Error('watchers printed no result'));
    });
  });
  const t0 = Date.parse(d.finished_at);
  const lat = result.last.filter((x): x is number => x !== null).map((x) => x - t0).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { count, events: 3, complete: result.complete, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: lat.at(-1) ?? NaN };
}

export async function runReadsBench(opts: { dialects?: Dialect[]; rounds?: number; seconds?: number; watchers?: number; log?: (s: string) => void } = {}): Promise<ReadsResult[]> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rounds = opts.rounds ?? 3;
  const seconds = opts.seconds ?? 5;
  const root = await tempDir('syncline-reads-upstream-');
  const server = await serveGitHttp(root);
  const results: ReadsResult[] = [];
  try {
    for (const dialect of opts.dialects ?? ['sqlite']) {
      const repo = await makeRepo({ root, name: `reads-${dialect}` });
      await commitFiles(repo, { 'cfg/a.yaml': workload('a', 1001), 'cfg/b.yaml': workload('b', 1002), 'cfg/c.yaml': workload('c', 1003) }, 'first');
      const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
      let s: ServerProcess | undefined;
      let bare: ServerProcess | undefined;
      try {
        s = await startServerProcess(['syncline', dialect, server.repoUrl(`reads-${dialect}`), schema ?? '-']);
        // A fresh bare route per dialect: both sides start from a new process each time.
        bare = await startServerProcess(['bare']);
        await bare.send({ body: s.ready.body }, 'bodySet');
        const url = s.ready.url!;
        const etag = s.ready.etag!;
        const viewer = { authorization: `Bearer ${s.ready.viewer!}` };
        const bareUrl = `${bare.ready.base}/resource`;
        const check = await fetch(bareUrl);
        if (JSON.stringify(await check.json()) !== JSON.stringify(s.ready.body)) throw new Error('the bare route does not answer the same JSON');
        const figs = { bare: [] as CannonFigure[], get200: [] as CannonFigure[], get304: [] as CannonFigure[] };
        // Untimed warm-up of all three (JIT, connection set-up, caches), then the timed rounds.
        await cannon(bare, bareUrl, {}, 3);
        await cannon(s, url, viewer, 3);
        await cannon(s, url, { ...viewer, 'if-none-match': etag }, 3);
        for (let r = 0; r < rounds; r++) {
          figs.bare.push(await cannon(bare, bareUrl, {}, seconds));
          figs.get200.push(await cannon(s, url, viewer, seconds));
          figs.get304.push(await cannon(s, url, { ...viewer, 'if-none-match': etag }, seconds));
          const f = (c: CannonFigure) => `${c.rps} req/s (${c.cpu_us_per_req} µs CPU/req, p99 ${c.p99_ms} ms)`;
          log(`  ${dialect} round ${r + 1}: bare ${f(figs.bare.at(-1)!)}, 200 ${f(figs.get200.at(-1)!)}, 304 ${f(figs.get304.at(-1)!)} (load ${os.loadavg()[0]!.toFixed(1)})`);
        }
        // Background work (timers, polling, heartbeats), after the rounds so start-up's JIT and GC are over.
        const idle = { bare: await idleCpu(bare, 3000), syncline: await idleCpu(s, 3000) };
        log(`  ${dialect}: idle CPU bare ${idle.bare} ms/s, Syncline ${idle.syncline} ms/s`);
        const b = medianOf(figs.bare);
        const g2 = medianOf(figs.get200);
        const g3 = medianOf(figs.get304);
        // 304 answers count as non-2xx for autocannon; a 200 run must have none, a 304 run only 304s.
        if (g2.non2xx > 0 || g2.errors > 0 || b.errors > 0 || g3.errors > 0) throw new Error(`non-2xx or errors: ${JSON.stringify({ b, g2, g3 })}`);
        await bare.close();
        bare = undefined;
        const watchers = opts.watchers ? await watchersCase(s, repo, opts.watchers, log) : undefined;
        results.push({
          dialect,
          rounds,
          seconds,
          bare: b,
          get200: g2,
          get304: g3,
          // Paired per round (the same minute's load on both sides), then the median.
          ratio200: pairedRatio(figs.get200, figs.bare),
          ratio304: pairedRatio(figs.get304, figs.bare),
          cpuRatio200: pairedCpuRatio(figs.get200, figs.bare),
          cpuRatio304: pairedCpuRatio(figs.get304, figs.bare),
          idle_cpu_ms_per_s: idle,
          load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
          ...(watchers ? { watchers } : {}),
        });
      } finally {
        await bare?.close();
        await s?.close();
        if (schema) await dropSchema(schema);
      }
    }
  } finally {
    closeAllCatFileWorkers();
    await server.close();
    await cleanupTempDirs();
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  // Development aid: `tsx bench/reads.ts [--rounds N] [--seconds S] [--watchers N] [--postgres | --only-postgres]`.
  const opt = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const dialects: Dialect[] = process.argv.includes('--only-postgres') ? ['postgres'] : process.argv.includes('--postgres') ? ['sqlite', 'postgres'] : ['sqlite'];
  printJsonAndExit(runReadsBench({ dialects, rounds: opt('--rounds', 1), seconds: opt('--seconds', 3), watchers: opt('--watchers', 1000) }));
}
