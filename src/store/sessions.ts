import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './types.js';

function sha256(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/**
 * Opens a session for a token (given by its hash) and returns the session id for the cookie.
 * Only the id's hash is stored, so a database read never yields a usable cookie.
 */
export async function createSession(db: Kysely<Database>, tokenHash: string, ttlSeconds: number): Promise<string> {
  const id = crypto.randomBytes(32).toString('base64url');
  const now = new Date();
  await db
    .insertInto('sessions')
    .values({
      id_hash: sha256(id),
      token_hash: tokenHash,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    })
    .execute();
  // Expired sessions are swept whenever a new one opens: no scheduler needed.
  await db.deleteFrom('sessions').where('expires_at', '<', now.toISOString()).execute();
  return id;
}

/** The token hash behind a live session id, or null for an unknown or expired one. */
export async function findSessionTokenHash(db: Kysely<Database>, id: string): Promise<string | null> {
  const row = await db
    .selectFrom('sessions')
    .select(['token_hash', 'expires_at'])
    .where('id_hash', '=', sha256(id))
    .executeTakeFirst();
  if (!row || row.expires_at < new Date().toISOString()) return null;
  return row.token_hash;
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', sha256(id)).execute();
}
