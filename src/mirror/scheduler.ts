import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../app-context.js';
import { listSourceRows, type SourceRow } from '../store/sources.js';
import { syncMirror } from './sync.js';

const TICK_MS = 10_000;

function isDue(row: SourceRow, intervalMs: number, jitter: number, now: number, failedAt: number | undefined): boolean {
  // Each mirror gets its own fixed jitter (±10 %) so replicas and mirrors don't fetch in lockstep.
  const wait = intervalMs * (0.9 + 0.2 * jitter);
  // last_synced only moves on success: without this a failing upstream would be hit every tick.
  // A source edited since (new URL or credentials) is tried again right away.
  if (failedAt !== undefined && now - failedAt < wait && Date.parse(row.updated_at) < failedAt) return false;
  if (row.mirror_status === 'pending' || !row.mirror_last_synced) return true;
  return now - Date.parse(row.mirror_last_synced) >= wait;
}

function jitterFor(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (h % 1000) / 1000;
}

/**
 * Keeps mirrors fresh: every few seconds, fetch the mirrors whose last sync is older than
 * SYNCLINE_MIRROR_INTERVAL (new mirrors right away; a failing one waits an interval between
 * tries, unless its source is edited meanwhile). Disabled in air-gap mode
 * (SYNCLINE_MIRROR_RUNTIME_SYNC=false) or with an interval of 0. Returns a stop function that
 * waits for the round in progress.
 */
export function startMirrorScheduler(ctx: AppContext, log: FastifyBaseLogger): () => Promise<void> {
  const { mirror_runtime_sync: enabled, mirror_interval: intervalS } = ctx.settings;
  if (!enabled || intervalS <= 0) {
    log.info({ runtime_sync: enabled, interval_s: intervalS }, 'mirror scheduler disabled');
    return async () => undefined;
  }
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  /** When this process last failed to sync each mirror (source name → ms). */
  const failedAt = new Map<string, number>();

  const round = async () => {
    const now = Date.now();
    const rows = (await listSourceRows(ctx.db.db)).filter((r) => r.mirror_enabled === 1);
    for (const row of rows) {
      if (stopped) return;
      if (!isDue(row, intervalS * 1000, jitterFor(row.name), now, failedAt.get(row.name))) continue;
      const outcome = await syncMirror(ctx, row);
      if (outcome.status === 'error') {
        failedAt.set(row.name, Date.now());
        log.warn({ mirror: outcome.slug, error: outcome.error }, 'mirror sync failed');
      } else if (outcome.status !== 'skipped') {
        failedAt.delete(row.name);
        if (outcome.status === 'updated') log.info({ mirror: outcome.slug }, 'mirror updated');
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round()
        .catch((err) => log.error({ err }, 'mirror scheduler round failed'))
        .finally(schedule);
    }, TICK_MS);
    timer.unref();
  };
  running = round().catch((err) => log.error({ err }, 'mirror scheduler round failed')).finally(schedule);

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
