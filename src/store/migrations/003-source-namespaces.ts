import type { Kysely } from 'kysely';

/**
 * Issue 8: which namespaces may bind a source (JSON array of namespace patterns; null = any,
 * but then only an unscoped admin may bind it).
 */
export async function m003SourceNamespaces(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sources').addColumn('namespaces', 'text').execute();
}
