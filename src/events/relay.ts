import type { CloudEvent } from '../contracts/events.js';
import { holdLeadership, type Leadership } from '../cluster/leader.js';
import type { DatabaseHandle } from '../store/db.js';
import { markPublished, OUTBOX_CHANNEL, pendingOutbox, pruneOutbox } from '../store/outbox.js';
import { AmqpSink, type EventSink } from './amqp.js';
import { WebhookDispatcher, WebhookSink } from './webhooks.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Resolver } from '../security/url-guard.js';
import type { ResolvedSettings } from '../config/load.js';
import { outboxSignal } from './outbox.js';

const BATCH = 100;
const POLL_MS = 1000;
const RETRY_MIN_MS = 200;
/** Capped so publishing resumes within a few seconds of a sink's return. */
const RETRY_MAX_MS = 2000;
const PRUNE_EVERY_MS = 3600_000;

export interface RelayLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RelayStatus {
  role: 'leader' | 'standby' | 'stopped';
  sinks: { name: string; state: 'ok' | 'degraded'; error: string | null }[];
  last_error: string | null;
  published: number;
}

/**
 * Publishes outbox rows to the sinks (AMQP, outbound webhooks) in `seq` order — so in order per
 * namespace — at least once: a row is stamped published only after every sink accepted it; a
 * failure stops the batch and the same row is retried (backoff capped at 2 s). One relay is
 * active across replicas (leader lock `outbox-relay`); it also prunes published rows older than
 * the retention window. (Runs as a leader-locked loop: no jobs module on main yet.)
 */
export class OutboxRelay {
  private leadership: Leadership | null = null;
  private active = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private stopListen: (() => Promise<void>) | null = null;
  private lastError: string | null = null;
  private published = 0;
  private lastPrune = 0;
  private readonly wake = () => {
    this.woken = true;
    this.wakeUp?.();
  };

  constructor(
    private readonly db: DatabaseHandle,
    readonly sinks: EventSink[],
    private readonly log: RelayLog,
    private readonly opts: { retentionDays: number },
    /** Started and stopped with the relay (the webhook dispatcher). */
    private readonly companions: { start(): void; stop(): Promise<void>; readonly isLeader: boolean }[] = [],
  ) {}

  /** The singletons this process holds now (for the replica registry). */
  roles(): string[] {
    const roles: string[] = [];
    if (this.leadership?.isLeader) roles.push('outbox');
    if (this.companions.some((c) => c.isLeader)) roles.push('webhooks');
    return roles;
  }

  start(): void {
    if (this.leadership) return;
    for (const c of this.companions) c.start();
    outboxSignal.on('wake', this.wake);
    this.stopListen = this.db.listen?.(OUTBOX_CHANNEL, this.wake) ?? null;
    this.leadership = holdLeadership(this.db, 'outbox-relay', {
      onGain: () => {
        this.log.info({}, 'outbox relay: leader');
        this.active = true;
        this.loop = this.run();
      },
      onLose: () => {
        this.active = false;
        this.wakeUp?.();
      },
    });
  }

  status(): RelayStatus {
    return {
      role: !this.leadership ? 'stopped' : this.leadership.isLeader ? 'leader' : 'standby',
      sinks: this.sinks.map((s) => ({ name: s.name, ...s.status() })),
      last_error: this.lastError,
      published: this.published,
    };
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        this.woken = false;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    let backoff = RETRY_MIN_MS;
    while (this.active) {
      let failed = false;
      let drained = false;
      try {
        drained = await this.publishBatch();
        await this.maybePrune();
      } catch (err) {
        failed = true;
        this.lastError = err instanceof Error ? err.message : String(err);
      }
      if (!this.active) break;
      if (failed) {
        const jitter = Math.random() * backoff * 0.2;
        await this.sleepFixed(backoff + jitter);
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
      } else {
        backoff = RETRY_MIN_MS;
        if (drained) await this.sleep(POLL_MS);
      }
    }
  }

  /** A retry wait that wake-ups do not cut short (new rows do not make a sink come back). */
  private sleepFixed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
    });
  }

  /** Publishes up to one batch; true when nothing is left. */
  private async publishBatch(): Promise<boolean> {
    const rows = await pendingOutbox(this.db.db, BATCH);
    const done: number[] = [];
    try {
      for (const row of rows) {
        if (!this.active) break;
        const event = JSON.parse(row.event) as CloudEvent;
        for (const sink of this.sinks) await sink.publish(event);
        done.push(row.seq);
        this.published++;
      }
    } finally {
      await markPublished(this.db.db, done);
    }
    if (this.lastError) {
      this.log.info({ published: done.length }, 'outbox relay: publishing again');
      this.lastError = null;
    }
    return rows.length < BATCH;
  }

  private async maybePrune(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const before = new Date(Date.now() - this.opts.retentionDays * 86400_000).toISOString();
    const n = await pruneOutbox(this.db.db, before);
    if (n > 0) this.log.info({ pruned: n }, 'outbox: pruned published events past retention');
  }

  async stop(): Promise<void> {
    outboxSignal.off('wake', this.wake);
    await this.stopListen?.();
    this.stopListen = null;
    await this.leadership?.stop();
    this.leadership = null;
    this.active = false;
    this.wakeUp?.();
    await this.loop?.catch(() => undefined);
    this.loop = null;
    for (const s of this.sinks) await s.close();
    for (const c of this.companions) await c.stop();
  }
}

/** The relay for these settings: outbound webhooks always, an AMQP sink when `amqp_url` is set. */
export function createRelay(
  ctx: { db: DatabaseHandle; box: SecretBox; settings: ResolvedSettings; resolver?: Resolver | undefined },
  log: RelayLog,
): OutboxRelay {
  const s = ctx.settings;
  const dispatcher = new WebhookDispatcher(ctx.db, ctx.box, { ...s, resolver: ctx.resolver }, log);
  const sinks: EventSink[] = [new WebhookSink(ctx.db, () => dispatcher.wake())];
  if (s.amqp_url) sinks.push(new AmqpSink({ url: s.amqp_url, exchange: s.amqp_exchange, queue: s.amqp_queue, log }));
  return new OutboxRelay(ctx.db, sinks, log, { retentionDays: s.events_retention_days }, [dispatcher]);
}
