/**
 * The job queue: one interface, two drivers.
 *
 * - SQLite: the `jobs` table is worked in-process (one process per database file).
 * - PostgreSQL: graphile-worker dispatches, so every replica sharing the database shares the work
 *   (LISTEN/NOTIFY wake-ups, `SKIP LOCKED` claims); the `jobs` table stays the record.
 *
 * Either way the `jobs` row is the truth the API lists: queued → running → done, or back to
 * queued with a back-off after a failed attempt, or `failed` (kept, with its error) once its
 * attempts are exhausted. Delivery is at least once: a worker killed mid-job leaves a `running`
 * row whose lease expires (heartbeats stop), and the job runs again — so handlers must be
 * idempotent (e.g. "sync the branch head if it is ahead of what is deployed", never "apply X").
 *
 * ## Registering a job kind
 * ```ts
 * // once per context, before ctx.jobs.start(): add your module's register…Jobs(ctx) call to
 * // registerJobKinds() in src/app-context.ts (openContext calls it)
 * ctx.jobs.register<{ source: string }>('source.fetch', async (payload, job) => {
 *   await doTheWork(ctx, payload.source);        // throw to retry (back-off with jitter)
 * }, { maxAttempts: 5 });
 * // anywhere (optionally inside your transaction: pass `tx`, then call ctx.jobs.kick() after commit)
 * await ctx.jobs.enqueue('source.fetch', { source: 'shop' }, { key: 'source.fetch:shop' });
 * ```
 * A `key` coalesces duplicates: while a job with that key is queued (not yet running), enqueueing
 * another returns the queued one. Throw a non-retryable `SynclineError` (e.g. a 400-class one)
 * to fail at once; throw `RetryLaterError` to choose the delay (e.g. a forge's Retry-After).
 */
import crypto from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SynclineError } from '../errors.js';
import { redact } from '../security/redact.js';
import { fromJson, nowIso, toJson } from '../store/json.js';
import type { Database, JobsTable } from '../store/types.js';
import type { Selectable } from 'kysely';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];

export interface JobView {
  id: string;
  kind: string;
  key: string | null;
  state: JobState;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: string;
  created_at: string;
  finished_at: string | null;
  delivery: string | null;
  namespace: string | null;
}

export interface JobInfo {
  id: string;
  kind: string;
  attempt: number;
  maxAttempts: number;
  delivery: string | null;
  namespace: string | null;
}

export type JobHandler<P = any> = (payload: P, job: JobInfo) => Promise<void>;

export interface EnqueueOptions {
  /** Coalesces duplicates: one queued job per key. */
  key?: string;
  /** Run no earlier than this. */
  runAt?: Date;
  maxAttempts?: number;
  delivery?: string | null;
  namespace?: string | null;
  /** Enqueue inside the caller's transaction (then call `kick()` after the commit). */
  tx?: Transaction<Database>;
}

export interface EnqueueResult {
  id: string;
  kind: string;
  namespace: string | null;
  /** True when an already queued job with the same key was returned. */
  coalesced: boolean;
}

/** Throw from a handler to retry after a chosen delay (counts as an attempt). */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/**
 * Runs inside the transaction that marks a job failed for good (attempts exhausted or a permanent
 * error), so what it writes (e.g. an outbox event) lands exactly when the failure does. It may
 * return a callback to run once that transaction has committed.
 */
export type FinalFailureHook = (tx: Transaction<Database>, job: JobView) => Promise<(() => void) | void>;

export interface JobQueue {
  readonly driver: 'sqlite' | 'postgres';
  register<P>(kind: string, handler: JobHandler<P>, opts?: { maxAttempts?: number }): void;
  /** Adds a hook run in the transaction that fails a job for good. */
  onFinalFailure(hook: FinalFailureHook): void;
  enqueue<P>(kind: string, payload: P, opts?: EnqueueOptions): Promise<EnqueueResult>;
  /** Wakes the workers (after enqueueing inside a transaction that has now committed). */
  kick(): void;
  /** Starts working jobs (the server does; the CLI's local mode and most tests don't). */
  start(log?: QueueOptions['log']): Promise<void>;
  stop(): Promise<void>;
  list(q?: { state?: JobState | undefined; limit?: number; delivery?: string; namespace?: string }): Promise<JobView[]>;
  get(id: string): Promise<JobView | null>;
  /** Puts a failed (or done) job back in the queue with fresh attempts. Null when unknown. */
  retry(id: string): Promise<JobView | null>;
  /** Waits until no job is running or due (tests, the CLI's local mode). */
  waitIdle(timeoutMs?: number): Promise<void>;
  registerMetrics(registry: Registry): void;
}

export interface QueueOptions {
  concurrency: number;
  /** A running job whose worker stopped heart-beating for this long is run again. */
  leaseMs: number;
  /** First retry delay; doubles per attempt (with jitter), capped at maxBackoffMs. */
  backoffBaseMs: number;
  maxBackoffMs: number;
  defaultMaxAttempts: number;
  /**
   * How often an idle worker looks for due jobs on its own (delayed jobs, retries, and jobs another
   * process queued). A job queued in this process wakes it at once (SQLite: `kick`; PostgreSQL:
   * graphile-worker's LISTEN), so this is not the latency of a webhook's job.
   * Default 1 s on SQLite, 2 s on PostgreSQL.
   */
  pollIntervalMs?: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export const DEFAULT_QUEUE_OPTIONS: Omit<QueueOptions, 'log'> = {
  concurrency: 4,
  leaseMs: 60_000,
  backoffBaseMs: 2_000,
  maxBackoffMs: 10 * 60_000,
  defaultMaxAttempts: 5,
};

/** Exponential back-off with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

type Row = Selectable<JobsTable>;

/** What finishing an attempt writes to the job's row. */
interface FinishValues {
  state: JobState;
  last_error: string | null;
  run_at?: string;
  locked_by: null;
  locked_at: null;
  updated_at: string;
  finished_at: string | null;
}

/** The coalescing index's predicate, verbatim (SQLite matches ON CONFLICT … WHERE textually). */
const QUEUED_KEY = sql<boolean>`state = 'queued' and key is not null`;

export function toJobView(r: Row): JobView {
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    state: r.state as JobState,
    attempts: Number(r.attempts),
    max_attempts: Number(r.max_attempts),
    last_error: r.last_error,
    run_at: r.run_at,
    created_at: r.created_at,
    finished_at: r.finished_at,
    delivery: r.delivery,
    namespace: r.namespace,
  };
}

const errorText = (err: unknown): string => {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  return redact(e?.code && err instanceof SynclineError ? `${e.code}: ${msg}` : msg).slice(0, 4000);
};

/**
 * The driver-independent part: the `jobs` table, claiming, running a handler with heartbeats,
 * recording the outcome, metrics. Drivers only decide when to look for work.
 */
export abstract class BaseQueue implements JobQueue {
  abstract readonly driver: 'sqlite' | 'postgres';
  protected readonly handlers = new Map<string, { fn: JobHandler; maxAttempts: number }>();
  protected readonly workerId = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  protected running = new Set<Promise<void>>();
  protected stopped = true;
  private readonly duration = new Histogram({
    name: 'syncline_job_duration_seconds',
    help: 'Job run time by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [],
  });
  private readonly failures = new Counter({
    name: 'syncline_job_failures_total',
    help: 'Failed job attempts by kind (final: attempts exhausted)',
    labelNames: ['kind', 'final'] as const,
    registers: [],
  });
  private readonly depth: Gauge;

  constructor(
    protected readonly db: Kysely<Database>,
    protected opts: QueueOptions,
  ) {
    const self = this;
    this.depth = new Gauge({
      name: 'syncline_jobs',
      help: 'Jobs by state (queued = queue depth)',
      labelNames: ['state'] as const,
      registers: [],
      async collect() {
        const rows = await self.db
          .selectFrom('jobs')
          .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('state')
          .execute();
        this.reset();
        for (const s of JOB_STATES) this.set({ state: s }, 0);
        for (const r of rows) this.set({ state: r.state }, Number(r.n));
      },
    });
  }

  registerMetrics(registry: Registry): void {
    for (const m of [this.duration, this.failures, this.depth]) {
      if (!registry.getSingleMetric((m as unknown as { name: string }).name)) registry.registerMetric(m);
    }
  }

  register<P>(kind: string, handler: JobHandler<P>, opts: { maxAttempts?: number } = {}): void {
    this.handlers.set(kind, { fn: handler as JobHandler, maxAttempts: opts.maxAttempts ?? this.opts.defaultMaxAttempts });
  }

  protected readonly finalFailureHooks: FinalFailureHook[] = [];

  onFinalFailure(hook: FinalFailureHook): void {
    this.finalFailureHooks.push(hook);
  }

  async enqueue<P>(kind: string, payload: P, o: EnqueueOptions = {}): Promise<EnqueueResult> {
    const exec = o.tx ?? this.db;
    const now = nowIso();
    const runAt = (o.runAt ?? new Date()).toISOString();
    const id = crypto.randomUUID();
    const maxAttempts = o.maxAttempts ?? this.handlers.get(kind)?.maxAttempts ?? this.opts.defaultMaxAttempts;
    const row = {
      id,
      kind,
      key: o.key ?? null,
      payload: toJson(payload),
      state: 'queued',
      attempts: 0,
      max_attempts: maxAttempts,
      last_error: null,
      run_at: runAt,
      locked_by: null,
      locked_at: null,
      delivery: o.delivery ?? null,
      namespace: o.namespace ?? null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    if (o.key) {
      // A queued twin is the common case in a burst (one refresh job per source for many
      // deliveries): look for it first, so coalescing costs one statement. The insert below still
      // relies on the partial unique index, for a twin queued in between by someone else.
      const queued = await this.coalesce(exec, o.key, runAt, now);
      if (queued) return queued;
      const res = await exec
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.column('key').where(QUEUED_KEY).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!res) {
        const twin = await this.coalesce(exec, o.key, runAt, now);
        if (twin) return twin;
        // The queued one started running between the insert and the select: queue a fresh one.
        await exec.insertInto('jobs').values(row).execute();
      }
    } else {
      await exec.insertInto('jobs').values(row).execute();
    }
    await this.dispatch(id, new Date(runAt), exec);
    if (!o.tx) this.kick();
    return { id, kind, namespace: row.namespace, coalesced: false };
  }

  /** The queued job with `key`, if any, moved earlier to `runAt` when that is sooner. */
  private async coalesce(exec: Kysely<Database> | Transaction<Database>, key: string, runAt: string, now: string): Promise<EnqueueResult | null> {
    const existing = await exec
      .selectFrom('jobs')
      .select(['id', 'kind', 'namespace', 'run_at'])
      .where('key', '=', key)
      // The index's predicate verbatim, so both databases answer from the coalescing index.
      .where(QUEUED_KEY)
      .executeTakeFirst();
    if (!existing) return null;
    if (runAt < existing.run_at) {
      await exec.updateTable('jobs').set({ run_at: runAt, updated_at: now }).where('id', '=', existing.id).execute();
      await this.dispatch(existing.id, new Date(runAt), exec);
    }
    return { id: existing.id, kind: existing.kind, namespace: existing.namespace, coalesced: true };
  }

  /** Driver hook: make sure someone will look at job `id` at `runAt`. */
  protected abstract dispatch(id: string, runAt: Date, exec: Kysely<Database> | Transaction<Database>): Promise<void>;
  abstract kick(): void;
  abstract start(log?: QueueOptions['log']): Promise<void>;
  abstract stop(): Promise<void>;

  async list(q: { state?: JobState | undefined; limit?: number; delivery?: string; namespace?: string } = {}): Promise<JobView[]> {
    let query = this.db
      .selectFrom('jobs')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(q.limit ?? 200);
    if (q.state) query = query.where('state', '=', q.state);
    if (q.delivery) query = query.where('delivery', '=', q.delivery);
    if (q.namespace) query = query.where('namespace', '=', q.namespace);
    return (await query.execute()).map(toJobView);
  }

  async get(id: string): Promise<JobView | null> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toJobView(r) : null;
  }

  async retry(id: string): Promise<JobView | null> {
    const now = new Date();
    const r = await this.db
      .updateTable('jobs')
      .set({ state: 'queued', attempts: 0, run_at: now.toISOString(), updated_at: now.toISOString(), finished_at: null, key: null })
      .where('id', '=', id)
      .where('state', 'in', ['failed', 'done'])
      .returningAll()
      .executeTakeFirst();
    if (!r) return this.get(id);
    await this.dispatch(id, now, this.db);
    this.kick();
    return toJobView(r);
  }

  async waitIdle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = await this.db
        .selectFrom('jobs')
        .select('id')
        .where((eb) => eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', nowIso())])]))
        .limit(1)
        .executeTakeFirst();
      if (!busy && this.running.size === 0) return;
      if (Date.now() > deadline) throw new Error(`jobs still busy after ${timeoutMs} ms`);
      this.kick();
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Claims job `id` (or the next due job when `id` is omitted) for this worker: queued and due →
   * running, attempts + 1. Null when someone else has it or nothing is due.
   */
  protected async claim(id?: string): Promise<Row | null> {
    const now = nowIso();
    const set = {
      state: 'running',
      attempts: sql<number>`attempts + 1`,
      locked_by: this.workerId,
      locked_at: now,
      updated_at: now,
    };
    if (id) {
      return (
        (await this.db
          .updateTable('jobs')
          .set(set)
          .where('id', '=', id)
          .where('state', '=', 'queued')
          .where('run_at', '<=', now)
          .returningAll()
          .executeTakeFirst()) ?? null
      );
    }
    const next = this.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .orderBy('run_at')
      .limit(1);
    return (
      (await this.db
        .updateTable('jobs')
        .set(set)
        .where('id', '=', (eb) => eb.selectFrom(next.as('n')).select('n.id'))
        .where('state', '=', 'queued')
        .returningAll()
        .executeTakeFirst()) ?? null
    );
  }

  /** Runs a claimed job to its outcome; never throws. */
  protected async execute(row: Row): Promise<void> {
    const started = process.hrtime.bigint();
    const entry = this.handlers.get(row.kind);
    const heartbeat = setInterval(() => {
      void this.db
        .updateTable('jobs')
        .set({ locked_at: nowIso() })
        .where('id', '=', row.id)
        .where('locked_by', '=', this.workerId)
        .execute()
        .catch(() => undefined);
    }, Math.max(250, Math.floor(this.opts.leaseMs / 3)));
    heartbeat.unref();
    let outcome = 'done';
    try {
      if (!entry) throw new SynclineError('job_kind_unknown', `No handler registered for job kind '${row.kind}'`);
      await entry.fn(fromJson(row.payload, null), {
        id: row.id,
        kind: row.kind,
        attempt: Number(row.attempts),
        maxAttempts: Number(row.max_attempts),
        delivery: row.delivery,
        namespace: row.namespace,
      });
      await this.finish(row, { state: 'done', last_error: null });
    } catch (err) {
      const attempts = Number(row.attempts);
      const permanent = err instanceof SynclineError && !err.retryable && err.code !== 'sync_in_progress';
      const final = permanent || attempts >= Number(row.max_attempts);
      outcome = final ? 'failed' : 'retry';
      this.failures.inc({ kind: row.kind, final: String(final) });
      const message = errorText(err);
      if (final) {
        this.opts.log.error({ job: row.id, kind: row.kind, attempts, error: message }, 'job failed');
        await this.finish(row, { state: 'failed', last_error: message });
      } else {
        const delay =
          err instanceof RetryLaterError ? err.delayMs : backoffMs(attempts, this.opts.backoffBaseMs, this.opts.maxBackoffMs);
        const runAt = new Date(Date.now() + delay);
        this.opts.log.warn({ job: row.id, kind: row.kind, attempts, retry_in_ms: delay, error: message }, 'job attempt failed');
        await this.finish(row, { state: 'queued', last_error: message, run_at: runAt.toISOString() });
        await this.dispatch(row.id, runAt, this.db).catch(() => undefined);
      }
    } finally {
      clearInterval(heartbeat);
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      this.duration.observe({ kind: row.kind, outcome }, secs);
    }
  }

  private async finish(row: Row, set: { state: JobState; last_error: string | null; run_at?: string }): Promise<void> {
    const now = nowIso();
    const values: FinishValues = {
      ...set,
      locked_by: null,
      locked_at: null,
      updated_at: now,
      finished_at: set.state === 'queued' ? null : now,
    };
    const update = () =>
      this.db.updateTable('jobs').set(values).where('id', '=', row.id).where('locked_by', '=', this.workerId).execute();
    if (set.state === 'failed' && this.finalFailureHooks.length > 0) {
      let after: (() => void)[];
      try {
        after = await this.failWithHooks(row, values);
      } catch (err) {
        // A hook that cannot write must not leave the job running for ever: fail it without them.
        this.opts.log.error({ job: row.id, kind: row.kind, error: errorText(err) }, 'job failure hook failed');
        await update();
        return;
      }
      for (const cb of after) cb();
      return;
    }
    try {
      await update();
    } catch (err) {
      // Coalescing index: a queued twin with the same key appeared while this one ran; the twin
      // will do the work, so this one goes back without its key.
      if (set.state !== 'queued') throw err;
      await this.db
        .updateTable('jobs')
        .set({ ...values, key: null })
        .where('id', '=', row.id)
        .where('locked_by', '=', this.workerId)
        .execute();
    }
  }

  /** Marks a job failed for good and runs the final-failure hooks, in one transaction; returns the after-commit callbacks. */
  private failWithHooks(row: Row, values: FinishValues): Promise<(() => void)[]> {
    return this.db.transaction().execute(async (tx) => {
      const failed = await tx.updateTable('jobs').set(values).where('id', '=', row.id).where('locked_by', '=', this.workerId).returningAll().executeTakeFirst();
      // Not ours any more (lease lost and re-run elsewhere): that run reports its own outcome.
      if (!failed) return [];
      const out: (() => void)[] = [];
      for (const hook of this.finalFailureHooks) {
        const cb = await hook(tx, toJobView(failed));
        if (cb) out.push(cb);
      }
      return out;
    });
  }

  /** Running jobs whose worker stopped heart-beating go back to the queue; returns their ids. */
  protected async reclaimExpired(olderThanMs: number): Promise<string[]> {
    const cutoff = new Date(Date.now() - olderThanMs).toISOString();
    const rows = await this.db
      .updateTable('jobs')
      .set({ state: 'queued', locked_by: null, locked_at: null, updated_at: nowIso(), key: null })
      .where('state', '=', 'running')
      .where((eb) => eb.or([eb('locked_at', '<', cutoff), eb('locked_at', 'is', null)]))
      .returning('id')
      .execute();
    if (rows.length) this.opts.log.warn({ jobs: rows.map((r) => r.id) }, 'jobs of a stopped worker queued again');
    return rows.map((r) => r.id);
  }

  protected track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }
}
