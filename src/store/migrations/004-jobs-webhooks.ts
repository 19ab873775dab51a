import { sql, type Kysely } from 'kysely';
import type { Dialect } from './index.js';

/**
 * Issue 9: the durable job queue's record (`jobs`: every job, whatever the driver, so the API can
 * list queued, running, done and failed ones), received webhook deliveries (unique on provider +
 * delivery id: the idempotency key), stored plans (pull-request plans), the last handled head per
 * source branch, and the auto-sync pause.
 */
export async function m004JobsWebhooks(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_at', 'text')
    .addColumn('delivery', 'text')
    .addColumn('namespace', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('jobs_state_run_at').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema.createIndex('jobs_created_at').on('jobs').columns(['created_at']).execute();
  await db.schema.createIndex('jobs_delivery').on('jobs').column('delivery').execute();
  // A job key coalesces duplicates while a job waits: at most one queued job per key.
  await db.schema
    .createIndex('jobs_queued_key')
    .on('jobs')
    .column('key')
    .unique()
    .where(sql<boolean>`state = 'queued' and key is not null`)
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('action', 'text')
    .addColumn('repository', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('ignored', 'text')
    .addColumn('job_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('webhook_deliveries_provider_delivery', ['provider', 'delivery_id'])
    .execute();
  await db.schema.createIndex('webhook_deliveries_received_at').on('webhook_deliveries').column('received_at').execute();

  await db.schema
    .createTable('plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('commit', 'text', (c) => c.notNull())
    .addColumn('pull_request', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('plans_namespace_created').on('plans').columns(['namespace', 'created_at']).execute();

  // The last branch head a push/poll was handled for, per source and branch: the base of the next
  // "what changed" diff, and why a webhook and a poll for one commit give one sync.
  await db.schema
    .createTable('source_heads')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('commit', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('source_heads_pk', ['source', 'branch'])
    .execute();

  await db.schema.alterTable('namespaces').addColumn('auto_sync_paused', 'text').execute();
  // The forge's REST base when it is not the default derived from the URL.
  await db.schema.alterTable('sources').addColumn('api_url', 'text').execute();
  // Why a sync was asked for (sync-from-git's optional `reason`).
  await db.schema.alterTable('deployments').addColumn('reason', 'text').execute();
}
