/**
 * Polling, for forges that cannot reach Syncline: every SYNCLINE_POLL_INTERVAL seconds (±10 %
 * jitter; 0 = off; never in air-gap mode) one `ls-remote` per source that has `auto_sync`
 * namespaces. A tracked branch whose head differs from the last one handled queues the same
 * coalesced `source.refresh` job a push does, so a webhook and a poll for one commit give one sync.
 */
import { lsRemote } from '../git/refs.js';
import type { AppContext } from '../app-context.js';
import { listSourceRows } from '../store/sources.js';
import { connectSource } from '../sync/remote.js';
import { gitTimeouts } from '../sync/settings.js';
import { PUSH_JOB, type PushJobPayload } from './ingest.js';
import { recordedHeads } from './push.js';

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** One polling round; returns the sources a refresh was queued for. */
export async function pollOnce(ctx: AppContext, log?: Log): Promise<string[]> {
  // Air-gap mode contacts nothing upstream: not git, not the forge (a github_app source would
  // mint an installation token just to ls-remote). The poller is not even started then; this
  // guards every other caller of a tick.
  if (!ctx.settings.mirror_runtime_sync) return [];
  const rows = await ctx.db.db
    .selectFrom('namespaces')
    .select(['source', 'branch'])
    .where('auto_sync', '=', 1)
    .where('source', 'is not', null)
    .execute();
  const bySource = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!bySource.has(r.source!)) bySource.set(r.source!, new Set());
    bySource.get(r.source!)!.add(r.branch);
  }
  const queued: string[] = [];
  for (const src of await listSourceRows(ctx.db.db)) {
    const branches = bySource.get(src.name);
    if (!branches) continue;
    try {
      const conn = await connectSource(ctx, src);
      const remote = await lsRemote(conn.url, conn.auth, { sourceName: src.name, timeouts: gitTimeouts(ctx.settings), pin: conn.pin });
      const known = await recordedHeads(ctx, src.name);
      const moved = [...branches].some((b) => remote.branches[b] !== undefined && remote.branches[b] !== known.get(b));
      if (!moved) continue;
      const payload: PushJobPayload = { source: src.name, trigger: 'poll' };
      await ctx.jobs.enqueue(PUSH_JOB, payload, { key: `${PUSH_JOB}:${src.name}` });
      queued.push(src.name);
    } catch (err) {
      log?.warn({ source: src.name, error: (err as Error).message }, 'poll failed');
    }
  }
  return queued;
}

/** Starts the poller; returns a stop function that waits for the round in progress. */
export function startPoller(ctx: AppContext, log: Log): () => Promise<void> {
  const interval = ctx.settings.poll_interval;
  if (interval <= 0 || !ctx.settings.mirror_runtime_sync) {
    log.info({ poll_interval: interval, runtime_sync: ctx.settings.mirror_runtime_sync }, 'polling disabled');
    return async () => undefined;
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    const wait = interval * 1000 * (0.9 + Math.random() * 0.2);
    timer = setTimeout(() => {
      running = pollOnce(ctx, log).catch((err) => log.warn({ error: (err as Error).message }, 'poll round failed')).finally(schedule);
    }, wait);
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
