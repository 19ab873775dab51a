/**
 * `npm run bench` — runs the sync bench (bench/sync.ts), then, when bench/mirror.ts exists and
 * exports `runMirrorBench`, the mirror bench, then the webhooks bench (bench/webhooks.ts).
 *
 *   npm run bench                          # both (mirror only if present)
 *   npm run bench -- --only sync           # just one
 *   npm run bench -- --only webhooks       # 1,000 namespaces, one push; ingest with autocannon
 *   npm run bench -- --runs 9              # timed runs per scenario (default: each bench's own)
 *   npm run bench -- --only sync --profile # plus the per-step profile of re-sync / one-file sync
 *
 * Exits 1 when a bench fails (including a wrong answer from Syncline); a missed performance
 * target is reported as FAIL in the table but is not an error exit.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runSyncBench } from './sync.js';
import { runWebhooksBench } from './webhooks.js';

type Only = 'sync' | 'mirror' | 'webhooks';

interface Args {
  only?: Only;
  runs?: number;
  profile: boolean;
}

const USAGE = 'usage: npm run bench -- [--only sync|mirror|webhooks] [--runs N] [--profile]';

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
        if (v !== 'sync' && v !== 'mirror' && v !== 'webhooks') throw new UsageError(`--only must be sync, mirror or webhooks (got '${v}')`);
        args.only = v;
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runsOpt = args.runs !== undefined ? { runs: args.runs } : {};

  if (args.only === 'webhooks') {
    await runWebhooksBench(runsOpt);
    return;
  }
  if (args.only !== 'mirror') {
    await runSyncBench({ ...runsOpt, profile: args.profile });
  }
  if (args.only !== 'sync') {
    const runMirrorBench = await loadMirrorBench();
    if (runMirrorBench) {
      console.log('');
      await runMirrorBench(runsOpt);
    } else if (args.only === 'mirror') {
      throw new Error('bench/mirror.ts is not there (or has no runMirrorBench); nothing to run');
    } else {
      console.log('\n(mirror bench skipped: bench/mirror.ts not present)');
    }
  }
  if (args.only === undefined) {
    console.log('');
    await runWebhooksBench(runsOpt);
  }
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
