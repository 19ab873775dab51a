import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { loadPg, pgConnection } from './pg-driver.js';
import { ScopedPostgresDialect } from './pg-introspector.js';
import { SynclineError } from '../errors.js';
import { migrationProvider, type Dialect } from './migrations/index.js';
import type { Database } from './types.js';
import { listenChannel } from './listen.js';
import { GatedSqliteDialect, WriteGate } from './sqlite-gate.js';
import { SqliteWriterDialect, TextParts } from './sqlite-writer.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Applies pending migrations; safe to call any number of times, from several processes. */
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs `fn` as ONE transaction, for long write transactions (a sync's apply). On a SQLite file
   * database it runs on a connection of its own on a worker thread (store/sqlite-writer.ts), so
   * the event loop stays free: the statements, the commit and its WAL checkpoint no longer run on
   * the main thread. Meanwhile the main connection still reads (the state before the
   * transaction, as on PostgreSQL) and its writes wait for the commit (store/sqlite-gate.ts).
   * Elsewhere (PostgreSQL, `sqlite::memory:`) it is `db.transaction().execute(fn)`.
   *
   * `text(parts)` is a text value given as its parts, for this transaction's statements only: on
   * the writer thread the parts are posted one by one and joined there (a multi-MB JSON costs
   * the main thread no copy), elsewhere `parts.join('')`.
   */
  writeTransaction<T>(fn: (tx: Transaction<Database>, text: (parts: readonly string[]) => string) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: a connection reserved for holding a session advisory lock, taken from a pool
   * of its own. Lock holders then never occupy a connection of the pool their own work needs, so
   * any number of locks held at once cannot starve it (which deadlocked with one shared pool).
   */
  lockConnection?(): Promise<LockConnection>;
  /** PostgreSQL only: LISTEN on `<channel>_<schema>` (see store/listen.ts); returns the stop function. */
  listen?(channel: string, onNotify: (payload: string) => void): () => Promise<void>;
}

export interface LockConnection {
  /** The schema the lock keys are scoped to (advisory locks are per database, not per schema). */
  schema: string;
  query<R>(text: string, values: unknown[]): Promise<R[]>;
  /** `broken`: the connection's state is unknown (e.g. unlock failed); close it instead of pooling it. */
  release(broken?: boolean): void;
}

export interface OpenOptions {
  /** `sqlite:<path>` / `sqlite::memory:` or `postgres://…`. */
  url: string;
  /** PostgreSQL only: the schema to use (created if missing). Tests use one per file. */
  schema?: string;
  poolSize?: number;
  /** PostgreSQL only: connections reserved for holding advisory locks (default 64). */
  lockPoolSize?: number;
  /**
   * PostgreSQL only: how long a query waits for a free pooled connection before failing with
   * `database_unavailable` (503) (default 10 s). Exhaustion is an error, never a hang.
   */
  acquireTimeoutMs?: number;
}

const POOL_TIMEOUT = /timeout exceeded when trying to connect/i;

function poolError(err: unknown, what: string): unknown {
  if (err instanceof Error && POOL_TIMEOUT.test(err.message)) {
    return new SynclineError('database_unavailable', `No free database connection for ${what} within the acquire timeout`);
  }
  return err;
}

/** Node socket errors and PostgreSQL codes that mean "the database went away", not "the query is wrong". */
const CONNECTION_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** admin_shutdown, crash_shutdown, cannot_connect_now, idle_session_timeout. */
const CONNECTION_SQLSTATE = new Set(['57P01', '57P02', '57P03', '57P05']);
const CONNECTION_MESSAGE = /Connection terminated|connection ended|Client has encountered a connection error|Client was closed|terminating connection due to administrator command|the database system is (starting up|shutting down)/i;

/**
 * Whether `err` (or its cause) is the database being unreachable: refused or dropped connections,
 * a terminated backend, a server shutting down. Such failures answer 503 `database_unavailable`
 * (retry later), never 500; the pools reconnect on their own.
 */
export function isDatabaseConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_ERRNO.has(code) || CONNECTION_SQLSTATE.has(code) || code.startsWith('08'))) return true;
    if (e instanceof Error && CONNECTION_MESSAGE.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseConnectionError(x))) return true;
  }
  return false;
}

/**
 * A client checked out of a pg pool has no 'error' listener (the pool's idle one is removed), and
 * pg emits 'error' when its server connection drops — with no listener, an uncaught exception that
 * ends the process. The query in flight fails with that error anyway, and the pool discards the
 * client on release (it is no longer queryable); this only keeps the process alive.
 */
function guardCheckedOut(client: pg.PoolClient): pg.PoolClient {
  const onError = () => undefined;
  client.on('error', onError);
  const release = client.release;
  client.release = (err?: Error | boolean) => {
    client.removeListener('error', onError);
    client.release = release;
    return release.call(client, err);
  };
  return client;
}

export function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`Unsupported database URL (use sqlite:PATH or postgres://…)`);
}


/** How many prepared SQLite statements are kept (least recently used dropped first). */
export const SQLITE_STATEMENT_CACHE = 256;

/**
 * Kysely's SQLite driver prepares every query it runs (`db.prepare(sql)` per call); preparing is
 * a good part of a small query's cost (parse and plan). This hands it the same prepared statement
 * for the same SQL text, up to SQLITE_STATEMENT_CACHE of them. Kysely runs a statement to
 * completion (`all`/`run`) before the next query, so a cached one is never in use; one that is
 * (`busy`: a streamed `iterate` still open) is prepared afresh. SQLite re-prepares a cached
 * statement by itself when the schema changed (sqlite3_prepare_v3).
 */
function cachingStatements(sqlite: SqliteDatabase.Database): { prepare(sql: string): SqliteDatabase.Statement; close(): void } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sqlText: string) {
      const hit = cache.get(sqlText);
      if (hit && !hit.busy) {
        // Most recently used last: Map keeps insertion order.
        cache.delete(sqlText);
        cache.set(sqlText, hit);
        return hit;
      }
      const stmt = sqlite.prepare(sqlText);
      if (!hit) {
        cache.set(sqlText, stmt);
        if (cache.size > SQLITE_STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

/**
 * `journal_mode = WAL`, retried while another process writes the file. Switching a fresh file to
 * WAL needs exclusive access, and SQLite answers SQLITE_BUSY at once instead of calling the busy
 * handler (it would deadlock with a writer): without retrying, a server and a CLI call, or two
 * processes, opening a new data dir at the same moment could fail.
 */
async function enableWal(sqlite: SqliteDatabase.Database, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  const dialect = dialectOf(opts.url);
  let db: Kysely<Database>;
  let lockConnection: DatabaseHandle['lockConnection'];
  let closeLockPool = async () => {};
  let writeTransaction: DatabaseHandle['writeTransaction'] = (fn) => db.transaction().execute((tx) => fn(tx, (parts) => parts.join('')));
  let closeWriter = async () => {};
  if (dialect === 'sqlite') {
    const file = opts.url.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('busy_timeout = 5000');
    await enableWal(sqlite, 5000);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    // Reads on this connection go on during the writer thread's transaction; writes wait for it.
    const gate = new WriteGate();
    db = new Kysely<Database>({ dialect: new GatedSqliteDialect(cachingStatements(sqlite), gate) });
    if (file !== ':memory:') {
      let writer: Kysely<Database> | null = null;
      // A TextParts where the statements expect text: only the writer's connection takes it.
      const text = (parts: readonly string[]) => new TextParts(parts) as unknown as string;
      writeTransaction = (fn) =>
        gate.run(() => (writer ??= new Kysely<Database>({ dialect: new SqliteWriterDialect(file) })).transaction().execute((tx) => fn(tx, text)));
      closeWriter = async () => {
        const w = writer;
        writer = null;
        await w?.destroy();
      };
    }
  } else {
    const pg = await loadPg();
    const schema = opts.schema;
    if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name '${schema}'`);
    if (schema) {
      const admin = new pg.Client({ connectionString: opts.url });
      await admin.connect();
      try {
        await admin.query(`create schema if not exists "${schema}"`);
      } catch (err) {
        // `if not exists` still races: two connections creating it at once, one gets a
        // unique violation (23505) or duplicate_schema (42P06). The schema is there either way.
        const code = (err as { code?: string }).code;
        if (code !== '23505' && code !== '42P06') throw err;
      } finally {
        await admin.end();
      }
    }
    const acquireTimeoutMs = opts.acquireTimeoutMs ?? 10_000;
    const pool = new pg.Pool({
      ...pgConnection(opts.url, schema),
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: acquireTimeoutMs,
    });
    const lockPool = new pg.Pool({
      ...pgConnection(opts.url, schema),
      max: opts.lockPoolSize ?? 64,
      connectionTimeoutMillis: acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that loses its server (restart, network) emits 'error' on the pool; without
    // a listener that would crash the process. The next query reconnects.
    pool.on('error', () => undefined);
    lockPool.on('error', () => undefined);
    db = new Kysely<Database>({
      dialect: new ScopedPostgresDialect({
        pool: {
          connect: () => pool.connect().then(guardCheckedOut, (err: unknown) => Promise.reject(poolError(err, 'a query'))),
          end: () => pool.end(),
        },
      }),
    });
    let lockSchema: string | undefined = schema;
    lockConnection = async () => {
      const client = guardCheckedOut(await lockPool.connect().catch((err: unknown) => Promise.reject(poolError(err, 'a lock'))));
      try {
        lockSchema ??= ((await client.query<{ schema: string | null }>('select current_schema() as schema')).rows[0]?.schema ?? '');
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
      return {
        schema: lockSchema,
        query: async <R>(text: string, values: unknown[]) => (await client.query(text, values)).rows as R[],
        // A client whose unlock failed may still hold the lock: destroy it rather than pool it.
        release: (broken?: boolean) => client.release(broken === true),
      } satisfies LockConnection;
    };
    closeLockPool = () => lockPool.end();
  }

  return {
    db,
    dialect,
    ...(lockConnection ? { lockConnection } : {}),
    ...(dialect === 'postgres'
      ? { listen: (channel: string, onNotify: (payload: string) => void) => listenChannel({ url: opts.url, schema: opts.schema }, channel, onNotify) }
      : {}),
    async migrate() {
      // Unless told its schema, Kysely takes a `kysely_migration` table in ANY schema of the
      // database (another app's, another test's) as its own, then fails to find it on the search
      // path. Name the schema we actually use.
      const migrationTableSchema =
        dialect === 'postgres'
          ? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? undefined
          : undefined;
      const migrate = (on: Kysely<Database>) =>
        new Migrator({
          db: on,
          provider: migrationProvider(dialect),
          // Streams own name prefixes (004-, 005-, …) and land in any order: a database that already
          // ran 005 must still accept a later-landed 004 (each migration runs once, by name).
          allowUnorderedMigrations: true,
          ...(migrationTableSchema ? { migrationTableSchema } : {}),
        }).migrateToLatest();
      // On SQLite Kysely neither locks nor uses a transaction, so two processes starting on a fresh
      // file would both run 001. BEGIN IMMEDIATE takes the write lock (the other process waits,
      // up to busy_timeout, then finds nothing to do) and makes the run all or nothing. All of it
      // on one Kysely connection: the transaction's statements are its owner's (store/sqlite-gate.ts).
      const outcome =
        dialect === 'sqlite'
          ? await db.connection().execute(async (conn) => {
              await sql`begin immediate`.execute(conn);
              try {
                const result = await migrate(conn);
                await sql.raw(result.error ? 'rollback' : 'commit').execute(conn);
                return result;
              } catch (err) {
                await sql`rollback`.execute(conn);
                throw err;
              }
            })
          : await migrate(db);
      const { error, results } = outcome;
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    writeTransaction,
    async close() {
      // The writer first: the main connection, closed last, checkpoints and removes the WAL.
      await closeWriter();
      await db.destroy();
      await closeLockPool();
    },
  };
}
