import path from 'node:path';
import type { Kysely, Selectable } from 'kysely';
import { ForbiddenError, NotFoundError, SynclineError } from '../errors.js';
import { namespaceMatches } from '../security/roles.js';
import type { DeploymentSummary } from '../contracts/deployments.js';
import { DEFAULT_INCLUDE } from '../contracts/namespaces.js';
import type { Namespace, NamespacePatchBody, NamespacePutBody } from '../contracts/namespaces.js';
import { recordAudit, type Executor } from './audit.js';
import { fromJson, nowIso } from './json.js';
import type { Database, NamespacesTable } from './types.js';

export type NamespaceRow = Selectable<NamespacesTable>;
export type NamespaceStatus = Namespace['status'];

/**
 * A namespace path is repo-relative and already normalised: no leading '/', no '.' or '..'
 * segments, no empty segments, no backslashes. '' and '.' mean the repository root.
 * A trailing '/' is tolerated and dropped.
 */
export function normaliseNamespacePath(raw: string | undefined): string {
  const p = (raw ?? '').replace(/\/+$/, '');
  if (p === '' || p === '.') return '';
  const bad = (why: string) => new SynclineError('invalid_path', `Path '${raw}' ${why}`, { path: raw });
  if (p.startsWith('/')) throw bad('must be relative to the repository root');
  if (/[\\\x00-\x1f]/.test(p)) throw bad('must not contain backslashes or control characters');
  const segments = p.split('/');
  if (segments.includes('..')) throw bad("must not contain a '..' segment");
  if (segments.some((s) => s === '' || s === '.') || path.posix.normalize(p) !== p) throw bad('must be normalised');
  return p;
}

export async function getNamespaceRow(db: Executor, name: string): Promise<NamespaceRow> {
  const row = await db.selectFrom('namespaces').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new NotFoundError(`Namespace '${name}' not found`);
  return row;
}

async function deploymentSummaries(db: Executor, ids: string[]): Promise<Map<string, DeploymentSummary>> {
  const out = new Map<string, DeploymentSummary>();
  if (!ids.length) return out;
  const rows = await db
    .selectFrom('deployments')
    .select(['id', 'status', 'ref', 'commit', 'author_name', 'author_email', 'actor', 'reason', 'started_at', 'finished_at', 'summary'])
    .where('id', 'in', ids)
    .execute();
  for (const r of rows) {
    out.set(r.id, {
      id: r.id,
      status: r.status as DeploymentSummary['status'],
      ref: r.ref,
      commit: r.commit,
      author: r.author_name !== null || r.author_email !== null ? { name: r.author_name ?? '', email: r.author_email ?? '' } : null,
      actor: r.actor,
      reason: r.reason ?? null,
      started_at: r.started_at,
      finished_at: r.finished_at,
      summary: fromJson(r.summary, { create: 0, update: 0, delete: 0, noop: 0, invalid: 0 }),
    });
  }
  return out;
}

function toNamespace(row: NamespaceRow, last: DeploymentSummary | undefined): Namespace {
  return {
    name: row.name,
    source: row.source,
    branch: row.branch,
    path: row.path,
    auto_sync: row.auto_sync === 1,
    prune: row.prune === 1,
    allow_unmerged_refs: row.allow_unmerged_refs === 1,
    ...namespaceGlobs(row),
    status: row.status as NamespaceStatus,
    auto_sync_paused: fromJson(row.auto_sync_paused, null),
    last_deployment: last ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export async function namespaceViews(db: Executor, rows: NamespaceRow[]): Promise<Namespace[]> {
  const ids = rows.map((r) => r.last_deployment_id).filter((x): x is string => !!x);
  const summaries = await deploymentSummaries(db, ids);
  return rows.map((r) => toNamespace(r, r.last_deployment_id ? summaries.get(r.last_deployment_id) : undefined));
}

export async function getNamespace(db: Executor, name: string): Promise<Namespace> {
  const [view] = await namespaceViews(db, [await getNamespaceRow(db, name)]);
  return view!;
}

export async function listNamespaces(db: Executor, filter?: (name: string) => boolean): Promise<Namespace[]> {
  const rows = await db.selectFrom('namespaces').selectAll().orderBy('name').execute();
  return namespaceViews(db, filter ? rows.filter((r) => filter(r.name)) : rows);
}

export interface BindOptions {
  /** The caller is an unscoped admin: it may bind any source to any namespace. */
  mayBindAnySource: boolean;
}

/**
 * Binding a source to a namespace hands that namespace's readers the source's content. A
 * namespace-scoped admin may only bind sources whose `namespaces` patterns cover the namespace;
 * sources without patterns are bound by unscoped admins only.
 */
function assertMayBind(opts: BindOptions, namespace: string, source: string, patternsJson: string | null): void {
  if (opts.mayBindAnySource) return;
  const patterns = patternsJson ? fromJson<string[] | null>(patternsJson, null) : null;
  if (patterns?.some((p) => namespaceMatches(p, namespace))) return;
  throw new ForbiddenError(
    patterns
      ? `Source '${source}' may only be bound to namespaces matching ${patterns.join(', ')}`
      : `Source '${source}' lists no namespaces it may be bound to; only an unscoped admin can bind it`,
    { source, namespace },
  );
}

/** Creates or replaces a namespace's binding and policy; live resources and history are kept. */
export async function putNamespace(
  db: Kysely<Database>,
  name: string,
  body: NamespacePutBody,
  actor: string,
  opts: BindOptions = { mayBindAnySource: true },
): Promise<{ created: boolean }> {
  return saveNamespace(db, name, body, actor, 'put', opts);
}

/** Changes only the fields given; 404 when the namespace does not exist. */
export async function patchNamespace(
  db: Kysely<Database>,
  name: string,
  body: NamespacePatchBody,
  actor: string,
  opts: BindOptions = { mayBindAnySource: true },
): Promise<void> {
  await saveNamespace(db, name, body, actor, 'patch', opts);
}

function globsJson(globs: readonly string[] | null | undefined): string | null {
  return globs ? JSON.stringify(globs) : null;
}

/** The include/exclude globs of a namespace row (defaults applied). */
export function namespaceGlobs(row: Pick<NamespaceRow, 'include_globs' | 'exclude_globs'>): { include: string[]; exclude: string[] } {
  return {
    include: row.include_globs ? fromJson<string[]>(row.include_globs, [...DEFAULT_INCLUDE]) : [...DEFAULT_INCLUDE],
    exclude: row.exclude_globs ? fromJson<string[]>(row.exclude_globs, []) : [],
  };
}

function auditView(row: Pick<NamespaceRow, 'source' | 'branch' | 'path' | 'auto_sync' | 'prune' | 'allow_unmerged_refs' | 'include_globs' | 'exclude_globs'>) {
  return {
    source: row.source,
    branch: row.branch,
    path: row.path,
    auto_sync: row.auto_sync === 1,
    prune: row.prune === 1,
    allow_unmerged_refs: row.allow_unmerged_refs === 1,
    ...namespaceGlobs(row),
  };
}

async function saveNamespace(
  db: Kysely<Database>,
  name: string,
  body: NamespacePatchBody,
  actor: string,
  mode: 'put' | 'patch',
  opts: BindOptions,
): Promise<{ created: boolean }> {
  const has = (k: keyof NamespacePatchBody) => mode === 'put' || body[k] !== undefined;
  const nsPath = has('path') ? normaliseNamespacePath(body.path) : undefined;
  return db.transaction().execute(async (tx) => {
    const before = await tx.selectFrom('namespaces').selectAll().where('name', '=', name).executeTakeFirst();
    if (!before && mode === 'patch') throw new NotFoundError(`Namespace '${name}' not found`);
    const source = has('source') ? (body.source ?? null) : before!.source;
    if (source && source !== before?.source) {
      const row = await tx.selectFrom('sources').select(['name', 'namespaces']).where('name', '=', source).executeTakeFirst();
      if (!row) throw new SynclineError('invalid_request', `Source '${source}' does not exist`, { field: 'source' });
      assertMayBind(opts, name, source, row.namespaces);
    }
    const flag = (k: 'auto_sync' | 'prune' | 'allow_unmerged_refs') => (has(k) ? (body[k] ? 1 : 0) : before![k]);
    const now = nowIso();
    const values = {
      source,
      branch: body.branch ?? (mode === 'patch' ? before!.branch : 'main'),
      path: nsPath ?? before!.path,
      auto_sync: flag('auto_sync'),
      prune: flag('prune'),
      allow_unmerged_refs: flag('allow_unmerged_refs'),
      include_globs: has('include') ? globsJson(body.include) : before!.include_globs,
      exclude_globs: has('exclude') ? globsJson(body.exclude) : before!.exclude_globs,
      updated_at: now,
    };
    if (before) {
      const rebound =
        before.source !== values.source ||
        before.branch !== values.branch ||
        before.path !== values.path ||
        before.include_globs !== values.include_globs ||
        before.exclude_globs !== values.exclude_globs;
      const status = rebound && before.status === 'synced' ? 'out_of_sync' : before.status;
      await tx.updateTable('namespaces').set({ ...values, status }).where('name', '=', name).execute();
    } else {
      await tx
        .insertInto('namespaces')
        .values({ name, ...values, status: 'never_synced', last_deployment_id: null, created_at: now })
        .execute();
    }
    await recordAudit(tx, {
      actor,
      action: before ? 'namespace.update' : 'namespace.create',
      target: `namespace/${name}`,
      namespace: name,
      details: { before: before ? auditView(before) : null, after: auditView(values) },
    });
    return { created: !before };
  });
}

export async function deleteNamespace(db: Kysely<Database>, name: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await getNamespaceRow(tx, name);
    const count = await tx
      .selectFrom('resources')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('namespace', '=', name)
      .executeTakeFirst();
    await tx.deleteFrom('resources').where('namespace', '=', name).execute();
    await tx.deleteFrom('deployments').where('namespace', '=', name).execute();
    await tx.deleteFrom('namespaces').where('name', '=', name).execute();
    await recordAudit(tx, {
      actor,
      action: 'namespace.delete',
      target: `namespace/${name}`,
      namespace: name,
      details: { source: row.source, branch: row.branch, path: row.path, resources_deleted: Number(count?.n ?? 0) },
    });
  });
}
