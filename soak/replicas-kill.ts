/**
 * Soak: 3 replicas (real `syncline serve` processes) on one PostgreSQL schema behind a round-robin
 * proxy; 200 syncs over 20 namespaces while replicas are `kill -9`'d and restarted 50 times (one
 * at a time, spread evenly over the syncs; a killed replica restarts at once on its own data dir).
 * Checks: no mixed state, every 200 answer has its deployment row, every deployment's event on
 * RabbitMQ (deduped by id = exactly the deployments), per-namespace order, relay fail-over time
 * after each kill of its holder. Prints the figures as JSON; exits 1 when a check fails.
 *
 *   npm run soak -- replicas
 *   SOAK_SYNCS=200 SOAK_NAMESPACES=20 SOAK_KILLS=50 SOAK_REPLICAS=3 SOAK_CONCURRENCY=4
 *
 * Needs PostgreSQL (SYNCLINE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and
 * RabbitMQ at 127.0.0.1:5672 (a fresh exchange and queue per run; the broker is never stopped).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupTempDirs } from '../test/helpers/git-fixtures.js';
import { runKillScenario } from '../test/helpers/kill-scenario.js';

async function main(): Promise<void> {
  // The replicas run the compiled server: compile the current sources, and run a private copy of
  // it (a test run rebuilding dist/ meanwhile must not pull it from under a restarting replica).
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { stdio: 'inherit' });
  const copy = path.resolve('node_modules/.cache/syncline-soak-dist');
  fs.rmSync(copy, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.cpSync('dist', copy, { recursive: true });
  const n = (name: string, d: number) => Number(process.env[name] ?? d);
  const r = await runKillScenario({
    replicas: n('SOAK_REPLICAS', 3),
    namespaces: n('SOAK_NAMESPACES', 20),
    syncs: n('SOAK_SYNCS', 200),
    kills: n('SOAK_KILLS', 50),
    concurrency: n('SOAK_CONCURRENCY', 4),
    entry: path.join(copy, 'cli/main.js'),
    log: (m) => console.error(`[${new Date().toISOString()}] ${m}`),
  });
  fs.rmSync(copy, { recursive: true, force: true });
  const sorted = [...r.failoversMs].sort((a, b) => a - b);
  const figures = {
    ...r,
    failover_ms: { count: sorted.length, min: sorted[0] ?? null, median: sorted[Math.floor(sorted.length / 2)] ?? null, max: sorted.at(-1) ?? null },
  };
  console.log(JSON.stringify(figures, null, 2));
  await cleanupTempDirs();
  const bad =
    r.mixed.length > 0 || r.missingRows.length > 0 || r.events.missing > 0 || r.events.unexpected > 0 || r.outOfOrder.length > 0 || r.failoversMs.some((ms) => ms >= 10_000);
  process.exit(bad ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
