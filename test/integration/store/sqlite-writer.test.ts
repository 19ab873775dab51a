/**
 * `DatabaseHandle.writeTransaction` (store/db.ts, store/sqlite-writer.ts): on a SQLite file it runs
 * the transaction on a connection of its own on a worker thread. It must behave as a transaction
 * on the main connection does: all or nothing, its result visible to the main connection once it
 * has committed (and not before), SQLite's errors with their codes. Meanwhile the main connection
 * reads at once (the state before the transaction) and its writes wait for the commit (a write
 * there would otherwise wait in SQLite's busy handler, which sleeps the main thread).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../../src/store/db.js';
import { DIALECTS } from '../../helpers/db.js';

describe.skipIf(!DIALECTS.includes('sqlite'))('SQLite write transactions on the writer thread', () => {
  let handle: DatabaseHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await handle?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    handle = dir = undefined;
  });

  async function open(): Promise<{ handle: DatabaseHandle; db: Kysely<any> }> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-writer-'));
    handle = await openDatabase({ url: `sqlite:${path.join(dir, 'db.sqlite')}` });
    const db = handle.db as unknown as Kysely<any>;
    await sql`create table t (id integer primary key, name text not null unique)`.execute(db);
    await sql`insert into t (id, name) values (1, 'one')`.execute(db);
    return { handle, db };
  }

  const names = async (db: Kysely<any>) => (await db.selectFrom('t').select('name').orderBy('id').execute()).map((r) => r.name as string);

  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };

  /** `p`, or a failure naming `what` if it has not settled within 10 s (a deadlock, not a speed check). */
  const settles = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle`)), 10_000).unref())]);

  it('commits all of it, visible to the main connection afterwards; reads during it see the state before it', async () => {
    const { handle, db } = await open();
    const big = 'x'.repeat(3_000_000);
    const out = await handle.writeTransaction(async (tx) => {
      const trx = tx as unknown as Kysely<any>;
      await trx.insertInto('t').values({ id: 2, name: 'two' }).execute();
      // The main connection reads while the transaction is open: at once, its snapshot before it.
      expect(await settles(names(db), 'a read on the main connection')).toEqual(['one']);
      const r = await trx.insertInto('t').values({ id: 3, name: big }).executeTakeFirst();
      expect(r.numInsertedOrUpdatedRows).toBe(1n);
      const inside = await trx.selectFrom('t').select('id').orderBy('id').execute();
      expect(inside.map((x) => x.id)).toEqual([1, 2, 3]);
      return 'done';
    });
    expect(out).toBe('done');
    expect(await names(db)).toEqual(['one', 'two', big]);
  });

  it('a write on the main connection waits for the commit, then runs (no busy wait, no SQLITE_BUSY)', async () => {
    const { handle, db } = await open();
    let written = false;
    let writeDuring: Promise<unknown> | undefined;
    await handle.writeTransaction(async (tx) => {
      const trx = tx as unknown as Kysely<any>;
      await trx.insertInto('t').values({ id: 2, name: 'two' }).execute();
      writeDuring = db.insertInto('t').values({ id: 4, name: 'four' }).execute().then(() => (written = true));
      // More statements of the transaction run while the main connection's write waits.
      for (let i = 0; i < 5; i++) await trx.selectFrom('t').select('id').execute();
      expect(written).toBe(false);
      expect(await settles(names(db), 'a read while a write waits')).toEqual(['one']);
    });
    await settles(writeDuring!, 'the waiting write');
    expect(await names(db)).toEqual(['one', 'two', 'four']);
  });

  it('a transaction on the main connection and one on the writer thread take turns, in order', async () => {
    const { handle, db } = await open();
    const order: string[] = [];
    let letMainFinish!: () => void;
    const mainMayFinish = new Promise<void>((resolve) => (letMainFinish = resolve));
    const main = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, name: 'two' }).execute();
      await mainMayFinish;
      await trx.insertInto('t').values({ id: 3, name: 'three' }).execute();
      order.push('main');
    });
    await new Promise((r) => setImmediate(r));
    const writer = handle.writeTransaction(async (tx) => {
      // It starts only after the main connection's commit, so it sees that transaction's rows.
      const seen = await (tx as unknown as Kysely<any>).selectFrom('t').select('name').orderBy('id').execute();
      order.push(`writer saw ${seen.map((r) => r.name).join(',')}`);
      await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 4, name: 'four' }).execute();
    });
    letMainFinish();
    await settles(Promise.all([main, writer]), 'both transactions');
    expect(order).toEqual(['main', 'writer saw one,two,three']);

    // The other way round: the main connection's transaction begins after the writer's commit.
    let mainSaw: string[] = [];
    await handle.writeTransaction(async (tx) => {
      await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 5, name: 'five' }).execute();
      const later = db.transaction().execute(async (trx) => {
        mainSaw = (await trx.selectFrom('t').select('name').orderBy('id').execute()).map((r) => r.name as string);
      });
      void later;
      await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 6, name: 'six' }).execute();
      expect(mainSaw).toEqual([]);
    });
    await settles(until(() => mainSaw.length > 0), 'the main transaction');
    expect(mainSaw).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
  });

  it('a read outside a transaction on the main connection waits for that transaction (it would see its rows)', async () => {
    const { db } = await open();
    let letMainFinish!: () => void;
    const mainMayFinish = new Promise<void>((resolve) => (letMainFinish = resolve));
    let inserted = false;
    const main = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, name: 'two' }).execute();
      inserted = true;
      await mainMayFinish;
      throw new Error('roll it back');
    });
    await settles(until(() => inserted), 'the insert');
    let read: string[] | undefined;
    const reading = names(db).then((r) => (read = r));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(read).toBeUndefined();
    letMainFinish();
    await expect(main).rejects.toThrow('roll it back');
    await settles(reading, 'the read');
    expect(read).toEqual(['one']);
  });

  it('a throw rolls everything back; errors keep their SQLite code; the writer is reusable', async () => {
    const { handle, db } = await open();
    await expect(
      handle.writeTransaction(async (tx) => {
        await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 2, name: 'two' }).execute();
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(await names(db)).toEqual(['one']);

    const err = await handle
      .writeTransaction(async (tx) => {
        await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 2, name: 'two' }).execute();
        await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 3, name: 'one' }).execute();
      })
      .catch((e: unknown) => e as { code?: string; message: string });
    expect(err).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(await names(db)).toEqual(['one']);

    await handle.writeTransaction((tx) => (tx as unknown as Kysely<any>).insertInto('t').values({ id: 2, name: 'two' }).execute());
    expect(await names(db)).toEqual(['one', 'two']);
  });

  it('the event loop turns while a statement runs (it runs on another thread)', async () => {
    const { handle } = await open();
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i + 10, name: `n${i}-${'y'.repeat(2000)}` }));
    let turns = 0;
    let spinning = true;
    const spin = () => {
      if (!spinning) return;
      turns++;
      setImmediate(spin);
    };
    spin();
    await handle.writeTransaction(async (tx) => {
      // One statement of ~4 MB: on the main connection the loop would not turn until it returned.
      const before = turns;
      await (tx as unknown as Kysely<any>).insertInto('t').values(rows.slice(0, 400)).execute();
      // On the main connection an awaited statement is only a microtask: no turn in between.
      expect(turns).toBeGreaterThan(before);
    });
    spinning = false;
  });

  it('a database in memory has no writer thread: the transaction runs on the main connection', async () => {
    handle = await openDatabase({ url: 'sqlite::memory:' });
    const db = handle.db as unknown as Kysely<any>;
    await sql`create table t (id integer primary key)`.execute(db);
    await handle.writeTransaction((tx) => (tx as unknown as Kysely<any>).insertInto('t').values({ id: 1 }).execute());
    expect((await db.selectFrom('t').select('id').execute()).length).toBe(1);
  });
});

describe.skipIf(!DIALECTS.includes('sqlite'))('text given as parts (writeTransaction text)', () => {
  for (const url of ['file', 'sqlite::memory:']) {
    it(`is stored as the joined text (${url})`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-writer-'));
      const handle = await openDatabase({ url: url === 'file' ? `sqlite:${path.join(dir, 'db.sqlite')}` : url });
      try {
        const db = handle.db as unknown as Kysely<any>;
        await sql`create table t (id integer primary key, body text not null, other text)`.execute(db);
        const parts = ['[', 'é'.repeat(300_000), ',', '"x"', ']', ''];
        await handle.writeTransaction(async (tx, text) => {
          await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 1, body: text(parts), other: text(['a', 'b']) }).execute();
          await (tx as unknown as Kysely<any>).insertInto('t').values({ id: 2, body: text([]), other: null }).execute();
        });
        const rows = await db.selectFrom('t').selectAll().orderBy('id').execute();
        expect(rows).toEqual([
          { id: 1, body: parts.join(''), other: 'ab' },
          { id: 2, body: '', other: null },
        ]);
        expect(typeof rows[0]?.body).toBe('string');
      } finally {
        await handle.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe.skipIf(!DIALECTS.includes('sqlite'))('the WAL after a write transaction', () => {
  it('is checkpointed by the writer once the commit is answered, the main connection free meanwhile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-writer-'));
    const file = path.join(dir, 'db.sqlite');
    const handle = await openDatabase({ url: `sqlite:${file}` });
    try {
      const db = handle.db as unknown as Kysely<any>;
      await sql`create table t (id integer primary key, body text not null)`.execute(db);
      const before = fs.statSync(file).size;
      await handle.writeTransaction(async (tx) => {
        for (let i = 0; i < 8; i++) await (tx as unknown as Kysely<any>).insertInto('t').values({ id: i, body: 'z'.repeat(500_000) }).execute();
      });
      // The main connection answers at once, while (or after) the writer checkpoints.
      expect((await db.selectFrom('t').select('id').execute()).length).toBe(8);
      // The checkpoint copied the pages into the database file (SQLite's own automatic one is
      // off on the writer's connection, and the main connection wrote nothing since).
      const deadline = Date.now() + 10_000;
      while (fs.statSync(file).size < before + 4_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(fs.statSync(file).size).toBeGreaterThan(before + 4_000_000);
    } finally {
      await handle.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
