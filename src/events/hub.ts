import { EventEmitter } from 'node:events';

import type { ResourceEvent } from '../contracts/resources.js';
import type { DatabaseHandle } from '../store/db.js';
import { outboxAfter, outboxBounds, type OutboxRow } from '../store/outbox.js';
import { OutboxTail } from './tail.js';

export type { ResourceEvent };

/**
 * Fan-out of events to watchers (SSE). With a database, the source of truth is the outbox:
 * a tail follows it (PostgreSQL NOTIFY or the in-process signal as wake-up), so watchers on
 * every replica see every replica's events, and only committed ones. The tail starts with the
 * first watcher.
 */
export class EventHub {
  private readonly emitter = new EventEmitter();
  /** Namespace, deployment, plan and delivery events for `GET /events`. */
  readonly activity: ActivityStream;
  private readonly tail: OutboxTail | null;

  constructor(private readonly db?: DatabaseHandle) {
    // Every SSE client is a listener; the default cap of 10 would only produce a warning.
    this.emitter.setMaxListeners(0);
    this.tail = db ? new OutboxTail(db, (row) => this.fromOutbox(row)) : null;
    this.activity = new ActivityStream(db && this.tail ? { db, tail: this.tail } : null);
  }

  /**
   * In-process only (e.g. a resource PATCH); deployments reach watchers through the outbox.
   * Each namespace's watchers get the events as one batch (in order), so a stream writes a
   * deployment's events to its socket once, not once per event.
   */
  publish(events: ResourceEvent[]): void {
    const byNamespace = new Map<string, ResourceEvent[]>();
    for (const e of events) {
      const list = byNamespace.get(e.namespace);
      if (list) list.push(e);
      else byNamespace.set(e.namespace, [e]);
    }
    for (const [namespace, batch] of byNamespace) this.emitter.emit(`ns:${namespace}`, batch);
  }

  /** `listener` gets each published batch of this namespace's events (never empty, in order). */
  subscribe(namespace: string, listener: (events: readonly ResourceEvent[]) => void): () => void {
    void this.tail?.start();
    const key = `ns:${namespace}`;
    this.emitter.on(key, listener);
    return () => this.emitter.off(key, listener);
  }

  listenerCount(namespace: string): number {
    return this.emitter.listenerCount(`ns:${namespace}`);
  }

  /** Starts following the outbox now (otherwise the first watcher starts it). */
  async start(): Promise<void> {
    await this.tail?.start();
  }

  async close(): Promise<void> {
    await this.tail?.stop();
  }

  private fromOutbox(row: OutboxRow): void {
    if (row.watch) this.publish(JSON.parse(row.watch) as ResourceEvent[]);
    const e = toStreamEvent(row);
    if (e) this.activity.deliver(e);
  }
}

/** The kinds of event on `GET /api/v1/events` (the UI's live stream across namespaces). */
export type StreamEventType = 'namespace' | 'deployment' | 'plan' | 'delivery';

export interface StreamEvent {
  /** Increasing (the outbox seq); the SSE `id`, so a reconnecting client resumes with `Last-Event-ID`. */
  id: number;
  type: StreamEventType;
  /** null for events that belong to no namespace (a webhook delivery). */
  namespace: string | null;
  data: Record<string, unknown>;
  at: string;
}

/** The `/events` view of an outbox row (null: not shown there). */
export function toStreamEvent(row: OutboxRow): StreamEvent | null {
  const ce = JSON.parse(row.event) as { type: string; time?: string; data?: Record<string, unknown> };
  const data = ce.data ?? {};
  const at = ce.time ?? row.created_at;
  let type: StreamEventType;
  let shown: Record<string, unknown> = data;
  if (ce.type.startsWith('syncline.deployment.')) type = 'deployment';
  else if (ce.type === 'syncline.namespace.status_changed') {
    type = 'namespace';
    shown = { name: row.namespace, status: data.to, from: data.from };
  } else if (ce.type === 'syncline.plan.completed') type = 'plan';
  else if (ce.type === 'syncline.delivery.failed') type = 'delivery';
  else return null;
  return { id: row.seq, type, namespace: row.namespace, data: shown, at };
}

const STREAM_BUFFER = 1000;

/**
 * The cross-namespace activity stream. With a database it is fed by the outbox tail (ids are
 * outbox seqs, resumable from the outbox for as long as rows are kept); without one it is an
 * in-process buffer of the last 1,000 events.
 */
export class ActivityStream {
  private readonly emitter = new EventEmitter();
  private readonly recent: StreamEvent[] = [];
  private seq = Date.now();

  constructor(private readonly backing: { db: DatabaseHandle; tail: OutboxTail } | null = null) {
    this.emitter.setMaxListeners(0);
  }

  /**
   * In-process only, for events that have no outbox row: shown to current watchers with the
   * latest outbox id (never replayed). Prefer recording an outbox event in the transaction.
   */
  publish(type: StreamEventType, namespace: string | null, data: Record<string, unknown>): StreamEvent {
    if (this.backing) {
      const event: StreamEvent = { id: this.backing.tail.position, type, namespace, data, at: new Date().toISOString() };
      this.emitter.emit('event', event);
      return event;
    }
    const event: StreamEvent = { id: ++this.seq, type, namespace, data, at: new Date().toISOString() };
    this.deliver(event);
    return event;
  }

  /** Hands an event (from the outbox tail) to the watchers. */
  deliver(event: StreamEvent): void {
    if (!this.backing) {
      this.recent.push(event);
      if (this.recent.length > STREAM_BUFFER) this.recent.shift();
    }
    this.emitter.emit('event', event);
  }

  subscribe(listener: (e: StreamEvent) => void): () => void {
    void this.backing?.tail.start();
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Resolves once the stream follows the outbox (so a watcher misses nothing after it). */
  async ready(): Promise<void> {
    await this.backing?.tail.start();
  }

  /**
   * Events after `lastId` up to what watchers have been sent, or null when they are no longer
   * all known (pruned, or an id from elsewhere): the client must then reload what it shows.
   */
  async since(lastId: number): Promise<StreamEvent[] | null> {
    if (this.backing) {
      const { db, tail } = this.backing;
      await tail.start();
      const upTo = tail.position;
      if (lastId > upTo) return null;
      const { min } = await outboxBounds(db.db);
      if (lastId === upTo) return [];
      if (min === null || lastId < min - 1) return null;
      const out: StreamEvent[] = [];
      let after = lastId;
      for (;;) {
        const rows = (await outboxAfter(db.db, after, 500)).filter((r) => r.seq <= upTo);
        for (const r of rows) {
          const e = toStreamEvent(r);
          if (e) out.push(e);
          after = r.seq;
        }
        if (rows.length < 500) return out;
      }
    }
    if (lastId >= this.seq) return lastId === this.seq ? [] : null;
    const first = this.recent[0];
    if (!first || lastId < first.id - 1) return null;
    return this.recent.filter((e) => e.id > lastId);
  }
}
