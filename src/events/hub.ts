import { EventEmitter } from 'node:events';

import type { ResourceEvent } from '../contracts/resources.js';

export type { ResourceEvent };

/**
 * In-process fan-out of resource events to watchers (SSE). Publishing happens only after the
 * transaction that made the change has committed, so a watcher never sees a change that later
 * rolls back.
 */
export class EventHub {
  private readonly emitter = new EventEmitter();
  /** Namespace, deployment, plan and delivery events for `GET /events`. */
  readonly activity = new ActivityStream();

  constructor() {
    // Every SSE client is a listener; the default cap of 10 would only produce a warning.
    this.emitter.setMaxListeners(0);
  }

  publish(events: ResourceEvent[]): void {
    for (const e of events) this.emitter.emit(`ns:${e.namespace}`, e);
  }

  subscribe(namespace: string, listener: (e: ResourceEvent) => void): () => void {
    const key = `ns:${namespace}`;
    this.emitter.on(key, listener);
    return () => this.emitter.off(key, listener);
  }

  listenerCount(namespace: string): number {
    return this.emitter.listenerCount(`ns:${namespace}`);
  }
}

/** The kinds of event on `GET /api/v1/events` (the UI's live stream across namespaces). */
export type StreamEventType = 'namespace' | 'deployment' | 'plan' | 'delivery';

export interface StreamEvent {
  /** Increasing; the SSE `id`, so a reconnecting client resumes with `Last-Event-ID`. */
  id: number;
  type: StreamEventType;
  /** null for events that belong to no namespace (a webhook delivery). */
  namespace: string | null;
  data: Record<string, unknown>;
  at: string;
}

const STREAM_BUFFER = 1000;

/**
 * The cross-namespace activity stream, in process. Ids start at the boot time in milliseconds so
 * they keep increasing across restarts; the last 1,000 events are kept for `Last-Event-ID`.
 * (Issue 13 backs this with the outbox so every replica sees every event.)
 */
export class ActivityStream {
  private readonly emitter = new EventEmitter();
  private readonly recent: StreamEvent[] = [];
  private seq = Date.now();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: StreamEventType, namespace: string | null, data: Record<string, unknown>): StreamEvent {
    const event: StreamEvent = { id: ++this.seq, type, namespace, data, at: new Date().toISOString() };
    this.recent.push(event);
    if (this.recent.length > STREAM_BUFFER) this.recent.shift();
    this.emitter.emit('event', event);
    return event;
  }

  subscribe(listener: (e: StreamEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /**
   * Events after `lastId`, or null when they are no longer all buffered (or the id is from
   * elsewhere): the client must then reload what it shows.
   */
  since(lastId: number): StreamEvent[] | null {
    if (lastId >= this.seq) return lastId === this.seq ? [] : null;
    const first = this.recent[0];
    if (!first || lastId < first.id - 1) return null;
    return this.recent.filter((e) => e.id > lastId);
  }
}
