import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider, type Dialect } from './migrations/index.js';
import type { Database } from './types.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Applies pending migrations; safe to call any number of times, from several processes. */
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `sqlite:<path>` / `sqlite::memory:` or `postgres://…`. */
  url: string;
  /** PostgreSQL only: the schema to use (created if missing). Tests use one per file. */
  schema?: string;
  poolSize?: number;
}

export function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`Unsupported database URL (use sqlite:PATH or postgres://…)`);
}

// PostgreSQL returns bigint/bigserial as strings by default; our ids fit in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  const dialect = dialectOf(opts.url);
  let db: Kysely<Database>;
  if (dialect === 'sqlite') {
    const file = opts.url.slice('sqlite:'.length) || ':memory:';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  } else {
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
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      ...(schema ? { options: `-c search_path="${schema}"` } : {}),
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  return {
    db,
    dialect,
    async migrate() {
      // Unless told its schema, Kysely takes a `kysely_migration` table in ANY schema of the
      // database (another app's, another test's) as its own, then fails to find it on the search
      // path. Name the schema we actually use.
      const migrationTableSchema =
        dialect === 'postgres'
          ? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? undefined
          : undefined;
      const migrator = new Migrator({
        db,
        provider: migrationProvider(dialect),
        ...(migrationTableSchema ? { migrationTableSchema } : {}),
      });
      // On SQLite Kysely neither locks nor uses a transaction, so two processes starting on a fresh
      // file would both run 001. BEGIN IMMEDIATE takes the write lock (the other process waits,
      // up to busy_timeout, then finds nothing to do) and makes the run all or nothing.
      if (dialect === 'sqlite') await sql`begin immediate`.execute(db);
      let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
      try {
        outcome = await migrator.migrateToLatest();
      } catch (err) {
        if (dialect === 'sqlite') await sql`rollback`.execute(db);
        throw err;
      }
      if (dialect === 'sqlite') await sql.raw(outcome.error ? 'rollback' : 'commit').execute(db);
      const { error, results } = outcome;
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
