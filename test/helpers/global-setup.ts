/**
 * Prepares the PostgreSQL side of the suite: checks SYNCLINE_TEST_DATABASE_URL is reachable
 * so a missing server fails loudly once instead of in every test file.
 * Each test file then creates its own fresh schema (see test/helpers/db.ts).
 */
import pg from 'pg';

export default async function setup(): Promise<void> {
  const url = process.env.SYNCLINE_TEST_DATABASE_URL;
  const only = process.env.SYNCLINE_TEST_DATABASES;
  if (only === 'sqlite') return;
  if (!url) {
    throw new Error(
      'SYNCLINE_TEST_DATABASE_URL is not set. Set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test) ' +
        'or run with SYNCLINE_TEST_DATABASES=sqlite to skip PostgreSQL.',
    );
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('select 1');
  await client.end();
}
