import type { Kysely, Selectable } from 'kysely';
import type { Kind } from '../contracts/kinds.js';
import type { JsonObject } from '../contracts/json.js';
import type { Equivalents } from '../specs/types.js';
import { recordAudit, type Executor } from './audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { Database, KindsTable } from './types.js';

export interface KindDefinitionRow {
  name: string;
  schema: JsonObject;
  equivalents: Equivalents;
  api_versions: string[] | null;
  updated_at: string;
}

function toDefinition(row: Selectable<KindsTable>): KindDefinitionRow {
  return {
    name: row.name,
    schema: fromJson(row.schema, {}),
    equivalents: fromJson(row.equivalents, {}),
    api_versions: row.api_versions ? fromJson<string[] | null>(row.api_versions, null) : null,
    updated_at: row.updated_at,
  };
}

export async function listKindRows(db: Executor): Promise<KindDefinitionRow[]> {
  const rows = await db.selectFrom('kinds').selectAll().orderBy('name').execute();
  return rows.map(toDefinition);
}

/** A cheap fingerprint of the stored kinds so compiled registries can be cached until one changes. */
export async function kindsVersion(db: Executor): Promise<string> {
  const row = await db
    .selectFrom('kinds')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('updated_at').as('latest')])
    .executeTakeFirst();
  return `${Number(row?.n ?? 0)}:${row?.latest ?? ''}`;
}

export async function putKind(
  db: Kysely<Database>,
  def: { name: string; schema: JsonObject; equivalents: Equivalents; api_versions?: string[] | null; crd?: { group: string; version: string } },
  actor: string,
): Promise<{ created: boolean; row: KindDefinitionRow }> {
  return db.transaction().execute(async (tx) => {
    const before = await tx.selectFrom('kinds').selectAll().where('name', '=', def.name).executeTakeFirst();
    const now = nowIso();
    const apiVersions = def.api_versions ?? null;
    const values = { schema: toJson(def.schema), equivalents: toJson(def.equivalents), api_versions: apiVersions ? toJson(apiVersions) : null, updated_at: now };
    if (before) await tx.updateTable('kinds').set(values).where('name', '=', def.name).execute();
    else await tx.insertInto('kinds').values({ name: def.name, created_at: now, ...values }).execute();
    await recordAudit(tx, {
      actor,
      action: before ? 'kind.update' : 'kind.create',
      target: `kind/${def.name}`,
      details: { schema: def.schema, equivalents: def.equivalents, api_versions: apiVersions, ...(def.crd ? { crd: def.crd } : {}) },
    });
    return { created: !before, row: { name: def.name, schema: def.schema, equivalents: def.equivalents, api_versions: apiVersions, updated_at: now } };
  });
}

export function toKind(
  def: KindDefinitionRow | { name: string; schema: JsonObject; equivalents?: Equivalents; api_versions?: string[] | null },
  builtin: boolean,
): Kind {
  return {
    name: def.name,
    schema: def.schema,
    equivalents: def.equivalents ?? {},
    api_versions: def.api_versions ?? null,
    builtin,
    updated_at: 'updated_at' in def ? def.updated_at : null,
  };
}
