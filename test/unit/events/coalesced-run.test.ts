import { describe, expect, it } from 'vitest';
import { CoalescedRun } from '../../../src/events/coalesced-run.js';

/** A pass the test finishes by hand, counting how many started. */
function gatedPasses() {
  const gates: Array<() => void> = [];
  let started = 0;
  const pass = () => {
    started++;
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  const finishNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { pass, finishNext, started: () => started, pending: () => gates.length };
}

describe('CoalescedRun', () => {
  it('folds a burst of wake-ups during a pass into exactly one more pass', async () => {
    const g = gatedPasses();
    const run = new CoalescedRun(g.pass, () => undefined);
    run.wake();
    for (let i = 0; i < 50; i++) run.wake();
    expect(g.started()).toBe(1);
    await g.finishNext();
    expect(g.started()).toBe(2);
    await g.finishNext();
    await run.idle();
    expect(g.started()).toBe(2);
    expect(g.pending()).toBe(0);
  });

  it('never runs two passes at once', async () => {
    let inFlight = 0;
    let most = 0;
    const run = new CoalescedRun(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    }, () => undefined);
    for (let i = 0; i < 20; i++) {
      run.wake();
      await new Promise((r) => setImmediate(r));
    }
    await run.idle();
    expect(most).toBe(1);
  });

  it('reports a failed pass and runs again on the next wake-up', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const run = new CoalescedRun(async () => {
      if (++calls === 1) throw new Error('database unreachable');
    }, (err) => errors.push(err));
    run.wake();
    await run.idle();
    expect(errors.map((e) => (e as Error).message)).toEqual(['database unreachable']);
    run.wake();
    await run.idle();
    expect(calls).toBe(2);
  });

  it('stops repeating once keepGoing says no (leadership lost mid-pass)', async () => {
    const g = gatedPasses();
    let active = true;
    const run = new CoalescedRun(g.pass, () => undefined, () => active);
    run.wake();
    run.wake();
    active = false;
    await g.finishNext();
    await run.idle();
    expect(g.started()).toBe(1);
  });

  it('idle() waits for the pass in hand', async () => {
    const g = gatedPasses();
    const run = new CoalescedRun(g.pass, () => undefined);
    run.wake();
    let idle = false;
    const waiting = run.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    await g.finishNext();
    await waiting;
    expect(idle).toBe(true);
  });
});
