import type { Kysely, Selectable } from 'kysely';
import { NotFoundError, SynclineError } from '../errors.js';
import type { SecretBox } from '../security/secret-box.js';
import { hostOf } from '../security/url-guard.js';
import type { AuthType, MirrorAccess, Provider, Source, SourceAuthInput, SourceCreateBody, SourcePatchBody } from '../contracts/sources.js';
import { parseGitUrl, urlPort } from '../security/url-guard.js';
import { recordAudit, type Executor } from './audit.js';
import { defaultApiUrl } from '../providers/api-url.js';
import { fromJson, nowIso } from './json.js';
import type { Database, SourcesTable } from './types.js';

export type { Provider };
export type SourceRow = Selectable<SourcesTable>;

/** Decrypted credentials, only ever handed to the git engine and provider clients. */
export interface SourceSecrets {
  token?: string;
  password?: string;
  private_key?: string;
}

export interface SourceCredentials {
  type: AuthType;
  username: string | null;
  app_id: string | null;
  installation_id: string | null;
  secrets: SourceSecrets;
}

const authContext = (name: string) => `source:${name}:auth`;
const webhookContext = (name: string) => `source:${name}:webhook`;

export function inferProvider(url: string): Provider {
  const host = hostOf(url);
  if (host === 'github.com' || host.endsWith('.github.com')) return 'github';
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return 'gitlab';
  if (host === 'gitea.com' || host.startsWith('gitea.') || host === 'codeberg.org') return 'gitea';
  return 'git';
}

/** What to store for submitted credentials (the contract's union already checked the fields). */
function normaliseAuth(auth: SourceAuthInput | undefined): {
  type: AuthType;
  username: string | null;
  app_id: string | null;
  installation_id: string | null;
  secrets: SourceSecrets | null;
} {
  const none = { username: null, app_id: null, installation_id: null, secrets: null };
  const a = auth ?? { type: 'none' as const };
  switch (a.type) {
    case 'none':
      return { type: a.type, ...none };
    case 'token':
      return { type: a.type, ...none, username: a.username ?? null, secrets: { token: a.token } };
    case 'basic':
      return { type: a.type, ...none, username: a.username, secrets: { password: a.password } };
    case 'github_app':
      return {
        type: a.type,
        ...none,
        app_id: String(a.app_id),
        installation_id: a.installation_id != null ? String(a.installation_id) : null,
        secrets: { private_key: a.private_key },
      };
  }
}

/** The namespace patterns allowed to bind a source; null when none were given. */
export function sourceNamespaces(row: Pick<SourceRow, 'namespaces'>): string[] | null {
  return row.namespaces ? fromJson<string[] | null>(row.namespaces, null) : null;
}

/**
 * `scheme://host:port` of a source URL (ssh and scp-style both count as ssh, port 22 by
 * default). Credentials belong to an origin: a URL change that changes it drops them.
 */
export function urlOrigin(url: string): string {
  try {
    const parsed = parseGitUrl(url);
    return `${parsed.scheme}://${parsed.host}:${urlPort(parsed) ?? ''}`;
  } catch {
    return `unparsed:${url}`;
  }
}

export function mirrorSlug(row: Pick<SourceRow, 'name' | 'mirror_slug'>): string {
  return row.mirror_slug ?? row.name;
}

export function toSource(row: SourceRow, publicUrl: string | undefined): Source {
  const slug = mirrorSlug(row);
  const complete = row.mirror_enabled === 1 && row.mirror_status === 'ready';
  const base = (publicUrl ?? '').replace(/\/+$/, '');
  return {
    name: row.name,
    url: row.url,
    provider: row.provider as Provider,
    auth: {
      type: row.auth_type as AuthType,
      configured: row.auth_type !== 'none' && row.auth_secret !== null,
      username: row.auth_username,
    },
    mirror: {
      enabled: row.mirror_enabled === 1,
      access: row.mirror_access as MirrorAccess,
      slug,
      url: complete ? `${base}/git/${slug}.git` : null,
      status: row.mirror_enabled === 1 ? row.mirror_status : 'disabled',
    },
    api_url: sourceApiUrl(row),
    webhook_secret_configured: row.webhook_secret !== null,
    webhook: { secret_configured: row.webhook_secret !== null },
    default_branch: row.default_branch,
    namespaces: sourceNamespaces(row),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The fields a mutation's audit event records: shape only, never secret values. */
function auditShape(row: Pick<SourceRow, 'url' | 'provider' | 'auth_type' | 'mirror_enabled' | 'mirror_access' | 'mirror_slug'>) {
  return {
    url: row.url,
    provider: row.provider,
    auth_type: row.auth_type,
    mirror: { enabled: row.mirror_enabled === 1, access: row.mirror_access, slug: row.mirror_slug },
  };
}

export async function getSourceRow(db: Executor, name: string): Promise<SourceRow> {
  const row = await db.selectFrom('sources').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new NotFoundError(`Source '${name}' not found`);
  return row;
}

export async function listSourceRows(db: Executor): Promise<SourceRow[]> {
  return db.selectFrom('sources').selectAll().orderBy('name').execute();
}

async function assertSlugFree(db: Executor, slug: string, except: string | null): Promise<void> {
  const clash = await db
    .selectFrom('sources')
    .select('name')
    .where((eb) =>
      eb.or([eb('mirror_slug', '=', slug), eb.and([eb('mirror_slug', 'is', null), eb('name', '=', slug)])]),
    )
    .execute();
  if (clash.some((r) => r.name !== except)) {
    throw new SynclineError('conflict', `Mirror slug '${slug}' is already used by another source`, { slug });
  }
}

export async function createSource(
  db: Kysely<Database>,
  box: SecretBox,
  input: SourceCreateBody & { url: string },
  actor: string,
): Promise<SourceRow> {
  const auth = normaliseAuth(input.auth);
  const now = nowIso();
  const row: SourceRow = {
    name: input.name,
    url: input.url,
    provider: input.provider ?? inferProvider(input.url),
    auth_type: auth.type,
    auth_username: auth.username,
    auth_app_id: auth.app_id,
    auth_installation_id: auth.installation_id,
    auth_secret: auth.secrets ? box.seal(JSON.stringify(auth.secrets), authContext(input.name)) : null,
    webhook_secret: input.webhook_secret ? box.seal(input.webhook_secret, webhookContext(input.name)) : null,
    mirror_enabled: input.mirror?.enabled ? 1 : 0,
    mirror_access: input.mirror?.access ?? 'token',
    mirror_slug: input.mirror?.slug ?? null,
    mirror_status: input.mirror?.enabled ? 'pending' : 'disabled',
    mirror_head_commit: null,
    mirror_last_synced: null,
    mirror_last_error: null,
    mirror_last_error_code: null,
    default_branch: null,
    created_at: now,
    updated_at: now,
    namespaces: input.namespaces ? JSON.stringify(input.namespaces) : null,
    api_url: input.api_url ?? null,
  };
  await db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('sources').select('name').where('name', '=', input.name).executeTakeFirst();
    if (existing) throw new SynclineError('already_exists', `Source '${input.name}' already exists`, { name: input.name });
    await assertSlugFree(tx, mirrorSlug(row), null);
    await tx.insertInto('sources').values(row).execute();
    await recordAudit(tx, { actor, action: 'source.create', target: `source/${row.name}`, details: auditShape(row) });
  });
  return row;
}

export async function updateSource(
  db: Kysely<Database>,
  box: SecretBox,
  name: string,
  patch: SourcePatchBody,
  actor: string,
): Promise<SourceRow> {
  return db.transaction().execute(async (tx) => {
    const before = await getSourceRow(tx, name);
    const next: SourceRow = { ...before, updated_at: nowIso() };
    if (patch.url !== undefined) next.url = patch.url;
    if (patch.provider !== undefined) next.provider = patch.provider;
    if (patch.namespaces !== undefined) next.namespaces = patch.namespaces ? JSON.stringify(patch.namespaces) : null;
    // Credentials belong to the origin they were given for: a new scheme, host or port without
    // new credentials in the same request drops them, so they never travel to the new host.
    const originChanged = patch.url !== undefined && urlOrigin(patch.url) !== urlOrigin(before.url);
    const credentialsDropped = originChanged && patch.auth === undefined && before.auth_type !== 'none';
    if (credentialsDropped) {
      next.auth_type = 'none';
      next.auth_username = null;
      next.auth_app_id = null;
      next.auth_installation_id = null;
      next.auth_secret = null;
    }
    if (patch.api_url !== undefined) next.api_url = patch.api_url;
    if (patch.auth !== undefined) {
      const auth = normaliseAuth(patch.auth);
      next.auth_type = auth.type;
      next.auth_username = auth.username;
      next.auth_app_id = auth.app_id;
      next.auth_installation_id = auth.installation_id;
      next.auth_secret = auth.secrets ? box.seal(JSON.stringify(auth.secrets), authContext(name)) : null;
    }
    if (patch.webhook_secret !== undefined) {
      next.webhook_secret = patch.webhook_secret ? box.seal(patch.webhook_secret, webhookContext(name)) : null;
    }
    if (patch.mirror) {
      if (patch.mirror.enabled !== undefined) {
        next.mirror_enabled = patch.mirror.enabled ? 1 : 0;
        if (patch.mirror.enabled && before.mirror_enabled === 0) next.mirror_status = 'pending';
      }
      if (patch.mirror.access !== undefined) next.mirror_access = patch.mirror.access;
      if (patch.mirror.slug !== undefined) next.mirror_slug = patch.mirror.slug;
    }
    if (mirrorSlug(next) !== mirrorSlug(before)) await assertSlugFree(tx, mirrorSlug(next), name);
    await tx.updateTable('sources').set(next).where('name', '=', name).execute();
    await recordAudit(tx, {
      actor,
      action: 'source.update',
      target: `source/${name}`,
      details: {
        before: auditShape(before),
        after: auditShape(next),
        credentials_changed: patch.auth !== undefined || credentialsDropped,
        origin_changed: originChanged,
        credentials_dropped: credentialsDropped,
        namespaces: sourceNamespaces(next),
        webhook_secret_changed: patch.webhook_secret !== undefined,
      },
    });
    return next;
  });
}

export async function deleteSource(db: Kysely<Database>, name: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await getSourceRow(tx, name);
    const users = await tx.selectFrom('namespaces').select('name').where('source', '=', name).execute();
    if (users.length) {
      throw new SynclineError('source_in_use', `Source '${name}' is used by namespace(s) ${users.map((u) => u.name).join(', ')}`, {
        namespaces: users.map((u) => u.name),
      });
    }
    await tx.deleteFrom('sources').where('name', '=', name).execute();
    // Every replica's copy record goes with it; each replica removes its copy on disk (mirror/copies.ts).
    await tx.deleteFrom('mirror_copies').where('source', '=', name).execute();
    await recordAudit(tx, { actor, action: 'source.delete', target: `source/${name}`, details: auditShape(row) });
  });
}

/** Decrypts a source's credentials (and registers them for redaction). */
export function sourceCredentials(box: SecretBox, row: SourceRow): SourceCredentials {
  const secrets = row.auth_secret ? fromJson<SourceSecrets>(box.open(row.auth_secret, authContext(row.name)), {}) : {};
  return {
    type: row.auth_type as AuthType,
    username: row.auth_username,
    app_id: row.auth_app_id,
    installation_id: row.auth_installation_id,
    secrets,
  };
}

/** The forge REST base: the one given, else derived from the URL keeping its port (null for plain git). */
export function sourceApiUrl(row: Pick<SourceRow, 'api_url' | 'provider' | 'url'>): string | null {
  return row.api_url ?? defaultApiUrl(row.provider, row.url);
}

export function sourceWebhookSecret(box: SecretBox, row: SourceRow): string | null {
  return row.webhook_secret ? box.open(row.webhook_secret, webhookContext(row.name)) : null;
}

export async function setMirrorState(
  db: Executor,
  name: string,
  state: Partial<Pick<SourceRow, 'mirror_status' | 'mirror_head_commit' | 'mirror_last_synced' | 'mirror_last_error' | 'mirror_last_error_code' | 'default_branch'>>,
): Promise<void> {
  await db.updateTable('sources').set(state).where('name', '=', name).execute();
}

/** The mirror-enabled source serving `slug` (its mirror slug, or its name when none is set). */
export async function findMirrorSource(db: Executor, slug: string): Promise<SourceRow | null> {
  const row = await db
    .selectFrom('sources')
    .selectAll()
    .where('mirror_enabled', '=', 1)
    .where((eb) => eb.or([eb('mirror_slug', '=', slug), eb.and([eb('mirror_slug', 'is', null), eb('name', '=', slug)])]))
    .executeTakeFirst();
  return row ?? null;
}
