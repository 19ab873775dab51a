/**
 * The request body of an upload-pack POST on its way to git: a deadline and minimum rate on the
 * raw side, gunzip when the client compressed it, a size cap and a pkt-line check on the
 * decompressed side. `pipeBody` streams it into git's stdin; `readBody` reads a small one in full
 * first (so a clone-like request can be answered from the cache) and lets a larger one flow on.
 */
import { createGunzip } from 'node:zlib';
import { Transform, pipeline, type Readable, type TransformCallback, type Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';

export interface BodyLimits {
  /** Largest body after decompression. */
  maxBytes: number;
  /** The whole body must have arrived within this. */
  deadlineMs: number;
  /** Below this average rate (after a 2 s grace) the client counts as stalled. */
  minBytesPerSecond: number;
}

export type BodyProblem = 'too_large' | 'malformed' | 'slow' | null;

class BodyError extends Error {
  constructor(readonly problem: Exclude<BodyProblem, null>) {
    super(problem);
  }
}

/** What the body checks need to know about a request. */
export interface BodyInput {
  /** The body is gzip-compressed (git compresses large requests). */
  gzip: boolean;
  limits: BodyLimits;
}

/**
 * Raw side of an upload: ends it with a `slow` error when it has not fully arrived within the
 * deadline or falls under the minimum rate (a client trickling or stalled holds a git process
 * and a slot; it loses both at once).
 */
class BodyDeadline extends Transform {
  #seen = 0;
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;
  constructor(limits: BodyLimits) {
    super();
    const tick = Math.max(10, Math.min(1000, Math.floor(limits.deadlineMs / 4)));
    this.#timer = setInterval(() => {
      const elapsed = Date.now() - this.#started;
      const tooSlow = elapsed > 2000 && (this.#seen * 1000) / elapsed < limits.minBytesPerSecond;
      if (elapsed >= limits.deadlineMs || tooSlow) this.destroy(new BodyError('slow'));
    }, tick);
    this.#timer.unref();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    clearInterval(this.#timer);
    cb();
  }
  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearInterval(this.#timer);
    cb(err);
  }
}

/**
 * Decompressed side: at most `maxBytes`, and well-formed pkt-lines (4 hex digits of length, or
 * the 0000/0001/0002 markers). Garbage, zero-filled or truncated bodies are refused here with a
 * 400 instead of reaching git.
 */
class PktLineCheck extends Transform {
  #seen = 0;
  #header = '';
  #skip = 0;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.maxBytes) return cb(new BodyError('too_large'));
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      this.#header += String.fromCharCode(chunk[i]!);
      i++;
      if (this.#header.length < 4) continue;
      if (!/^[0-9a-f]{4}$/.test(this.#header)) return cb(new BodyError('malformed'));
      const len = parseInt(this.#header, 16);
      this.#header = '';
      if (len === 3 || len > 65520) return cb(new BodyError('malformed'));
      if (len >= 4) this.#skip = len - 4;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.#header.length > 0 || this.#skip > 0 ? new BodyError('malformed') : null);
  }
}

/** Feeds the request body to git; `problem` says why it was cut off, if it was. */
export function pipeBody(p: BodyInput & { body: Readable | undefined; res: ServerResponse }, proc: { stdin: Writable; kill(): void }): { problem: BodyProblem } {
  const state: { problem: BodyProblem } = { problem: null };
  if (!p.body) {
    proc.stdin.end();
    return state;
  }
  const onDone = (err: NodeJS.ErrnoException | null): void => {
    if (!err) return;
    if (err instanceof BodyError) state.problem = err.problem;
    else if (typeof err.code === 'string' && err.code.startsWith('Z_')) state.problem = 'malformed';
    // A broken upload (client gone, bad gzip, too large, too slow) leaves git waiting for input.
    if (!p.res.writableFinished) proc.kill();
    // A stalled client is not waited for: the response (and so the slot) ends now.
    if (state.problem === 'slow' && p.res.headersSent) p.res.destroy();
  };
  const stages: NodeJS.ReadWriteStream[] = [new BodyDeadline(p.limits)];
  if (p.gzip) stages.push(createGunzip());
  stages.push(new PktLineCheck(p.limits.maxBytes));
  pipeline([p.body, ...stages, proc.stdin] as unknown as [Readable, Writable], onDone);
  return state;
}

/**
 * With the cache on, request bodies up to this size (after gunzip) are read in full before git
 * starts, so that a clone-like request can be answered from the cache; a larger body is not
 * cacheable and streams on to git as it arrives, as without the cache.
 */
export const CACHE_BODY_LIMIT = 256 * 1024;

export interface BodyState {
  problem: BodyProblem;
  /** Called on a body error once git runs (kills it). */
  onError?: () => void;
}

export type BodyRead = { kind: 'buffer'; body: Buffer } | { kind: 'stream'; stream: Readable } | { kind: 'failed' };

/** Holds the body until it ended (→ one buffer) or grew past `limit` (→ everything flows on). */
class BodyGate extends Transform {
  #held: Buffer[] = [];
  #size = 0;
  #passing = false;
  constructor(
    private readonly limit: number,
    private readonly decide: (read: BodyRead) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#passing) return cb(null, chunk);
    this.#held.push(chunk);
    this.#size += chunk.length;
    if (this.#size > this.limit) {
      this.#passing = true;
      for (const held of this.#held) this.push(held);
      this.#held = [];
      this.decide({ kind: 'stream', stream: this });
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    if (!this.#passing) this.decide({ kind: 'buffer', body: Buffer.concat(this.#held, this.#size) });
    this.#held = [];
    cb();
  }
}

/** The request body through the same checks as pipeBody, read in full when small (for the cache). */
export function readBody(p: BodyInput, body: Readable, state: BodyState): Promise<BodyRead> {
  return new Promise((resolve) => {
    let decided = false;
    const decide = (read: BodyRead): void => {
      if (decided) return;
      decided = true;
      resolve(read);
    };
    const stages: NodeJS.ReadWriteStream[] = [new BodyDeadline(p.limits)];
    if (p.gzip) stages.push(createGunzip());
    stages.push(new PktLineCheck(p.limits.maxBytes));
    stages.push(new BodyGate(CACHE_BODY_LIMIT, decide));
    pipeline([body, ...stages] as unknown as [Readable, Writable], (err: NodeJS.ErrnoException | null) => {
      if (!err) return;
      if (err instanceof BodyError) state.problem = err.problem;
      else if (typeof err.code === 'string' && err.code.startsWith('Z_')) state.problem = 'malformed';
      state.onError?.();
      decide({ kind: 'failed' });
    });
  });
}
