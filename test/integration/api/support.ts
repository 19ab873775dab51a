/**
 * Small helpers shared by the API route tests (not a test file itself).
 */
import { expect } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { TestApp } from '../../helpers/app.js';

export { createSource, expectError, putNamespace } from '../../helpers/api.js';

/**
 * Hosts the route tests use for ordinary sources. The test machine may have no DNS, so they are
 * allow-listed: the URL guard accepts an allow-listed host without resolving it.
 */
export const TEST_ALLOWED_HOSTS = ['github.com', 'gitlab.com', 'git.example.com'];
export const REPO_URL = 'https://github.com/acme/shop.git';

export type Table = 'tokens' | 'sources' | 'kinds' | 'namespaces' | 'audit_events' | 'resources' | 'deployments';
export const TABLES: Table[] = ['tokens', 'sources', 'kinds', 'namespaces', 'audit_events', 'resources', 'deployments'];

/** Row counts of every table, to prove a failed request wrote nothing. */
export async function rowCounts(t: TestApp): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>;
  for (const table of TABLES) {
    const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(t.ctx.db.db);
    out[table] = Number(row.rows[0]?.n ?? 0);
  }
  return out;
}

/** Runs a request that must fail and asserts that no table changed (no row, no audit event). */
export async function expectNothingWritten(t: TestApp, req: InjectOptions): Promise<LightMyRequestResponse> {
  const before = await rowCounts(t);
  const lastAudit = await t.ctx.db.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const res = await t.app.inject(req);
  expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
  expect(await rowCounts(t)).toEqual(before);
  const lastAfter = await t.ctx.db.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  expect(lastAfter?.id).toEqual(lastAudit?.id);
  return res;
}

/** Audit events as the API lists them (newest first). */
export async function auditEvents(t: TestApp, query = ''): Promise<any[]> {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: t.auth() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}
