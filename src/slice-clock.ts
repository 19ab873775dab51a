/**
 * Time slices for long loops on the main thread (a 10,000-file listing, parse or plan): `due()`
 * once `sliceMs` have passed since the slice began, `turn()` gives the event loop a turn
 * (setImmediate), starts the next slice, then runs `onTurn` (the sync's shutdown check).
 */
export class SliceClock {
  private start = performance.now();
  private calls = 0;

  constructor(private readonly opts: { sliceMs: number; onTurn?: () => void; checkEvery?: number }) {}

  /** Whether this slice is over; with `checkEvery`, the clock is read only every that many calls. */
  due(): boolean {
    const every = this.opts.checkEvery ?? 1;
    if (every > 1 && ++this.calls % every !== 0) return false;
    return performance.now() - this.start >= this.opts.sliceMs;
  }

  async turn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
    this.opts.onTurn?.();
  }
}
