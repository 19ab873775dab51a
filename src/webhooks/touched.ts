/**
 * Which namespaces a change touches, asked of the database by path: a push that changed one
 * folder reads the one or two namespace rows whose path is that folder or one of its parents,
 * not every namespace on the source (index `namespaces_source_branch_path`).
 */
import type { Kysely, Transaction } from 'kysely';
import { pathTouched } from '../git/changes.js';
import type { NamespaceRow } from '../store/namespaces.js';
import type { Database } from '../store/types.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Above this many candidate paths, every namespace of the branch is read and filtered instead. */
export const MAX_PATH_CANDIDATES = 2000;
const CHUNK = 500;

/** The branches `source`'s namespaces track. */
export async function trackedBranches(db: Executor, source: string): Promise<string[]> {
  const rows = await db.selectFrom('namespaces').select('branch').distinct().where('source', '=', source).orderBy('branch').execute();
  return rows.map((r) => r.branch);
}

/**
 * Every namespace path that a change to `paths` touches: the repository root (''), each parent
 * folder of each path, and the path itself (namespace paths are stored normalised, see
 * normaliseNamespacePath). Null when there are more than `limit`.
 */
export function touchingPaths(paths: readonly string[], limit = MAX_PATH_CANDIDATES): Set<string> | null {
  const out = new Set<string>(['']);
  for (const p of paths) {
    let i = p.indexOf('/');
    while (i !== -1) {
      out.add(p.slice(0, i));
      i = p.indexOf('/', i + 1);
    }
    out.add(p);
    if (out.size > limit) return null;
  }
  return out;
}

/**
 * The namespaces of `source` on `branch` whose path `changed` touches (`'all'`: every one), by
 * name. Matching is `pathTouched`'s, checked again on the rows read.
 */
export async function touchedNamespaces(db: Executor, source: string, branch: string, changed: readonly string[] | 'all'): Promise<NamespaceRow[]> {
  const onBranch = () => db.selectFrom('namespaces').selectAll().where('source', '=', source).where('branch', '=', branch);
  if (changed !== 'all' && changed.length === 0) return [];
  const candidates = changed === 'all' ? null : touchingPaths(changed);
  let rows: NamespaceRow[];
  if (candidates === null) {
    rows = await onBranch().orderBy('name').execute();
  } else {
    const list = [...candidates];
    rows = [];
    for (let i = 0; i < list.length; i += CHUNK) rows.push(...(await onBranch().where('path', 'in', list.slice(i, i + CHUNK)).execute()));
    rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return changed === 'all' ? rows : rows.filter((ns) => pathTouched(ns.path, changed));
}
