/**
 * A second SQLite connection on a worker thread, for long write transactions (a 10,000-resource
 * apply writes ~15 MB: rows, the deployment record, the audit entry, the outbox event, then the
 * commit and SQLite's WAL checkpoint). better-sqlite3 is synchronous, so on the main connection
 * every one of those statements held the event loop (the largest ~50–130 ms each); here they
 * run on the worker and the main thread only compiles the queries (Kysely, as before) and waits.
 *
 * It is a Kysely dialect like SqliteDialect (same compiler, adapter and introspector) whose driver
 * sends each compiled query to the worker and awaits the answer. One connection, one query at a
 * time (a mutex, as in Kysely's SqliteDriver). The worker opens the same file with the same
 * pragmas as `openDatabase`.
 *
 * The main connection must not write meanwhile: a write there while the worker holds the write
 * lock would wait in SQLite's busy handler, which sleeps the main thread itself. The two share a
 * write gate for that (sqlite-gate.ts); reads on the main connection go on.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** The worker's code (plain CommonJS, no build step: it runs from src/ in tests and from dist/). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
db.pragma('synchronous = NORMAL');
// The WAL checkpoint runs after a commit has been answered (below), not inside the commit: the
// write gate (sqlite-gate.ts), held until the commit's answer, is open again while it copies.
db.pragma('wal_autocheckpoint = 0');
const cache = new Map();
function prepare(sql) {
  let stmt = cache.get(sql);
  if (stmt) return stmt;
  stmt = db.prepare(sql);
  cache.set(sql, stmt);
  if (cache.size > 64) cache.delete(cache.keys().next().value);
  return stmt;
}
const staged = new Map();
function take(key) {
  const parts = staged.get(key) || [];
  staged.delete(key);
  return parts.join('');
}
parentPort.on('message', (msg) => {
  if (msg.close) {
    try { db.close(); } catch {}
    parentPort.postMessage({ id: msg.id, closed: true });
    return;
  }
  if (msg.stage !== undefined) {
    const parts = staged.get(msg.stage);
    if (parts) parts.push(msg.text);
    else staged.set(msg.stage, [msg.text]);
    return;
  }
  try {
    const params = msg.params.map((p) => (p !== null && typeof p === 'object' && typeof p.$staged === 'number' ? take(p.$staged) : p));
    const stmt = prepare(msg.sql);
    if (stmt.reader) {
      parentPort.postMessage({ id: msg.id, rows: stmt.all(params) });
    } else {
      const r = stmt.run(params);
      parentPort.postMessage({ id: msg.id, changes: r.changes, lastInsertRowid: r.lastInsertRowid });
      // What SQLite's automatic checkpoint would have done inside the commit (PASSIVE: never
      // waits for, nor blocks, the main connection's readers and writers).
      if (!db.inTransaction && msg.sql.trim().toLowerCase() === 'commit') {
        try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
      }
    }
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: { message: String(err && err.message), code: err && err.code, name: err && err.name } });
  }
});
`;

/**
 * A text parameter given as its parts (e.g. a 5 MB JSON built in slices), for statements run on
 * the writer thread: the parts are posted one message each with event-loop turns between and
 * joined on the worker. One 5 MB string costs the main thread 15–30 ms to post here (flattening
 * and copying it into one message), and that much again if it first had to be joined.
 */
export class TextParts {
  constructor(readonly parts: readonly string[]) {}
}

/** Longest stretch spent posting a statement's text parts before the event loop gets a turn. */
const STAGE_SLICE_MS = 5;

interface Reply {
  id: number;
  rows?: unknown[];
  changes?: number;
  lastInsertRowid?: number | bigint;
  error?: { message: string; code?: string; name?: string };
  closed?: boolean;
}

/** The worker thread and its pending requests; ref'd only while a request is pending. */
class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();

  constructor(private readonly file: string) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file: this.file }, execArgv: [] });
    worker.unref();
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      p.resolve(r);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      // The worker's connection is gone with it: SQLite drops its uncommitted transaction.
      for (const p of waiting) p.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`SQLite writer thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  request(msg: { sql: string; params: readonly unknown[] } | { close: true }): Promise<Reply> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...msg });
    });
  }

  /** Posts `parts` for the next statement to use as one text parameter; returns its key. */
  async stage(parts: readonly string[]): Promise<number> {
    const worker = this.start();
    const key = this.nextId++;
    let slice = performance.now();
    for (const text of parts) {
      if (performance.now() - slice >= STAGE_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      worker.postMessage({ stage: key, text });
    }
    return key;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.request({ close: true }).catch(() => undefined);
    this.worker = null;
    await worker.terminate();
  }
}

class WriterConnection implements DatabaseConnection {
  constructor(private readonly thread: WriterThread) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    let params = compiled.parameters;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (!(p instanceof TextParts)) continue;
      if (params === compiled.parameters) params = [...params];
      (params as unknown[])[i] = { $staged: await this.thread.stage(p.parts) };
    }
    const r = await this.thread.request({ sql: compiled.sql, params });
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code, name: r.error.name ?? 'SqliteError' });
    if (r.rows) return { rows: r.rows as R[] };
    return {
      numAffectedRows: r.changes != null ? BigInt(r.changes) : undefined,
      insertId: r.lastInsertRowid != null ? BigInt(r.lastInsertRowid) : undefined,
      rows: [],
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('The SQLite writer thread does not stream queries');
  }
}

class WriterDriver implements Driver {
  private readonly connection: WriterConnection;
  private lock: Promise<void> = Promise.resolve();
  private release: (() => void) | null = null;

  constructor(private readonly thread: WriterThread) {
    this.connection = new WriterConnection(thread);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection: the next caller waits for the previous one's release.
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = null;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.thread.close();
  }
}

/** A Kysely dialect whose one connection lives on a worker thread (file databases only). */
export class SqliteWriterDialect extends SqliteDialect {
  private readonly thread: WriterThread;

  constructor(file: string) {
    // The base class's own driver (and its `database`) is never created.
    super({ database: undefined as never });
    this.thread = new WriterThread(file);
  }

  override createDriver(): Driver {
    return new WriterDriver(this.thread);
  }
}
