/**
 * Runs `pass` on a wake-up, never two passes at once. Wake-ups that arrive during a pass fold
 * into one more pass after it, so a burst of any size costs at most two passes and a row
 * committed while a pass reads is never missed. A failed pass is reported and the loop goes on
 * with the next wake-up (the callers' timers wake it again).
 */
export class CoalescedRun {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** Checked before each repeat: false ends the loop (leadership lost, say). */
    private readonly keepGoing: () => boolean = () => true,
  ) {}

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.onError(err);
        }
      } while (this.again && this.keepGoing());
    })().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no pass is running (a stop waits for the pass in hand). */
  async idle(): Promise<void> {
    await this.running;
  }
}
