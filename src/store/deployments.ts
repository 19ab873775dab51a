import type { Selectable } from 'kysely';
import { NotFoundError } from '../errors.js';
import type { Deployment } from '../contracts/deployments.js';
import type { Executor } from './audit.js';
import { fromJson, toJson } from './json.js';
import type { DeploymentsTable } from './types.js';

function toDeployment(row: Selectable<DeploymentsTable>): Deployment {
  return {
    id: row.id,
    namespace: row.namespace,
    status: row.status as Deployment['status'],
    ref: row.ref,
    commit: row.commit,
    source: row.source,
    author: row.author_name !== null || row.author_email !== null ? { name: row.author_name ?? '', email: row.author_email ?? '' } : null,
    actor: row.actor,
    reason: row.reason ?? null,
    started_at: row.started_at,
    finished_at: row.finished_at,
    summary: fromJson(row.summary, { create: 0, update: 0, delete: 0, noop: 0, invalid: 0 }),
    results: fromJson(row.results, []),
    skipped_files: row.skipped_files ? fromJson(row.skipped_files, []) : [],
  };
}

/** `resultsJson`: `JSON.stringify(d.results)` when the caller already built it (in slices; see applyPlan). */
export async function insertDeployment(db: Executor, d: Deployment, resultsJson?: string): Promise<void> {
  await db
    .insertInto('deployments')
    .values({
      id: d.id,
      namespace: d.namespace,
      status: d.status,
      ref: d.ref,
      commit: d.commit,
      source: d.source,
      author_name: d.author?.name ?? null,
      author_email: d.author?.email ?? null,
      actor: d.actor,
      reason: d.reason ?? null,
      started_at: d.started_at,
      finished_at: d.finished_at,
      summary: toJson(d.summary),
      results: resultsJson ?? toJson(d.results),
      skipped_files: toJson(d.skipped_files ?? []),
    })
    .execute();
}

export async function listDeployments(db: Executor, namespace: string, limit = 100): Promise<Deployment[]> {
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('namespace', '=', namespace)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toDeployment);
}

export async function getDeployment(db: Executor, id: string): Promise<Deployment> {
  const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Deployment '${id}' not found`);
  return toDeployment(row);
}
