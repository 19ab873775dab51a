/**
 * `npm run bench` — runs every bench and prints one table of issue 12's targets (target, figure,
 * met / missed), also written to bench/.work/results.json (and a dated copy):
 *   sync   — bench/sync.ts: git syncs against a naive clone (target 3);
 *   mirror — bench/mirror.ts, when present: mirror clones (target 4, its own table);
 *   webhooks — bench/webhooks.ts: 1,000 namespaces on one source, one push; ingest with autocannon;
 *   reads  — bench/reads.ts: config GETs (200/304) against a bare Fastify route with autocannon,
 *            1,000 SSE watchers (targets 5, 6);
 *   scale  — bench/large.ts: 1k/10k/50k-file syncs with a concurrent /healthz + cached GET prober,
 *            per-resource time and peak RSS (targets 1, 2), SQLite and PostgreSQL side by side (7);
 *   startup — bench/startup.ts: server ready and CLI calls from the compiled output against a bare
 *            Fastify server and `node -e 0` (issue 11's targets, rows marked 11).
 *
 *   npm run bench                          # everything
 *   npm run bench -- --only sync           # just one (sync | mirror | webhooks | reads | scale)
 *   npm run bench -- --runs 9              # timed runs per scenario (default: each bench's own)
 *   npm run bench -- --only sync --profile # plus the per-step profile of re-sync / one-file sync
 *   npm run bench -- --only scale --sizes 1000,10000   # fewer sizes (default 1000,10000,50000)
 *
 * Exits 1 when a bench fails (including a wrong answer from Syncline); a missed performance
 * target is reported as FAIL in the table but is not an error exit.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { runSyncBench, type SyncBenchResult } from './sync.js';
import { runReadsBench, type ReadsResult } from './reads.js';
import { runLargeBench, runMultiBench, type LargeCase, type MultiCase } from './large.js';
import { runWebhooksBench } from './webhooks.js';
import { runStartupBench, type StartupResult } from './startup.js';

type Only = 'sync' | 'mirror' | 'webhooks' | 'reads' | 'scale' | 'startup';
const ONLY: readonly Only[] = ['sync', 'mirror', 'webhooks', 'reads', 'scale', 'startup'];

interface Args {
  only?: Only;
  runs?: number;
  profile: boolean;
  sizes?: number[];
}

const USAGE = 'usage: npm run bench -- [--only sync|mirror|webhooks|reads|scale|startup] [--runs N] [--profile] [--sizes 1000,10000,50000]';

/** A bad command line: printed without a stack trace. */
class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = { profile: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--only': {
        const v = value();
        if (!(ONLY as readonly string[]).includes(v)) throw new UsageError(`--only must be one of ${ONLY.join(', ')} (got '${v}')`);
        args.only = v as Only;
        break;
      }
      case '--sizes': {
        const v = value();
        const sizes = v.split(',').map(Number);
        if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--sizes must be positive integers separated by commas (got '${v}')`);
        args.sizes = sizes;
        break;
      }
      case '--runs': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1) throw new UsageError(`--runs must be a positive integer (got '${v}')`);
        args.runs = n;
        break;
      }
      case '--profile':
        args.profile = true;
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument '${raw}'`);
    }
  }
  return args;
}

type MirrorBench = (opts?: { runs?: number }) => Promise<unknown>;

/** bench/mirror.ts is another engineer's; load it only if it is there (non-literal specifier on purpose). */
async function loadMirrorBench(): Promise<MirrorBench | null> {
  if (!fs.existsSync(fileURLToPath(new URL('./mirror.ts', import.meta.url)))) return null;
  const specifier = './mirror.js';
  const mod = (await import(specifier)) as { runMirrorBench?: unknown };
  if (typeof mod.runMirrorBench !== 'function') {
    throw new Error('bench/mirror.ts exists but does not export a runMirrorBench function');
  }
  return mod.runMirrorBench as MirrorBench;
}

/** One row of the targets table. */
interface TargetRow {
  target: string;
  figure: string;
  met: boolean | null;
}

function syncRows(r: SyncBenchResult): TargetRow[] {
  const s = r.scenarios;
  const row = (key: 'b' | 'c', label: string): TargetRow => ({
    target: `3${key} ${label}: ≥10× naive and <150 ms median`,
    figure: `${s[key].syncline.median} ms vs naive ${s[key].baseline.median} ms = ${s[key].ratio}×`,
    met: s[key].pass,
  });
  return [
    { target: '3a first sync no slower than naive clone', figure: `${s.a.syncline.median} ms vs ${s.a.baseline.median} ms = ${s.a.ratio}×`, met: s.a.pass },
    row('b', 'no-change re-sync'),
    row('c', 'one-file commit'),
    { target: '3b ≤2 git processes per no-change re-sync', figure: `${s.b.git_procs.max} [${s.b.git_procs.last.join(', ')}]`, met: s.b.git_procs.max <= 2 },
    { target: '3d 0 network fetches for a named commit present', figure: `${r.named_commit.network} fetches, ${r.named_commit.requests} requests (${r.named_commit.ms} ms)`, met: r.named_commit.pass },
  ];
}

function readsRows(rs: ReadsResult[]): TargetRow[] {
  return rs.flatMap((r) => [
    {
      target: `5 GET resource 200 (${r.dialect}): ≥0.7× bare Fastify, p99 <20 ms`,
      figure: `${r.get200.rps} vs ${r.bare.rps} req/s = ${r.ratio200}×, p99 ${r.get200.p99_ms} ms; CPU/req ${r.get200.cpu_us_per_req} vs ${r.bare.cpu_us_per_req} µs = ${r.cpuRatio200}×`,
      met: r.ratio200 >= 0.7 && r.get200.p99_ms < 20,
    },
    {
      target: `5 GET resource 304 (${r.dialect}): ≥0.7× bare Fastify, p99 <20 ms`,
      figure: `${r.get304.rps} vs ${r.bare.rps} req/s = ${r.ratio304}×, p99 ${r.get304.p99_ms} ms; CPU/req ${r.get304.cpu_us_per_req} vs ${r.bare.cpu_us_per_req} µs = ${r.cpuRatio304}×`,
      met: r.ratio304 >= 0.7 && r.get304.p99_ms < 20,
    },
    ...(r.watchers
      ? [{
          target: `6 ${r.watchers.count} SSE watchers get a deployment (${r.dialect}): p99 <250 ms`,
          figure: `p50 ${r.watchers.p50_ms} ms, p99 ${r.watchers.p99_ms} ms, ${r.watchers.complete}/${r.watchers.count} complete`,
          met: r.watchers.complete === r.watchers.count && r.watchers.p99_ms < 250,
        }]
      : []),
  ]);
}

function scaleRows(cs: LargeCase[]): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const c of cs) {
    const tag = `${c.files} files, ${c.dialect}`;
    if (c.probe) {
      rows.push({
        target: `1 during a ${tag} first sync: /healthz and cached GET p99 <50 ms`,
        figure: `/healthz p99 ${c.probe.healthz.p99} ms, GET p99 ${c.probe.cached_get.p99} ms (${c.probe.healthz.n} probes)${c.loop_delay ? `; Syncline's event-loop delay p99 ${c.loop_delay.p99} ms, max ${c.loop_delay.max} ms` : ''}`,
        met: (c.probe.healthz.p99 ?? Infinity) < 50 && (c.probe.cached_get.p99 ?? Infinity) < 50 && c.probe.healthz.errors === 0,
      });
    }
    const judged = c.files === 10_000;
    const fig = (f: LargeCase['first']) => `${f.ms} ms (${f.per_resource_us} µs/resource, peak RSS ${f.peak_rss_mib} MiB)`;
    rows.push({ target: `2 ${tag}: first sync${judged ? ' ≤3 s' : ''}`, figure: fig(c.first), met: judged ? c.first.ms <= 3000 : null });
    rows.push({ target: `2 ${tag}: update-all sync${judged ? ' ≤1.5 s' : ''}`, figure: fig(c.update), met: judged ? c.update.ms <= 1500 : null });
    rows.push({ target: `2 ${tag}: no-change re-sync${judged ? ' ≤200 ms' : ''}`, figure: `${fig(c.noop)} [${c.noop.git_procs.join(', ')}]`, met: judged ? c.noop.ms <= 200 : null });
  }
  // Target 7: PostgreSQL within 1.5× of SQLite for the same case.
  for (const pg of cs.filter((c) => c.dialect === 'postgres')) {
    const lite = cs.find((c) => c.dialect === 'sqlite' && c.files === pg.files);
    if (!lite) continue;
    for (const k of ['first', 'update', 'noop'] as const) {
      const ratio = Math.round((pg[k].ms / lite[k].ms) * 100) / 100;
      rows.push({ target: `7 PostgreSQL ${k} sync of ${pg.files} within 1.5× of SQLite`, figure: `${pg[k].ms} vs ${lite[k].ms} ms = ${ratio}×`, met: ratio <= 1.5 });
    }
  }
  return rows;
}

function startupRows(r: StartupResult): TargetRow[] {
  return [
    { target: '11 server ready (first start, new data dir) <1.5 s', figure: `median ${r.ready_first_start.median} ms (bare Fastify ${r.ready_bare_fastify.median} ms)`, met: r.ready_first_start.median < 1500 },
    { target: '11 server ready (restart) <1.5 s', figure: `median ${r.ready_restart.median} ms (bare Fastify ${r.ready_bare_fastify.median} ms)`, met: r.ready_restart.median < 1500 },
    { target: '11 CLI call, local mode (token list) <0.5 s', figure: `median ${r.cli_local.median} ms (node -e 0: ${r.node_floor.median} ms)`, met: r.cli_local.median < 500 },
    { target: '11 CLI call, remote mode (kind list) <0.5 s', figure: `median ${r.cli_remote.median} ms (node -e 0: ${r.node_floor.median} ms)`, met: r.cli_remote.median < 500 },
  ];
}

function multiRows(cs: MultiCase[]): TargetRow[] {
  const rows: TargetRow[] = [];
  const lite = cs.find((c) => c.dialect === 'sqlite');
  for (const c of cs) {
    rows.push({
      target: `7 ${c.namespaces} namespaces × ${c.per_namespace} resources (${c.dialect})`,
      figure: `first syncs ${c.first.total_ms} ms (median ${c.first.median_ms}, p95 ${c.first.p95_ms}); no-change median ${c.noop.median_ms} ms; peak RSS ${c.peak_rss_mib} MiB`,
      met: null,
    });
  }
  const pg = cs.find((c) => c.dialect === 'postgres');
  if (lite && pg) {
    for (const k of ['first', 'noop'] as const) {
      const ratio = Math.round((pg[k].median_ms / lite[k].median_ms) * 100) / 100;
      rows.push({ target: `7 PostgreSQL ${k} sync median of ${pg.namespaces}×${pg.per_namespace} within 1.5× of SQLite`, figure: `${pg[k].median_ms} vs ${lite[k].median_ms} ms = ${ratio}×`, met: ratio <= 1.5 });
    }
  }
  return rows;
}

function printTargets(rows: TargetRow[]): void {
  if (rows.length === 0) return;
  const w = Math.min(78, Math.max(...rows.map((r) => r.target.length)));
  console.log('\n== targets (numbered as in issue 12; 11 = issue 11 start-up) ==');
  console.log(`${'target'.padEnd(w)}  ${'result'.padEnd(6)}  figure`);
  for (const r of rows) console.log(`${r.target.padEnd(w)}  ${(r.met === null ? '—' : r.met ? 'met' : 'missed').padEnd(6)}  ${r.figure}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runsOpt = args.runs !== undefined ? { runs: args.runs } : {};
  const wants = (b: Only) => args.only === undefined || args.only === b;
  const rows: TargetRow[] = [];
  const out: Record<string, unknown> = { started_at: new Date().toISOString(), argv: process.argv.slice(2), loadavg_start: os.loadavg(), cpus: os.cpus().length };

  if (wants('sync')) {
    const r = await runSyncBench({ ...runsOpt, profile: args.profile });
    rows.push(...syncRows(r));
    out.sync = r;
  }
  if (wants('mirror')) {
    const runMirrorBench = await loadMirrorBench();
    if (runMirrorBench) {
      console.log('');
      out.mirror = await runMirrorBench(runsOpt);
    } else if (args.only === 'mirror') {
      throw new Error('bench/mirror.ts is not there (or has no runMirrorBench); nothing to run');
    } else {
      console.log('\n(mirror bench skipped: bench/mirror.ts not present)');
    }
  }
  if (wants('webhooks')) {
    console.log('');
    out.webhooks = await runWebhooksBench(runsOpt);
  }
  if (wants('reads')) {
    console.log('\n== reads bench: GET resource vs bare Fastify (autocannon, 50 connections), 1,000 SSE watchers ==');
    const r = await runReadsBench({ dialects: ['sqlite', 'postgres'], rounds: args.runs ?? 3, seconds: 5, watchers: 1000 });
    rows.push(...readsRows(r));
    out.reads = r;
  }
  if (wants('scale')) {
    console.log('\n== scale bench: large syncs with a concurrent prober; SQLite and PostgreSQL ==');
    const r = await runLargeBench({ sizes: args.sizes ?? [1000, 10_000, 50_000], dialects: ['sqlite', 'postgres'], probeFrom: 10_000 });
    rows.push(...scaleRows(r));
    out.scale = r;
    console.log('\n== scale bench: 100 namespaces × 1,000 resources on one source (target 7) ==');
    const m = await runMultiBench({ namespaces: 100, perNamespace: 1000, dialects: ['sqlite', 'postgres'] });
    rows.push(...multiRows(m));
    out.scale_namespaces = m;
  }
  if (wants('startup')) {
    const r = await runStartupBench(runsOpt);
    rows.push(...startupRows(r));
    out.startup = r;
  }
  printTargets(rows);
  out.loadavg_end = os.loadavg();
  out.targets = rows;
  const dir = fileURLToPath(new URL('./.work/', import.meta.url));
  fs.mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(out, null, 2)}\n`;
  fs.writeFileSync(path.join(dir, 'results.json'), text);
  fs.writeFileSync(path.join(dir, `results-${String(out.started_at).replace(/[:.]/g, '-')}.json`), text);
  console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (start ${(out.loadavg_start as number[]).map((l) => l.toFixed(2)).join(' ')}); results in bench/.work/results.json`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
