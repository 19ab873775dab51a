/**
 * A database shared with other applications (or other Syncline schemas): their migrations must not
 * fail ours. Kysely's stock introspector looked up every column of every schema while the migrator
 * asked whether its own table existed, and failed with "column … does not exist" when a neighbour
 * dropped a column at that moment (74 of 150 lookups under the churn below).
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { DIALECTS, dropSchema, freshSchemaName, testPgUrl } from '../../helpers/db.js';

describe.skipIf(!DIALECTS.includes('postgres'))('PostgreSQL shared with a neighbour running DDL', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  it('opening and migrating fresh schemas succeeds every time while another schema adds and drops columns', async () => {
    const neighbour = freshSchemaName();
    schemas.push(neighbour);
    const churner = new pg.Client({ connectionString: testPgUrl() });
    await churner.connect();
    await churner.query(`create schema "${neighbour}"; create table "${neighbour}".t (id int)`);
    let stop = false;
    let altered = 0;
    const churn = (async () => {
      while (!stop) {
        await churner.query(`alter table "${neighbour}".t add column c${altered} int`);
        await churner.query(`alter table "${neighbour}".t drop column c${altered}`);
        altered += 1;
      }
    })();
    const failures: string[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const schema = freshSchemaName();
        schemas.push(schema);
        const db = await openDatabase({ url: testPgUrl(), schema });
        try {
          for (let j = 0; j < 5; j++) await db.migrate().catch((err: Error) => failures.push(err.message));
          const tables = (await db.db.introspection.getTables()).map((t) => `${t.schema}.${t.name}`);
          expect(tables).toContain(`${schema}.namespaces`);
          expect(tables.every((t) => t.startsWith(`${schema}.`))).toBe(true);
        } finally {
          await db.close();
        }
      }
    } finally {
      stop = true;
      await churn;
      await churner.end();
    }
    expect(altered).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });
});
