/**
 * A cache of upload-pack answers for mirror clones (the idea of Gitaly's "pack-objects cache",
 * one level up: the whole `git-upload-pack` response body, not only pack-objects' output).
 *
 * Clones of a mirror at the same tips send byte-identical requests (the same wants, no haves,
 * `done`) and get byte-identical answers, each computed by an upload-pack + pack-objects. The
 * first one is streamed to its client as always and copied, as it goes, into a file under the
 * data dir; once git exited 0 and the mirror's refs are still the ones the request was keyed
 * with, the file is renamed into place (atomic). A later identical request is answered from that
 * file with no git process at all. Identical requests arriving while the first one runs wait for
 * it (up to `followerWaitMs`) instead of starting their own pack-objects.
 *
 * What may be cached is decided by git-http.ts (`cacheableRequest`): only requests whose every
 * want is a current branch or tag tip — the requests the reachability hook admits without any
 * check — so the cache never answers a request the hook would refuse. The key covers the mirror,
 * the protocol, the request body (after gunzip) and every branch and tag of the mirror, so an
 * update of the mirror is a new key (the old entries age out by TTL and size).
 *
 * Bounded: entries older than `ttlMs` are never served and are deleted; the directory's total
 * stays under `maxBytes` (oldest first); a response larger than `maxEntryBytes` is not kept; a
 * copy that cannot keep up with the client (the file's write queue above `MAX_PENDING_BYTES`)
 * is abandoned rather than buffered. Temporary files are removed on failure and at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AnswerMemo } from './answer-memo.js';

export interface PackCacheOptions {
  /** Directory of the entries (created on first use). */
  dir: string;
  /** Total size of the entries at most. */
  maxBytes: number;
  /** Entries older than this are neither served nor kept. */
  ttlMs: number;
  /** One response larger than this is not kept. Default maxBytes / 4. */
  maxEntryBytes?: number;
  /** How long an identical request waits for one in progress before running its own git. Default 10 s. */
  followerWaitMs?: number;
}

/** The file's write queue may hold this much before the copy is abandoned (the client is never slowed by the cache). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Writes to the file are gathered into pieces of this size (upload-pack answers in 8 KiB packets). */
const WRITE_CHUNK = 1024 * 1024;
const KEY_RE = /^[0-9a-f]{64}$/;
/** Expired entries are looked for at most this often on lookups (and on every store). */
const SWEEP_MS = 10_000;
const FORMAT = 'syncline-upload-pack-cache-v1';

/** Whether a process with this id runs (a temporary file of a live process may still be written). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface CacheHit {
  handle: FileHandle;
  size: number;
}

interface Entry {
  size: number;
  mtimeMs: number;
}

export class UploadPackCache {
  readonly maxBytes: number;
  readonly ttlMs: number;
  readonly maxEntryBytes: number;
  readonly followerWaitMs: number;
  readonly dir: string;
  readonly #entries = new Map<string, Entry>();
  #total = 0;
  #sweptAt = 0;
  #ready: Promise<void> | undefined;
  /** Keys being written now → resolves when that writer finished (committed or not). */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Counters for tests, the bench and logs. */
  readonly stats = { hits: 0, misses: 0, stored: 0, abandoned: 0, coalesced: 0, evicted: 0 };
  /** The small answers (advertisements, ls-refs), in memory (answer-memo.ts); emptied by clear() too. */
  readonly answers: AnswerMemo;

  constructor(opts: PackCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.ttlMs = opts.ttlMs;
    this.maxEntryBytes = opts.maxEntryBytes ?? Math.floor(opts.maxBytes / 4);
    this.followerWaitMs = opts.followerWaitMs ?? 10_000;
    this.answers = new AnswerMemo({ ttlMs: opts.ttlMs });
  }

  /** The key of one request: mirror, protocol, ref state and body. */
  static key(parts: { mirrorDir: string; protocol: string | undefined; refs: string; body: Buffer }): string {
    const h = createHash('sha256');
    for (const text of [FORMAT, parts.mirrorDir, parts.protocol ?? '', parts.refs]) {
      h.update(`${Buffer.byteLength(text)}:`).update(text);
    }
    h.update(`${parts.body.length}:`).update(parts.body);
    return h.digest('hex');
  }

  /** Creates the directory, removes temporary files left by a crash and indexes the entries. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      for (const name of await readdir(this.dir)) {
        const path = join(this.dir, name);
        const key = name.endsWith('.pack') ? name.slice(0, -5) : '';
        if (!KEY_RE.test(key)) {
          // `<key>.<pid>.<random>.tmp`: left by a process that is gone (a crash) → removed.
          const pid = Number(/^[0-9a-f]{64}\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1] ?? NaN);
          if (name.endsWith('.tmp') && !processAlive(pid)) await rm(path, { force: true });
          continue;
        }
        const st = await stat(path).catch(() => null);
        if (st?.isFile()) this.#add(key, { size: st.size, mtimeMs: st.mtimeMs });
      }
      await this.#evict();
    })();
    return this.#ready;
  }

  #path(key: string): string {
    return join(this.dir, `${key}.pack`);
  }

  #add(key: string, entry: Entry): void {
    const old = this.#entries.get(key);
    if (old) this.#total -= old.size;
    this.#entries.set(key, entry);
    this.#total += entry.size;
  }

  async #remove(key: string): Promise<void> {
    const old = this.#entries.get(key);
    if (!old) return;
    this.#entries.delete(key);
    this.#total -= old.size;
    this.stats.evicted++;
    // A reader holding the file open keeps reading it: unlinking does not cut it off.
    await rm(this.#path(key), { force: true });
  }

  /** Drops expired entries, then the oldest until the total fits. */
  async #evict(): Promise<void> {
    const now = Date.now();
    for (const [key, e] of [...this.#entries]) if (now - e.mtimeMs > this.ttlMs) await this.#remove(key);
    if (this.#total <= this.maxBytes) return;
    const oldest = [...this.#entries].sort((a, b) => a[1].mtimeMs - b[1].mtimeMs);
    for (const [key] of oldest) {
      if (this.#total <= this.maxBytes) break;
      await this.#remove(key);
    }
  }

  /** An open, fresh entry for `key`, or null. The caller closes the handle. */
  async lookup(key: string): Promise<CacheHit | null> {
    await this.#init();
    // Expired entries go even when nothing new is stored (an old answer may hold what a mirror update removed).
    if (Date.now() - this.#sweptAt > SWEEP_MS) {
      this.#sweptAt = Date.now();
      await this.#evict();
    }
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (Date.now() - entry.mtimeMs > this.ttlMs) {
      await this.#remove(key);
      return null;
    }
    let handle: FileHandle;
    try {
      handle = await open(this.#path(key), 'r');
    } catch {
      await this.#remove(key);
      return null;
    }
    const st = await handle.stat();
    if (st.size !== entry.size) {
      await handle.close();
      await this.#remove(key);
      return null;
    }
    this.stats.hits++;
    return { handle, size: st.size };
  }

  /**
   * When an identical request is being answered now: waits (at most `followerWaitMs`) for it to
   * finish and returns true; false when there is none.
   */
  async awaitInFlight(key: string, signal?: AbortSignal): Promise<boolean> {
    const running = this.#inFlight.get(key);
    if (!running) return false;
    this.stats.coalesced++;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      running,
      new Promise<void>((r) => {
        timer = setTimeout(r, this.followerWaitMs);
        onAbort = () => r();
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    return true;
  }

  /** A writer for `key`, or null when one is already running for it (or the cache is unusable). */
  begin(key: string): Promise<CacheWriter | null> {
    // Claimed synchronously: a caller that saw inFlight(key) false and calls begin() at once wins the key.
    if (this.#inFlight.has(key)) return Promise.resolve(null);
    let finished!: () => void;
    this.#inFlight.set(key, new Promise<void>((r) => (finished = r)));
    return this.#start(key, finished);
  }

  /** Whether an answer for `key` is being produced now. */
  inFlight(key: string): boolean {
    return this.#inFlight.has(key);
  }

  async #start(key: string, finished: () => void): Promise<CacheWriter | null> {
    try {
      await this.#init();
    } catch {
      this.#inFlight.delete(key);
      finished();
      return null;
    }
    this.stats.misses++;
    const tmp = join(this.dir, `${key}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    return new CacheWriter(tmp, this.maxEntryBytes, async (ok, size) => {
      try {
        if (ok) {
          await rename(tmp, this.#path(key));
          this.#add(key, { size, mtimeMs: Date.now() });
          this.stats.stored++;
          await this.#evict();
        } else {
          this.stats.abandoned++;
          await rm(tmp, { force: true });
        }
      } catch {
        await rm(tmp, { force: true }).catch(() => undefined);
      } finally {
        this.#inFlight.delete(key);
        finished();
      }
    });
  }

  /** Drops every entry (the bench measures first requests this way). */
  async clear(): Promise<void> {
    this.answers.clear();
    await this.#init();
    for (const key of [...this.#entries.keys()]) await this.#remove(key);
  }

  /** Entries and bytes held now (tests, the bench). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#total };
  }
}

/**
 * Copies a response into a temporary file as it is streamed. `write` never blocks or throws;
 * the copy gives up (and is dropped) when it grows too large, falls too far behind, or fails.
 */
export class CacheWriter {
  #stream: WriteStream | null;
  #size = 0;
  #pendingBytes = 0;
  #failed = false;
  #settled = false;

  constructor(
    readonly tmpPath: string,
    private readonly maxBytes: number,
    private readonly settle: (ok: boolean, size: number) => Promise<void>,
  ) {
    this.#stream = createWriteStream(tmpPath, { flags: 'wx', mode: 0o600 });
    this.#stream.on('error', () => {
      this.#failed = true;
    });
  }

  get active(): boolean {
    return !this.#failed && !this.#settled;
  }

  write(chunk: Buffer): void {
    if (!this.active || !this.#stream) return;
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) {
      this.#failed = true;
      return;
    }
    // Corked, then released every WRITE_CHUNK bytes: one writev of the pieces, no copying.
    if (this.#pendingBytes === 0) this.#stream.cork();
    this.#stream.write(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= WRITE_CHUNK) this.#flush();
    if (this.#stream.writableLength > MAX_PENDING_BYTES) this.#failed = true;
  }

  #flush(): void {
    if (this.#pendingBytes === 0 || !this.#stream) return;
    this.#pendingBytes = 0;
    this.#stream.uncork();
  }

  /** Commits the copy when `ok` (git succeeded, the refs did not move) and nothing went wrong; drops it otherwise. */
  async end(ok: boolean): Promise<void> {
    if (this.#settled) return;
    const stream = this.#stream;
    this.#stream = null;
    let good = ok && !this.#failed && this.#size > 0;
    if (stream) {
      if (this.#pendingBytes > 0) {
        this.#pendingBytes = 0;
        stream.uncork();
      }
      good =
        (await new Promise<boolean>((resolve) => {
          stream.once('error', () => resolve(false));
          stream.end((err?: Error | null) => resolve(!err));
        })) && good && !this.#failed;
    }
    this.#settled = true;
    await this.settle(good, this.#size);
  }
}
