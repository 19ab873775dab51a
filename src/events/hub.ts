import { EventEmitter } from 'node:events';

/** One change to a live resource, published after its deployment (or patch) commits. */
export interface ResourceEvent {
  namespace: string;
  operation: 'create' | 'update' | 'delete';
  kind: string;
  name: string;
  hash: string | null;
  commit: string | null;
  deployment: string | null;
  at: string;
}

/**
 * In-process fan-out of resource events to watchers (SSE). Publishing happens only after the
 * transaction that made the change has committed, so a watcher never sees a change that later
 * rolls back.
 */
export class EventHub {
  private readonly emitter = new EventEmitter();

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
