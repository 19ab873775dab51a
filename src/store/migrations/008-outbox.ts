import type { Kysely } from 'kysely';
import type { Dialect } from './index.js';

/**
 * The events outbox: every CloudEvent is inserted in the same transaction as the change it
 * reports; a relay publishes rows in `seq` order and stamps `published_at`. Published rows are
 * kept for `Last-Event-ID` resumption (SSE) and pruned after the retention window.
 * `watch` holds the per-resource changes of a deployment (for `/namespaces/{ns}/watch`); it is
 * never published outside.
 */
export async function m008Outbox(db: Kysely<any>, dialect: Dialect): Promise<void> {
  let t = db.schema.createTable('outbox');
  t = dialect === 'postgres'
    ? t.addColumn('seq', 'bigserial', (c) => c.primaryKey())
    : t.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
  await t
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text')
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('watch', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .execute();
  await db.schema.createIndex('outbox_published_seq').on('outbox').columns(['published_at', 'seq']).execute();
  await db.schema.createIndex('outbox_created_at').on('outbox').column('created_at').execute();
}
