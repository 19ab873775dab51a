import type { Kysely } from 'kysely';

/**
 * The code of a mirror's last sync error (null after a success): a retryable one (`fetch_failed`)
 * means the scheduler tries again next interval ("waiting"); any other (`auth_failed`,
 * `repo_not_found`, …) means it is stalled until someone edits the source.
 */
export async function m002MirrorErrorCode(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sources').addColumn('mirror_last_error_code', 'text').execute();
}
