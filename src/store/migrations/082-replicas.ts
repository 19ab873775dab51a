import type { Kysely } from 'kysely';

/** Replica registry: each server process heart-beats its row (id, version, roles, last_seen). */
export async function m082Replicas(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('replicas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .execute();
}
