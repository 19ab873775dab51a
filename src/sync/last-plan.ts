/**
 * "Nothing moved": a sync, plan or drift of a namespace reuses the plan of its last run when
 * every input of that plan is the same, without listing the tree, reading blobs, parsing, or
 * reading a single live row. The inputs, all compared for equality (PlanKey):
 *
 *  - the git content: the object id of the namespace path at the commit (its tree, so a commit
 *    that changed only other paths still matches; for a path naming one file, the tree holding
 *    it, which also carries the file's mode). `.synclineignore` lives inside that tree;
 *  - the namespace's planning settings: source, path, include/exclude globs, prune, and its
 *    `created_at` (a namespace deleted and created again under the same name never matches);
 *  - the kinds: the compiled registry (loadKindRegistry compiles a new one when a kind changes);
 *  - the caps of readSpecs/parseSpecs (files, bytes, documents), which could now refuse the tree;
 *  - the live state: `namespaces.live_generation`, moved by the database's own triggers on every
 *    write to the namespace's resources (migration 121: applies, prunes, PATCHes, deletes, another
 *    replica's writes, SQL from outside).
 *
 * The generation is read with the namespace row before the live rows; a write landing between
 * the two makes the stored plan newer than its key, and the key is never seen again (the
 * generation only grows), so such a plan is never reused — a miss, never a wrong answer.
 *
 * After an apply commits, the plan is "settled" (what planning the same documents against the
 * rows the apply just wrote gives, see settledPlan) and kept under the generation the apply's
 * transaction ended with, so the first re-sync after a deployment is already a hit.
 */
import type { AppContext } from '../app-context.js';
import { ALL_KEYS } from '../cache/invalidation.js';
import { catFile } from '../git/cat-file-worker.js';
import { normalizeTreePath } from '../git/tree.js';
import { appliedResult, summarize } from '../plan/plan.js';
import type { Plan, PlanResult } from '../plan/types.js';
import type { KindRegistry } from '../specs/kinds.js';
import type { SkippedFile } from '../specs/select.js';
import type { ParseResult, SpecFile } from '../specs/types.js';
import type { Executor } from '../store/audit.js';
import type { NamespaceRow } from '../store/namespaces.js';
import type { LiveResource } from '../store/resources.js';

/** Everything a plan of the namespace depends on; two runs with equal keys plan the same. */
export interface PlanKey {
  /** Settings, created_at, content and caps as one string. */
  text: string;
  registry: KindRegistry;
  /** namespaces.live_generation as read with the namespace row. */
  generation: number;
}

/** What readSpecs, parseSpecs and planChanges set, as the last run of the namespace set it. */
export interface LastPlan {
  key: PlanKey;
  files: SpecFile[];
  singleFile: boolean;
  skippedFiles: SkippedFile[];
  parsed: ParseResult;
  /**
   * The live rows the plan was made against; null when the plan is settled (see settledPlan):
   * its create, update and noop results are the live rows as they are, so an apply of it writes
   * nothing and needs no row to compare with.
   */
  live: LiveResource[] | null;
  plan: Plan;
}

/** Counts per app (tests and the bench look at them): runs answered by a stored plan, and runs planned. */
export interface LastPlanStats {
  reused: number;
  planned: number;
}

interface Store {
  plans: Map<string, LastPlan>;
  stats: LastPlanStats;
}

const stores = new WeakMap<AppContext, Store>();

function storeFor(app: AppContext): Store {
  let s = stores.get(app);
  if (!s) {
    const plans = new Map<string, LastPlan>();
    s = { plans, stats: { reused: 0, planned: 0 } };
    stores.set(app, s);
    // Not needed for correctness (the generation is): a dropped entry is only a miss. It frees
    // what a deleted namespace kept (its delete invalidates the topic too).
    app.cache.subscribe('resources', (ns) => (ns === ALL_KEYS ? plans.clear() : plans.delete(ns)));
  }
  return s;
}

export function lastPlanStats(app: AppContext): LastPlanStats {
  return storeFor(app).stats;
}

/** The git object the namespace's files are read from, as one string; null when the path is missing. */
async function contentId(mirrorDir: string, commit: string, nsPath: string): Promise<string | null> {
  const name = nsPath === '' ? `${commit}^{tree}` : `${commit}:${nsPath}`;
  const [at] = await catFile(mirrorDir, [{ op: 'info', name }]);
  if (at?.type === 'tree') return `tree ${at.oid}`;
  if (!at || nsPath === '') return null;
  // One file (or a symlink, a submodule): the tree holding it also says its mode.
  const slash = nsPath.lastIndexOf('/');
  const [parent] = await catFile(mirrorDir, [{ op: 'info', name: slash === -1 ? `${commit}^{tree}` : `${commit}:${nsPath.slice(0, slash)}` }]);
  return parent?.type === 'tree' ? `in ${parent.oid}` : null;
}

/** The run's key, or null when it cannot have one (the path is missing: readSpecs reports that). */
export async function planKey(run: {
  app: AppContext;
  namespace: NamespaceRow;
  mirrorDir: string;
  commit: string;
  registry: KindRegistry;
}): Promise<PlanKey | null> {
  const ns = run.namespace;
  const s = run.app.settings;
  const content = await contentId(run.mirrorDir, run.commit, normalizeTreePath(ns.path));
  if (content === null) return null;
  const text = JSON.stringify([
    ns.created_at,
    ns.source,
    ns.path,
    ns.include_globs,
    ns.exclude_globs,
    ns.prune,
    content,
    [s.max_file_bytes, s.max_files, s.max_total_bytes, s.max_documents_per_file, s.max_documents],
  ]);
  return { text, registry: run.registry, generation: Number(ns.live_generation) };
}

function sameKey(a: PlanKey, b: PlanKey): boolean {
  return a.text === b.text && a.registry === b.registry && a.generation === b.generation;
}

/** The stored plan of the namespace when its key equals `key`; counts a hit or a miss. */
export function findLastPlan(app: AppContext, namespace: string, key: PlanKey | null): LastPlan | null {
  const store = storeFor(app);
  const last = key ? store.plans.get(namespace) : undefined;
  if (last && key && sameKey(last.key, key)) {
    store.stats.reused += 1;
    return last;
  }
  store.stats.planned += 1;
  return null;
}

/** Keeps what a run planned (`entry.files` without content: the parse cache has it, see withoutContent). */
export function rememberPlan(app: AppContext, namespace: string, entry: LastPlan): void {
  storeFor(app).plans.set(namespace, entry);
}

/** The files as a stored plan keeps them: path and blob id, no content. */
export function withoutContent(files: readonly SpecFile[]): SpecFile[] {
  return files.map((f) => (f.content === undefined ? f : { path: f.path, ...(f.id !== undefined ? { id: f.id } : {}) }));
}

/**
 * namespaces.live_generation now. The apply reads it first in its transaction with `lock`
 * (PostgreSQL: FOR UPDATE, so no other writer's trigger moves it until the commit; SQLite's
 * writer is alone and a stale snapshot cannot write), and again after its writes.
 */
export async function liveGeneration(db: Executor, dialect: 'sqlite' | 'postgres', namespace: string, lock = false): Promise<number> {
  let q = db.selectFrom('namespaces').select('live_generation').where('name', '=', namespace);
  if (lock && dialect === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return Number(row?.live_generation ?? -1);
}

/**
 * After an apply of `run` committed: keeps the settled plan under the generation the apply's
 * transaction ended with, when the transaction started at the generation the run planned
 * against (else something wrote between planning and applying: nothing is kept).
 */
export function rememberApplied(
  run: { app: AppContext; namespace: NamespaceRow; commit: string; planKey: PlanKey | null; reuse: LastPlan | null } & Omit<LastPlan, 'key'>,
  generationBefore: number,
  generationAfter: number,
): void {
  const key = run.planKey;
  if (!key || generationBefore !== key.generation) return;
  // Nothing written (the generation did not move): the plan was all noops matching live already.
  if (generationAfter === generationBefore) {
    rememberPlan(run.app, run.namespace.name, { ...pick(run), key, live: run.live, plan: run.plan });
    return;
  }
  // Settled when a run first reuses it, not here: an update-all's answer does not wait for it.
  // No live rows are kept: the generation says they are the rows this apply left, which the
  // settled plan's results are (an apply of a settled plan compares nothing and writes nothing).
  let settled: Plan | undefined;
  rememberPlan(run.app, run.namespace.name, {
    ...pick(run),
    key: { ...key, generation: generationAfter },
    live: null,
    get plan() {
      return (settled ??= settledPlan(run.plan));
    },
  });
}

function pick(run: Omit<LastPlan, 'key'>): Pick<LastPlan, 'files' | 'singleFile' | 'skippedFiles' | 'parsed'> {
  return { files: withoutContent(run.files), singleFile: run.singleFile, skippedFiles: run.skippedFiles, parsed: run.parsed };
}

/**
 * The plan of the same documents against the live rows an apply of `plan` leaves: every
 * create, update and noop becomes the noop PlanMemo.applied records (merge and normalisation are
 * idempotent: test/unit/plan/plan-memo.test.ts), deletes are gone, undeclared rows (no prune)
 * stay unlisted. The order is kept (sorted by kind and name, unique in an applied plan).
 */
export function settledPlan(plan: Plan): Plan {
  const results: PlanResult[] = [];
  for (const r of plan.results) {
    if (r.operation === 'delete') continue;
    const settled = appliedResult(r);
    if (!settled) throw new Error(`settledPlan: ${r.operation} result for ${r.kind}/${r.name} cannot be settled`);
    results.push(settled);
  }
  return { summary: summarize(results), results };
}
