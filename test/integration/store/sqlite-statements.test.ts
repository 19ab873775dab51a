/**
 * SQLite statement cache (store/db.ts): Kysely prepares every query it runs; the handle gives it
 * the same prepared statement for the same SQL. A cached statement must stay correct when the
 * schema changes under it, and a statement still being iterated (a streamed select) must not be
 * handed out again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, SQLITE_STATEMENT_CACHE, type DatabaseHandle } from '../../../src/store/db.js';
import { DIALECTS } from '../../helpers/db.js';

describe.skipIf(!DIALECTS.includes('sqlite'))('SQLite prepared-statement cache', () => {
  let handle: DatabaseHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await handle?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    handle = dir = undefined;
  });

  async function open(): Promise<DatabaseHandle> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-stmt-'));
    handle = await openDatabase({ url: `sqlite:${path.join(dir, 'db.sqlite')}` });
    const db = handle.db as unknown as Kysely<any>;
    await sql`create table t (id integer primary key, name text not null)`.execute(db);
    for (let i = 1; i <= 5; i++) await sql`insert into t (id, name) values (${i}, ${`n${i}`})`.execute(db);
    return handle;
  }

  it('the same SQL keeps answering with current data and the current schema', async () => {
    const db = (await open()).db as unknown as Kysely<any>;
    const all = () => db.selectFrom('t').selectAll().orderBy('id').execute();
    expect((await all()).map((r) => r.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    await db.updateTable('t').set({ name: 'changed' }).where('id', '=', 2).execute();
    expect((await all())[1]).toEqual({ id: 2, name: 'changed' });
    // `select *` prepared before the column existed: SQLite re-prepares it, the new column shows.
    await sql`alter table t add column extra text not null default 'x'`.execute(db);
    expect((await all())[0]).toEqual({ id: 1, name: 'n1', extra: 'x' });
    await sql`alter table t drop column extra`.execute(db);
    expect((await all())[0]).toEqual({ id: 1, name: 'n1' });
  });

  it('a streamed query left half-way does not break the next run of the same SQL', async () => {
    const db = (await open()).db as unknown as Kysely<any>;
    const q = () => db.selectFrom('t').select('id').where('id', '>', 0).orderBy('id');
    expect((await q().execute()).length).toBe(5);
    const seen: number[] = [];
    for await (const row of q().stream()) {
      seen.push(row.id as number);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect((await q().execute()).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('more distinct statements than the cache holds all still run', async () => {
    const db = (await open()).db as unknown as Kysely<any>;
    for (let i = 0; i < SQLITE_STATEMENT_CACHE + 20; i++) {
      const rows = await db.selectFrom('t').select(sql<number>`${sql.lit(i)}`.as('k')).where('id', '=', 1).execute();
      expect(rows).toEqual([{ k: i }]);
    }
    expect((await db.selectFrom('t').select('id').where('id', '>', 0).execute()).length).toBe(5);
  });
});
