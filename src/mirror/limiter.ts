/**
 * A small counting semaphore with a bounded FIFO queue, for work that must not run unboundedly in
 * parallel (one `git upload-pack` per mirror request: each is a process, CPU for delta search and
 * memory for its object walk).
 *
 * `acquire()` resolves with a release function once a slot is free. When every slot is taken the
 * caller waits in line; when the line is full, or the wait exceeds `queueTimeoutMs`, or the
 * caller's signal aborts, it rejects with a `LimiterRejectedError` saying why and how long to
 * wait before retrying (for a `Retry-After` header).
 */
import { SynclineError } from '../errors.js';

export interface LimiterOptions {
  /** Slots that may be held at once. At least 1. */
  maxConcurrent: number;
  /** Callers allowed to wait for a slot; beyond this they are rejected at once. Default 0. */
  maxQueue?: number;
  /** Longest wait in the queue before rejection. Default 10 s. */
  queueTimeoutMs?: number;
  /** Seconds suggested to rejected callers. Default: the queue timeout rounded up, at least 1. */
  retryAfterSeconds?: number;
}

export type LimiterRejectReason = 'queue_full' | 'queue_timeout' | 'aborted';

export class LimiterRejectedError extends SynclineError {
  constructor(
    readonly reason: LimiterRejectReason,
    readonly retryAfterSeconds: number,
  ) {
    super(
      'busy',
      reason === 'aborted' ? 'The request was abandoned while waiting' : 'Too many concurrent requests; retry later',
      { reason, retry_after: retryAfterSeconds },
    );
  }
}

/** Gives the slot back. Idempotent: calling it twice releases once. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

export class ConcurrencyLimiter {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly retryAfterSeconds: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(opts: LimiterOptions) {
    if (!Number.isInteger(opts.maxConcurrent) || opts.maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${opts.maxConcurrent}`);
    }
    this.maxConcurrent = opts.maxConcurrent;
    this.maxQueue = Math.max(0, Math.floor(opts.maxQueue ?? 0));
    this.queueTimeoutMs = Math.max(0, opts.queueTimeoutMs ?? 10_000);
    this.retryAfterSeconds = Math.max(1, Math.ceil(opts.retryAfterSeconds ?? this.queueTimeoutMs / 1000));
  }

  /** Slots currently held. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** A slot now, or null when none is free (never queues). */
  tryAcquire(): Release | null {
    if (this.#active >= this.maxConcurrent) return null;
    this.#active++;
    return this.#releaser();
  }

  /** Waits for a slot; rejects with LimiterRejectedError on a full queue, timeout or abort. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(this.#rejection('aborted'));
    // Queue-jumping is impossible: a free slot with waiters present is handed over in #release.
    const now = this.#queue.length === 0 ? this.tryAcquire() : null;
    if (now) return Promise.resolve(now);
    if (this.#queue.length >= this.maxQueue) return Promise.reject(this.#rejection('queue_full'));

    return new Promise<Release>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const leave = (reason: LimiterRejectReason): void => {
        const index = this.#queue.indexOf(waiter);
        if (index === -1) return; // already granted
        this.#queue.splice(index, 1);
        cleanup();
        reject(this.#rejection(reason));
      };
      const onAbort = (): void => leave('aborted');
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
      };
      this.#queue.push(waiter);
      timer = setTimeout(() => leave('queue_timeout'), this.queueTimeoutMs);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `fn` while holding a slot. */
  async run<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) {
      // The slot passes straight to the next waiter; the active count stays the same.
      next.grant(this.#releaser());
      return;
    }
    this.#active--;
  }

  #rejection(reason: LimiterRejectReason): LimiterRejectedError {
    return new LimiterRejectedError(reason, this.retryAfterSeconds);
  }
}
