import { createContext, useContext } from 'react';
import { POLL_MS, type LiveState } from '../lib/live.js';

export const LiveContext = createContext<LiveState>('connecting');

/** refetchInterval for queries: poll only while the event stream is down. */
export function usePollInterval(): number | false {
  return useContext(LiveContext) === 'polling' ? POLL_MS : false;
}
