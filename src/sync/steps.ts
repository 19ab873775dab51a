/**
 * The sync as an ordered list of small steps sharing one typed context (Flux source-controller
 * style). Each step documents what it reads and what it sets. A step that fails throws a
 * SynclineError whose `retryable` says whether trying again can help (a network failure) or not
 * (a bad ref, bad YAML).
 */
import { BadRequestError, UpstreamError } from '../errors.js';
import type { GitAuth } from '../git/auth.js';
import { ensureMirror, openMirror } from '../git/mirror-cache.js';
import { commitInfo, isAncestor, resolveRef, type GitPerson } from '../git/refs.js';
import { listTree, normalizeTreePath, readTree, type TreeFile } from '../git/tree.js';
import { buildPlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { KindRegistry } from '../specs/kinds.js';
import { isSpecFile, parseSpecFiles } from '../specs/parse.js';
import type { ParseResult } from '../specs/types.js';
import type { AppContext } from '../server/context.js';
import { getNamespaceRow, type NamespaceRow } from '../store/namespaces.js';
import { listResources, type LiveResource } from '../store/resources.js';
import { getSourceRow, type SourceRow } from '../store/sources.js';
import { gitAuthFor } from './git-auth.js';
import { loadKindRegistry } from './kind-registry.js';
import { gitTimeouts } from './settings.js';

export interface SyncRun {
  app: AppContext;
  namespaceName: string;
  /** The ref the caller asked for; the tracked branch when omitted. */
  requestedRef: string | undefined;
  // Set by loadBinding:
  namespace?: NamespaceRow;
  source?: SourceRow;
  ref?: string;
  auth?: GitAuth;
  // Set by fetchSource:
  mirrorDir?: string;
  // Set by resolveCommit:
  commit?: string;
  author?: GitPerson | null;
  // Set by readSpecs:
  files?: TreeFile[];
  singleFile?: boolean;
  // Set by parseSpecs:
  registry?: KindRegistry;
  parsed?: ParseResult;
  // Set by planChanges:
  live?: LiveResource[];
  plan?: Plan;
}

export type Step = (run: SyncRun) => Promise<void>;

/** Reads the namespace and its source; sets namespace, source, ref, auth. */
export const loadBinding: Step = async (run) => {
  const db = run.app.db.db;
  run.namespace = await getNamespaceRow(db, run.namespaceName);
  if (!run.namespace.source) {
    throw new BadRequestError('git_not_configured', `Namespace '${run.namespaceName}' has no git source`, {
      namespace: run.namespaceName,
    });
  }
  run.source = await getSourceRow(db, run.namespace.source);
  run.ref = run.requestedRef ?? run.namespace.branch;
  run.auth = await gitAuthFor(run.app.box, run.source);
};

/**
 * Brings the source's mirror up to date (incremental fetch); sets mirrorDir. In air-gap mode
 * (runtime sync off) upstream is never contacted: the mirror on disk is used as it is.
 */
export const fetchSource: Step = async (run) => {
  const source = run.source!;
  if (!run.app.settings.mirror_runtime_sync) {
    const existing = await openMirror(source.name, { mirrorsDir: run.app.settings.mirror_dir });
    if (!existing) {
      throw new UpstreamError('fetch_failed', `No mirror of source '${source.name}' on disk and runtime sync is disabled`, {
        source: source.name,
      });
    }
    run.mirrorDir = existing.dir;
    return;
  }
  const mirror = await ensureMirror(
    { name: source.name, url: source.url, auth: run.auth! },
    { mirrorsDir: run.app.settings.mirror_dir, timeouts: gitTimeouts(run.app.settings) },
  );
  run.mirrorDir = mirror.dir;
};

/** Resolves the ref to a commit and reads its author; sets commit, author. */
export const resolveCommit: Step = async (run) => {
  run.commit = await resolveRef(run.mirrorDir!, run.ref!, { sourceName: run.source!.name });
  const info = await commitInfo(run.mirrorDir!, run.commit);
  run.author = info.author;
};

/** Refuses a commit that is not on the tracked branch, unless the namespace allows it. */
export const checkOnBranch: Step = async (run) => {
  const ns = run.namespace!;
  if (ns.allow_unmerged_refs === 1) return;
  const onBranch = await isAncestor(run.mirrorDir!, run.commit!, ns.branch, { sourceName: run.source!.name });
  if (!onBranch) {
    throw new BadRequestError(
      'ref_not_on_branch',
      `Commit ${run.commit} ('${run.ref}') is not on branch '${ns.branch}' of source '${run.source!.name}'`,
      { ref: run.ref, commit: run.commit, branch: ns.branch },
    );
  }
};

/** Reads the spec files under the namespace path (one cat-file process); sets files, singleFile. */
export const readSpecs: Step = async (run) => {
  const s = run.app.settings;
  const nsPath = normalizeTreePath(run.namespace!.path);
  const opts = {
    sourceName: run.source!.name,
    maxFileBytes: s.max_file_bytes,
    maxFiles: s.max_files,
    maxTotalBytes: s.max_total_bytes,
  };
  // A path naming one file (`.syncline.yml`) is read whatever its extension.
  const listing = nsPath ? await listTree(run.mirrorDir!, run.commit!, nsPath, opts) : null;
  run.singleFile = !!listing && listing.length === 1 && listing[0]!.path === nsPath;
  run.files = await readTree(run.mirrorDir!, run.commit!, nsPath, {
    ...opts,
    ...(run.singleFile ? {} : { filter: isSpecFile }),
  });
};

/** Parses and validates every document against the server's kinds; sets registry, parsed. */
export const parseSpecs: Step = async (run) => {
  run.registry = await loadKindRegistry(run.app.db.db);
  run.parsed = parseSpecFiles(
    run.files!.map((f) => ({ path: f.path, content: f.content })),
    { registry: run.registry, singleFile: run.singleFile ?? false },
  );
};

/** Plans desired (git) against live state; sets live, plan. */
export const planChanges: Step = async (run) => {
  run.live = await listResources(run.app.db.db, run.namespaceName);
  run.plan = buildPlan({
    desired: run.parsed!.documents,
    invalid: run.parsed!.invalid,
    live: run.live.map((r) => ({ kind: r.kind, name: r.name, spec: r.spec as never, metadata: r.metadata, managed_fields: r.managed_fields, hash: r.hash })),
    registry: run.registry!,
    prune: run.namespace!.prune === 1,
  });
};

/** Everything up to a plan: the shared prefix of sync, plan and drift. */
export const PLAN_STEPS: Step[] = [loadBinding, fetchSource, resolveCommit, checkOnBranch, readSpecs, parseSpecs, planChanges];

export async function runSteps(run: SyncRun, steps: Step[]): Promise<SyncRun> {
  for (const step of steps) await step(run);
  return run;
}
