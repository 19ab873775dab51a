import type { Kysely } from 'kysely';

/**
 * Mirror copies: each replica keeps its own copy of every mirror on its local disk; this table
 * is each copy's state as its replica last recorded it (the `sources` row says which mirrors
 * exist; `GET /mirrors` reports every live replica's copy from here).
 */
export async function m131MirrorCopies(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mirror_copies')
    .addColumn('replica', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('head_commit', 'text')
    .addColumn('last_synced', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_error_code', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mirror_copies_pk', ['replica', 'source'])
    .execute();
  await db.schema.createIndex('mirror_copies_source').on('mirror_copies').column('source').execute();
}
