import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { AppContext } from '../app-context.js';
import { closeAllCatFileWorkers } from '../git/cat-file-worker.js';
import { closeLsRefsAgents } from '../git/smart-http.js';
import { closeParsePool } from '../specs/parse-pool.js';
import type { ResolvedSettings } from '../config/load.js';
import { buildApp } from './app.js';
import { lockDataDir } from './data-dir-lock.js';
import { openContext } from '../app-context.js';
import { recordMirrorsOnDisk } from '../mirror/sync.js';
import { startMirrorScheduler } from '../mirror/scheduler.js';
import { createRelay } from '../events/relay.js';
import { ReplicaRegistry } from '../cluster/registry.js';
import { SYNCLINE_VERSION } from '../cluster/version.js';
import { startPoller } from '../webhooks/poll.js';
import { holdLeadership } from '../cluster/leader.js';
import { CACHE_TOPICS, listenInvalidations } from '../cluster/cache-bridge.js';

/**
 * The listening entry point: open the store (migrating), build the app, listen, start
 * background work, and shut down gracefully on SIGTERM/SIGINT — new connections are refused,
 * in-flight requests finish, then the database closes.
 */
export interface StartOptions {
  /** Where logs go; stdout by default (the reads bench passes a discarding stream). */
  logStream?: DestinationStream;
  /** PostgreSQL only: the schema to use (the benches use a fresh one). */
  schema?: string;
}

export async function startServer(settings: ResolvedSettings, opts: StartOptions = {}): Promise<FastifyInstance> {
  // SQLite: one server per data dir (two would fight over the file and the mirrors).
  fs.mkdirSync(settings.data_dir, { recursive: true, mode: 0o700 });
  const unlock = settings.database_url.startsWith('sqlite:') ? lockDataDir(settings.data_dir, { port: settings.port }) : () => undefined;
  let ctx: AppContext;
  let app: FastifyInstance;
  try {
    ctx = await openContext(settings, opts.schema ? { schema: opts.schema } : {});
    app = await buildApp({ ctx, ...(opts.logStream ? { logStream: opts.logStream } : {}) });
  } catch (err) {
    unlock();
    throw err;
  }
  const stops: (() => Promise<void>)[] = [];
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    // Syncs in progress stop at their next step or slice (rolled back, 503 busy).
    ctx.shutdown.abort();
    try {
      for (const stop of stops) await stop();
      await app.close();
      await ctx.db.close();
      unlock();
      closeAllCatFileWorkers();
      closeLsRefsAgents();
      await closeParsePool();
      app.log.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: settings.port, host: settings.host });
  // Other replicas' cache invalidations (token revoked, resources written) reach this process's caches.
  stops.push(listenInvalidations(ctx.db, ctx.cache, CACHE_TOPICS));
  await recordMirrorsOnDisk(ctx);
  stops.push(startMirrorScheduler(ctx, app.log));
  const relay = createRelay(ctx, app.log);
  ctx.relay = relay;
  relay.start();
  stops.push(() => relay.stop());
  // The poller is a singleton too: one replica polls (leader lock `poller`); a standby takes over
  // within LEADER_CHECK_MS of its death. (Its jobs coalesce anyway; this saves N-1 ls-remotes per source.)
  let stopPolling: (() => Promise<void>) | null = null;
  const pollingOn = settings.poll_interval > 0 && settings.mirror_runtime_sync;
  if (!pollingOn) stopPolling = startPoller(ctx, app.log); // logs why it is off; holds nothing
  const poller = holdLeadership(pollingOn ? ctx.db : null, 'poller', {
    onGain: () => {
      stopPolling = startPoller(ctx, app.log);
    },
    onLose: () => {
      const stop = stopPolling;
      stopPolling = null;
      void stop?.();
    },
  });
  const cluster = new ReplicaRegistry(ctx.db, SYNCLINE_VERSION, () => [...relay.roles(), ...(poller.isLeader ? ['poller'] : [])], ctx.replicaId);
  ctx.cluster = cluster;
  await cluster.start();
  stops.push(() => cluster.stop());
  await ctx.jobs.start(app.log);
  stops.push(async () => {
    await poller.stop();
    await stopPolling?.();
  });
  stops.push(() => ctx.jobs.stop());
  app.log.info(
    { port: settings.port, data_dir: settings.data_dir, database: settings.database_url.startsWith('sqlite:') ? 'sqlite' : 'postgres' },
    'syncline listening',
  );
  if (!settings.admin_token) {
    app.log.warn(`SYNCLINE_ADMIN_TOKEN is not set: create a token with \`${cliHint(settings)} token create --name NAME --role admin\``);
  }
  return app;
}

/** A CLI command line that works from the current directory against this server's database. */
export function cliHint(settings: Pick<ResolvedSettings, 'data_dir' | 'data_dir_origin' | 'database_url'>): string {
  const bin = fileURLToPath(new URL('../../bin/syncline.js', import.meta.url));
  const rel = path.relative(process.cwd(), bin);
  const command = rel.startsWith('..') || path.isAbsolute(rel) ? bin : `./${rel}`;
  if (!settings.data_dir_origin || settings.data_dir_origin === 'default') return command;
  const env = settings.database_url.startsWith('sqlite:') ? `SYNCLINE_DATA_DIR=${settings.data_dir}` : 'SYNCLINE_DATABASE_URL=…';
  return `${env} ${command}`;
}
