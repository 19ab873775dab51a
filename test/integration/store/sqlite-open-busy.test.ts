/**
 * Opening a SQLite file another process is writing: the open waits (busy_timeout) instead of
 * failing with SQLITE_BUSY. Switching a file to WAL needs a moment of exclusive access, so the
 * pragma order matters: with `journal_mode = WAL` before `busy_timeout`, a server and a CLI call
 * (or two processes) opening a fresh data dir at once could fail at once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-sqlite-busy-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// A writer in another process: a fresh file in rollback-journal mode, a write transaction held
// for 300 ms (the open below blocks this thread while it waits, so the holder lets go by itself).
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('create table t (x)');
db.exec('begin immediate');
db.exec('insert into t values (1)');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('commit'); db.close(); }, 300);
`;

it('opening a file another process holds a write lock on waits for it, then works', async () => {
  const file = path.join(dir, 'syncline.db');
  const holder = spawn(process.execPath, ['-e', HOLDER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => holder.on('exit', r));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    holder.on('exit', (code) => reject(new Error(`holder exited ${code} before locking`)));
  });
  const db = await openDatabase({ url: `sqlite:${file}` });
  try {
    expect(await db.migrate()).not.toEqual([]);
  } finally {
    await db.close();
  }
  expect(await exited).toBe(0);
});
