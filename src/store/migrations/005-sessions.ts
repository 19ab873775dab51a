import type { Kysely } from 'kysely';

/**
 * Web UI sessions. The cookie holds a random session id; only its SHA-256 is stored, next to the
 * SHA-256 of the token that opened it (so revoking the token ends the session). No raw token is
 * kept anywhere: not in the database, not in the cookie, not in the browser.
 */
export async function m005Sessions(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
}
