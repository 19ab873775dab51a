import type { Kysely } from 'kysely';

/**
 * Issue 9: a push looks up the namespaces of one source and branch whose path it touched
 * (`where source = ? and branch = ? and path in (…)`), and a delivery asks whether any namespace
 * tracks its branch; without an index both scanned every namespace.
 */
export async function m091NamespacesSourceBranch(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('namespaces_source_branch_path').on('namespaces').columns(['source', 'branch', 'path']).execute();
}
