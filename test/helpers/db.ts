import crypto from 'node:crypto';
import pg from 'pg';

export type TestDialect = 'sqlite' | 'postgres';

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Dialects the suite runs on: both unless SYNCLINE_TEST_DATABASES narrows it. */
export const DIALECTS: TestDialect[] = (process.env.SYNCLINE_TEST_DATABASES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is TestDialect => s === 'sqlite' || s === 'postgres');

export function testPgUrl(): string {
  return process.env.SYNCLINE_TEST_DATABASE_URL ?? DEFAULT_TEST_PG_URL;
}

/** A fresh, uniquely named PostgreSQL schema for one test context. */
export function freshSchemaName(): string {
  return `t_${crypto.randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
    // graphile-worker's schema for this one (src/jobs/drivers.ts), when jobs were used.
    await client.query(`drop schema if exists "${schema}_worker" cascade`);
  } finally {
    await client.end();
  }
}
