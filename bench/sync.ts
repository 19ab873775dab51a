/**
 * Sync benchmark (issue 3, "Benchmark"): Syncline's git sync against what a naive server would do.
 *
 * A generated repository (2,000 commits, 1,000 `Workload` spec files under `services/prod`) is
 * served over real smart HTTP (`git http-backend`) on 127.0.0.1 by a child process (bench/forge.ts:
 * its request handling and CGI spawns stay off the measured event loop, as a real forge's would;
 * the baseline clones from the same forge). Syncline runs in-process on
 * SQLite (a real Fastify app driven with `app.inject`) and we measure, over N runs:
 *   (a) first sync — fresh data dir, so the mirror clone is included;
 *   (b) re-sync with no change upstream;
 *   (c) sync after one new upstream commit that changes one file.
 * Each Syncline run is interleaved with the naive baseline: `git clone --depth 1 --branch main`
 * over the same HTTP server into a temp dir, then reading and YAML-parsing all 1,000 files. The
 * judged baseline clones under os.tmpdir() (the filesystem Syncline's data dir is on); when
 * /dev/shm is a tmpfs the same baseline is also run there and reported, not judged, since on a
 * slow disk the checkout's 1,000 file writes dominate the clone.
 * Every sync's answer is checked (status, commit, summary counts, the changed field) and the
 * bench throws on any mismatch: a fast wrong answer is not a result.
 *
 * `profile: true` adds a diagnostic pass that runs the exported sync steps one by one (timing
 * each, plus the git processes each spawns) for (b) and (c), so we know where the time goes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { LineCounter, parseAllDocuments } from 'yaml';
import { onGitSpawn } from '../src/git/runner.js';
import { buildPlan } from '../src/plan/plan.js';
import type { Deployment } from '../src/contracts/deployments.js';
import { deployment as deploymentSchema } from '../src/contracts/deployments.js';
import { parseSpecFiles } from '../src/specs/parse.js';
import { nowIso } from '../src/store/json.js';
import { withLock } from '../src/store/locks.js';
import { listResources } from '../src/store/resources.js';
import { applyPlan } from '../src/sync/apply.js';
import { loadKindRegistry } from '../src/sync/kind-registry.js';
import { syncNamespace } from '../src/sync/service.js';
// Only PLAN_STEPS itself: the profile follows whatever the step list is today.
import { PLAN_STEPS } from '../src/sync/steps.js';
import { getNamespaceRow } from '../src/store/namespaces.js';
// Neither helper imports vitest (checked): makeTestApp is src/ + pg, git-fixtures is node: only.
import { makeTestApp, type TestApp } from '../test/helpers/app.js';
import { cleanupTempDirs } from '../test/helpers/git-fixtures.js';
import { startForge, type ForgeProcess } from './forge.js';
import { fail, git, removeCmdHome, round1 } from './support.js';

// ---------------------------------------------------------------------------------------------
// parameters

/** Bump when the generator changes: the cached repo under bench/.work/ is keyed by it. */
const REPO_VERSION = 'sync-repo-v1';
const FILE_COUNT = 1000;
const COMMIT_COUNT = 2000;
const NS_PATH = 'services/prod';
const BRANCH = 'main';
const REPO_NAME = 'bench';
const SOURCE = 'bench';
const NAMESPACE = 'bench.prod';
const BASE_TIME = 1_700_000_000;

const TARGET_RATIO = 10;
const TARGET_MS = 150;
/** Git processes a no-change re-sync may start (the fetch negotiation included). */
const TARGET_PROCS_NOCHANGE = 2;

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT_DIR = path.dirname(BENCH_DIR);
const WORK_DIR = path.join(BENCH_DIR, '.work');
const RESULTS_FILE = path.join(WORK_DIR, 'sync-results.json');

export interface SyncBenchOptions {
  /** Timed runs per scenario (default 5). */
  runs?: number;
  /** Also run the per-step diagnostic profile of (b) and (c). */
  profile?: boolean;
}


// ---------------------------------------------------------------------------------------------
// small utilities

interface Stats {
  samples: number[];
  median: number;
  min: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { samples: samples.map(round1), median: round1(median), min: round1(sorted[0] ?? NaN), max: round1(sorted[n - 1] ?? NaN) };
}

function median(samples: number[]): number {
  return stats(samples).median;
}


function mib(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

function rssMiB(): number {
  return mib(process.memoryUsage().rss);
}

/** process.resourceUsage().maxRSS is in KiB. */
function peakRssMiB(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

const TMPFS_MAGIC = 0x01021994;

function fsType(dir: string): string {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC ? 'tmpfs' : 'not tmpfs';
  } catch {
    return 'unknown';
  }
}

/** A fresh dir on /dev/shm when that is a writable tmpfs (and the normal temp dir is not). */
function tmpfsDir(): string | null {
  if (fsType(os.tmpdir()) === 'tmpfs') return null;
  try {
    if (fs.statfsSync('/dev/shm').type !== TMPFS_MAGIC) return null;
    return fs.mkdtempSync('/dev/shm/syncline-bench-');
  } catch {
    return null;
  }
}


// ---------------------------------------------------------------------------------------------
// the generated repository

interface WorkloadDoc {
  kind: 'Workload';
  name: string;
  metadata: { description: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

function fileName(i: number): string {
  return `svc-${String(i + 1).padStart(4, '0')}`;
}

function filePath(i: number): string {
  return `${NS_PATH}/${fileName(i)}.yaml`;
}

/** Port of file `i` at revision `rev`: successive revisions always differ (101 ∤ 64000). */
function portFor(i: number, rev: number): number {
  return 1024 + ((i * 37 + rev * 101) % 64000);
}

/**
 * Spec file `i` at revision `rev` (how many times it was changed). Varied on purpose: optional
 * blocks present or not, `deploy_strategy` as `rolling`, `recreate`, `""` (≡ recreate) or absent,
 * so normalisation is exercised and a false drift would show up as an update in (b).
 */
function fileContent(i: number, rev: number): string {
  const name = fileName(i);
  const strategies = ['rolling', 'recreate', '""', null] as const;
  const strategy = strategies[i % 4];
  const lines = [
    `# ${name}: generated by bench/sync.ts (revision ${rev})`,
    'kind: Workload',
    `name: ${name}`,
    'metadata:',
    `  description: Benchmark service ${i + 1}`,
    '  labels:',
    `    team: team-${i % 17}`,
    `    tier: ${i % 3 === 0 ? 'frontend' : 'backend'}`,
    'spec:',
    `  port: ${portFor(i, rev)}`,
  ];
  if (i % 7 !== 0) {
    lines.push('  healthcheck:', `    path: /healthz/${name}`);
    if (i % 2 === 0) lines.push(`    interval_seconds: ${5 + (i % 30)}`);
  }
  if (strategy !== null) lines.push(`  deploy_strategy: ${strategy}`);
  if (i % 5 !== 0) {
    lines.push('  resources:', `    cpu_limit: "${100 + (i % 8) * 50}m"`, `    memory_limit: ${128 * (1 + (i % 8))}Mi`);
  }
  if (i % 3 !== 1) lines.push(`  max_instances: ${1 + (i % 12)}`);
  return `${lines.join('\n')}\n`;
}

/** Revision of every file at the tip of the generated history (commit k ≥ 2 changes file (k-2) mod N). */
function generatedRevisions(): number[] {
  const revs = new Array<number>(FILE_COUNT).fill(0);
  for (let c = 1; c < COMMIT_COUNT; c++) revs[(c - 1) % FILE_COUNT]! += 1;
  return revs;
}

class FastImport {
  private chunks: Buffer[] = [];
  private text(s: string): void {
    this.chunks.push(Buffer.from(s, 'utf8'));
  }
  private data(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.text(`data ${b.length}\n`);
    this.chunks.push(b);
    this.text('\n');
  }
  commit(opts: { time: number; message: string; from?: string; files: Array<[string, string]> }): void {
    this.text(`commit refs/heads/${BRANCH}\n`);
    this.text(`author Bench Author <author@bench.example> ${opts.time} +0000\n`);
    this.text(`committer Bench Committer <committer@bench.example> ${opts.time} +0000\n`);
    this.data(opts.message);
    if (opts.from) this.text(`from ${opts.from}\n`);
    for (const [p, content] of opts.files) {
      this.text(`M 100644 inline ${p}\n`);
      this.data(content);
    }
    this.text('\n');
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface RepoMeta {
  version: string;
  head: string;
  commits: number;
  files: number;
  pack_bytes: number;
  generated_in_ms: number;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

/**
 * The cached bare repo `bench/.work/<version>/bench.git`, generated once with one fast-import:
 * commit 1 adds all files (plus a README outside the namespace path), commits 2..2000 change one
 * file each. `meta.json` is written last and marks the cache complete.
 */
async function ensureRepo(log: (s: string) => void): Promise<{ bareDir: string; meta: RepoMeta }> {
  const cacheDir = path.join(WORK_DIR, REPO_VERSION);
  const bareDir = path.join(cacheDir, `${REPO_NAME}.git`);
  const metaFile = path.join(cacheDir, 'meta.json');
  if (fs.existsSync(metaFile)) {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as RepoMeta;
    if (meta.version === REPO_VERSION) return { bareDir, meta };
  }
  log(`generating ${COMMIT_COUNT} commits × ${FILE_COUNT} files into ${path.relative(ROOT_DIR, cacheDir)} …`);
  const t0 = performance.now();
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(WORK_DIR, `.tmp-${REPO_VERSION}-`));
  try {
    const tmpBare = path.join(tmp, `${REPO_NAME}.git`);
    await git(['init', '--quiet', '--bare', `--initial-branch=${BRANCH}`, tmpBare]);
    const fi = new FastImport();
    const first: Array<[string, string]> = [['README.md', '# Benchmark repository\n\nGenerated by bench/sync.ts.\n']];
    for (let i = 0; i < FILE_COUNT; i++) first.push([filePath(i), fileContent(i, 0)]);
    fi.commit({ time: BASE_TIME, message: `add ${FILE_COUNT} services\n`, files: first });
    const revs = new Array<number>(FILE_COUNT).fill(0);
    for (let c = 1; c < COMMIT_COUNT; c++) {
      const i = (c - 1) % FILE_COUNT;
      revs[i]! += 1;
      fi.commit({ time: BASE_TIME + c * 60, message: `${fileName(i)}: move to port ${portFor(i, revs[i]!)}\n`, files: [[filePath(i), fileContent(i, revs[i]!)]] });
    }
    await git(['fast-import', '--quiet'], { cwd: tmpBare, input: fi.buffer() });
    // fast-import's packs are not delta-optimised; a real forge's repo would be gc'd.
    await git(['repack', '-a', '-d', '-f', '-q'], { cwd: tmpBare });
    await git(['commit-graph', 'write', '--reachable'], { cwd: tmpBare });

    const head = await git(['rev-parse', `refs/heads/${BRANCH}`], { cwd: tmpBare });
    const commits = Number(await git(['rev-list', '--count', head], { cwd: tmpBare }));
    const files = (await git(['ls-tree', '-r', '--name-only', head, '--', NS_PATH], { cwd: tmpBare })).split('\n').filter(Boolean).length;
    if (commits !== COMMIT_COUNT || files !== FILE_COUNT) fail(`generated repo has ${commits} commits and ${files} files`);
    const meta: RepoMeta = {
      version: REPO_VERSION,
      head,
      commits,
      files,
      pack_bytes: dirBytes(path.join(tmpBare, 'objects')),
      generated_in_ms: Math.round(performance.now() - t0),
    };
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.renameSync(tmpBare, bareDir);
    fs.writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    log(`generated in ${meta.generated_in_ms} ms (objects ${mib(meta.pack_bytes)} MiB)`);
    return { bareDir, meta };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The served copy of the cached repo; (c) pushes go here, never into the cache. */
class Upstream {
  readonly revs = generatedRevisions();
  private pushes = 0;
  private time = BASE_TIME + COMMIT_COUNT * 60;
  constructor(readonly bareDir: string, public head: string) {}

  /** One new commit on main changing one file's port (as a push would). */
  async pushOneChange(): Promise<{ commit: string; file: string; name: string; from: number; to: number }> {
    const i = (this.pushes * 389 + 17) % FILE_COUNT;
    this.pushes += 1;
    this.time += 60;
    const from = portFor(i, this.revs[i]!);
    this.revs[i]! += 1;
    const to = portFor(i, this.revs[i]!);
    const fi = new FastImport();
    fi.commit({
      time: this.time,
      message: `${fileName(i)}: move to port ${to}\n`,
      from: `refs/heads/${BRANCH}^0`,
      files: [[filePath(i), fileContent(i, this.revs[i]!)]],
    });
    await git(['fast-import', '--quiet'], { cwd: this.bareDir, input: fi.buffer() });
    const commit = await git(['rev-parse', `refs/heads/${BRANCH}`], { cwd: this.bareDir });
    if (commit === this.head) fail('push did not move the branch');
    this.head = commit;
    return { commit, file: filePath(i), name: fileName(i), from, to };
  }
}

// ---------------------------------------------------------------------------------------------
// Syncline

interface Summary {
  create: number;
  update: number;
  delete: number;
  noop: number;
  invalid: number;
}

const kindBody = (): unknown => JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'examples/kinds/Workload.json'), 'utf8'));

async function startSyncline(repoUrl: string): Promise<TestApp> {
  const t = await makeTestApp('sqlite', { settings: { allowed_hosts: ['127.0.0.1'] } });
  try {
    const calls: Array<[string, string, unknown, number]> = [
      ['PUT', '/api/v1/kinds/Workload', kindBody(), 200],
      ['POST', '/api/v1/sources', { name: SOURCE, url: repoUrl }, 201],
      ['PUT', `/api/v1/namespaces/${NAMESPACE}`, { source: SOURCE, branch: BRANCH, path: NS_PATH }, 200],
    ];
    for (const [method, url, payload, want] of calls) {
      const r = await t.app.inject({ method: method as 'PUT' | 'POST', url, headers: t.auth(), payload: payload as object });
      if (r.statusCode !== want) fail(`${method} ${url} → ${r.statusCode} (want ${want}): ${r.body.slice(0, 1000)}`);
    }
    return t;
  } catch (err) {
    await t.close();
    throw err;
  }
}

/**
 * One timed POST sync-from-git. `cpuMs` is this process's user+system CPU over the call (git
 * children and the forge excluded): less sensitive to a busy machine
 * than wall time.
 */
async function timedSync(
  t: TestApp,
  ref?: string,
): Promise<{ ms: number; cpuMs: number; deployment: Deployment; bytes: number; procs: string[]; network: number; requests: number }> {
  const procs: string[] = [];
  const off = onGitSpawn((info) => procs.push(gitCmdName(info.args)));
  const seen = await upstreamRequests();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/namespaces/${NAMESPACE}/sync-from-git`,
    headers: t.auth(),
    payload: ref ? { ref } : {},
  });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  off();
  if (res.statusCode !== 200) fail(`sync-from-git → HTTP ${res.statusCode}: ${res.body.slice(0, 2000)}`);
  const { network, requests } = networkOf(seen, await upstreamRequests());
  return { ms, cpuMs: (c.user + c.system) / 1000, deployment: res.json() as Deployment, bytes: res.rawPayload.length, procs, network, requests };
}

interface ForgeCounts {
  fetches: number;
  requests: number;
}

/** What the forge has served so far (set once it runs; asked outside timed windows). */
let upstreamRequests: () => Promise<ForgeCounts> = async () => ({ fetches: 0, requests: 0 });

/**
 * Network fetches of one sync: the pack negotiations the forge served (a clone's, git fetch's or
 * Syncline's own protocol-v2 `fetch` request); `requests` is every HTTP request the forge
 * received (ls-refs included).
 */
function networkOf(before: ForgeCounts, after: ForgeCounts): { network: number; requests: number } {
  return { network: after.fetches - before.fetches, requests: after.requests - before.requests };
}

interface Expectation {
  status: 'success' | 'noop';
  commit: string;
  summary: Summary;
  /** The one changed resource in (c). */
  change?: { name: string; file: string; from: number; to: number };
}

function summaryOf(partial: Partial<Summary>): Summary {
  return { create: 0, update: 0, delete: 0, noop: 0, invalid: 0, ...partial };
}

function checkDeployment(scenario: string, d: Deployment, want: Expectation): void {
  const where = `(${scenario}) deployment ${d.id ?? '?'}`;
  if (d.status !== want.status) fail(`${where}: status '${d.status}', expected '${want.status}'`);
  if (d.commit !== want.commit) fail(`${where}: commit ${d.commit}, expected ${want.commit}`);
  for (const k of Object.keys(want.summary) as (keyof Summary)[]) {
    if (d.summary[k] !== want.summary[k]) fail(`${where}: summary ${JSON.stringify(d.summary)}, expected ${JSON.stringify(want.summary)}`);
  }
  if (d.results.length !== FILE_COUNT) fail(`${where}: ${d.results.length} results, expected ${FILE_COUNT}`);
  // Applied operations report `success`; noops are `skipped` (src/sync/results.ts appliedStatus).
  const counts = summaryOf({});
  for (const r of d.results) {
    const expected = r.operation === 'noop' ? 'skipped' : 'success';
    if (r.status !== expected) fail(`${where}: ${r.operation} of ${r.kind}/${r.name} has status '${r.status}' (expected '${expected}'): ${r.message}`);
    if (r.kind !== 'Workload') fail(`${where}: unexpected result kind ${r.kind}/${r.name}`);
    counts[r.operation as keyof Summary] += 1;
  }
  if (JSON.stringify(counts) !== JSON.stringify(want.summary)) fail(`${where}: results count ${JSON.stringify(counts)}, expected ${JSON.stringify(want.summary)}`);
  if (want.change) {
    const c = want.change;
    const updated = d.results.filter((r) => r.operation === 'update');
    const r = updated[0];
    if (updated.length !== 1 || !r || r.name !== c.name || r.file !== c.file) {
      fail(`${where}: expected exactly ${c.name} (${c.file}) updated, got ${JSON.stringify(updated.map((u) => [u.name, u.file]))}`);
    }
    const changes = JSON.stringify(r.changes);
    const expected = JSON.stringify([{ path: '/spec/port', from: c.from, to: c.to }]);
    if (changes !== expected) fail(`${where}: changes ${changes}, expected ${expected}`);
  }
}

/** Reads one live resource back through the API (not timed) to confirm the write landed. */
async function checkLivePort(t: TestApp, name: string, port: number): Promise<void> {
  const r = await t.app.inject({ method: 'GET', url: `/api/v1/namespaces/${NAMESPACE}/resources/Workload/${name}`, headers: t.auth() });
  if (r.statusCode !== 200) fail(`GET resource ${name} → ${r.statusCode}: ${r.body.slice(0, 500)}`);
  const spec = (r.json() as { spec: { port: number } }).spec;
  if (spec.port !== port) fail(`live ${name} has port ${spec.port}, expected ${port}`);
}

// ---------------------------------------------------------------------------------------------
// the naive baseline

let cloneSeq = 0;

/**
 * What a naive server does on every sync: a fresh shallow clone of the ref over the same HTTP
 * server, then read every spec file under the namespace path and parse it with `yaml`. Cleanup
 * of the clone is not timed (in the baseline's favour).
 */
async function timedBaseline(repoUrl: string, tmpRoot: string, want: { commit: string; change?: { file: string; to: number } }): Promise<{ ms: number; cloneMs: number }> {
  const dir = path.join(tmpRoot, `clone-${process.pid}-${cloneSeq++}`);
  const t0 = performance.now();
  await git(['clone', '--depth', '1', '--branch', BRANCH, '-q', repoUrl, dir]);
  const cloneMs = performance.now() - t0;
  const nsDir = path.join(dir, NS_PATH);
  const names = (await fsp.readdir(nsDir, { recursive: true })).filter((n) => /\.ya?ml$/i.test(n));
  const parsed = await Promise.all(
    names.map(async (n) => {
      const text = await fsp.readFile(path.join(nsDir, n), 'utf8');
      const docs = parseAllDocuments(text);
      if (!Array.isArray(docs)) return { file: `${NS_PATH}/${n}`, values: [] as unknown[], errors: 0 };
      return { file: `${NS_PATH}/${n}`, values: docs.map((d) => d.toJS() as unknown), errors: docs.reduce((s, d) => s + d.errors.length, 0) };
    }),
  );
  const ms = performance.now() - t0;
  try {
    const docs = parsed.flatMap((p) => p.values) as Array<{ kind?: string; spec?: { port?: number } }>;
    const errors = parsed.reduce((s, p) => s + p.errors, 0);
    if (docs.length !== FILE_COUNT || errors > 0 || docs.some((d) => d.kind !== 'Workload')) {
      fail(`baseline read ${docs.length} documents (${errors} YAML errors), expected ${FILE_COUNT} Workloads`);
    }
    const head = await git(['rev-parse', 'HEAD'], { cwd: dir });
    if (head !== want.commit) fail(`baseline cloned ${head}, expected ${want.commit}`);
    if (want.change) {
      const changed = parsed.find((p) => p.file === want.change!.file);
      const port = (changed?.values[0] as { spec?: { port?: number } } | undefined)?.spec?.port;
      if (port !== want.change.to) fail(`baseline saw port ${port} in ${want.change.file}, expected ${want.change.to}`);
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
  return { ms, cloneMs };
}

// ---------------------------------------------------------------------------------------------
// profile (diagnostic): the steps of (b) and (c) timed one by one


interface GitCall {
  step: string;
  cmd: string;
  at: number;
}

interface StepwiseResult {
  times: Record<string, number>;
  /** Row order: lock, PLAN_STEPS…, applyPlan, publish. */
  order: string[];
  deployment: Deployment;
  gitMs: Record<string, number>;
  gitCount: Record<string, number>;
}

/** The current content of every spec file upstream (from the generator's model, not from git). */
function upstreamFiles(upstream: Upstream): Array<{ path: string; content: Buffer }> {
  return upstream.revs.map((rev, i) => ({ path: filePath(i), content: Buffer.from(fileContent(i, rev), 'utf8') }));
}

/**
 * One stepwise sync, as syncNamespace does it: lock → each of PLAN_STEPS (whatever the list is
 * today) → applyPlan → publish, each timed. Then, still under the lock, reference measurements of
 * the uncached work on the same content (`ref:` rows), so a cache's saving is visible.
 */
async function stepwiseSync(ctx: TestApp['ctx'], calls: GitCall[], upstream: Upstream): Promise<StepwiseResult> {
  const times: Record<string, number> = {};
  const stepEnds: Record<string, [number, number]> = {};
  const order = ['lock', ...PLAN_STEPS.names, 'applyPlan', 'publish'];
  let current = 'lock';
  const off = onGitSpawn((info) => calls.push({ step: current, cmd: gitCmdName(info.args), at: performance.now() }));
  const first = calls.length;
  const tStart = performance.now();
  let deployment!: Deployment;
  try {
    await withLock(ctx.db, `namespace:${NAMESPACE}`, 30_000, async () => {
      times.lock = performance.now() - tStart;
      let stepStart = 0;
      const run = await PLAN_STEPS.run(
        { app: ctx, namespace: await getNamespaceRow(ctx.db.db, NAMESPACE), requestedRef: undefined },
        {
          before: (name) => {
            current = name;
            stepStart = performance.now();
          },
          after: (name) => {
            const end = performance.now();
            times[name] = (times[name] ?? 0) + (end - stepStart);
            stepEnds[name] = [stepStart, end];
          },
        },
      );
      if (run.plan.summary.invalid > 0) fail(`profile: ${run.plan.summary.invalid} invalid documents`);
      current = 'applyPlan';
      const t0 = performance.now();
      const out = await applyPlan(run, { actor: 'bench', startedAt: nowIso() });
      times.applyPlan = performance.now() - t0;
      deployment = out.deployment;
      const t1 = performance.now();
      ctx.events.publish(out.events);
      times.publish = performance.now() - t1;
      current = 'ref';

      // References: the uncached work, measured separately on the same content.
      const files = upstreamFiles(upstream);
      let s = performance.now();
      const registry = await loadKindRegistry(ctx.db.db);
      times['ref: loadKindRegistry'] = performance.now() - s;
      s = performance.now();
      const parsed = parseSpecFiles(files, { registry });
      times[`ref: parseSpecFiles, all ${FILE_COUNT} files, no cache`] = performance.now() - s;
      if (parsed.documents.length !== FILE_COUNT || parsed.invalid.length) fail(`profile: reference parse gave ${parsed.documents.length} documents, ${parsed.invalid.length} invalid`);
      s = performance.now();
      for (const f of files) {
        parseAllDocuments(f.content.toString('utf8'), { schema: 'core', customTags: [], uniqueKeys: true, strict: true, prettyErrors: true, lineCounter: new LineCounter() });
      }
      times[`ref: yaml parseAllDocuments only, ${FILE_COUNT} files`] = performance.now() - s;
      s = performance.now();
      const live = await listResources(ctx.db.db, NAMESPACE);
      times['ref: listResources'] = performance.now() - s;
      s = performance.now();
      buildPlan({
        desired: parsed.documents,
        invalid: parsed.invalid,
        live: live.map((r) => ({ kind: r.kind, name: r.name, spec: r.spec as never, metadata: r.metadata, managed_fields: r.managed_fields, hash: r.hash })),
        registry,
        prune: run.namespace!.prune === 1,
      });
      times[`ref: buildPlan, all ${FILE_COUNT} documents`] = performance.now() - s;
    });
  } finally {
    off();
  }
  times.total = order.reduce((sum, k) => sum + (times[k] ?? 0), 0);

  // Each git process's share: from its spawn to the next spawn in the same step, or the step's end.
  // (Sequential calls, so this is the process time plus the JS between calls.)
  const gitMs: Record<string, number> = {};
  const gitCount: Record<string, number> = {};
  const mine = calls.slice(first);
  mine.forEach((c, k) => {
    const next = mine[k + 1];
    const end = next && next.step === c.step ? next.at : (stepEnds[c.step]?.[1] ?? c.at);
    const key = `${c.step}: git ${c.cmd}`;
    gitMs[key] = (gitMs[key] ?? 0) + (end - c.at);
    gitCount[key] = (gitCount[key] ?? 0) + 1;
  });
  return { times, order, deployment, gitMs, gitCount };
}

function gitCmdName(args: readonly string[]): string {
  const sub = args[0] ?? '?';
  if (sub === 'config') return `config ${args.includes('--get') ? '--get' : 'set'}`;
  if (sub === 'rev-parse' || sub === 'symbolic-ref' || sub === 'merge-base' || sub === 'commit-graph') return `${sub} ${args.slice(1).filter((a) => a.startsWith('-')).join(' ')}`.trim();
  return sub;
}

type ProfileKey = 'b' | 'b2' | 'c';
const PROFILE_KEYS: ProfileKey[] = ['b', 'b2', 'c'];
const PROFILE_LABELS: Record<ProfileKey, string> = {
  b: '(b) re-sync, steady',
  b2: '(b2) 1st re-sync after change',
  c: '(c) 1-file commit',
};

interface ProfileResult {
  runs: number;
  /** PLAN_STEPS as run (function names). */
  plan_steps: string[];
  /** Step → scenario → median ms. */
  steps: Record<string, Record<ProfileKey, number>>;
  /** `step: git command` → scenario → median ms and count per sync. */
  git: Record<string, Record<ProfileKey, { ms: number; n: number }>>;
  direct_sync: Record<ProfileKey, Stats>;
  http_sync: Record<ProfileKey, Stats>;
  /** The route's response serialiser (zod safeParse + JSON.stringify) on the direct result. */
  serialize: Record<ProfileKey, Stats>;
  response_bytes: number;
}

/**
 * Per round: a new upstream commit, then (c) the sync that applies it, (b2) the first re-sync
 * after it, (b) one more re-sync — once stepwise, once through syncNamespace() directly, once
 * through HTTP. (b2) and (b) differ when something is memoised against the live state.
 */
async function runProfile(t: TestApp, upstream: Upstream, runs: number, log: (s: string) => void): Promise<ProfileResult> {
  log(`  PLAN_STEPS today: ${PLAN_STEPS.names.join(' → ')}`);
  const calls: GitCall[] = [];
  const empty = <T>(): Record<ProfileKey, T[]> => ({ b: [], b2: [], c: [] });
  const stepwise = empty<StepwiseResult>();
  const direct = empty<number>();
  const http = empty<number>();
  const ser = empty<number>();
  let bytes = 0;
  const serialize = serializerCompiler({ schema: deploymentSchema, method: 'POST', url: '/sync-from-git' } as never) as (d: unknown) => string;
  const timeSerialize = (d: Deployment): number => {
    const t0 = performance.now();
    serialize(d);
    return performance.now() - t0;
  };
  const noop = (): Expectation => ({ status: 'noop', commit: upstream.head, summary: summaryOf({ noop: FILE_COUNT }) });
  const changed = (p: Awaited<ReturnType<Upstream['pushOneChange']>>): Expectation => ({
    status: 'success',
    commit: p.commit,
    summary: summaryOf({ update: 1, noop: FILE_COUNT - 1 }),
    change: p,
  });

  await stepwiseSync(t.ctx, calls, upstream); // warm-up
  for (let r = 0; r < runs; r++) {
    let p = await upstream.pushOneChange();
    for (const key of PROFILE_KEYS.slice().reverse()) {
      const sw = await stepwiseSync(t.ctx, calls, upstream);
      checkDeployment(`profile ${key}`, sw.deployment, key === 'c' ? changed(p) : noop());
      stepwise[key].push(sw);
    }
    p = await upstream.pushOneChange();
    for (const key of PROFILE_KEYS.slice().reverse()) {
      const t0 = performance.now();
      const d = await syncNamespace(t.ctx, NAMESPACE, undefined, 'bench');
      direct[key].push(performance.now() - t0);
      checkDeployment(`profile ${key} direct`, d, key === 'c' ? changed(p) : noop());
      ser[key].push(timeSerialize(d));
    }
    p = await upstream.pushOneChange();
    for (const key of PROFILE_KEYS.slice().reverse()) {
      const h = await timedSync(t);
      http[key].push(h.ms);
      bytes = h.bytes;
      checkDeployment(`profile ${key} http`, h.deployment, key === 'c' ? changed(p) : noop());
    }
  }

  const order = stepwise.b[0]!.order;
  const refKeys = Object.keys(stepwise.b[0]!.times).filter((k) => k.startsWith('ref: '));
  const steps: ProfileResult['steps'] = {};
  for (const k of [...order, 'total', ...refKeys]) {
    steps[k] = { b: 0, b2: 0, c: 0 };
    for (const key of PROFILE_KEYS) steps[k]![key] = median(stepwise[key].map((x) => x.times[k] ?? 0));
  }
  const rank = (step: string): number => {
    const i = order.indexOf(step);
    return i < 0 ? order.length : i;
  };
  const gitKeys = [...new Set(PROFILE_KEYS.flatMap((key) => stepwise[key].flatMap((x) => Object.keys(x.gitMs))))];
  gitKeys.sort((x, y) => rank(x.split(':')[0]!) - rank(y.split(':')[0]!) || x.localeCompare(y));
  const git: ProfileResult['git'] = {};
  for (const k of gitKeys) {
    const row = {} as Record<ProfileKey, { ms: number; n: number }>;
    for (const key of PROFILE_KEYS) {
      row[key] = { ms: median(stepwise[key].map((x) => x.gitMs[k] ?? 0)), n: median(stepwise[key].map((x) => x.gitCount[k] ?? 0)) };
    }
    git[k] = row;
  }
  const statsOf = (m: Record<ProfileKey, number[]>): Record<ProfileKey, Stats> => ({ b: stats(m.b), b2: stats(m.b2), c: stats(m.c) });
  return {
    runs,
    plan_steps: PLAN_STEPS.names,
    steps,
    git,
    direct_sync: statsOf(direct),
    http_sync: statsOf(http),
    serialize: statsOf(ser),
    response_bytes: bytes,
  };
}

function printProfile(p: ProfileResult, log: (s: string) => void): void {
  const W = 46;
  const C = 14;
  const head = (first: string) => `${first.padEnd(W)}${PROFILE_KEYS.map((k) => `${k} ms`.padStart(C - 6) + 'share'.padStart(6)).join('')}`;
  log('');
  log(`Profile — medians of ${p.runs} stepwise syncs each (syncNamespace's steps called one by one):`);
  log(`  ${PROFILE_KEYS.map((k) => `${k} = ${PROFILE_LABELS[k]}`).join('; ')}`);
  log(head('step'));
  for (const [k, v] of Object.entries(p.steps)) {
    const plain = k.startsWith('ref: ') || k === 'total';
    const cells = PROFILE_KEYS.map((key) => {
      const total = p.steps.total?.[key] ?? NaN;
      const share = plain ? '' : `${Math.round((v[key] / total) * 100)}%`;
      return v[key].toFixed(1).padStart(C - 6) + share.padStart(6);
    });
    log(`${k.padEnd(W)}${cells.join('')}`);
  }
  log('  (ref: rows are not part of the sync: the uncached work re-measured separately on the same content, for scale)');
  log('');
  log('git processes per sync: n, and ms = spawn to next spawn in the step, or step end (medians)');
  log(`${'step: command'.padEnd(W)}${PROFILE_KEYS.map((k) => `${k} n`.padStart(6) + `${k} ms`.padStart(C - 6)).join('')}`);
  const totals: Record<ProfileKey, number> = { b: 0, b2: 0, c: 0 };
  for (const [k, v] of Object.entries(p.git)) {
    for (const key of PROFILE_KEYS) totals[key] += v[key].n;
    log(`${k.padEnd(W)}${PROFILE_KEYS.map((key) => String(v[key].n).padStart(6) + v[key].ms.toFixed(1).padStart(C - 6)).join('')}`);
  }
  log(`${'total git processes'.padEnd(W)}${PROFILE_KEYS.map((key) => String(totals[key]).padStart(6) + ''.padStart(C - 6)).join('')}`);
  log('');
  log('whole sync, same app (medians, ms):');
  log(`  ${'syncNamespace() direct'.padEnd(W - 2)}${PROFILE_KEYS.map((k) => p.direct_sync[k].median.toFixed(1).padStart(C)).join('')}`);
  log(`  ${'POST sync-from-git (app.inject)'.padEnd(W - 2)}${PROFILE_KEYS.map((k) => p.http_sync[k].median.toFixed(1).padStart(C)).join('')}`);
  log(`  ${'response serialisation (zod + JSON.stringify)'.padEnd(W - 2)}${PROFILE_KEYS.map((k) => p.serialize[k].median.toFixed(1).padStart(C)).join('')}`);
  log(`  (response body ${Math.round(p.response_bytes / 1024)} KiB: ${FILE_COUNT} results)`);
}

// ---------------------------------------------------------------------------------------------
// the bench

/**
 * (b) is the steady re-sync (after a warm-up re-sync); (b2) is the first re-sync right after a
 * sync that applied a change — both are "a re-sync with no change" and both are judged.
 */
type ScenarioKey = 'a' | 'b' | 'b2' | 'c';

interface ScenarioResult {
  name: string;
  syncline: Stats;
  /** Node-process CPU ms per Syncline sync (see timedSync). */
  syncline_cpu: Stats;
  /** Git processes started per sync (median, max) and the commands of the last run. */
  git_procs: { median: number; max: number; last: string[] };
  /** Network fetches (pack negotiations the forge served: a clone, git fetch, or Syncline's own fetch request) per sync, max over runs. */
  network_max: number;
  /** HTTP requests the upstream received per sync (an ls-refs request included), max over runs. */
  requests_max: number;
  baseline: Stats;
  /** The `git clone --depth 1` part of the baseline (the rest is read + yaml parse). */
  baseline_clone: Stats;
  /** The same baseline with the clone on tmpfs (not judged; shows how much is disk). */
  baseline_tmpfs?: Stats;
  ratio_tmpfs?: number;
  ratio: number;
  target: string | null;
  pass: boolean | null;
}

export interface SyncBenchResult {
  version: string;
  started_at: string;
  runs: number;
  machine: {
    cpus: number;
    cpu_model: string;
    node: string;
    git: string;
    loadavg_start: number[];
    loadavg_end: number[];
    /** Where Syncline's data dir and the judged baseline's clones live. */
    temp_dir: string;
    tmpfs_dir: string | null;
  };
  repo: RepoMeta & { url: string };
  scenarios: Record<ScenarioKey, ScenarioResult>;
  /** (d) sync naming a commit already in the mirror. */
  named_commit: { ms: number; git_procs: string[]; network: number; requests: number; pass: boolean };
  memory: {
    rss_before_mib: number;
    rss_after_mib: number;
    peak_rss_mib: number;
    peak_rss_after_setup_mib: number;
    peak_rss_after_scenario_mib: Record<'a' | 'b' | 'c', number>;
  };
  response_bytes: number;
  profile?: ProfileResult;
}

export async function runSyncBench(opts: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const runs = opts.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer (got ${runs})`);
  const log = (s: string): void => console.log(s);
  const rssBefore = rssMiB();
  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg().map(round1);

  log(`== sync bench: ${COMMIT_COUNT} commits, ${FILE_COUNT} Workload files in ${NS_PATH}, ${runs} runs per scenario ==`);
  const { bareDir: cachedBare, meta } = await ensureRepo(log);

  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-bench-'));
  const shmRoot = tmpfsDir();
  const servedRoot = path.join(tmpRoot, 'upstream');
  const servedBare = path.join(servedRoot, `${REPO_NAME}.git`);
  fs.mkdirSync(servedRoot);
  fs.cpSync(cachedBare, servedBare, { recursive: true });
  const upstream = new Upstream(servedBare, meta.head);

  let server: ForgeProcess | undefined;
  const apps: TestApp[] = [];
  try {
    server = await startForge(servedRoot);
    const served = server;
    upstreamRequests = async () => {
      const { fetches, requests } = await served.stats();
      return { fetches, requests };
    };
    const repoUrl = `${server.url}/${REPO_NAME}.git`;
    const peakAfterSetup = peakRssMiB();
    const peaks = { a: 0, b: 0, c: 0 };
    const sync = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const cpu = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const base = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const baseClone = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const baseShm = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const procs = { a: [] as string[][], b: [] as string[][], b2: [] as string[][], c: [] as string[][] };
    const network = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const requests = { a: [] as number[], b: [] as number[], b2: [] as number[], c: [] as number[] };
    const record = (key: ScenarioKey, sample: { procs: string[]; network: number; requests: number }): void => {
      procs[key].push(sample.procs);
      network[key].push(sample.network);
      requests[key].push(sample.requests);
    };
    let responseBytes = 0;
    /**
     * The baseline for one run: a clone into a temp dir under os.tmpdir() (same filesystem as
     * Syncline's data dir; this is the judged one) and, when a tmpfs is at hand, the same into
     * tmpfs, reported alongside because checkout writes dominate a clone on a slow disk.
     */
    const runBaseline = async (key: ScenarioKey | null, want: Parameters<typeof timedBaseline>[2]) => {
      const b = await timedBaseline(repoUrl, tmpRoot, want);
      const shm = shmRoot ? await timedBaseline(repoUrl, shmRoot, want) : null;
      if (key) {
        base[key].push(b.ms);
        baseClone[key].push(b.cloneMs);
        if (shm) baseShm[key].push(shm.ms);
      }
      return b;
    };

    // (a) first sync: a fresh Syncline (new data dir, so no mirror) per run.
    log(`(a) first sync …`);
    let t: TestApp | undefined;
    for (let r = 0; r < runs; r++) {
      if (t) {
        apps.splice(apps.indexOf(t), 1);
        await t.close();
      }
      t = await startSyncline(repoUrl);
      apps.push(t);
      const s = await timedSync(t);
      checkDeployment('a', s.deployment, { status: 'success', commit: upstream.head, summary: summaryOf({ create: FILE_COUNT }) });
      sync.a.push(s.ms);
      cpu.a.push(s.cpuMs);
      record('a', s);
      await runBaseline('a', { commit: upstream.head });
      log(`    run ${r + 1}: Syncline ${s.ms.toFixed(0)} ms, baseline ${base.a.at(-1)!.toFixed(0)} ms`);
    }
    peaks.a = peakRssMiB();
    const app = t!;

    // (b) re-sync, nothing changed upstream. One untimed warm-up of each side first.
    log(`(b) re-sync, no change … (1 warm-up)`);
    const noop = (): Expectation => ({ status: 'noop', commit: upstream.head, summary: summaryOf({ noop: FILE_COUNT }) });
    checkDeployment('b warm-up', (await timedSync(app)).deployment, noop());
    await runBaseline(null, { commit: upstream.head });
    for (let r = 0; r < runs; r++) {
      const s = await timedSync(app);
      checkDeployment('b', s.deployment, noop());
      sync.b.push(s.ms);
      cpu.b.push(s.cpuMs);
      record('b', s);
      responseBytes = s.bytes;
      await runBaseline('b', { commit: upstream.head });
      log(`    run ${r + 1}: Syncline ${s.ms.toFixed(0)} ms, baseline ${base.b.at(-1)!.toFixed(0)} ms`);
    }
    peaks.b = peakRssMiB();

    // (c) one new upstream commit changing one file, before each run.
    log(`(c) sync after one commit changing one file, each followed by (b2) a re-sync … (1 warm-up)`);
    for (let r = -1; r < runs; r++) {
      const p = await upstream.pushOneChange();
      const s = await timedSync(app);
      checkDeployment('c', s.deployment, { status: 'success', commit: p.commit, summary: summaryOf({ update: 1, noop: FILE_COUNT - 1 }), change: p });
      await checkLivePort(app, p.name, p.to);
      const b = await runBaseline(r < 0 ? null : 'c', { commit: p.commit, change: { file: p.file, to: p.to } });
      // (b2) the first re-sync after a sync that applied a change (nothing memoised for it yet).
      const s2 = await timedSync(app);
      checkDeployment('b2', s2.deployment, { status: 'noop', commit: p.commit, summary: summaryOf({ noop: FILE_COUNT }) });
      const b2 = await runBaseline(r < 0 ? null : 'b2', { commit: p.commit, change: { file: p.file, to: p.to } });
      if (r < 0) continue;
      sync.c.push(s.ms);
      cpu.c.push(s.cpuMs);
      sync.b2.push(s2.ms);
      cpu.b2.push(s2.cpuMs);
      record('c', s);
      record('b2', s2);
      log(`    run ${r + 1}: (c) Syncline ${s.ms.toFixed(0)} ms, baseline ${b.ms.toFixed(0)} ms; (b2) Syncline ${s2.ms.toFixed(0)} ms, baseline ${b2.ms.toFixed(0)} ms`);
    }
    peaks.c = peakRssMiB();

    // (d) a sync naming a commit the mirror already has (a webhook or poll for a commit we fetched):
    // no network at all. Checked, not timed against a baseline.
    const named = await (async () => {
      const procsD: string[] = [];
      const off = onGitSpawn((info) => procsD.push(gitCmdName(info.args)));
      const seen = await upstreamRequests();
      const t0 = performance.now();
      // What a webhook or poll does: name the provider's new head, trusted to be on the branch.
      const deployment = await syncNamespace(app.ctx, NAMESPACE, upstream.head, 'bench', { trustNamedCommit: true });
      const ms = performance.now() - t0;
      off();
      return { ms, deployment, procs: procsD, ...networkOf(seen, await upstreamRequests()) };
    })();
    checkDeployment('d', named.deployment, { status: 'noop', commit: upstream.head, summary: summaryOf({ noop: FILE_COUNT }) });
    const namedCommit = { ms: round1(named.ms), git_procs: named.procs, network: named.network, requests: named.requests, pass: named.network === 0 && named.requests === 0 };
    log(`(d) sync naming a commit already in the mirror: ${named.ms.toFixed(0)} ms, git processes [${named.procs.join(', ')}], network fetches ${named.network}, upstream requests ${named.requests}`);

    const scenario = (key: ScenarioKey, name: string, targeted: boolean): ScenarioResult => {
      const sy = stats(sync[key]);
      const bl = stats(base[key]);
      const ratio = Math.round((bl.median / sy.median) * 100) / 100;
      return {
        name,
        syncline: sy,
        syncline_cpu: stats(cpu[key]),
        git_procs: {
          median: median(procs[key].map((p) => p.length)),
          max: Math.max(...procs[key].map((p) => p.length)),
          last: procs[key].at(-1) ?? [],
        },
        network_max: Math.max(...network[key]),
        requests_max: Math.max(...requests[key]),
        baseline: bl,
        baseline_clone: stats(baseClone[key]),
        ...(baseShm[key].length ? { baseline_tmpfs: stats(baseShm[key]), ratio_tmpfs: Math.round((median(baseShm[key]) / sy.median) * 100) / 100 } : {}),
        ratio,
        target: targeted ? `≥${TARGET_RATIO}× and <${TARGET_MS} ms` : key === 'a' ? '≥1.0× (no slower)' : null,
        pass: targeted ? ratio >= TARGET_RATIO && sy.median < TARGET_MS : key === 'a' ? ratio >= 1 : null,
      };
    };
    const scenarios = {
      a: scenario('a', '(a) first sync (mirror clone)', false),
      b: scenario('b', '(b) re-sync, no change', true),
      b2: scenario('b2', '(b2) 1st re-sync after a change', true),
      c: scenario('c', '(c) sync after 1-file commit', true),
    };

    let profile: ProfileResult | undefined;
    if (opts.profile) {
      log(`profile: stepwise (b)/(c) …`);
      profile = await runProfile(app, upstream, runs, log);
    }

    const result: SyncBenchResult = {
      version: REPO_VERSION,
      started_at: startedAt,
      runs,
      machine: {
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        git: await git(['--version']),
        loadavg_start: loadStart,
        loadavg_end: os.loadavg().map(round1),
        temp_dir: `${os.tmpdir()} (${fsType(os.tmpdir())})`,
        tmpfs_dir: shmRoot,
      },
      repo: { ...meta, url: repoUrl },
      scenarios,
      named_commit: namedCommit,
      memory: {
        rss_before_mib: rssBefore,
        rss_after_mib: rssMiB(),
        peak_rss_mib: peakRssMiB(),
        peak_rss_after_setup_mib: peakAfterSetup,
        peak_rss_after_scenario_mib: peaks,
      },
      response_bytes: responseBytes,
      ...(profile ? { profile } : {}),
    };
    printTable(result, log);
    if (profile) printProfile(profile, log);
    fs.mkdirSync(WORK_DIR, { recursive: true });
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
    log(`\nresults written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
    return result;
  } finally {
    upstreamRequests = async () => ({ fetches: 0, requests: 0 });
    for (const a of apps) await a.close().catch(() => {});
    await server?.close().catch(() => {});
    await cleanupTempDirs().catch(() => {});
    fs.rmSync(tmpRoot, { recursive: true, force: true });
    if (shmRoot) fs.rmSync(shmRoot, { recursive: true, force: true });
    removeCmdHome();
  }
}

function printTable(r: SyncBenchResult, log: (s: string) => void): void {
  const fmt = (s: Stats) => `${s.median.toFixed(1)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  const cols: Array<[string, number]> = [['scenario', 32], ['Syncline ms med (min–max)', 27], ['baseline ms med (min–max)', 27], ['ratio', 9], ['target', 20], ['result', 7]];
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i]![1]) : c.padStart(cols[i]![1]))).join('  ');
  log('');
  log(`Sync bench — ${r.runs} runs per scenario; median, Syncline = POST sync-from-git via app.inject (SQLite),`);
  log(`baseline = git clone --depth 1 --branch ${BRANCH} over the same HTTP server + read + yaml-parse ${FILE_COUNT} files`);
  log(row(cols.map(([c]) => c)));
  log(row(cols.map(([, w]) => '-'.repeat(w))));
  for (const s of Object.values(r.scenarios)) {
    log(row([s.name, fmt(s.syncline), fmt(s.baseline), `${s.ratio.toFixed(1)}×`, s.target ?? '—', s.pass === null ? '—' : s.pass ? 'PASS' : 'FAIL']));
  }
  log('');
  log(`git processes per sync (median / max; last run's commands), network fetches max, upstream HTTP requests max:`);
  for (const s of Object.values(r.scenarios)) {
    log(`  ${s.name.padEnd(34)} ${s.git_procs.median} / ${s.git_procs.max}  [${s.git_procs.last.join(', ')}]  network ${s.network_max}  requests ${s.requests_max}`);
  }
  const nb = r.scenarios.b.git_procs.max;
  log(`  target (b) ≤ ${TARGET_PROCS_NOCHANGE} git processes: ${nb <= TARGET_PROCS_NOCHANGE ? 'PASS' : 'FAIL'} (${nb})`);
  log(`  target (d) named commit already present → 0 network fetches: ${r.named_commit.pass ? 'PASS' : 'FAIL'} (${r.named_commit.network} fetches, ${r.named_commit.requests} requests; ${r.named_commit.ms} ms, [${r.named_commit.git_procs.join(', ')}])`);
  log(`Syncline node-process CPU ms per sync, median: ${Object.values(r.scenarios).map((s) => `${s.name.split(" ")[0]} ${s.syncline_cpu.median}`).join(', ')} (wall time above; git children not counted)`);
  const shm = Object.values(r.scenarios).filter((s) => s.baseline_tmpfs);
  if (shm.length) {
    log(`baseline with the clone on tmpfs (${r.machine.tmpfs_dir}), not judged, median ms: ${shm.map((s) => `${s.name.split(" ")[0]} ${s.baseline_tmpfs!.median} (ratio ${s.ratio_tmpfs!.toFixed(1)}×)`).join(', ')}`);
  }
  log(`baseline clone part, median ms: ${Object.values(r.scenarios).map((s) => `${s.name.split(" ")[0]} ${s.baseline_clone.median}`).join(', ')} (rest = read + yaml parse)`);
  const m = r.memory;
  log('');
  log(`memory (this process; git children not included): RSS before ${m.rss_before_mib} MiB, after ${m.rss_after_mib} MiB, peak ${m.peak_rss_mib} MiB`);
  log(`  peak RSS after setup ${m.peak_rss_after_setup_mib} MiB, after (a) ${m.peak_rss_after_scenario_mib.a}, (b) ${m.peak_rss_after_scenario_mib.b}, (c) ${m.peak_rss_after_scenario_mib.c} MiB (baseline's yaml parsing shares the process)`);
  log(`repo: ${r.repo.commits} commits, ${r.repo.files} files, objects ${mib(r.repo.pack_bytes)} MiB; sync response ${Math.round(r.response_bytes / 1024)} KiB`);
  log(`machine: ${r.machine.cpus}× ${r.machine.cpu_model}, node ${r.machine.node}, ${r.machine.git}, load avg ${r.machine.loadavg_start.join('/')} → ${r.machine.loadavg_end.join('/')}, temp dir ${r.machine.temp_dir}`);
  const failed = Object.values(r.scenarios).filter((s) => s.pass === false);
  log(failed.length ? `targets: ${failed.length} FAIL (${failed.map((s) => s.name).join(', ')})` : 'targets: all PASS');
}
