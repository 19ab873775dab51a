import { CompiledQuery, type Selectable } from 'kysely';
import type { Resource } from '../contracts/resources.js';
import { NotFoundError } from '../errors.js';
import type { Executor } from './audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { ResourcesTable } from './types.js';

/** A live resource as stored: the API's Resource plus the namespace it lives in. */
export interface LiveResource extends Resource {
  namespace: string;
}

function toLive(row: Selectable<ResourcesTable>): LiveResource {
  return {
    namespace: row.namespace,
    kind: row.kind,
    name: row.name,
    spec: fromJson(row.spec, {}),
    metadata: fromJson(row.metadata, {}),
    commit: row.commit,
    hash: row.hash,
    managed_fields: fromJson(row.managed_fields, []),
    file: row.file,
    updated_at: row.updated_at,
  };
}

/**
 * toLive with `spec` and `metadata` decoded on first use (same keys, same order, same values):
 * a sync's planning reads them only for documents the plan memo does not answer, so a no-change
 * sync of 10,000 resources no longer JSON-parses 20,000 columns it never looks at.
 */
function toLiveLazy(row: Selectable<ResourcesTable>): LiveResource {
  let spec: LiveResource['spec'] | undefined;
  let metadata: LiveResource['metadata'] | undefined;
  return {
    namespace: row.namespace,
    kind: row.kind,
    name: row.name,
    get spec(): LiveResource['spec'] {
      return (spec ??= fromJson(row.spec, {}));
    },
    set spec(v: LiveResource['spec']) {
      spec = v;
    },
    get metadata(): LiveResource['metadata'] {
      return (metadata ??= fromJson(row.metadata, {}));
    },
    set metadata(v: LiveResource['metadata']) {
      metadata = v;
    },
    commit: row.commit,
    hash: row.hash,
    managed_fields: fromJson(row.managed_fields, []),
    file: row.file,
    updated_at: row.updated_at,
  };
}

export async function listResources(db: Executor, namespace: string): Promise<LiveResource[]> {
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('namespace', '=', namespace)
    .orderBy('kind')
    .orderBy('name')
    .execute();
  return rows.map(toLive);
}

/**
 * The rows listResources returns (same order), read `pageSize` at a time by keyset on
 * (kind, name), awaiting `between()` after each full page: a sync gives the event loop a turn
 * there instead of reading and decoding 10,000 rows in one call. The caller holds the namespace
 * lock (syncs and PATCHes of the namespace take it), so no write lands between pages.
 */
export async function listResourcesPaged(db: Executor, namespace: string, pageSize: number, between: () => Promise<void>): Promise<LiveResource[]> {
  const out: LiveResource[] = [];
  let after: { kind: string; name: string } | null = null;
  for (;;) {
    let q = db.selectFrom('resources').selectAll().where('namespace', '=', namespace);
    if (after) {
      const { kind, name } = after;
      // A row-value comparison: both databases answer it with a range of the primary key's index
      // (`kind > ? OR (kind = ? AND name > ?)` made SQLite scan the whole namespace for every page).
      q = q.where((eb) => eb(eb.refTuple('kind', 'name'), '>', eb.tuple(kind, name)));
    }
    const rows = await q.orderBy('kind').orderBy('name').limit(pageSize).execute();
    for (const row of rows) out.push(toLiveLazy(row));
    if (rows.length < pageSize) return out;
    const last = rows[rows.length - 1]!;
    after = { kind: last.kind, name: last.name };
    await between();
  }
}

export async function getResource(db: Executor, namespace: string, kind: string, name: string): Promise<LiveResource> {
  const row = await db
    .selectFrom('resources')
    .selectAll()
    .where('namespace', '=', namespace)
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`Resource ${kind}/${name} not found in namespace '${namespace}'`);
  return toLive(row);
}

export interface ResourceWrite {
  kind: string;
  name: string;
  spec: unknown;
  metadata: unknown;
  hash: string;
  managed_fields: string[];
  file: string | null;
  commit: string | null;
}

/** The stored columns of a resource write (everything but its key). */
function storedValues(r: ResourceWrite, updatedAt: string) {
  return {
    spec: toJson(r.spec),
    metadata: toJson(r.metadata),
    hash: r.hash,
    managed_fields: toJson(r.managed_fields),
    file: r.file,
    commit: r.commit,
    updated_at: updatedAt,
  };
}

export async function upsertResource(db: Executor, namespace: string, r: ResourceWrite, exists: boolean): Promise<void> {
  const values = storedValues(r, nowIso());
  if (exists) {
    await db
      .updateTable('resources')
      .set(values)
      .where('namespace', '=', namespace)
      .where('kind', '=', r.kind)
      .where('name', '=', r.name)
      .execute();
  } else {
    await db.insertInto('resources').values({ namespace, kind: r.kind, name: r.name, ...values }).execute();
  }
}

/** Rows per multi-row statement (10 values a row: far below SQLite's and PostgreSQL's parameter caps). */
const UPSERT_CHUNK = 400;

/** The columns of a resource row, in the order upsertSql's values list them. */
const UPSERT_COLUMNS = ['namespace', 'kind', 'name', 'spec', 'metadata', 'hash', 'managed_fields', 'file', 'commit', 'updated_at'] as const;

function upsertQuery(db: Executor, values: ReadonlyArray<Record<(typeof UPSERT_COLUMNS)[number], unknown>>) {
  return db
    .insertInto('resources')
    .values(values as never)
    .onConflict((oc) =>
      oc.columns(['namespace', 'kind', 'name']).doUpdateSet((eb) => ({
        spec: eb.ref('excluded.spec'),
        metadata: eb.ref('excluded.metadata'),
        hash: eb.ref('excluded.hash'),
        managed_fields: eb.ref('excluded.managed_fields'),
        file: eb.ref('excluded.file'),
        commit: eb.ref('excluded.commit'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    );
}

/** The SQL Kysely compiles for an upsert of `rows` rows, per adapter (the dialect's placeholders). */
const upsertSqlOf = new WeakMap<object, Map<number, string | null>>();

/**
 * The text of the multi-row upsert Kysely compiles for `rows` rows on `db`'s dialect, compiled
 * once (from marker values) and kept: a 400-row statement is the same text every time, only its
 * 4,000 parameters differ, and building and compiling Kysely's tree of them cost the main thread
 * more than the values themselves. null when the compiled parameters are not the values row by
 * row in UPSERT_COLUMNS order (the caller then lets Kysely build the statement).
 */
function upsertSql(db: Executor, rows: number): string | null {
  const adapter = db.getExecutor().adapter as object;
  let bySize = upsertSqlOf.get(adapter);
  if (!bySize) upsertSqlOf.set(adapter, (bySize = new Map()));
  let text = bySize.get(rows);
  if (text === undefined) {
    const marker = (row: number, column: string) => `\u0000${row}:${column}`;
    const values = Array.from({ length: rows }, (_, i) => Object.fromEntries(UPSERT_COLUMNS.map((c) => [c, marker(i, c)])) as Record<(typeof UPSERT_COLUMNS)[number], unknown>);
    const compiled = upsertQuery(db, values).compile();
    const expected = values.flatMap((v, i) => UPSERT_COLUMNS.map((c) => marker(i, c)));
    const same = compiled.parameters.length === expected.length && compiled.parameters.every((p, i) => p === expected[i]);
    bySize.set(rows, (text = same ? compiled.sql : null));
  }
  return text;
}

/**
 * Writes many resources with multi-row `INSERT … ON CONFLICT (namespace, kind, name) DO UPDATE`
 * statements (one per UPSERT_CHUNK rows) instead of one statement per resource: the same rows as
 * `upsertResource` for each, a fraction of the statements. Each statement is the SQL Kysely
 * compiles for it (upsertSql), with its values as parameters in the same order; the next chunk's
 * values are made while the database runs the previous statement (on SQLite's writer thread or
 * the PostgreSQL server). The statements still run one after another, in order, on the caller's
 * connection; a failed one fails the call before any later one is sent. `between` runs after
 * every chunk (the apply yields to the event loop there; it stays one transaction).
 */
export async function upsertResources(db: Executor, namespace: string, rows: readonly ResourceWrite[], between?: () => Promise<void>): Promise<void> {
  const statement = (i: number) => {
    const at = nowIso();
    const chunk = rows.slice(i, i + UPSERT_CHUNK);
    const text = upsertSql(db, chunk.length);
    if (text === null) return upsertQuery(db, chunk.map((r) => ({ namespace, kind: r.kind, name: r.name, ...storedValues(r, at) }))).compile();
    const params: unknown[] = [];
    for (const r of chunk) {
      const v = storedValues(r, at);
      params.push(namespace, r.kind, r.name, v.spec, v.metadata, v.hash, v.managed_fields, v.file, v.commit, v.updated_at);
    }
    // An undefined value is a column Kysely leaves out of its statement: let it build that one.
    if (params.includes(undefined)) return upsertQuery(db, chunk.map((r) => ({ namespace, kind: r.kind, name: r.name, ...storedValues(r, at) }))).compile();
    return CompiledQuery.raw(text, params);
  };
  let next = rows.length > 0 ? statement(0) : null;
  for (let i = 0; next !== null; i += UPSERT_CHUNK) {
    const running = db.executeQuery(next);
    try {
      next = i + UPSERT_CHUNK < rows.length ? statement(i + UPSERT_CHUNK) : null;
    } catch (err) {
      await running; // its own failure first, as when the statements were made one by one
      throw err;
    }
    await running;
    if (between && next !== null) await between();
  }
}

export async function deleteResource(db: Executor, namespace: string, kind: string, name: string): Promise<void> {
  await db.deleteFrom('resources').where('namespace', '=', namespace).where('kind', '=', kind).where('name', '=', name).execute();
}
