/**
 * Mirror serving benchmark: bare clones through Syncline's smart-HTTP plugin, side by side with
 *  - `git clone --no-local file://…` — the floor: a real pack transfer over pipes, no HTTP;
 *  - `git http-backend` behind a minimal node:http CGI server — the reference implementation.
 *
 * Two repositories, generated once and cached under bench/.work/repos:
 *  - `small`: 5,000 files and 2,000 commits (many objects, small pack);
 *  - `large`: ≥ 50 MiB of random, incompressible blobs (few objects, big pack).
 *
 * Syncline runs in a child process (bench/mirror-server.ts), a fresh one per repository, so its
 * peak RSS (VmHWM) can be compared between the two: streaming means it must not grow with the
 * size of the repository.
 *
 * Syncline runs with its clone cache (src/mirror/pack-cache.ts) as the server does by default, and
 * is measured twice: `syncline` (cache hit: the warm-up cloned the same tips) and `synclineCold`
 * (the cache emptied right before each sample: first requests; with 8 clients, one runs git and
 * the others wait for its answer). Both are reported and judged; nothing else differs.
 *
 * Targets (printed, not asserted): a single bare clone within 1.15× of file://; with 8 concurrent
 * clients no slower than the reference server; peak RSS independent of repository size.
 *
 * Partial clones (the `partial` case, on `small`): `git clone --filter=blob:none --no-checkout`,
 * `git checkout` (one lazy fetch of every blob of HEAD) and `git log -p -n 20` (one lazy fetch of
 * old blobs per commit), Syncline against http-backend on the same bare repository, prepared as a
 * mirror update leaves it (`maintainMirror`: one pack, reachability bitmaps). Every lazy fetch
 * goes through Syncline's reachability check; the target is to be no slower than http-backend,
 * which checks nothing.
 *
 *   npx tsx bench/mirror.ts [--runs=5] [--concurrent-runs=3] [--max-concurrent=8] [--cases=clone,partial] [--repos=small,large]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { COMPLETE_MARKER, maintainMirror } from '../src/git/index.js';
import { cleanupTempDirs, serveGitHttp } from '../test/helpers/git-fixtures.js';
import { mulberry32 } from '../test/helpers/prng.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export type BenchRepoName = 'small' | 'large';
/** `syncline`: answered from its clone cache (warm); `synclineCold`: the cache emptied before each sample (first requests). */
export type BenchServer = 'file' | 'reference' | 'syncline' | 'synclineCold';
export type BenchCase = 'clone' | 'partial';

export interface MirrorBenchOptions {
  /** Cache and scratch directory. Default bench/.work. */
  workDir?: string;
  /** Timed runs per (server, repo) with one client. Default 5. */
  runs?: number;
  /** Timed runs per (server, repo) with `clients` concurrent clients. Default 3. */
  concurrentRuns?: number;
  /** Client counts to measure. Default [1, 8]. */
  clients?: number[];
  repos?: BenchRepoName[];
  /**
   * Syncline's concurrency limit (upload-packs at once). Default 8, the server's default
   * `mirror_max_concurrent` setting; the plugin's own fallback is 2 × CPUs.
   */
  maxConcurrent?: number;
  /** Which measurements. Default both: bare clones (every repo) and partial clones (`small`). */
  cases?: BenchCase[];
  /** Timed runs of the partial-clone case per server. Default 3. */
  partialRuns?: number;
  /** Where progress and the result table go. Default console.log. */
  log?: (line: string) => void;
}

/** One step of the partial-clone case, per server. */
export interface PartialRow {
  step: 'clone --filter=blob:none' | 'checkout' | 'log -p -n 20';
  /** Median wall time in ms. */
  medianMs: Record<'reference' | 'syncline', number>;
  samplesMs: Record<'reference' | 'syncline', number[]>;
  /** syncline / reference, of the medians. */
  ratio: number;
  /** Median of the per-run ratios (each run times both servers back to back): steadier on a busy machine. */
  pairedRatio: number;
}

export interface BenchRow {
  repo: BenchRepoName;
  clients: number;
  /** Median wall time in ms until all clients finished, per server. */
  medianMs: Record<BenchServer, number>;
  samplesMs: Record<BenchServer, number[]>;
}

export interface MirrorBenchResult {
  cpus: number;
  /** 1-minute load average before and after the run: other work on the machine skews everything. */
  load: { before: number; after: number };
  maxConcurrent: number;
  repos: Record<BenchRepoName, { packBytes: number; objects: number; files: number; commits: number } | undefined>;
  rows: BenchRow[];
  /** Syncline server process memory per repo, in bytes. */
  rss: Partial<Record<BenchRepoName, { startRss: number; peakRss: number }>>;
  /** Syncline's ratios with its clone cache warm (vsFile, vsReference) and emptied before each sample (…Cold). */
  ratios: Array<{ repo: BenchRepoName; clients: number; vsFile: number; vsReference: number; vsFileCold: number; vsReferenceCold: number }>;
  /** Syncline's clone-cache counters per repo at the end (hits, misses, stored, coalesced, …). */
  cacheStats: Partial<Record<BenchRepoName, Record<string, number> | null>>;
  /** The partial-clone case (on `small`), when run. */
  partial: PartialRow[];
}

// ---------------------------------------------------------------------------------------------
// repositories

interface RepoSpec {
  name: BenchRepoName;
  version: string;
  build(dir: string): Promise<void>;
}

const SMALL_FILES = 5000;
const SMALL_COMMITS = 2000;
const LARGE_FILES = 64;
const LARGE_FILE_BYTES = 1 << 20;

const REPOS: Record<BenchRepoName, RepoSpec> = {
  small: { name: 'small', version: `small-v1-${SMALL_FILES}-${SMALL_COMMITS}`, build: buildSmall },
  large: { name: 'large', version: `large-v1-${LARGE_FILES}x${LARGE_FILE_BYTES}`, build: buildLarge },
};

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

function smallFile(path: string, rnd: () => number, revision: number): string {
  const pick = () => WORDS[Math.floor(rnd() * WORDS.length)] as string;
  const lines = [
    `kind: Config`,
    `name: ${path.replace(/[/.]/g, '-')}`,
    `revision: ${revision}`,
    `spec:`,
    `  replicas: ${1 + Math.floor(rnd() * 9)}`,
    `  image: registry.example.test/${pick()}-${pick()}:1.${Math.floor(rnd() * 200)}`,
    `  env:`,
  ];
  const envCount = 3 + Math.floor(rnd() * 8);
  for (let i = 0; i < envCount; i++) lines.push(`    - { name: ${pick().toUpperCase()}_${i}, value: "${pick()} ${pick()} ${Math.floor(rnd() * 1e6)}" }`);
  return `${lines.join('\n')}\n`;
}

function dataCmd(content: string | Buffer): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  return Buffer.concat([Buffer.from(`data ${body.length}\n`), body, Buffer.from('\n')]);
}

function commitHeader(mark: number, time: number, message: string): Buffer {
  return Buffer.concat([
    Buffer.from(`commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.test> ${time} +0000\n`),
    dataCmd(message),
  ]);
}

async function buildSmall(dir: string): Promise<void> {
  const rnd = mulberry32(42);
  const paths: string[] = [];
  for (let d = 0; d < SMALL_FILES / 50; d++) {
    for (let f = 0; f < 50; f++) paths.push(`services/svc-${String(d).padStart(3, '0')}/config-${String(f).padStart(2, '0')}.yaml`);
  }
  const parts: Buffer[] = [];
  const t0 = 1_700_000_000;
  parts.push(commitHeader(1, t0, 'initial import\n'));
  for (const p of paths) parts.push(Buffer.from(`M 100644 inline ${p}\n`), dataCmd(smallFile(p, rnd, 0)));
  parts.push(Buffer.from('\n'));
  for (let c = 2; c <= SMALL_COMMITS; c++) {
    parts.push(commitHeader(c, t0 + c * 60, `change ${c}\n`));
    const changes = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < changes; i++) {
      const p = paths[Math.floor(rnd() * paths.length)] as string;
      parts.push(Buffer.from(`M 100644 inline ${p}\n`), dataCmd(smallFile(p, rnd, c)));
    }
    parts.push(Buffer.from('\n'));
    if (c % 100 === 0) parts.push(Buffer.from(`reset refs/tags/v0.${c / 100}\nfrom :${c}\n\n`));
  }
  parts.push(Buffer.from('done\n'));
  await fastImport(dir, Buffer.concat(parts));
  await git(dir, ['repack', '-a', '-d', '-f', '-q']);
}

async function buildLarge(dir: string): Promise<void> {
  const parts: Buffer[] = [];
  const perCommit = LARGE_FILES / 4;
  for (let c = 1; c <= 4; c++) {
    parts.push(commitHeader(c, 1_700_000_000 + c * 60, `blobs ${c}\n`));
    parts.push(Buffer.from(`M 100644 inline README.md\n`), dataCmd(`large bench repo, commit ${c}\n`));
    for (let i = 0; i < perCommit; i++) {
      parts.push(Buffer.from(`M 100644 inline blobs/${c}/${i}.bin\n`), dataCmd(randomBytes(LARGE_FILE_BYTES)));
    }
    parts.push(Buffer.from('\n'));
  }
  parts.push(Buffer.from('done\n'));
  await fastImport(dir, Buffer.concat(parts));
  await git(dir, ['repack', '-a', '-d', '-q']);
}

async function ensureRepo(root: string, spec: RepoSpec, log: (l: string) => void): Promise<string> {
  const dir = join(root, `${spec.name}.git`);
  const stamp = join(dir, 'syncline-bench-version');
  if (existsSync(join(dir, COMPLETE_MARKER)) && (await readFile(stamp, 'utf8').catch(() => '')) === spec.version) return dir;
  log(`generating ${spec.name} repo in ${dir} …`);
  const started = performance.now();
  await rm(dir, { recursive: true, force: true });
  await git(root, ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  await spec.build(dir);
  await git(dir, ['pack-refs', '--all']);
  await git(dir, ['commit-graph', 'write', '--reachable']);
  await writeFile(stamp, spec.version);
  // The plugin serves only complete mirrors.
  await writeFile(join(dir, COMPLETE_MARKER), `${JSON.stringify({ completed_at: new Date().toISOString() })}\n`);
  log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

async function describeRepo(dir: string): Promise<{ packBytes: number; objects: number; files: number; commits: number }> {
  const counts = await git(dir, ['count-objects', '-v']);
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(counts)?.[1] ?? 0);
  return {
    packBytes: get('size-pack') * 1024,
    objects: get('in-pack'),
    files: Number(await git(dir, ['ls-tree', '-r', '--name-only', 'HEAD']).then((o) => o.split('\n').length)),
    commits: Number(await git(dir, ['rev-list', '--count', '--all'])),
  };
}

// ---------------------------------------------------------------------------------------------
// processes

let clientHome: string | undefined;

function cleanEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: clientHome,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}

function run(cmd: string, args: string[], opts: { cwd: string; input?: Buffer }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(Buffer.concat(out).toString('utf8').trim());
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}): ${err.slice(-2000)}`));
    });
    child.stdin.end(opts.input);
  });
}

function git(cwd: string, args: string[]): Promise<string> {
  return run('git', args, { cwd });
}

function fastImport(dir: string, stream: Buffer): Promise<string> {
  return run('git', ['fast-import', '--quiet', '--done'], { cwd: dir, input: stream });
}

interface SynclineChild {
  child: ChildProcess;
  port: number;
  /** Empties the clone cache (the next clone is a first request); resolves with its counters. */
  clearCache(): Promise<Record<string, number> | null>;
  cacheStats(): Promise<Record<string, number> | null>;
  stop(): Promise<void>;
}

async function startSyncline(mirrors: Record<string, string>, maxConcurrent: number, cacheDir: string): Promise<SynclineChild> {
  await rm(cacheDir, { recursive: true, force: true });
  const child = fork(join(HERE, 'mirror-server.ts'), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: {
      ...process.env,
      SYNCLINE_BENCH_MIRRORS: JSON.stringify(mirrors),
      SYNCLINE_BENCH_MAX_CONCURRENT: String(maxConcurrent),
      SYNCLINE_BENCH_PACK_CACHE: cacheDir,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('message', (m: { port?: number }) => (m.port ? resolvePort(m.port) : reject(new Error('no port'))));
    child.once('exit', (code) => reject(new Error(`syncline bench server exited (${code})`)));
  });
  const ask = (cmd: string) =>
    new Promise<Record<string, number> | null>((resolveStats) => {
      child.once('message', (m: { stats?: Record<string, number> | null }) => resolveStats(m.stats ?? null));
      child.send({ cmd });
    });
  return {
    child,
    port,
    clearCache: () => ask('clear-cache'),
    cacheStats: () => ask('cache-stats'),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function procStatus(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---------------------------------------------------------------------------------------------
// measuring

async function cloneOnce(url: string, dest: string, cwd: string): Promise<void> {
  await run('git', ['clone', '--bare', '--quiet', ...(url.startsWith('file://') ? ['--no-local'] : []), url, dest], { cwd });
}

let cloneSeq = 0;

const PARTIAL_STEPS: PartialRow['step'][] = ['clone --filter=blob:none', 'checkout', 'log -p -n 20'];

/** Wall time in ms of each partial-clone step against `url`. */
async function partialOnce(url: string, scratch: string): Promise<number[]> {
  const dest = join(scratch, `partial-${cloneSeq++}`);
  const steps: Array<[string[], string]> = [
    [['clone', '--quiet', '--filter=blob:none', '--no-checkout', url, dest], scratch],
    // Every blob of HEAD, in one lazy fetch.
    [['checkout', '--quiet', 'main'], dest],
    // Old versions of the files each commit touched: one lazy fetch per commit.
    [['log', '-p', '-n', '20', '--format=%H'], dest],
  ];
  const times: number[] = [];
  for (const [args, cwd] of steps) {
    const started = performance.now();
    await run('git', args, { cwd });
    times.push(performance.now() - started);
  }
  await rm(dest, { recursive: true, force: true });
  return times;
}

/** Wall time in ms for `clients` bare clones of `url` started together. */
async function measure(url: string, clients: number, scratch: string): Promise<number> {
  const dests = Array.from({ length: clients }, () => join(scratch, `clone-${cloneSeq++}.git`));
  const started = performance.now();
  await Promise.all(dests.map((d) => cloneOnce(url, d, scratch)));
  const elapsed = performance.now() - started;
  await Promise.all(dests.map((d) => rm(d, { recursive: true, force: true })));
  return elapsed;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const SERVERS: BenchServer[] = ['file', 'reference', 'syncline', 'synclineCold'];

export async function runMirrorBench(opts: MirrorBenchOptions = {}): Promise<MirrorBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const workDir = resolve(opts.workDir ?? join(HERE, '.work'));
  const repoRoot = join(workDir, 'repos');
  const scratch = join(workDir, 'clones');
  clientHome = join(workDir, 'home');
  await mkdir(repoRoot, { recursive: true });
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await mkdir(clientHome, { recursive: true });

  const cases = opts.cases ?? ['clone', 'partial'];
  const partialRuns = opts.partialRuns ?? 3;
  const runs = opts.runs ?? 5;
  const concurrentRuns = opts.concurrentRuns ?? 3;
  const clientCounts = opts.clients ?? [1, 8];
  const repoNames = opts.repos ?? ['small', 'large'];
  // The clone case runs on every repo; the partial case on `small` (many files, long history).
  const cloneRepos = cases.includes('clone') ? repoNames : [];
  const needed = [...new Set<BenchRepoName>([...cloneRepos, ...(cases.includes('partial') ? (['small'] as const) : [])])];

  const result: MirrorBenchResult = {
    cpus: availableParallelism(),
    load: { before: loadavg()[0] ?? 0, after: 0 },
    maxConcurrent: opts.maxConcurrent ?? 8,
    repos: { small: undefined, large: undefined },
    rows: [],
    rss: {},
    ratios: [],
    cacheStats: {},
    partial: [],
  };

  const dirs: Partial<Record<BenchRepoName, string>> = {};
  for (const name of needed) {
    const dir = await ensureRepo(repoRoot, REPOS[name], log);
    // As a mirror update leaves it: one pack with reachability bitmaps (what Syncline's check
    // reads; http-backend and file:// serve the very same files). Partial clones allowed for the
    // reference server too (Syncline passes the same setting in its environment).
    await maintainMirror(dir);
    await git(dir, ['config', 'uploadpack.allowFilter', 'true']);
    dirs[name] = dir;
    result.repos[name] = await describeRepo(dir);
  }

  const reference = await serveGitHttp(repoRoot);
  try {
    if (cases.includes('partial')) {
      result.partial = await measurePartial(dirs.small as string, reference, scratch, partialRuns, opts.maxConcurrent ?? 8, join(workDir, 'mirror-cache'), log);
    }
    for (const name of cloneRepos) {
      const dir = dirs[name] as string;
      const syncline = await startSyncline({ [name]: dir }, opts.maxConcurrent ?? 8, join(workDir, 'mirror-cache'));
      try {
        const startRss = (await procStatus(syncline.child.pid as number)).rss;
        const urls: Record<BenchServer, string> = {
          file: pathToFileURL(dir).href,
          reference: reference.repoUrl(name),
          syncline: `http://127.0.0.1:${syncline.port}/git/${name}.git`,
          synclineCold: `http://127.0.0.1:${syncline.port}/git/${name}.git`,
        };
        log(`\n${name}: warming up …`);
        // The warm-up fills Syncline's clone cache: its `syncline` samples are cache hits.
        for (const server of SERVERS) await measure(urls[server], 1, scratch);

        for (const clients of clientCounts) {
          const samples: Record<BenchServer, number[]> = { file: [], reference: [], syncline: [], synclineCold: [] };
          const n = clients === 1 ? runs : concurrentRuns;
          for (let i = 0; i < n; i++) {
            // Rotate the order so drift (page cache, thermal) does not favour one server.
            const order = SERVERS.map((_, k) => SERVERS[(k + i) % SERVERS.length] as BenchServer);
            for (const server of order) {
              // First requests: the cache emptied (no entry, nothing in flight) right before.
              if (server === 'synclineCold') await syncline.clearCache();
              samples[server].push(await measure(urls[server], clients, scratch));
            }
          }
          const row: BenchRow = {
            repo: name,
            clients,
            medianMs: {
              file: median(samples.file),
              reference: median(samples.reference),
              syncline: median(samples.syncline),
              synclineCold: median(samples.synclineCold),
            },
            samplesMs: samples,
          };
          result.rows.push(row);
          result.ratios.push({
            repo: name,
            clients,
            vsFile: row.medianMs.syncline / row.medianMs.file,
            vsReference: row.medianMs.syncline / row.medianMs.reference,
            vsFileCold: row.medianMs.synclineCold / row.medianMs.file,
            vsReferenceCold: row.medianMs.synclineCold / row.medianMs.reference,
          });
          log(
            `  ${clients} client(s): file ${fmtMs(row.medianMs.file)}  reference ${fmtMs(row.medianMs.reference)}  syncline ${fmtMs(row.medianMs.syncline)} (cache hit)  ${fmtMs(row.medianMs.synclineCold)} (cold)  load ${(loadavg()[0] ?? 0).toFixed(1)}`,
          );
        }
        const status = await procStatus(syncline.child.pid as number);
        result.rss[name] = { startRss, peakRss: status.hwm };
        result.cacheStats[name] = await syncline.cacheStats();
      } finally {
        await syncline.stop();
      }
    }
  } finally {
    await reference.close();
    await cleanupTempDirs();
    await rm(scratch, { recursive: true, force: true });
  }

  result.load.after = loadavg()[0] ?? 0;
  printReport(result, log);
  return result;
}

async function measurePartial(
  dir: string,
  reference: Awaited<ReturnType<typeof serveGitHttp>>,
  scratch: string,
  runs: number,
  maxConcurrent: number,
  cacheDir: string,
  log: (l: string) => void,
): Promise<PartialRow[]> {
  // With the clone cache as the server runs it: the filtered clone is a cache hit after the
  // warm-up; the lazy fetches (wants by id) are never cached and go through the reachability check.
  const syncline = await startSyncline({ small: dir }, maxConcurrent, cacheDir);
  try {
    const urls = { reference: reference.repoUrl('small'), syncline: `http://127.0.0.1:${syncline.port}/git/small.git` };
    const servers = ['reference', 'syncline'] as const;
    log('\npartial clone (small): warming up …');
    for (const server of servers) await partialOnce(urls[server], scratch);
    const samples = PARTIAL_STEPS.map(() => ({ reference: [] as number[], syncline: [] as number[] }));
    for (let i = 0; i < runs; i++) {
      for (const server of i % 2 ? [...servers].reverse() : servers) {
        const times = await partialOnce(urls[server], scratch);
        times.forEach((t, k) => samples[k]![server].push(t));
      }
    }
    return PARTIAL_STEPS.map((step, k) => {
      const s = samples[k]!;
      const medianMs = { reference: median(s.reference), syncline: median(s.syncline) };
      log(`  ${step}: http-backend ${fmtMs(medianMs.reference)}  syncline ${fmtMs(medianMs.syncline)}`);
      const pairedRatio = median(s.syncline.map((v, i) => v / (s.reference[i] as number)));
      return { step, medianMs, samplesMs: s, ratio: medianMs.syncline / medianMs.reference, pairedRatio };
    });
  } finally {
    await syncline.stop();
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function fmtBytes(b: number): string {
  return `${(b / (1 << 20)).toFixed(1)} MiB`;
}

function printReport(r: MirrorBenchResult, log: (l: string) => void): void {
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  log(`\nMirror clone benchmark — bare clones, median wall time (${r.cpus} CPUs, ${cpuModel}; syncline maxConcurrent ${r.maxConcurrent})`);
  const busiest = Math.max(r.load.before, r.load.after);
  log(`  load average before/after: ${r.load.before.toFixed(1)} / ${r.load.after.toFixed(1)}${busiest > r.cpus ? '  ⚠ machine busy: numbers are unreliable' : ''}`);
  for (const [name, info] of Object.entries(r.repos)) {
    if (info) log(`  ${name}: ${info.files} files, ${info.commits} commits, ${info.objects} objects, pack ${fmtBytes(info.packBytes)}`);
  }
  const header = ['repo', 'clients', 'file://', 'http-backend', 'syncline hit', 'syncline cold', 'hit/file', 'hit/backend', 'cold/file', 'cold/backend'];
  const rows = r.rows.map((row) => {
    const ratio = r.ratios.find((x) => x.repo === row.repo && x.clients === row.clients);
    return [
      row.repo,
      String(row.clients),
      fmtMs(row.medianMs.file),
      fmtMs(row.medianMs.reference),
      fmtMs(row.medianMs.syncline),
      fmtMs(row.medianMs.synclineCold),
      `${ratio?.vsFile.toFixed(2)}×`,
      `${ratio?.vsReference.toFixed(2)}×`,
      `${ratio?.vsFileCold.toFixed(2)}×`,
      `${ratio?.vsReferenceCold.toFixed(2)}×`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  if (rows.length) {
    log('');
    log(line(header));
    log(line(widths.map((w) => '-'.repeat(w))));
    for (const row of rows) log(line(row));
  }

  if (r.partial.length) {
    log('\nPartial clone of small (--filter=blob:none; lazy fetches through the reachability check), median wall time:');
    const ph = ['step', 'http-backend', 'syncline', 'syncline/backend', 'per-run ratio (median)'];
    const prow = r.partial.map((p) => [p.step, fmtMs(p.medianMs.reference), fmtMs(p.medianMs.syncline), `${p.ratio.toFixed(2)}×`, `${p.pairedRatio.toFixed(2)}×`]);
    const pw = ph.map((h, i) => Math.max(h.length, ...prow.map((row) => (row[i] ?? '').length)));
    const pline = (cells: string[]) => cells.map((c, i) => c.padEnd(pw[i] ?? 0)).join('  ');
    log(pline(ph));
    log(pline(pw.map((w) => '-'.repeat(w))));
    for (const row of prow) log(pline(row));
  }

  if (Object.keys(r.rss).length) log('\nSyncline server process memory (fresh process per repo):');
  for (const [name, m] of Object.entries(r.rss)) {
    if (m) log(`  ${name}: RSS after start ${fmtBytes(m.startRss)}, peak (VmHWM) ${fmtBytes(m.peakRss)}`);
  }
  const small = r.rss.small;
  const large = r.rss.large;
  for (const [name, stats] of Object.entries(r.cacheStats)) {
    if (stats) log(`  ${name}: clone cache ${JSON.stringify(stats)}`);
  }
  log('\nTargets (Syncline with its clone cache warm, i.e. a clone of tips cloned before; and cold, the first clone after an update):');
  for (const x of r.ratios.filter((x) => x.clients === 1)) {
    log(`  ${x.repo}, 1 client, cache hit: syncline/file ${x.vsFile.toFixed(2)}× (target ≤ 1.15×) ${x.vsFile <= 1.15 ? 'met' : 'MISSED'}`);
    log(`  ${x.repo}, 1 client, cold: syncline/file ${x.vsFileCold.toFixed(2)}× (target ≤ 1.15×) ${x.vsFileCold <= 1.15 ? 'met' : 'MISSED'}`);
  }
  for (const x of r.ratios.filter((x) => x.clients > 1)) {
    log(
      `  ${x.repo}, ${x.clients} clients, cache hit: syncline/http-backend ${x.vsReference.toFixed(2)}× (target ≤ 1.00×) ${x.vsReference <= 1 ? 'met' : 'MISSED'}`,
    );
    log(
      `  ${x.repo}, ${x.clients} clients, cold: syncline/http-backend ${x.vsReferenceCold.toFixed(2)}× (target ≤ 1.00×) ${x.vsReferenceCold <= 1 ? 'met' : 'MISSED'}`,
    );
  }
  for (const p of r.partial.filter((x) => x.step !== 'clone --filter=blob:none')) {
    log(`  partial clone, ${p.step}: syncline/http-backend ${p.pairedRatio.toFixed(2)}× per run (target ≤ 1.00×) ${p.pairedRatio <= 1 ? 'met' : 'MISSED'}`);
  }
  if (small && large) {
    const ratio = large.peakRss / small.peakRss;
    log(`  peak RSS large/small: ${ratio.toFixed(2)}× (target: flat, pack is ${fmtBytes(r.repos.large?.packBytes ?? 0)}) ${ratio <= 1.2 ? 'met' : 'MISSED'}`);
  }
}

// ---------------------------------------------------------------------------------------------

function argValue(name: string): number | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : undefined;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const list = (name: string): string[] | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(',');
  runMirrorBench({
    runs: argValue('runs'),
    concurrentRuns: argValue('concurrent-runs'),
    maxConcurrent: argValue('max-concurrent'),
    partialRuns: argValue('partial-runs'),
    cases: list('cases') as BenchCase[] | undefined,
    repos: list('repos') as BenchRepoName[] | undefined,
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
