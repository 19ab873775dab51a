import type { Logger, Runner } from 'graphile-worker';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../store/types.js';
import { BaseQueue, DEFAULT_QUEUE_OPTIONS, type JobQueue, type QueueOptions } from './queue.js';

const IDLE_POLL_MS = 1_000;

/**
 * SQLite: one process owns the database file, so the queue is worked in-process. Enqueues wake
 * the loop at once; a timer covers delayed jobs and retries. A job left `running` by a process
 * killed mid-job is queued again when the next process starts (nobody else can hold it).
 */
export class SqliteQueue extends BaseQueue {
  readonly driver = 'sqlite' as const;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private again = false;

  protected async dispatch(): Promise<void> {
    // The loop finds due rows itself.
  }

  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.running.size < this.opts.concurrency) {
          const row = await this.claim();
          if (!row) break;
          this.track(this.execute(row).finally(() => this.kick()));
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.opts.log.error({ error: (err as Error).message }, 'job queue poll failed');
    } finally {
      this.pumping = false;
    }
  }

  async start(log?: QueueOptions['log']): Promise<void> {
    if (!this.stopped) return;
    if (log) this.opts = { ...this.opts, log };
    this.stopped = false;
    await this.reclaimExpired(0);
    const tick = () => {
      this.kick();
      this.timer = setTimeout(tick, this.opts.pollIntervalMs ?? IDLE_POLL_MS);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running]);
  }
}

const TASK = 'syncline_job';

/**
 * PostgreSQL: graphile-worker (0.17) carries a `{id}` message per due job to whichever replica
 * is free (LISTEN/NOTIFY, `SKIP LOCKED`); that replica claims the `jobs` row and runs it. The
 * graphile job is keyed by our id, so re-dispatching is idempotent. Each replica also sweeps
 * rows whose worker stopped heart-beating (killed) back into the queue.
 */
export class PostgresQueue extends BaseQueue {
  readonly driver = 'postgres' as const;
  private runner: Runner | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    db: Kysely<Database>,
    opts: QueueOptions,
    private readonly connectionString: string,
    /** Graphile-worker's own schema (its tables and add_job function). */
    readonly workerSchema: string,
  ) {
    super(db, opts);
  }

  private migrated: Promise<void> | null = null;

  /**
   * Installs or upgrades graphile-worker's schema (safe from several processes), once, on first
   * use: contexts that never touch jobs (the CLI, most tests) don't pay for it.
   */
  migrate(): Promise<void> {
    this.migrated ??= loadWorker()
      .then(({ runMigrations, Logger }) =>
        runMigrations({ connectionString: this.connectionString, schema: this.workerSchema, logger: quietLogger(Logger, this.opts) }),
      )
      .catch((err) => {
        this.migrated = null;
        throw err;
      });
    return this.migrated;
  }

  protected async dispatch(id: string, runAt: Date, exec: Kysely<Database> | Transaction<Database>): Promise<void> {
    await this.migrate();
    await sql`select ${sql.id(this.workerSchema)}.add_job(${TASK}, json_build_object('id', ${id}::text), run_at => ${runAt.toISOString()}::timestamptz, max_attempts => 3, job_key => ${`job:${id}`})`.execute(
      exec,
    );
  }

  kick(): void {
    // graphile-worker is woken by NOTIFY from add_job.
  }

  async start(log?: QueueOptions['log']): Promise<void> {
    if (!this.stopped) return;
    if (log) this.opts = { ...this.opts, log };
    this.stopped = false;
    await this.migrate();
    await this.startRunner();
    const sweep = async () => {
      try {
        for (const id of await this.reclaimExpired(this.opts.leaseMs)) await this.dispatch(id, new Date(), this.db);
      } catch (err) {
        this.opts.log.warn({ error: (err as Error).message }, 'job sweep failed');
      }
    };
    await sweep();
    this.sweeper = setInterval(() => void sweep(), Math.max(500, Math.floor(this.opts.leaseMs / 2)));
    this.sweeper.unref();
  }

  /**
   * Starts graphile-worker's runner, and starts it again if it stops on its own: graphile-worker
   * listens on the DATABASE-wide channel `worker:migrate`, and a fresh install of its schema for
   * ANY schema of the database (another Syncline install, another test) makes every runner in the
   * database shut down (and sets process.exitCode = 57). Our own worker schema is unchanged then,
   * so the runner is restarted (a real incompatible upgrade of ours makes `run` throw: retried).
   */
  private async startRunner(): Promise<void> {
    const { run, Logger } = await loadWorker();
    const runner = await run({
      connectionString: this.connectionString,
      schema: this.workerSchema,
      concurrency: this.opts.concurrency,
      maxPoolSize: this.opts.concurrency + 2,
      noHandleSignals: true,
      pollInterval: this.opts.pollIntervalMs ?? 2_000,
      useNodeTime: true,
      logger: quietLogger(Logger, this.opts),
      taskList: {
        [TASK]: async (payload) => {
          const id = (payload as { id?: string } | null)?.id;
          if (!id || this.stopped) return;
          const row = await this.claim(id);
          if (!row) return; // done already, claimed elsewhere, or not due (its retry re-dispatches)
          const p = this.execute(row);
          this.track(p);
          await p;
        },
      },
    });
    if (this.stopped) {
      await runner.stop();
      return;
    }
    this.runner = runner;
    void runner.promise
      .catch(() => undefined)
      .then(() => {
        if (this.stopped || this.runner !== runner) return;
        this.runner = null;
        if (process.exitCode === 57) process.exitCode = undefined;
        this.opts.log.warn({ component: 'graphile-worker' }, 'job runner stopped on its own (another schema installed graphile-worker); restarting it');
        const retry = () => {
          if (this.stopped) return;
          this.startRunner().catch((err: Error) => {
            this.opts.log.error({ component: 'graphile-worker', error: err.message }, 'job runner restart failed; retrying');
            setTimeout(retry, 2000).unref();
          });
        };
        setTimeout(retry, 250).unref();
      });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    const r = this.runner;
    this.runner = null;
    if (r) await r.stop();
    await Promise.allSettled([...this.running]);
  }
}

/** graphile-worker is loaded on first use, so SQLite installs and the CLI never load it. */
const loadWorker = () => import('graphile-worker');

function quietLogger(LoggerClass: typeof Logger, opts: QueueOptions): Logger {
  return new LoggerClass(() => (level, message) => {
    if (level === 'error') opts.log.error({ component: 'graphile-worker' }, message);
    else if (level === 'warning') opts.log.warn({ component: 'graphile-worker' }, message);
  });
}

export interface CreateQueueOptions extends Partial<Omit<QueueOptions, 'log'>> {
  log?: QueueOptions['log'];
}

const silentLog: QueueOptions['log'] = { info() {}, warn() {}, error() {} };

/**
 * The queue for a database: SQLite → in-process, PostgreSQL → graphile-worker (its schema is
 * installed here). `databaseUrl` is the connection string graphile-worker uses.
 */
export async function createJobQueue(
  handle: { db: Kysely<Database>; dialect: 'sqlite' | 'postgres' },
  databaseUrl: string,
  o: CreateQueueOptions = {},
): Promise<JobQueue> {
  const opts: QueueOptions = { ...DEFAULT_QUEUE_OPTIONS, ...stripUndefined(o), log: o.log ?? silentLog };
  if (handle.dialect === 'sqlite') return new SqliteQueue(handle.db, opts);
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(handle.db);
  const ours = rows[0]?.schema ?? 'public';
  // One graphile-worker schema per Syncline schema, so installs sharing a database stay apart.
  const workerSchema = ours === 'public' ? 'graphile_worker' : `${ours}_worker`;
  return new PostgresQueue(handle.db, opts, databaseUrl, workerSchema);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
