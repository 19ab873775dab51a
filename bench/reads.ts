/**
 * Config reads and watchers (issue 12, targets 5 and 6).
 *
 * Reads: `GET /api/v1/namespaces/{ns}/resources/{kind}/{name}` with a viewer token on a real,
 * listening Syncline (default settings: info-level request logs with redaction, written to a
 * discarding stream), the 200 path and the 304 path (If-None-Match), measured with autocannon
 * (50 connections, its own process) side by side in the same run with a bare Fastify route
 * returning the same JSON. Rounds alternate bare / 200 / 304 so drifting machine load hits all
 * three alike; the median of the rounds is reported.
 *
 * Watchers: 1,000 SSE watchers (`GET /watch`, their own process) on one namespace; a deployment
 * changing 3 resources; the time from the deployment's `finished_at` (stamped before its apply
 * transaction, so conservative) to each watcher holding all of its events.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadSettings } from '../src/config/load.js';
import { openContext, type AppContext } from '../src/app-context.js';
import { buildApp } from '../src/server/app.js';
import { closeAllCatFileWorkers } from '../src/git/cat-file-worker.js';
import { dropSchema, freshSchemaName, testPgUrl } from '../test/helpers/db.js';
import { printJsonAndExit } from './support.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir } from '../test/helpers/git-fixtures.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT_DIR = path.dirname(BENCH_DIR);
const ADMIN = 'bench-admin-token-0123456789abcdef';

export type Dialect = 'sqlite' | 'postgres';

export interface CannonFigure {
  rps: number;
  /** Server CPU (this process: user + system) per request, µs; steadier than req/s on a loaded machine. */
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
  watchers?: { count: number; events: number; complete: number; p50_ms: number; p99_ms: number; max_ms: number };
}

interface Server {
  app: FastifyInstance;
  ctx: AppContext;
  base: string;
  close(): Promise<void>;
}

const workload = (name: string, port: number) => `kind: Workload\nname: ${name}\nspec:\n  port: ${port}\n  healthcheck:\n    path: /healthz\n`;

async function startSyncline(dialect: Dialect, repoUrl: string): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-reads-'));
  const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
  const settings = loadSettings({
    env: {},
    file: '/dev/null',
    overrides: {
      data_dir: dataDir,
      admin_token: ADMIN,
      allowed_hosts: ['127.0.0.1'],
      database_url: dialect === 'postgres' ? testPgUrl() : `sqlite:${path.join(dataDir, 'syncline.db')}`,
    },
  });
  const ctx = await openContext(settings, schema ? { schema } : {});
  // The default log level (info: a line per request, redacted), written nowhere.
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = await buildApp({ ctx, logStream: sink });
  const auth = { authorization: `Bearer ${ADMIN}` };
  const kind = JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'examples/kinds/Workload.json'), 'utf8')) as object;
  for (const [method, url, payload] of [
    ['PUT', '/api/v1/kinds/Workload', kind],
    ['POST', '/api/v1/sources', { name: 'reads', url: repoUrl }],
    ['PUT', '/api/v1/namespaces/reads.prod', { source: 'reads', branch: 'main', path: 'cfg' }],
    ['POST', '/api/v1/namespaces/reads.prod/sync-from-git', {}],
  ] as const) {
    const r = await app.inject({ method, url, headers: auth, payload });
    if (r.statusCode >= 300) throw new Error(`${method} ${url} → ${r.statusCode}: ${r.body.slice(0, 300)}`);
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    ctx,
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await ctx.jobs.stop();
      await app.close();
      await ctx.db.close();
      if (schema) await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function token(s: Server, role: string): Promise<string> {
  const r = await s.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: `bench-${role}-${Date.now()}`, role } });
  if (r.statusCode !== 201) throw new Error(`token: ${r.body}`);
  return (r.json() as { token: string }).token;
}

/** autocannon in its own process; its JSON result. */
function cannon(url: string, headers: Record<string, string>, seconds: number, connections = 50): Promise<CannonFigure> {
  const bin = path.join(ROOT_DIR, 'node_modules', 'autocannon', 'autocannon.js');
  const args = [bin, '-c', String(connections), '-d', String(seconds), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  return new Promise((resolve, reject) => {
    // The servers (Syncline and the bare route) live in this process; autocannon in its own.
    const cpu0 = process.cpuUsage();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      const cpu = process.cpuUsage(cpu0);
      const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number; '2xx': number; '3xx'?: number };
      const cpuUs = r.requests.total > 0 ? Math.round(((cpu.user + cpu.system) / r.requests.total) * 10) / 10 : NaN;
      resolve({ rps: Math.round(r.requests.average), cpu_us_per_req: cpuUs, p50_ms: r.latency.p50, p99_ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
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

async function watchersCase(s: Server, repo: Awaited<ReturnType<typeof makeRepo>>, count: number, log: (m: string) => void): Promise<ReadsResult['watchers']> {
  const viewer = await token(s, 'viewer');
  const child = spawn(process.execPath, [path.join(BENCH_DIR, 'watchers.mjs'), String(count), viewer, `${s.base}/api/v1/namespaces/reads.prod/watch`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => (out.includes('ready\n') ? resolve() : undefined));
    child.on('exit', (code) => reject(new Error(`watchers exited ${code}`)));
  });
  log(`  ${count} watchers open`);
  await commitFiles(repo, { 'cfg/a.yaml': workload('a', 2001), 'cfg/b.yaml': workload('b', 2002), 'cfg/c.yaml': workload('c', 2003) }, 'move three');
  const r = await s.app.inject({ method: 'POST', url: '/api/v1/namespaces/reads.prod/sync-from-git', headers: { authorization: `Bearer ${ADMIN}` }, payload: {} });
  if (r.statusCode !== 200) throw new Error(`sync → ${r.statusCode}: ${r.body.slice(0, 300)}`);
  const d = r.json() as { id: string; finished_at: string; summary: { update: number } };
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
      const s = await startSyncline(dialect, server.repoUrl(`reads-${dialect}`));
      const bare = Fastify();
      try {
        const viewer = await token(s, 'viewer');
        const url = `${s.base}/api/v1/namespaces/reads.prod/resources/Workload/a`;
        const first = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
        if (first.status !== 200) throw new Error(`GET → ${first.status}`);
        const etag = first.headers.get('etag')!;
        const body = (await first.json()) as object;
        const check304 = await fetch(url, { headers: { authorization: `Bearer ${viewer}`, 'if-none-match': etag } });
        if (check304.status !== 304) throw new Error(`conditional GET → ${check304.status}`);
        // The bare baseline: the same JSON from a plain route, no auth, no schema, no logging.
        bare.get('/resource', async () => body);
        await bare.listen({ port: 0, host: '127.0.0.1' });
        const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/resource`;
        const figs = { bare: [] as CannonFigure[], get200: [] as CannonFigure[], get304: [] as CannonFigure[] };
        // Untimed warm-up of all three (JIT, connection set-up, caches), then the timed rounds.
        await cannon(bareUrl, {}, 2);
        await cannon(url, { authorization: `Bearer ${viewer}` }, 2);
        await cannon(url, { authorization: `Bearer ${viewer}`, 'if-none-match': etag }, 2);
        for (let r = 0; r < rounds; r++) {
          figs.bare.push(await cannon(bareUrl, {}, seconds));
          figs.get200.push(await cannon(url, { authorization: `Bearer ${viewer}` }, seconds));
          figs.get304.push(await cannon(url, { authorization: `Bearer ${viewer}`, 'if-none-match': etag }, seconds));
          const f = (c: CannonFigure) => `${c.rps} req/s (${c.cpu_us_per_req} µs CPU/req, p99 ${c.p99_ms} ms)`;
          log(`  ${dialect} round ${r + 1}: bare ${f(figs.bare.at(-1)!)}, 200 ${f(figs.get200.at(-1)!)}, 304 ${f(figs.get304.at(-1)!)}`);
        }
        const b = medianOf(figs.bare);
        const g2 = medianOf(figs.get200);
        const g3 = medianOf(figs.get304);
        // 304 answers count as non-2xx for autocannon; a 200 run must have none, a 304 run only 304s.
        if (g2.non2xx > 0 || g2.errors > 0 || b.errors > 0 || g3.errors > 0) throw new Error(`non-2xx or errors: ${JSON.stringify({ b, g2, g3 })}`);
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
          ...(watchers ? { watchers } : {}),
        });
      } finally {
        await bare.close();
        await s.close();
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
  // Development aid: `tsx bench/reads.ts [--rounds N] [--seconds S] [--watchers N] [--postgres]`.
  const opt = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const dialects: Dialect[] = process.argv.includes('--postgres') ? ['sqlite', 'postgres'] : ['sqlite'];
  printJsonAndExit(runReadsBench({ dialects, rounds: opt('--rounds', 1), seconds: opt('--seconds', 3), watchers: opt('--watchers', 1000) }));
}
