import crypto from 'node:crypto';
import { NotFoundError } from '../errors.js';
import type { Role } from '../contracts/common.js';
import { generateToken, hashToken } from '../security/tokens.js';
import type { TokenInfo } from '../contracts/tokens.js';
import { recordAudit, type Executor } from './audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { Database } from './types.js';
import type { Kysely, Selectable } from 'kysely';
import type { TokensTable } from './types.js';

export interface NewToken {
  name: string;
  role: Role;
  namespaces?: string[] | undefined;
}

export interface AuthenticatedToken {
  id: string;
  name: string;
  role: Role;
  namespaces: string[];
}

function toInfo(row: Selectable<TokensTable>): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    namespaces: fromJson<string[]>(row.namespaces, []),
    created_at: row.created_at,
    created_by: row.created_by,
    last_used_at: row.last_used_at,
  };
}

/** Creates a token; the plain value is returned once and only its hash is kept. */
export async function createToken(
  db: Kysely<Database>,
  input: NewToken,
  actor: string,
): Promise<{ info: TokenInfo; token: string }> {
  const token = generateToken();
  const row = {
    id: `tok_${crypto.randomBytes(9).toString('base64url')}`,
    name: input.name,
    role: input.role,
    namespaces: toJson(input.namespaces ?? []),
    token_hash: hashToken(token),
    created_at: nowIso(),
    created_by: actor,
    last_used_at: null,
  };
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('tokens').values(row).execute();
    await recordAudit(tx, {
      actor,
      action: 'token.create',
      target: `token/${row.id}`,
      details: { name: row.name, role: row.role, namespaces: input.namespaces ?? [] },
    });
  });
  return { info: toInfo(row), token };
}

export async function listTokens(db: Executor): Promise<TokenInfo[]> {
  const rows = await db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toInfo);
}

export async function deleteToken(db: Kysely<Database>, id: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`Token '${id}' not found`);
    await tx.deleteFrom('tokens').where('id', '=', id).execute();
    await recordAudit(tx, { actor, action: 'token.revoke', target: `token/${id}`, details: { name: row.name } });
  });
}

export async function findTokenByValue(db: Executor, token: string): Promise<AuthenticatedToken | null> {
  return findTokenByHash(db, hashToken(token));
}

/** The token with this SHA-256 (a web session keeps only the hash of the token that opened it). */
export async function findTokenByHash(db: Executor, tokenHash: string): Promise<AuthenticatedToken | null> {
  const row = await db.selectFrom('tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!row) return null;
  return { id: row.id, name: row.name, role: row.role as Role, namespaces: fromJson<string[]>(row.namespaces, []) };
}

/** Best-effort, at most once a minute per token, so reads don't turn into writes. */
export async function touchToken(db: Executor, id: string): Promise<void> {
  const now = new Date();
  const cutoff = new Date(now.getTime() - 60_000).toISOString();
  await db
    .updateTable('tokens')
    .set({ last_used_at: now.toISOString() })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', cutoff)]))
    .execute();
}
