/**
 * Reads on the main SQLite connection while a write transaction runs on the writer thread
 * (development aid, not part of `npm run bench`): `npx tsx bench/sqlite-read-during-write.ts`.
 * One 20 × 500-row (10 MB) `writeTransaction`; meanwhile a read of one row every 5 ms on the main
 * connection. Prints the transaction's time and the reads' latency (p50, max): with the write
 * gate (src/store/sqlite-gate.ts) reads answer during the transaction; without it each waited for
 * the commit. Run it on two checkouts, alternating, to compare.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import { openDatabase } from '../src/store/db.js';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rda-'));
const handle = await openDatabase({ url: `sqlite:${path.join(dir, 'db.sqlite')}` });
const db = handle.db as Kysely<any>;
await sql`create table t (id integer primary key, body text not null)`.execute(db);
await db.insertInto('t').values({ id: 0, body: 'x' }).execute();
const lat: number[] = [];
let stop = false;
const poll = (async () => {
  while (!stop) {
    const t0 = performance.now();
    await db.selectFrom('t').select('id').where('id', '=', 0).execute();
    lat.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
})();
const t0 = performance.now();
await handle.writeTransaction(async (tx: any) => {
  for (let b = 0; b < 20; b++) {
    await tx.insertInto('t').values(Array.from({ length: 500 }, (_, i) => ({ id: 1 + b * 500 + i, body: 'y'.repeat(1000) }))).execute();
  }
});
const txMs = performance.now() - t0;
stop = true;
await poll;
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ tx_ms: Math.round(txMs), reads: lat.length, p50: +lat[Math.floor(lat.length / 2)]!.toFixed(1), max: +lat[lat.length - 1]!.toFixed(1) }));
await handle.close();
fs.rmSync(dir, { recursive: true, force: true });
