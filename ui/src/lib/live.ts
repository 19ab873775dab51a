import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

export type LiveState = 'connecting' | 'live' | 'polling';

/** Poll interval while the event stream is down. */
export const POLL_MS = 10_000;

interface StreamMessage {
  type: string;
  namespace: string | null;
}

/** Applies a batch of events to the query cache: refetch only what they touch. */
export function applyEvents(qc: QueryClient, batch: StreamMessage[]): void {
  const namespaces = new Set<string>();
  let everything = false;
  for (const m of batch) {
    if (m.type === 'reset') everything = true;
    if (m.namespace) namespaces.add(m.namespace);
    if (m.type === 'delivery') void qc.invalidateQueries({ queryKey: ['deliveries'] });
  }
  if (everything) {
    void qc.invalidateQueries();
    return;
  }
  if (namespaces.size > 0) void qc.invalidateQueries({ queryKey: ['namespaces'] });
  for (const ns of namespaces) void qc.invalidateQueries({ queryKey: ['ns', ns] });
}

/**
 * Listens to `GET /api/v1/events` and applies events in ~500 ms batches. When the stream breaks
 * (a proxy, a restart) the state says so and pages poll until it is back.
 */
export function useLiveEvents(enabled: boolean): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    let batch: StreamMessage[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const es = new EventSource('/api/v1/events');
    const push = (m: StreamMessage) => {
      batch.push(m);
      timer ??= setTimeout(() => {
        const b = batch;
        batch = [];
        timer = null;
        applyEvents(qc, b);
      }, 500);
    };
    es.onopen = () => {
      setState((prev) => {
        // Back from polling: what was missed may not be replayable; refresh once.
        if (prev === 'polling') void qc.invalidateQueries();
        return 'live';
      });
    };
    es.onerror = () => setState('polling');
    for (const type of ['namespace', 'deployment', 'plan', 'delivery', 'reset']) {
      es.addEventListener(type, (ev) => {
        let namespace: string | null = null;
        try {
          namespace = (JSON.parse((ev as MessageEvent<string>).data) as { namespace?: string | null }).namespace ?? null;
        } catch {
          /* ignore */
        }
        push({ type, namespace });
      });
    }
    return () => {
      es.close();
      if (timer) clearTimeout(timer);
    };
  }, [enabled, qc]);
  return state;
}
