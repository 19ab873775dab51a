import type { Selectable } from 'kysely';
import type { Resource } from '../contracts/resources.js';
import { NotFoundError } from '../errors.js';
import type { Executor } from './audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { ResourcesTable } from './types.js';

/** A live resource as stored: the API's Resource plus the namespace it lives in. */
export interface LiveResource extends Resource {
  namespace: string;
}

function toLive(row: Selectable<ResourcesTable>): LiveResource {
  return {
    namespace: row.namespace,
    kind: row.kind,
    name: row.name,
    spec: fromJson(row.spec, {}),
    metadata: fromJson(row.metadata, {}),
    commit: row.commit,
    hash: row.hash,
    managed_fields: fromJson(row.managed_fields, []),
    file: row.file,
    updated_at: row.updated_at,
  };
}

export async function listResources(db: Executor, namespace: string): Promise<LiveResource[]> {
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('namespace', '=', namespace)
    .orderBy('kind')
    .orderBy('name')
    .execute();
  return rows.map(toLive);
}

export async function getResource(db: Executor, namespace: string, kind: string, name: string): Promise<LiveResource> {
  const row = await db
    .selectFrom('resources')
    .selectAll()
    .where('namespace', '=', namespace)
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`Resource ${kind}/${name} not found in namespace '${namespace}'`);
  return toLive(row);
}

export interface ResourceWrite {
  kind: string;
  name: string;
  spec: unknown;
  metadata: unknown;
  hash: string;
  managed_fields: string[];
  file: string | null;
  commit: string | null;
}

export async function upsertResource(db: Executor, namespace: string, r: ResourceWrite, exists: boolean): Promise<void> {
  const values = {
    spec: toJson(r.spec),
    metadata: toJson(r.metadata),
    hash: r.hash,
    managed_fields: toJson(r.managed_fields),
    file: r.file,
    commit: r.commit,
    updated_at: nowIso(),
  };
  if (exists) {
    await db
      .updateTable('resources')
      .set(values)
      .where('namespace', '=', namespace)
      .where('kind', '=', r.kind)
      .where('name', '=', r.name)
      .execute();
  } else {
    await db.insertInto('resources').values({ namespace, kind: r.kind, name: r.name, ...values }).execute();
  }
}

export async function deleteResource(db: Executor, namespace: string, kind: string, name: string): Promise<void> {
  await db.deleteFrom('resources').where('namespace', '=', namespace).where('kind', '=', kind).where('name', '=', name).execute();
}
