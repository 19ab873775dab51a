import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../app-context.js';
import { lastFetchedAt } from '../git/mirror-cache.js';
import { MIRRORS_CHANNEL } from '../store/mirror-copies.js';
import { listSourceRows, type SourceRow } from '../store/sources.js';
import { mirrorsSignal, reconcileCopies } from './copies.js';
import { syncMirror } from './sync.js';

/** How often the scheduler looks for due mirrors. */
const TICK_MS = 10_000;

/** This process's last failed try of a mirror: when, and whether trying again can help. */
export interface Failure {
  at: number;
  retryable: boolean;
}

/**
 * Whether a mirror copy is due. `local` is this replica's own copy (its last successful fetch on
 * this disk, null when it has none): each replica goes by its own copy, never by another's.
 * Without `local`, the source row's (shared) state is used.
 */
export function isDue(
  row: SourceRow,
  intervalMs: number,
  jitter: number,
  now: number,
  failure: Failure | undefined,
  local?: { lastSynced: number | null },
): boolean {
  // Each mirror gets its own fixed jitter (±10 %) so replicas and mirrors don't fetch in lockstep.
  const wait = intervalMs * (0.9 + 0.2 * jitter);
  // A source edited since the failure (new URL or credentials) is tried again right away.
  if (failure !== undefined && Date.parse(row.updated_at) < failure.at) {
    // Stalled (a missing repo, refused credentials): retrying cannot help until the source changes.
    if (!failure.retryable) return false;
    // Waiting: last_synced only moves on success; without this a failing upstream would be hit every tick.
    if (now - failure.at < wait) return false;
  }
  if (local) return local.lastSynced === null || now - local.lastSynced >= wait;
  if (row.mirror_status === 'pending' || !row.mirror_last_synced) return true;
  return now - Date.parse(row.mirror_last_synced) >= wait;
}

function jitterFor(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (h % 1000) / 1000;
}

/**
 * Keeps THIS replica's mirror copies fresh and matching the database: every tick (and at once
 * when a source is created, edited or deleted — a NOTIFY on PostgreSQL, an in-process signal on
 * SQLite) it removes copies whose source is gone, then fetches the copies whose last fetch on
 * this disk is older than SYNCLINE_MIRROR_INTERVAL (missing copies right away). A mirror whose sync failed with a retryable
 * error (a network failure) waits an interval between tries; one that failed for good (a missing
 * repository, refused credentials) is stalled: not tried again until its source is edited (or
 * the process restarts, or an admin asks with POST /mirrors/sync). Disabled in air-gap mode
 * (SYNCLINE_MIRROR_RUNTIME_SYNC=false) or with an interval of 0. Returns a stop function that
 * waits for the round in progress.
 */
export function startMirrorScheduler(ctx: AppContext, log: FastifyBaseLogger, opts: { tickMs?: number } = {}): () => Promise<void> {
  const tickMs = opts.tickMs ?? TICK_MS;
  const { mirror_runtime_sync: enabled, mirror_interval: intervalS } = ctx.settings;
  if (!enabled || intervalS <= 0) {
    log.info({ runtime_sync: enabled, interval_s: intervalS }, 'mirror scheduler disabled');
    return async () => undefined;
  }
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  /** This process's last failure per mirror (source name →); cleared by a success. */
  const failures = new Map<string, Failure>();

  const round = async () => {
    await reconcileCopies(ctx, log);
    const now = Date.now();
    const rows = (await listSourceRows(ctx.db.db)).filter((r) => r.mirror_enabled === 1);
    for (const row of rows) {
      if (stopped) return;
      const last = await lastFetchedAt(row.name, { mirrorsDir: ctx.settings.mirror_dir });
      const local = { lastSynced: last ? last.getTime() : null };
      if (!isDue(row, intervalS * 1000, jitterFor(row.name), now, failures.get(row.name), local)) continue;
      const outcome = await syncMirror(ctx, row);
      if (outcome.status === 'error') {
        const retryable = outcome.retryable !== false;
        failures.set(row.name, { at: Date.now(), retryable });
        log.warn({ mirror: outcome.slug, error: outcome.error, stalled: !retryable }, retryable ? 'mirror sync failed; will retry' : 'mirror sync stalled until the source is edited');
      } else if (outcome.status !== 'skipped') {
        failures.delete(row.name);
        if (outcome.status === 'updated') log.info({ mirror: outcome.slug }, 'mirror updated');
      }
    }
  };
  let inRound = false;
  /** A wake-up during a round: run another right after it (the change may have come too late for it). */
  let again = false;
  const run = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    inRound = true;
    running = round()
      .catch((err) => log.error({ err }, 'mirror scheduler round failed'))
      .finally(() => {
        inRound = false;
        if (again) {
          again = false;
          run();
        } else schedule();
      });
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(run, tickMs);
    timer.unref();
  };
  const wake = () => {
    if (stopped) return;
    if (inRound) again = true;
    else run();
  };
  mirrorsSignal(ctx.db).on('wake', wake);
  const stopListen = ctx.db.listen?.(MIRRORS_CHANNEL, wake) ?? null;
  run();

  return async () => {
    stopped = true;
    mirrorsSignal(ctx.db).off('wake', wake);
    await stopListen?.();
    if (timer) clearTimeout(timer);
    await running;
  };
}
