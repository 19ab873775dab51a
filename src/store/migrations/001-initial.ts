import type { Kysely } from 'kysely';
import type { Dialect } from './index.js';

export async function m001Initial(db: Kysely<any>, dialect: Dialect): Promise<void> {
  // Auto-increment columns are the one place the dialects differ.
  const serial = (t: any, name: string) =>
    dialect === 'postgres'
      ? t.addColumn(name, 'bigserial', (c: any) => c.primaryKey())
      : t.addColumn(name, 'integer', (c: any) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('namespaces', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .execute();

  await db.schema
    .createTable('sources')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('auth_type', 'text', (c) => c.notNull())
    .addColumn('auth_username', 'text')
    .addColumn('auth_app_id', 'text')
    .addColumn('auth_installation_id', 'text')
    .addColumn('auth_secret', 'text')
    .addColumn('webhook_secret', 'text')
    .addColumn('mirror_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mirror_access', 'text', (c) => c.notNull().defaultTo('token'))
    .addColumn('mirror_slug', 'text', (c) => c.unique())
    .addColumn('mirror_status', 'text', (c) => c.notNull().defaultTo('disabled'))
    .addColumn('mirror_head_commit', 'text')
    .addColumn('mirror_last_synced', 'text')
    .addColumn('mirror_last_error', 'text')
    .addColumn('default_branch', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('kinds')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('schema', 'text', (c) => c.notNull())
    .addColumn('equivalents', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('namespaces')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.references('sources.name'))
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('auto_sync', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('prune', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('allow_unmerged_refs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('never_synced'))
    .addColumn('last_deployment_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('resources')
    .addColumn('namespace', 'text', (c) => c.notNull().references('namespaces.name').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('managed_fields', 'text', (c) => c.notNull())
    .addColumn('file', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resources_pk', ['namespace', 'kind', 'name'])
    .execute();

  let deployments = db.schema.createTable('deployments').addColumn('id', 'text', (c) => c.notNull().unique());
  deployments = serial(deployments, 'seq');
  await deployments
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('source', 'text')
    .addColumn('author_name', 'text')
    .addColumn('author_email', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deployments_namespace_seq').on('deployments').columns(['namespace', 'seq']).execute();

  let audit = db.schema.createTable('audit_events');
  audit = serial(audit, 'id');
  await audit
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_namespace_id').on('audit_events').columns(['namespace', 'id']).execute();
}
