import type { Kysely } from 'kysely';

/**
 * Issue 11: which files are specs (per-namespace include/exclude globs) and kinds that declare
 * the apiVersions they accept. NULL means "the defaults" (include `**\/*.yaml`, `**\/*.yml`;
 * no exclude; any apiVersion), so existing rows keep their behaviour.
 */
export async function m006SpecsKubernetes(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('namespaces').addColumn('include_globs', 'text').execute();
  await db.schema.alterTable('namespaces').addColumn('exclude_globs', 'text').execute();
  await db.schema.alterTable('kinds').addColumn('api_versions', 'text').execute();
  // JSON [{path, rule}]: files under the namespace path that a rule skipped (NULL = none recorded).
  await db.schema.alterTable('deployments').addColumn('skipped_files', 'text').execute();
}
