/**
 * A PostgreSQL URL may carry its own `options` (`?options=-c statement_timeout=5000`). pg lets
 * those replace the ones a schema's search_path is set with, so before, such a URL put every
 * table of a schema-scoped database in `public` and the LISTEN connection on the wrong channel.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { listenChannel } from '../../../src/store/listen.js';
import { DIALECTS, dropSchema, freshSchemaName, testPgUrl } from '../../helpers/db.js';

function withOptions(url: string, options: string): string {
  const u = new URL(url);
  u.searchParams.set('options', options);
  return u.toString();
}

describe.skipIf(!DIALECTS.includes('postgres'))('PostgreSQL URL options with a schema', () => {
  const schema = freshSchemaName();
  afterAll(() => dropSchema(schema));

  it('keeps both the URL options and the schema, for the pool and the LISTEN connection', async () => {
    const url = withOptions(testPgUrl(), '-c statement_timeout=4321');
    const db = await openDatabase({ url, schema });
    let stopListening: (() => Promise<void>) | undefined;
    try {
      await db.migrate();
      const row = (await sql<{ s: string; t: string }>`select current_schema() as s, current_setting('statement_timeout') as t`.execute(db.db)).rows[0];
      expect(row).toEqual({ s: schema, t: '4321ms' });
      const tables = (await db.db.introspection.getTables()).map((t) => t.schema);
      expect(new Set(tables)).toEqual(new Set([schema]));

      const payloads: string[] = [];
      stopListening = listenChannel({ url, schema }, 'syncline_test', (p) => payloads.push(p));
      await expect.poll(() => payloads.includes(''), { timeout: 10_000 }).toBe(true);
      const sender = new pg.Client({ connectionString: testPgUrl() });
      await sender.connect();
      try {
        await sender.query(`select pg_notify($1, 'hello')`, [`syncline_test_${schema}`]);
      } finally {
        await sender.end();
      }
      await expect.poll(() => payloads, { timeout: 10_000 }).toContain('hello');
    } finally {
      await stopListening?.();
      await db.close();
    }
  });
});
