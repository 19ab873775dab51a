/**
 * Checks PostgreSQL is reachable once, so a missing server fails loudly with a hint instead of
 * in every test file. Each test context then makes its own fresh schema (test/helpers/db.ts).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DIALECTS, testPgUrl } from './db.js';

export default async function setup(): Promise<void> {
  // The CLI and `npm start` run compiled JavaScript (dist/): compile the current sources once,
  // so tests that spawn bin/syncline.js never run a stale build.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
  if (!DIALECTS.includes('postgres')) return;
  const client = new pg.Client({ connectionString: testPgUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${testPgUrl()} is not reachable (${(err as Error).message}). ` +
        'Set SYNCLINE_TEST_DATABASE_URL, start PostgreSQL, or run SQLite only with SYNCLINE_TEST_DATABASES=sqlite.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
