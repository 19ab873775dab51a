import { sql, type Kysely } from 'kysely';
import type { Dialect } from './index.js';

/**
 * Issue 12: `namespaces.live_generation`, a counter the database itself moves on EVERY write to
 * the namespace's live resources (insert, update, delete, a cascade from the namespace, another
 * replica's write, an operator's SQL), through triggers on `resources` rather than in each code
 * path that writes them. A sync compares it with the value its last plan was made against: equal
 * means no live row has changed since (see src/sync/last-plan.ts). Only equality is ever used.
 *
 * SQLite has row triggers only (+1 per row written, ~1 µs each). PostgreSQL uses statement
 * triggers with transition tables: one UPDATE per statement, not one new row version of the
 * namespace per resource (a 10,000-row upsert is 25 statements).
 */
export async function m121LiveGeneration(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('namespaces')
    .addColumn('live_generation', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  if (dialect === 'sqlite') {
    await sql`create trigger resources_live_insert after insert on resources begin
      update namespaces set live_generation = live_generation + 1 where name = new.namespace; end`.execute(db);
    await sql`create trigger resources_live_update after update on resources begin
      update namespaces set live_generation = live_generation + 1 where name in (old.namespace, new.namespace); end`.execute(db);
    await sql`create trigger resources_live_delete after delete on resources begin
      update namespaces set live_generation = live_generation + 1 where name = old.namespace; end`.execute(db);
    return;
  }
  // `set search_path from current`: the function resolves `namespaces` in the schema it was
  // created in, whatever the search path of the session that fires it.
  for (const [event, rows] of [
    ['insert', 'select namespace from new_rows'],
    ['update', 'select namespace from new_rows union select namespace from old_rows'],
    ['delete', 'select namespace from old_rows'],
  ] as const) {
    await sql
      .raw(
        `create function resources_live_${event}() returns trigger language plpgsql set search_path from current as $$
        begin
          update namespaces set live_generation = live_generation + 1 where name in (${rows});
          return null;
        end $$`,
      )
      .execute(db);
    const referencing = event === 'insert' ? 'new table as new_rows' : event === 'delete' ? 'old table as old_rows' : 'old table as old_rows new table as new_rows';
    await sql
      .raw(`create trigger resources_live_${event} after ${event} on resources referencing ${referencing} for each statement execute function resources_live_${event}()`)
      .execute(db);
  }
}
