/**
 * upload-pack's small answers, kept in memory: the ref advertisement (`info/refs`, v0/v1) or
 * capability advertisement (v2), and protocol v2 `ls-refs`. Every clone asks for them, and each
 * cost a git process (17–30 ms to start on a slow VM) for an answer of a few KiB that only
 * changes when the mirror's refs or config do.
 *
 * Such an answer is a function of the mirror's refs (every ref file and `packed-refs`, HEAD), its
 * config, the protocol and the request body, plus the objects the refs name (tags are peeled), which
 * never change for a given id; everything else upload-pack reads comes from the environment Syncline
 * gives it, the same for every request (UPLOAD_PACK_CONFIG, no global or system config). So the key
 * is those inputs, the ref files read as they are (`refState`); git runs on a miss as always and its
 * answer is kept only when it succeeded, went out whole and the ref state read again afterwards is
 * the one it was keyed with. A repository this reader does not understand (reftable, a ref that is
 * neither a file nor a directory) is never memoised.
 *
 * Bounded in bytes (oldest dropped first), each answer at most `maxEntryBytes`, entries older than
 * `ttlMs` are not served.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FORMAT = 'syncline-upload-pack-answer-v1';

/** What an answer depends on in the repository, as text; null when it cannot be read that way. */
export async function refState(dir: string): Promise<string | null> {
  try {
    if (await exists(join(dir, 'reftable'))) return null;
    const parts: string[] = [];
    const [head, packed, config, shallow] = await Promise.all([
      readFile(join(dir, 'HEAD'), 'utf8'),
      readFile(join(dir, 'packed-refs'), 'utf8').catch(enoent('')),
      stat(join(dir, 'config')),
      stat(join(dir, 'shallow')).catch(enoent(null)),
    ]);
    parts.push(`HEAD ${head}`, `config ${config.ino}:${config.size}:${config.mtimeMs}`, `shallow ${shallow ? `${shallow.ino}:${shallow.size}:${shallow.mtimeMs}` : '-'}`);
    parts.push(`packed ${packed.length}\n${packed}`);
    await walk(dir, 'refs', parts);
    return parts.join('\n');
  } catch {
    return null;
  }
}

/**
 * What protocol v2's `info/refs` answer depends on: not the refs (v2 advertises capabilities only:
 * the agent, `ls-refs`/`fetch` features and the object format, all from git's version and
 * config), so the repository's `config` file as it is (inode, size, mtime), and no reftable (as
 * refState). A mirror update moves refs and leaves this answer as it was: the first clone after an
 * update asks git for ls-refs and the pack, not for the capability list again.
 */
export async function capabilityState(dir: string): Promise<string | null> {
  try {
    if (await exists(join(dir, 'reftable'))) return null;
    const config = await stat(join(dir, 'config'));
    return `config ${config.ino}:${config.size}:${config.mtimeMs}`;
  } catch {
    return null;
  }
}

class Unsupported extends Error {}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch(enoent([]));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const name = `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(dir, name, out);
    else if (e.isFile()) out.push(`${name} ${await readFile(join(dir, name), 'utf8').catch(enoent('(gone)'))}`);
    else throw new Unsupported(name);
  }
}

function enoent<T>(value: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return value;
    throw err;
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    enoent(false),
  );
}

/** A v2 request whose command is `ls-refs` (its first pkt-line). */
export function isLsRefs(body: Buffer): boolean {
  const line = 'command=ls-refs';
  if (body.length < 4 + line.length) return false;
  const len = Number.parseInt(body.subarray(0, 4).toString('latin1'), 16);
  if (!Number.isInteger(len) || len < 4 + line.length || len > body.length) return false;
  const text = body.subarray(4, len).toString('latin1');
  return text === line || text === `${line}\n`;
}

export interface AnswerMemoOptions {
  maxBytes?: number;
  maxEntryBytes?: number;
  ttlMs?: number;
}

export class AnswerMemo {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly ttlMs: number;
  readonly #entries = new Map<string, { answer: Buffer; at: number }>();
  #total = 0;
  readonly stats = { hits: 0, misses: 0, stored: 0 };

  constructor(opts: AnswerMemoOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.maxEntryBytes = opts.maxEntryBytes ?? 1024 * 1024;
    this.ttlMs = opts.ttlMs ?? 300_000;
  }

  static key(parts: { mirrorDir: string; protocol: string | undefined; operation: 'info-refs' | 'ls-refs'; state: string; body?: Buffer }): string {
    const h = createHash('sha256');
    for (const text of [FORMAT, parts.mirrorDir, parts.protocol ?? '', parts.operation, parts.state]) h.update(`${Buffer.byteLength(text)}:`).update(text);
    const body = parts.body ?? Buffer.alloc(0);
    h.update(`${body.length}:`).update(body);
    return h.digest('hex');
  }

  get(key: string, now = Date.now()): Buffer | undefined {
    const e = this.#entries.get(key);
    if (e && now - e.at < this.ttlMs) {
      this.stats.hits++;
      return e.answer;
    }
    if (e) this.#delete(key);
    this.stats.misses++;
    return undefined;
  }

  set(key: string, answer: Buffer, now = Date.now()): void {
    if (answer.length > this.maxEntryBytes || answer.length > this.maxBytes) return;
    this.#delete(key);
    this.#entries.set(key, { answer, at: now });
    this.#total += answer.length;
    this.stats.stored++;
    // Insertion order is age order: drop the oldest until under the bound.
    for (const k of this.#entries.keys()) {
      if (this.#total <= this.maxBytes) break;
      this.#delete(k);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#total = 0;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#total };
  }

  #delete(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.#total -= e.answer.length;
  }
}
