/**
 * Large-sync benchmark (issue 12, targets 1, 2 and 7): N-file repositories (1k, 10k, 50k Workload
 * files), served over real smart HTTP, synced by a real Syncline (listening on 127.0.0.1, SQLite
 * or PostgreSQL):
 *   first  — the first sync at commit 1 (mirror clone, N creates);
 *   update — a sync to commit 2, which changes every file (N updates);
 *   noop   — a re-sync with nothing changed.
 * Each figure is reported with its per-resource time and this process's peak RSS.
 * During the first sync a prober in its own process (bench/prober.mjs) asks `/healthz` and a
 * cached config GET (a resource of another namespace) every 10 ms, open loop, and reports p50/p99.
 * Every sync's answer is checked (status, summary counts, commit): a fast wrong answer fails.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Deployment } from '../src/contracts/deployments.js';
import { deployment as deploymentSchema } from '../src/contracts/deployments.js';
import { onGitSpawn } from '../src/git/runner.js';
import { getNamespaceRow } from '../src/store/namespaces.js';
import { nowIso } from '../src/store/json.js';
import { applyPlan } from '../src/sync/apply.js';
import { PLAN_STEPS } from '../src/sync/steps.js';
import { makeTestApp, type TestApp } from '../test/helpers/app.js';
import { cleanupTempDirs } from '../test/helpers/git-fixtures.js';
import { startForge } from './webhooks.js';
import { fail as benchFail, git, printJsonAndExit, removeCmdHome, round1 } from './support.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT_DIR = path.dirname(BENCH_DIR);
const WORK_DIR = path.join(BENCH_DIR, '.work');
const REPO_VERSION = 'large-v1';
const NS_PATH = 'services/prod';
const PROBE_PATH = 'probe';

export type Dialect = 'sqlite' | 'postgres';

export interface LargeBenchOptions {
  sizes?: number[];
  dialects?: Dialect[];
  /** Run the concurrent prober during first syncs of at least this many files (default 10,000). */
  probeFrom?: number;
  /**
   * Also time the steps of an update-all sync (back to commit 1) and of a no-change sync after
   * it, one by one (PLAN_STEPS, applyPlan, the response's serialisation): where the time goes.
   */
  profile?: boolean;
  log?: (s: string) => void;
}

export interface SyncFigure {
  ms: number;
  /**
   * CPU time of this process during the sync, every thread (Syncline's main thread, parse
   * workers, the SQLite writer, and the bench's in-process git HTTP front; not child
   * processes): the figure to compare when other work shares the machine.
   */
  cpu_ms: number;
  per_resource_us: number;
  peak_rss_mib: number;
  git_procs: string[];
}

export interface ProbeFigure {
  n: number;
  errors: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** The five slowest probes: [ms after the prober started when it was due, latency ms]. */
  slowest_at_ms?: Array<[number, number]>;
}

export interface LargeCase {
  dialect: Dialect;
  files: number;
  first: SyncFigure;
  update: SyncFigure;
  noop: SyncFigure;
  probe?: { healthz: ProbeFigure; cached_get: ProbeFigure };
  /** Syncline's own event-loop delay during the first sync (perf_hooks histogram, 10 ms resolution), ms. */
  loop_delay?: { p50: number; p99: number; max: number };
  /**
   * The first sync's event-loop stalls by the main thread's own CPU inside each (Linux only): a
   * wall-clock stall on a loaded machine is mostly time the thread was not running; this is the
   * part the code holds the loop for. `top`: [ms after the sync started, CPU ms, wall ms, ms
   * waiting for a CPU].
   */
  loop_stalls?: LoopStalls;
  /** With `profile`: ms per step of a stepwise update-all and no-change sync. */
  steps?: { update: Record<string, number>; noop: Record<string, number> };
}

/** One sync, as syncNamespace does it (without the lock), each step timed; checked like timedSync. */
async function stepwiseSync(t: TestApp, ns: string, ref: string | undefined, files: number, want: { status: string; commit: string }): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  let stepStart = 0;
  const t0 = performance.now();
  const run = await PLAN_STEPS.run(
    { app: t.ctx, namespace: await getNamespaceRow(t.ctx.db.db, ns), requestedRef: ref },
    {
      before: () => (stepStart = performance.now()),
      after: (name) => (times[name] = round1((times[name] ?? 0) + performance.now() - stepStart)),
    },
  );
  let s = performance.now();
  const { deployment: d } = await applyPlan(run, { actor: 'bench', startedAt: nowIso() });
  times.applyPlan = round1(performance.now() - s);
  s = performance.now();
  // What the route then does with it: the response schema's parse and JSON.stringify.
  JSON.stringify(deploymentSchema.parse(d));
  times['response serialisation'] = round1(performance.now() - s);
  times.total = round1(performance.now() - t0);
  if (d.status !== want.status || d.commit !== want.commit || d.results.length !== files) fail(`stepwise sync answered ${d.status} at ${d.commit} with ${d.results.length} results`);
  return times;
}

const fail = (message: string): never => benchFail(`large bench: ${message}`);


function peakRssMiB(): number {
  return round1(process.resourceUsage().maxRSS / 1024);
}


const fileName = (i: number) => `svc-${String(i + 1).padStart(5, '0')}`;

/** A valid Workload at revision `rev` (rev 1 changes every file's port). */
function fileContent(i: number, rev: number, name = fileName(i)): string {
  const lines = [
    'kind: Workload',
    `name: ${name}`,
    'metadata:',
    `  description: Large bench service ${i + 1}`,
    '  labels:',
    `    team: team-${i % 17}`,
    'spec:',
    `  port: ${1024 + ((i * 37 + rev * 101) % 64000)}`,
  ];
  if (i % 7 !== 0) lines.push('  healthcheck:', `    path: /healthz/${name}`);
  if (i % 4 === 1) lines.push('  deploy_strategy: rolling');
  if (i % 5 !== 0) lines.push('  resources:', `    cpu_limit: "${100 + (i % 8) * 50}m"`, `    memory_limit: ${128 * (1 + (i % 8))}Mi`);
  return `${lines.join('\n')}\n`;
}

/** bench/.work/large-v1-<n>/bench.git: commit 1 adds n files (+ the probe namespace's one), commit 2 changes all n. */
async function ensureRepo(n: number, log: (s: string) => void): Promise<{ bare: string; c1: string; c2: string }> {
  const dir = path.join(WORK_DIR, `${REPO_VERSION}-${n}`);
  const bare = path.join(dir, 'bench.git');
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(metaFile)) return { bare, ...(JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { c1: string; c2: string }) };
  log(`  generating a ${n}-file repository …`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const chunks: Buffer[] = [];
  const text = (s: string) => chunks.push(Buffer.from(s));
  const data = (s: string) => {
    const b = Buffer.from(s);
    text(`data ${b.length}\n`);
    chunks.push(b);
    text('\n');
  };
  for (const rev of [0, 1]) {
    text('commit refs/heads/main\n');
    text(`author Bench <bench@example.com> ${1_700_000_000 + rev * 60} +0000\ncommitter Bench <bench@example.com> ${1_700_000_000 + rev * 60} +0000\n`);
    data(rev === 0 ? `add ${n} services\n` : `move every port\n`);
    if (rev === 0) {
      text(`M 100644 inline ${PROBE_PATH}/probe.yaml\n`);
      data(fileContent(0, 0, 'probe-1'));
    }
    for (let i = 0; i < n; i++) {
      text(`M 100644 inline ${NS_PATH}/${fileName(i)}.yaml\n`);
      data(fileContent(i, rev));
    }
    text('\n');
  }
  await git(['fast-import', '--quiet'], { cwd: bare, input: Buffer.concat(chunks) });
  await git(['repack', '-a', '-d', '-q'], { cwd: bare });
  const c2 = await git(['rev-parse', 'refs/heads/main'], { cwd: bare });
  const c1 = await git(['rev-parse', 'refs/heads/main~1'], { cwd: bare });
  fs.writeFileSync(metaFile, JSON.stringify({ c1, c2 }));
  return { bare, c1, c2 };
}

function gitName(args: readonly string[]): string {
  return args[0] ?? '?';
}

/**
 * `answered` runs as soon as the answer is in, before it is joined, parsed and checked: the bench's
 * client shares Syncline's process (inject), and its JSON.parse of a 10,000-result answer (~5 MB)
 * is the client's work, not a stall of the server the prober should see.
 */
/**
 * POSTs over a real socket to the listening app (`base`): the answer is written with the socket's
 * back-pressure as a real client sees it (inject's socket takes every write at once) and only
 * collected here; joining and parsing it waits for `answered`.
 */
function postOverHttp(base: string, urlPath: string, headers: Record<string, string>, payload: object): Promise<{ statusCode: number; chunks: Buffer[] }> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${urlPath}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function timedSync(t: TestApp, ns: string, ref: string | undefined, files: number, want: { status: string; commit: string; summary: Partial<Record<string, number>> }, answered?: () => Promise<void>, base?: string): Promise<SyncFigure> {
  const procs: string[] = [];
  const off = onGitSpawn((info) => procs.push(gitName(info.args)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const url = `/api/v1/namespaces/${ns}/sync-from-git`;
  const payload = ref ? { ref } : {};
  let res: { statusCode: number; chunks: Buffer[] };
  if (base) {
    res = await postOverHttp(base, url, t.auth(), payload);
  } else {
    // As a stream: inject otherwise joins, copies and decodes the whole answer in this process as
    // it ends (~5 MB for 10,000 results), which is a client's work too.
    const injected = await t.app.inject({ method: 'POST', url, headers: t.auth(), payload, payloadAsStream: true });
    const chunks: Buffer[] = [];
    for await (const chunk of injected.stream()) chunks.push(chunk as Buffer);
    res = { statusCode: injected.statusCode, chunks };
  }
  const chunks = res.chunks;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  off();
  await answered?.();
  const body = Buffer.concat(chunks).toString();
  if (res.statusCode !== 200) fail(`sync → ${res.statusCode}: ${body.slice(0, 500)}`);
  const d = JSON.parse(body) as Deployment;
  if (d.status !== want.status || d.commit !== want.commit) fail(`sync answered ${d.status} at ${d.commit}, expected ${want.status} at ${want.commit}`);
  for (const [k, v] of Object.entries(want.summary)) if ((d.summary as unknown as Record<string, number>)[k] !== v) fail(`summary ${JSON.stringify(d.summary)}, expected ${JSON.stringify(want.summary)}`);
  if (d.results.length !== files) fail(`${d.results.length} results, expected ${files}`);
  return { ms: round1(ms), cpu_ms: round1((cpu.user + cpu.system) / 1000), per_resource_us: round1((ms * 1000) / files), peak_rss_mib: peakRssMiB(), git_procs: procs };
}

export interface LoopStalls {
  /** Stalls (heartbeat gaps > 10 ms) in which the main thread ran for more than 20 ms of CPU. */
  over_20ms_cpu: number;
  top: Array<[number, number, number, number]>;
  /**
   * The longest stalls by wall time, same fields. The fourth is the time the thread was runnable
   * but waiting for a CPU (the scheduler); wall − CPU − that is time it was blocked (a
   * synchronous system call, or waiting for GC helper threads).
   */
  top_wall: Array<[number, number, number, number]>;
}

/**
 * A 1 ms heartbeat on this (Syncline's) main thread that reads the thread's CPU time
 * (/proc/self/task/<pid>/schedstat, ns on CPU) at every beat, so each gap between beats is
 * split into CPU spent on this thread and time it was not running. null off Linux.
 */
function startStallMonitor(): { stop(): LoopStalls } | null {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
  } catch {
    return null;
  }
  const buf = Buffer.alloc(128);
  // schedstat: ns on CPU, ns waiting on a run queue (runnable, not running), timeslices.
  const read = (): [number, number] => {
    const f = buf.toString('latin1', 0, fs.readSync(fd, buf, 0, 128, 0)).split(' ');
    return [Number(f[0]), Number(f[1])];
  };
  const t0 = performance.now();
  const stalls: Array<[number, number, number, number]> = [];
  let last = t0;
  let [lastCpu, lastWait] = read();
  const timer = setInterval(() => {
    const now = performance.now();
    const [cpu, wait] = read();
    if (now - last > 10) stalls.push([Math.round(last - t0), round1((cpu - lastCpu) / 1e6), round1(now - last), round1((wait - lastWait) / 1e6)]);
    last = now;
    lastCpu = cpu;
    lastWait = wait;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      fs.closeSync(fd);
      const byWall = [...stalls].sort((a, b) => b[2] - a[2]).slice(0, 5);
      return { over_20ms_cpu: stalls.filter((x) => x[1] > 20).length, top: stalls.sort((a, b) => b[1] - a[1]).slice(0, 5), top_wall: byWall };
    },
  };
}

/** Starts bench/prober.mjs; `stop()` resolves its figures. */
async function startProber(intervalMs: number, token: string, urls: string[]): Promise<{ stop(): Promise<Record<string, ProbeFigure>> }> {
  const child = spawn(process.execPath, [path.join(BENCH_DIR, 'prober.mjs'), String(intervalMs), token, ...urls], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.includes('ready\n') ? resolve() : undefined);
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`prober exited ${code}`)));
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        child.on('exit', () => {
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (!line) reject(new Error(`prober printed no result: ${out}`));
          else resolve(JSON.parse(line) as Record<string, ProbeFigure>);
        });
        child.stdin.end();
      }),
  };
}

const kindBody = (): object => JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'examples/kinds/Workload.json'), 'utf8')) as object;

async function runCase(dialect: Dialect, n: number, server: GitRemote, repoName: string, repo: { c1: string; c2: string }, probe: boolean, profile: boolean, log: (s: string) => void): Promise<LargeCase> {
  const t = await makeTestApp(dialect, {
    settings: { allowed_hosts: ['127.0.0.1'], max_files: Math.max(10_000, n + 10), max_documents: Math.max(20_000, n + 10), max_total_bytes: 1024 * 1024 * 1024, log_level: 'warn' },
  });
  try {
    const calls: Array<[string, string, object]> = [
      ['PUT', '/api/v1/kinds/Workload', kindBody()],
      ['POST', '/api/v1/sources', { name: 'large', url: server.repoUrl(repoName) }],
      ['PUT', '/api/v1/namespaces/large.prod', { source: 'large', branch: 'main', path: NS_PATH }],
      ['PUT', '/api/v1/namespaces/probe.prod', { source: 'large', branch: 'main', path: PROBE_PATH }],
      ['POST', '/api/v1/namespaces/probe.prod/sync-from-git', {}],
    ];
    for (const [method, url, payload] of calls) {
      const r = await t.app.inject({ method: method as 'PUT', url, headers: t.auth(), payload });
      if (r.statusCode >= 300) fail(`${method} ${url} → ${r.statusCode}: ${r.body.slice(0, 300)}`);
    }
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const viewer = await t.token('viewer');
    const getUrl = `${base}/api/v1/namespaces/probe.prod/resources/Workload/probe-1`;
    const warm = await fetch(getUrl, { headers: { authorization: `Bearer ${viewer}` } });
    if (warm.status !== 200) fail(`probe GET → ${warm.status}`);

    const prober = probe ? await startProber(10, viewer, [`${base}/healthz`, getUrl]) : null;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const stallMonitor = probe ? startStallMonitor() : null;
    let loopStalls: LoopStalls | undefined;
    let probed = null as Record<string, ProbeFigure> | null;
    const first = await timedSync(
      t,
      'large.prod',
      repo.c1,
      n,
      { status: 'success', commit: repo.c1, summary: { create: n } },
      async () => {
        delay.disable();
        loopStalls = stallMonitor?.stop();
        probed = prober ? await prober.stop() : null;
      },
      base,
    );
    const loopDelay = { p50: round1(delay.percentile(50) / 1e6), p99: round1(delay.percentile(99) / 1e6), max: round1(delay.max / 1e6) };
    log(`  ${dialect} ${n}: first ${first.ms} ms (${first.per_resource_us} µs/resource)${probed ? `; /healthz p99 ${probed[`${base}/healthz`]!.p99} ms, cached GET p99 ${probed[getUrl]!.p99} ms` : ''}; event-loop delay p99 ${loopDelay.p99} ms, max ${loopDelay.max} ms${loopStalls ? `; longest main-thread stretch ${loopStalls.top[0]?.[1] ?? 0} ms of CPU (${loopStalls.over_20ms_cpu} over 20 ms)` : ''}`);
    const update = await timedSync(t, 'large.prod', undefined, n, { status: 'success', commit: repo.c2, summary: { update: n } });
    log(`  ${dialect} ${n}: update-all ${update.ms} ms (${update.per_resource_us} µs/resource; CPU ${update.cpu_ms} ms)`);
    const noop = await timedSync(t, 'large.prod', undefined, n, { status: 'noop', commit: repo.c2, summary: { noop: n } });
    log(`  ${dialect} ${n}: no-change ${noop.ms} ms (CPU ${noop.cpu_ms} ms) [${noop.git_procs.join(', ')}]`);
    let steps: LargeCase['steps'];
    if (profile) {
      const up = await stepwiseSync(t, 'large.prod', repo.c1, n, { status: 'success', commit: repo.c1 });
      const same = await stepwiseSync(t, 'large.prod', repo.c1, n, { status: 'noop', commit: repo.c1 });
      steps = { update: up, noop: same };
      const show = (x: Record<string, number>) => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
      log(`  ${dialect} ${n}: stepwise update-all: ${show(up)}`);
      log(`  ${dialect} ${n}: stepwise no-change: ${show(same)}`);
    }
    return {
      dialect,
      files: n,
      first,
      update,
      noop,
      ...(probed ? { probe: { healthz: probed[`${base}/healthz`]!, cached_get: probed[getUrl]! } } : {}),
      loop_delay: loopDelay,
      ...(loopStalls ? { loop_stalls: loopStalls } : {}),
      ...(steps ? { steps } : {}),
    };
  } finally {
    await t.close();
  }
}

/** Target 7's population: `namespaces` namespaces × `perNamespace` resources, one source. */
export interface MultiCase {
  dialect: Dialect;
  namespaces: number;
  per_namespace: number;
  /** Every namespace's first sync, one after another: total and per-namespace median / p95 (ms). */
  first: { total_ms: number; median_ms: number; p95_ms: number };
  /** Then a no-change re-sync of every namespace. */
  noop: { total_ms: number; median_ms: number; p95_ms: number };
  peak_rss_mib: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return round1(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN);
};

/** bench/.work/multi-v1-<ns>x<per>/bench.git: one commit, `ns-NNN/svc-NNNNN.yaml` for every namespace. */
async function ensureMultiRepo(namespaces: number, per: number, log: (s: string) => void): Promise<{ bare: string; commit: string }> {
  const dir = path.join(WORK_DIR, `multi-v1-${namespaces}x${per}`);
  const bare = path.join(dir, 'bench.git');
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(metaFile)) return { bare, ...(JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { commit: string }) };
  log(`  generating a ${namespaces} × ${per}-file repository …`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const chunks: Buffer[] = [];
  const text = (t: string) => chunks.push(Buffer.from(t));
  text('commit refs/heads/main\nauthor Bench <bench@example.com> 1700000000 +0000\ncommitter Bench <bench@example.com> 1700000000 +0000\n');
  const msg = Buffer.from(`${namespaces} namespaces of ${per} services\n`);
  text(`data ${msg.length}\n`);
  chunks.push(msg);
  text('\n');
  for (let n = 0; n < namespaces; n++) {
    for (let i = 0; i < per; i++) {
      const body = Buffer.from(fileContent(i, n));
      text(`M 100644 inline ns-${String(n).padStart(3, '0')}/${fileName(i)}.yaml\ndata ${body.length}\n`);
      chunks.push(body);
      text('\n');
    }
  }
  text('\n');
  await git(['fast-import', '--quiet'], { cwd: bare, input: Buffer.concat(chunks) });
  await git(['repack', '-a', '-d', '-q'], { cwd: bare });
  const commit = await git(['rev-parse', 'refs/heads/main'], { cwd: bare });
  fs.writeFileSync(metaFile, JSON.stringify({ commit }));
  return { bare, commit };
}

async function runMultiCase(dialect: Dialect, namespaces: number, per: number, server: GitRemote, repoName: string, commit: string, log: (s: string) => void): Promise<MultiCase> {
  const t = await makeTestApp(dialect, { settings: { allowed_hosts: ['127.0.0.1'], max_total_bytes: 1024 * 1024 * 1024, log_level: 'warn' } });
  try {
    const setup: Array<[string, string, object]> = [
      ['PUT', '/api/v1/kinds/Workload', kindBody()],
      ['POST', '/api/v1/sources', { name: 'multi', url: server.repoUrl(repoName) }],
    ];
    const names = Array.from({ length: namespaces }, (_, n) => `m-${String(n).padStart(3, '0')}.prod`);
    names.forEach((ns, n) => setup.push(['PUT', `/api/v1/namespaces/${ns}`, { source: 'multi', branch: 'main', path: `ns-${String(n).padStart(3, '0')}` }]));
    for (const [method, url, payload] of setup) {
      const r = await t.app.inject({ method: method as 'PUT', url, headers: t.auth(), payload });
      if (r.statusCode >= 300) fail(`${method} ${url} → ${r.statusCode}: ${r.body.slice(0, 300)}`);
    }
    const round = async (want: { status: string; summary: Partial<Record<string, number>> }) => {
      const times: number[] = [];
      const t0 = performance.now();
      for (const ns of names) times.push((await timedSync(t, ns, undefined, per, { ...want, commit })).ms);
      return { total_ms: round1(performance.now() - t0), median_ms: quantile(times, 0.5), p95_ms: quantile(times, 0.95) };
    };
    const first = await round({ status: 'success', summary: { create: per } });
    log(`  ${dialect} ${namespaces}×${per}: first syncs ${first.total_ms} ms in all, median ${first.median_ms} ms, p95 ${first.p95_ms} ms`);
    const noop = await round({ status: 'noop', summary: { noop: per } });
    log(`  ${dialect} ${namespaces}×${per}: no-change re-syncs ${noop.total_ms} ms in all, median ${noop.median_ms} ms, p95 ${noop.p95_ms} ms`);
    return { dialect, namespaces, per_namespace: per, first, noop, peak_rss_mib: peakRssMiB() };
  } finally {
    await t.close();
  }
}

/** Target 7: 100 namespaces × 1,000 resources on one source, SQLite and PostgreSQL side by side. */
export async function runMultiBench(opts: { namespaces?: number; perNamespace?: number; dialects?: Dialect[]; log?: (s: string) => void } = {}): Promise<MultiCase[]> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const namespaces = opts.namespaces ?? 100;
  const per = opts.perNamespace ?? 1000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-multi-'));
  const server = await gitRemote(root);
  const cases: MultiCase[] = [];
  try {
    const repo = await ensureMultiRepo(namespaces, per, log);
    fs.cpSync(repo.bare, path.join(root, 'multi.git'), { recursive: true });
    for (const dialect of opts.dialects ?? ['sqlite', 'postgres']) cases.push(await runMultiCase(dialect, namespaces, per, server, 'multi', repo.commit, log));
  } finally {
    await cleanUp(server, root);
  }
  return cases;
}

/** Where the bench's repositories are served. */
interface GitRemote {
  repoUrl(name: string): string;
  close(): Promise<void>;
}

/**
 * `git http-backend` over smart HTTP in a process of its own (bench/git-server.ts, as the webhooks
 * bench does): in-process, the forge's request handling and CGI spawns ran on the event loop of
 * the Syncline being probed, and the first sync's clone showed up as the prober's slowest probes.
 */
async function gitRemote(root: string): Promise<GitRemote> {
  const forge = await startForge(root);
  return { repoUrl: (name) => `${forge.url}/${name}.git`, close: () => forge.close() };
}

/** Stops the bench's git server and removes what the run wrote. */
async function cleanUp(server: { close(): Promise<void> }, root: string): Promise<void> {
  await server.close().catch(() => undefined);
  await cleanupTempDirs().catch(() => undefined);
  removeCmdHome();
  fs.rmSync(root, { recursive: true, force: true });
}

export async function runLargeBench(opts: LargeBenchOptions = {}): Promise<LargeCase[]> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const sizes = opts.sizes ?? [1000, 10_000, 50_000];
  const dialects = opts.dialects ?? ['sqlite'];
  const probeFrom = opts.probeFrom ?? 10_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-large-'));
  const server = await gitRemote(root);
  const cases: LargeCase[] = [];
  try {
    for (const n of sizes) {
      const repo = await ensureRepo(n, log);
      const name = `large-${n}`;
      fs.cpSync(repo.bare, path.join(root, `${name}.git`), { recursive: true });
      for (const dialect of dialects) cases.push(await runCase(dialect, n, server, name, repo, n >= probeFrom, opts.profile ?? false, log));
    }
  } finally {
    await cleanUp(server, root);
  }
  return cases;
}

// `tsx bench/large.ts 10000` runs one size on its own (development aid; `npm run bench -- --only scale` is the real entry).
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const multi = process.argv.find((a) => /^\d+x\d+$/.test(a));
  const dialects: Dialect[] = process.argv.includes('--pg-only') ? ['postgres'] : process.argv.includes('--postgres') ? ['sqlite', 'postgres'] : ['sqlite'];
  if (multi) {
    // `tsx bench/large.ts 100x1000 [--postgres|--pg-only]`: target 7's population alone.
    const [nsCount, per] = multi.split('x').map(Number) as [number, number];
    printJsonAndExit(runMultiBench({ namespaces: nsCount, perNamespace: per, dialects }));
  } else {
    const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
    printJsonAndExit(
      runLargeBench({ sizes: sizes.length ? sizes : [10_000], dialects, probeFrom: 0, profile: process.argv.includes('--profile') }),
      (r) => r.map((c) => ({ ...c, first: { ...c.first, git_procs: undefined } })),
    );
  }
}
