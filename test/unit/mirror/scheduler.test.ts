/** When the mirror scheduler tries a mirror again: waiting (retryable failure) vs stalled. */
import { describe, expect, it } from 'vitest';
import { isDue } from '../../../src/mirror/scheduler.js';
import type { SourceRow } from '../../../src/store/sources.js';

const HOUR = 3600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const row = (over: Partial<SourceRow> = {}): SourceRow =>
  ({ name: 'shop', mirror_status: 'ready', mirror_last_synced: new Date(T0 - 2 * HOUR).toISOString(), updated_at: new Date(T0 - 3 * HOUR).toISOString(), ...over }) as SourceRow;
// jitter 0.5 → exactly one interval.
const due = (r: SourceRow, now: number, failure?: { at: number; retryable: boolean }) => isDue(r, HOUR, 0.5, now, failure);

describe('isDue', () => {
  it('a mirror never synced, or synced longer than an interval ago, is due', () => {
    expect(due(row({ mirror_status: 'pending', mirror_last_synced: null }), T0)).toBe(true);
    expect(due(row(), T0)).toBe(true);
    expect(due(row({ mirror_last_synced: new Date(T0 - HOUR / 2).toISOString() }), T0)).toBe(false);
  });

  it('waiting: a retryable failure is retried after an interval, not every tick', () => {
    const failure = { at: T0, retryable: true };
    expect(due(row(), T0 + 10_000, failure)).toBe(false);
    expect(due(row(), T0 + HOUR, failure)).toBe(true);
  });

  it('stalled: a failure retrying cannot fix is not retried, however long ago', () => {
    const failure = { at: T0, retryable: false };
    expect(due(row(), T0 + 10_000, failure)).toBe(false);
    expect(due(row(), T0 + 48 * HOUR, failure)).toBe(false);
  });

  it('editing the source ends both: it is tried right away', () => {
    const edited = row({ updated_at: new Date(T0 + 1000).toISOString() });
    expect(due(edited, T0 + 2000, { at: T0, retryable: false })).toBe(true);
    expect(due(edited, T0 + 2000, { at: T0, retryable: true })).toBe(true);
  });
});
