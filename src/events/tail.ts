import type { DatabaseHandle } from '../store/db.js';
import { outboxAfter, outboxBounds, OUTBOX_CHANNEL, type OutboxRow } from '../store/outbox.js';
import { CoalescedRun } from './coalesced-run.js';
import { outboxSignal } from './outbox.js';

const BATCH = 500;
/** Fallback poll when no wake-up arrives (a lost NOTIFY, a commit we did not see). */
const POLL_MS = 1000;
/**
 * On PostgreSQL a row's `seq` is taken at insert, but rows become visible at commit, so a
 * lower seq can appear after a higher one. Missing seqs are looked for again for this long
 * (a rolled-back insert leaves a gap for good).
 */
const HOLE_TTL_MS = 30_000;

/**
 * Follows the outbox in this process: every committed row, from any replica, is handed to
 * `onRow` once, in seq order as rows become visible. Started lazily by the hub.
 */
export class OutboxTail {
  private last = 0;
  private readonly holes = new Map<number, number>();
  // A failed read means the database is unreachable; the next wake-up or poll tries again.
  private readonly reads = new CoalescedRun(() => this.readOnce(), () => undefined);
  private timer: NodeJS.Timeout | null = null;
  private stopListen: (() => Promise<void>) | null = null;
  private readonly wake = () => this.drain();
  private started: Promise<void> | null = null;

  constructor(
    private readonly db: DatabaseHandle,
    private readonly onRow: (row: OutboxRow) => void,
  ) {}

  start(): Promise<void> {
    this.started ??= (async () => {
      this.last = (await outboxBounds(this.db.db)).max ?? 0;
      outboxSignal.on('wake', this.wake);
      this.stopListen = this.db.listen?.(OUTBOX_CHANNEL, this.wake) ?? null;
      this.timer = setInterval(this.wake, POLL_MS);
      this.timer.unref();
    })();
    return this.started;
  }

  /** The last seq handed out (SSE resumption checks against it). */
  get position(): number {
    return this.last;
  }

  drain(): void {
    if (this.started) this.reads.wake();
  }

  private async readOnce(): Promise<void> {
    if (this.holes.size > 0) {
      const now = Date.now();
      const wanted = [...this.holes.keys()];
      const found = await this.db.db.selectFrom('outbox').selectAll().where('seq', 'in', wanted).orderBy('seq').execute();
      for (const r of found) {
        this.holes.delete(Number(r.seq));
        this.onRow({ ...r, seq: Number(r.seq) });
      }
      for (const [seq, since] of this.holes) if (now - since > HOLE_TTL_MS) this.holes.delete(seq);
    }
    for (;;) {
      const rows = await outboxAfter(this.db.db, this.last, BATCH);
      for (const r of rows) {
        if (this.db.dialect === 'postgres' && r.seq - this.last < 1000) for (let s = this.last + 1; s < r.seq; s++) this.holes.set(s, Date.now());
        this.last = r.seq;
        this.onRow(r);
      }
      if (rows.length < BATCH) return;
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    outboxSignal.off('wake', this.wake);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.stopListen?.();
    this.stopListen = null;
    await this.reads.idle();
    this.started = null;
  }
}
