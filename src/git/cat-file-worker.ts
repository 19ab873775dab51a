/**
 * One long-lived `git cat-file --batch-command --buffer` process per repository, shared by every
 * object lookup in it (ref resolution, commit metadata, tree walks, blob reads). Spawning git
 * costs 15–30 ms on a loaded small machine; a sync used to start 9–11 processes, most of them to
 * read a handful of objects. Requests are pipelined: commands are written with one `flush`, and
 * answers come back in order.
 *
 * Lifecycle: spawned on first use; closed after `IDLE_CLOSE_MS` without requests, on
 * `closeCatFileWorker(dir)` (mirror removed or re-cloned) and `closeAllCatFileWorkers()`
 * (shutdown). A worker that dies, answers garbage or stalls rejects what it had pending and is
 * replaced by a fresh one on the next request. When the repository directory is replaced (a
 * re-clone renames a new directory into place) the worker notices by the directory's inode and
 * restarts, so it never answers from a deleted repository. The process and its pipes are unref'd
 * while idle, so a worker never keeps a CLI or test process alive.
 */
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { GitError } from './git-error.js';
import { spawnGit, type GitProcess } from './runner.js';

export interface CatFileAnswer {
  /** The object id, or for missing/ambiguous objects the name that was asked for. */
  oid: string;
  /** Object type, or 'missing' / 'ambiguous'. */
  type: string;
  size: number;
  /** Content for `contents` commands; empty for `info`. */
  content: Buffer;
}

export type CatFileCommand = { op: 'info' | 'contents'; name: string };

const IDLE_CLOSE_MS = 30_000;
/** A request without any answer byte for this long kills the worker (a wedged disk). */
const STALL_MS = 60_000;
const MAX_HEADER = 4096;
/** Commands written (and flushed) per batch; larger requests are written over several turns. */
const WRITE_BATCH = 1000;
/** Longest stretch of answer parsing before the event loop gets a turn. */
const ANSWER_SLICE_MS = 4;
const EMPTY = Buffer.alloc(0);

interface Pending {
  op: 'info' | 'contents';
  request: Request;
}

interface Request {
  answers: CatFileAnswer[];
  remaining: number;
  resolve: (answers: CatFileAnswer[]) => void;
  reject: (err: Error) => void;
}

class CatFileWorker {
  private proc: GitProcess | null = null;
  private ino = -1;
  private queue: Pending[] = [];
  private head = 0;
  private header: Buffer = Buffer.alloc(0);
  private body: { answer: CatFileAnswer; filled: number; request: Request } | null = null;
  private needTrailer = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private inflight = 0;
  /** Requests whose commands are still being written (in batches). */
  private writing = new Set<Request>();

  constructor(readonly dir: string) {}

  async run(commands: CatFileCommand[]): Promise<CatFileAnswer[]> {
    if (commands.length === 0) return [];
    for (const c of commands) {
      // One command per line: a name with a line break would desynchronise the protocol.
      if (/[\n\r\0]/.test(c.name)) throw new Error('cat-file: object name contains a line break');
    }
    const ino = (await stat(this.dir)).ino;
    if (this.proc && ino !== this.ino) this.close(new Error('repository directory was replaced'));
    if (!this.proc) this.start(ino);
    const proc = this.proc!;
    return new Promise<CatFileAnswer[]>((resolvePromise, rejectPromise) => {
      const request: Request = { answers: [], remaining: commands.length, resolve: resolvePromise, reject: rejectPromise };
      this.busy(+1);
      if (commands.length <= WRITE_BATCH) {
        this.write(proc, request, commands, 0, commands.length);
        return;
      }
      // Many commands (a 10,000-file listing): written WRITE_BATCH at a time, each batch flushed,
      // with an event-loop turn between batches, so building and queueing them never holds the
      // loop and git starts answering the first batch while the next is written. The batches of
      // concurrent requests may interleave: the queue is filled in the order the lines are written.
      this.writing.add(request);
      const writeFrom = (from: number): void => {
        if (this.proc !== proc || !this.writing.has(request)) return; // closed meanwhile: rejected by close()
        const to = Math.min(commands.length, from + WRITE_BATCH);
        this.write(proc, request, commands, from, to);
        if (to < commands.length) setImmediate(writeFrom, to);
        else this.writing.delete(request);
      };
      writeFrom(0);
    });
  }

  private write(proc: GitProcess, request: Request, commands: CatFileCommand[], from: number, to: number): void {
    let text = '';
    for (let i = from; i < to; i++) {
      const c = commands[i]!;
      this.queue.push({ op: c.op, request });
      text += `${c.op} ${c.name}\n`;
    }
    proc.stdin.write(`${text}flush\n`);
  }

  private start(ino: number): void {
    this.ino = ino;
    const proc = spawnGit(['cat-file', '--batch-command', '--buffer'], {
      cwd: this.dir,
      // Our own idle close and stall timer apply; the runner's must not kill an idle worker.
      idleMs: 2 ** 31 - 1,
      totalMs: 2 ** 31 - 1,
      background: true,
    });
    this.proc = proc;
    // Answers are parsed in slices of at most ANSWER_SLICE_MS with event-loop turns between:
    // the pipe delivers up to ~2 MB per poll (10,000 blobs in a few reads), which parsed in one
    // go held the loop for tens of ms. Chunks wait in `inbox` meanwhile, in order.
    const inbox: Buffer[] = [];
    let scheduled = false;
    const drain = (budgetMs = ANSWER_SLICE_MS): void => {
      scheduled = false;
      if (this.proc !== proc) return;
      const start = performance.now();
      try {
        while (inbox.length > 0) {
          this.push(inbox.shift()!);
          if (this.proc !== proc) return;
          if (inbox.length > 0 && performance.now() - start >= budgetMs) {
            scheduled = true;
            setImmediate(drain);
            return;
          }
        }
      } catch (err) {
        this.close(err as Error);
      }
    };
    proc.stdout.on('data', (chunk: Buffer) => {
      if (this.proc !== proc) return;
      this.armStall();
      inbox.push(chunk);
      if (!scheduled) drain();
    });
    void proc.done.then((exit) => {
      // Answers that arrived before the exit are still delivered.
      if (this.proc === proc && inbox.length > 0) drain(Infinity);
      if (this.proc !== proc) return;
      const reason = exit.spawnError ? 'spawn' : 'exit';
      this.close(new GitError(reason, proc.args, exit.code, exit.stderr, 'cat-file worker exited'));
    });
  }

  private busy(delta: number): void {
    const before = this.inflight;
    this.inflight += delta;
    const proc = this.proc;
    if (!proc) return;
    if (before === 0 && this.inflight > 0) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      setRef(proc, true);
      this.armStall();
    } else if (before > 0 && this.inflight === 0) {
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = null;
      setRef(proc, false);
      this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
      this.idleTimer.unref();
    }
  }

  private armStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (this.inflight === 0) return;
    const proc = this.proc;
    this.stallTimer = setTimeout(() => {
      if (this.proc === proc) this.close(new Error(`cat-file worker gave no answer for ${STALL_MS} ms`));
    }, STALL_MS);
  }

  private answer(answer: CatFileAnswer, request: Request): void {
    request.answers.push(answer);
    request.remaining -= 1;
    if (request.remaining === 0) {
      this.busy(-1);
      request.resolve(request.answers);
    }
  }

  private next(): Pending {
    const p = this.queue[this.head];
    if (!p) throw new Error('cat-file: answer without a question');
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return p;
  }

  private push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.needTrailer) {
        if (chunk[pos] !== 0x0a) throw new Error('cat-file: missing newline after object content');
        pos += 1;
        this.needTrailer = false;
        continue;
      }
      if (this.body) {
        const b = this.body;
        const take = Math.min(b.answer.size - b.filled, chunk.length - pos);
        chunk.copy(b.answer.content, b.filled, pos, pos + take);
        b.filled += take;
        pos += take;
        if (b.filled === b.answer.size) {
          this.body = null;
          this.needTrailer = true;
          this.answer(b.answer, b.request);
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        this.header = Buffer.concat([this.header, chunk.subarray(pos)]);
        if (this.header.length > MAX_HEADER) throw new Error('cat-file: header too long');
        break;
      }
      const line = (this.header.length ? Buffer.concat([this.header, chunk.subarray(pos, nl)]) : chunk.subarray(pos, nl)).toString('utf8');
      this.header = Buffer.alloc(0);
      pos = nl + 1;
      const pending = this.next();
      const special = line.endsWith(' missing') || line.endsWith(' ambiguous') ? /^(.*) (missing|ambiguous)$/.exec(line) : null;
      if (special) {
        this.answer({ oid: special[1] ?? '', type: special[2] ?? 'missing', size: 0, content: EMPTY }, pending.request);
        continue;
      }
      const m = /^([0-9a-f]{40,64}) ([a-z]+) (\d+)$/.exec(line);
      if (!m) throw new Error(`cat-file: unexpected header '${line.slice(0, 100)}'`);
      const size = Number(m[3]);
      if (pending.op === 'info') {
        this.answer({ oid: m[1] ?? '', type: m[2] ?? '', size, content: EMPTY }, pending.request);
        continue;
      }
      const answer: CatFileAnswer = { oid: m[1] ?? '', type: m[2] ?? '', size, content: Buffer.allocUnsafe(size) };
      if (size === 0) {
        this.needTrailer = true;
        this.answer(answer, pending.request);
      } else {
        this.body = { answer, filled: 0, request: pending.request };
      }
    }
  }

  /** Ends the process; rejects whatever was pending with `err` (or a plain "closed"). */
  close(err?: Error): void {
    const proc = this.proc;
    this.proc = null;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.idleTimer = this.stallTimer = null;
    const pending = new Set(this.queue.slice(this.head).map((p) => p.request));
    if (this.body) pending.add(this.body.request);
    for (const r of this.writing) pending.add(r);
    this.writing.clear();
    this.queue = [];
    this.head = 0;
    this.header = Buffer.alloc(0);
    this.body = null;
    this.needTrailer = false;
    this.inflight = 0;
    if (proc) {
      if (pending.size > 0 || err) proc.kill();
      else proc.stdin.end();
      setRef(proc, false);
    }
    for (const r of pending) r.reject(err ?? new Error('cat-file worker closed'));
  }

  get alive(): boolean {
    return this.proc !== null;
  }
}

function setRef(proc: GitProcess, ref: boolean): void {
  const handles = [proc.child, proc.stdout as unknown as Socket, proc.stdin as unknown as Socket, proc.child.stderr as unknown as Socket | null];
  for (const h of handles) {
    if (!h) continue;
    if (ref) h.ref?.();
    else h.unref?.();
  }
}

const workers = new Map<string, CatFileWorker>();

function workerFor(dir: string): CatFileWorker {
  const key = resolve(dir);
  let w = workers.get(key);
  if (!w) workers.set(key, (w = new CatFileWorker(key)));
  return w;
}

/**
 * Runs `commands` in the repository's cat-file worker and returns one answer per command, in
 * order. A worker that failed is retried once with a fresh process (it may have been killed for
 * idling just as we asked).
 */
export async function catFile(dir: string, commands: CatFileCommand[]): Promise<CatFileAnswer[]> {
  const w = workerFor(dir);
  try {
    return await w.run(commands);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    w.close();
    return w.run(commands);
  }
}

/** Closes the worker of one repository (before it is deleted or replaced). */
export function closeCatFileWorker(dir: string): void {
  const key = resolve(dir);
  workers.get(key)?.close();
  workers.delete(key);
}

/** Closes every worker (shutdown). */
export function closeAllCatFileWorkers(): void {
  for (const w of workers.values()) w.close();
  workers.clear();
}

/** Repositories with a running worker (tests). */
export function liveCatFileWorkers(): string[] {
  return [...workers.values()].filter((w) => w.alive).map((w) => w.dir);
}
