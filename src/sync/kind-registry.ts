import { KindRegistry } from '../specs/kinds.js';
import type { JsonObject } from '../contracts/json.js';
import type { Executor } from '../store/audit.js';
import { kindsVersion, listKindRows } from '../store/kinds.js';

const cache = new WeakMap<object, { key: string; registry: KindRegistry }>();

/**
 * The registry of built-in and stored kinds, compiled once and reused until a kind changes
 * (checked with one cheap query), so schemas are not recompiled for every sync.
 */
export async function loadKindRegistry(db: Executor): Promise<KindRegistry> {
  const key = await kindsVersion(db);
  const cached = cache.get(db);
  if (cached && cached.key === key) return cached.registry;
  const rows = await listKindRows(db);
  const registry = new KindRegistry(
    rows.map((r) => ({ name: r.name, schema: r.schema, equivalents: r.equivalents, api_versions: r.api_versions })),
  );
  cache.set(db, { key, registry });
  return registry;
}
