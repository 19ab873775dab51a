/**
 * The main SQLite connection's side of the writer thread (sqlite-writer.ts). SQLite in WAL mode
 * lets readers run while another connection writes, but allows one writer at a time: a write on
 * the main connection while the writer thread holds the write lock would wait in SQLite's busy
 * handler, which sleeps the main thread (up to busy_timeout). So the two connections share one
 * write gate:
 *  - the writer thread's transaction holds it from start to end (`DatabaseHandle.writeTransaction`);
 *  - on the main connection, a transaction holds it from `begin` to `commit` / `rollback`, and a
 *    statement that writes outside a transaction holds it while it runs;
 *  - a statement that only reads passes at once: during a long apply, `/readyz`, uncached reads
 *    and plans go on, and see the database as it was before the apply (its snapshot), as they
 *    would on PostgreSQL.
 */
import { SelectQueryNode, SqliteDialect, SqliteDriver, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type SqliteDialectConfig } from 'kysely';

/** A FIFO mutex: `run(fn)` waits for the holders before it, then runs `fn` alone. */
export class WriteGate {
  private tail: Promise<void> = Promise.resolve();

  /** Waits for the gate; the returned function opens it again (once). */
  async acquire(): Promise<() => void> {
    const previous = this.tail;
    let open!: () => void;
    this.tail = new Promise<void>((resolve) => (open = resolve));
    await previous;
    let opened = false;
    return () => {
      if (opened) return;
      opened = true;
      open();
    };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const BEGIN_RE = /^\s*begin\b/i;
/** `commit`, `end`, `rollback` — not `rollback to <savepoint>`, which stays in the transaction. */
const END_RE = /^\s*(?:commit|end|rollback)\b(?!\s+(?:transaction\s+)?to\b)/i;

interface PreparedStatement {
  readonly reader: boolean;
  readonly readonly: boolean;
  all(params: readonly unknown[]): unknown[];
  iterate(params: readonly unknown[]): IterableIterator<unknown>;
  run(params: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
}

interface MainDatabase {
  prepare(sql: string): PreparedStatement;
  close(): void;
}

/** An open transaction on the main connection: who runs it, and how it ends. */
interface MainTransaction {
  owner: MainConnection;
  /** Opens the write gate again. */
  release: () => void;
  /** Settles when the transaction has ended (committed or rolled back). */
  ended: Promise<void>;
  end: () => void;
}

/**
 * The main connection as Kysely sees it: one object per acquisition, over the one better-sqlite3
 * connection. Kysely's own SQLite driver lets one user at a time have the connection (a mutex
 * held across awaits); here only a transaction excludes others, so a read never queues behind a
 * write waiting for the gate. better-sqlite3 runs each statement synchronously, so statements
 * outside transactions never interleave.
 */
class MainConnection implements DatabaseConnection {
  constructor(private readonly shared: GatedSqliteDriver) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const shared = this.shared;
    const text = compiled.sql;
    const open = shared.transaction;
    if (open?.owner === this) {
      if (!END_RE.test(text)) return shared.run<R>(text, compiled.parameters);
      try {
        const result = shared.run<R>(text, compiled.parameters);
        shared.endTransaction();
        return result;
      } catch (err) {
        // A failed rollback leaves no transaction; a failed commit leaves it open (a rollback follows).
        if (/^\s*rollback/i.test(text)) shared.endTransaction();
        throw err;
      }
    }
    if (BEGIN_RE.test(text)) {
      // Waits for the writer thread's transaction, another transaction here, and writes here.
      const release = await shared.gate.acquire();
      try {
        const result = shared.run<R>(text, compiled.parameters);
        shared.openTransaction(this, release);
        return result;
      } catch (err) {
        release();
        throw err;
      }
    }
    // Outside a transaction. Another user's open transaction on this connection would see this
    // statement as its own (or this one its uncommitted rows): wait for it to end.
    while (shared.transaction) await shared.transaction.ended;
    // One prepare for the check and the run (the statement cache hands back the same one).
    const stmt = shared.prepare(text);
    if (stmt.readonly) return shared.execute<R>(stmt, compiled.parameters);
    // A write waits for the gate (no transaction here can be open while this holds it).
    return shared.gate.run(async () => shared.run<R>(text, compiled.parameters));
  }

  /**
   * A select read row by row holds the connection across awaits, as a transaction does: others
   * wait for it (nothing else may run on a connection while its iterator is open).
   */
  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const shared = this.shared;
    if (!SelectQueryNode.is(compiled.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    const mine = shared.transaction?.owner === this;
    if (!mine) shared.openTransaction(this, await shared.gate.acquire());
    try {
      for (const row of shared.iterate(compiled.sql, compiled.parameters)) yield { rows: [row as R] };
    } finally {
      if (!mine) shared.endTransaction();
    }
  }
}

/** Kysely's SQLite driver with the gate (see the module comment); savepoints are SqliteDriver's. */
class GatedSqliteDriver extends SqliteDriver {
  transaction: MainTransaction | null = null;

  constructor(
    private readonly database: MainDatabase,
    readonly gate: WriteGate,
  ) {
    super({ database: database as unknown as SqliteDialectConfig['database'] });
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    return new MainConnection(this);
  }

  override async releaseConnection(): Promise<void> {}

  prepare(text: string): PreparedStatement {
    return this.database.prepare(text);
  }

  iterate(text: string, parameters: readonly unknown[]): IterableIterator<unknown> {
    return this.database.prepare(text).iterate(parameters);
  }

  /** One statement, as Kysely's SqliteConnection runs it. */
  run<R>(text: string, parameters: readonly unknown[]): QueryResult<R> {
    return this.execute<R>(this.database.prepare(text), parameters);
  }

  execute<R>(stmt: PreparedStatement, parameters: readonly unknown[]): QueryResult<R> {
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return {
      numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
      insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
      rows: [],
    };
  }

  /** `owner`'s `begin` ran, holding the gate. */
  openTransaction(owner: MainConnection, release: () => void): void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.transaction = { owner, release, ended, end };
  }

  endTransaction(): void {
    const open = this.transaction;
    this.transaction = null;
    open?.release();
    open?.end();
  }
}

/** Kysely's SQLite dialect on the main connection, sharing `gate` with the writer thread. */
export class GatedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: MainDatabase,
    private readonly gate: WriteGate,
  ) {
    super({ database: database as unknown as SqliteDialectConfig['database'] });
  }

  override createDriver(): Driver {
    return new GatedSqliteDriver(this.database, this.gate);
  }
}
