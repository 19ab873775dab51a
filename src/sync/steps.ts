/**
 * The sync as an ordered list of small steps sharing one typed context (Flux source-controller
 * style). Each step documents what it reads and what it sets. A step that fails throws a
 * SynclineError whose `retryable` says whether trying again can help (a network failure) or not
 * (a bad ref, bad YAML).
 */
import { BadRequestError, UpstreamError } from '../errors.js';
import type { GitAuth } from '../git/auth.js';
import { ensureMirror, openMirror } from '../git/mirror-cache.js';
import { commitInfo, hasCommit, isAncestor, resolveRef, type GitPerson } from '../git/refs.js';
import { FULL_SHA_RE } from '../contracts/common.js';
import { normalizeTreePath, readEntries, selectTree, type TreeEntry } from '../git/tree.js';
import { buildPlan, PlanMemo } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { KindRegistry } from '../specs/kinds.js';
import { isSpecFile, ParseCache, parseSpecFiles } from '../specs/parse.js';
import { IGNORE_FILE, selectSpecFiles, type SkippedFile } from '../specs/select.js';
import { minimatch } from 'minimatch';
import type { ParseResult, SpecFile } from '../specs/types.js';
import type { AppContext } from '../server/context.js';
import { getNamespaceRow, namespaceGlobs, type NamespaceRow } from '../store/namespaces.js';
import { listResources, type LiveResource } from '../store/resources.js';
import { getSourceRow, setMirrorState, type SourceRow } from '../store/sources.js';
import { assertFileDocumentCap, assertNamespaceDocumentCap } from './document-caps.js';
import { connectSource } from './remote.js';
import { loadKindRegistry } from './kind-registry.js';
import { gitTimeouts } from './settings.js';

export interface SyncRun {
  app: AppContext;
  namespaceName: string;
  /** The ref the caller asked for; the tracked branch when omitted. */
  requestedRef: string | undefined;
  /** The caller just fetched the mirror (a webhook job): use it as it is, no second fetch. */
  skipFetch?: boolean | undefined;
  /** Plan a commit that is not on the tracked branch (pull-request plans; never applied). */
  allowUnmerged?: boolean | undefined;
  /**
   * The caller (a webhook or poll) names the commit the provider reports as the branch's new
   * head: when the mirror already holds it, on the branch, no fetch is needed. Not for user
   * requests: a commit dropped upstream by a force-push must be checked against upstream.
   */
  trustNamedCommit?: boolean;
  // Set by loadBinding:
  namespace?: NamespaceRow;
  source?: SourceRow;
  ref?: string;
  // Set by fetchSource:
  auth?: GitAuth;
  mirrorDir?: string;
  // Set by resolveCommit:
  commit?: string;
  author?: GitPerson | null;
  // Set by loadKinds:
  registry?: KindRegistry;
  // Set by readSpecs (content only for blobs the parse cache lacks):
  files?: SpecFile[];
  singleFile?: boolean;
  /** Files under the namespace path that its include/exclude globs or .synclineignore skipped. */
  skippedFiles?: SkippedFile[];
  // Set by parseSpecs:
  parsed?: ParseResult;
  // Set by planChanges:
  live?: LiveResource[];
  plan?: Plan;
}

export type Step = (run: SyncRun) => Promise<void>;

/** Reads the namespace and its source; sets namespace, source, ref. */
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
};

/**
 * Brings the source's mirror up to date (incremental fetch); sets mirrorDir. In air-gap mode
 * (runtime sync off) upstream is never contacted: the mirror on disk is used as it is.
 */
export const fetchSource: Step = async (run) => {
  const source = run.source!;
  if (!run.app.settings.mirror_runtime_sync || run.skipFetch) {
    const existing = await openMirror(source.name, { mirrorsDir: run.app.settings.mirror_dir });
    if (!existing) {
      throw new UpstreamError('fetch_failed', `No mirror of source '${source.name}' on disk and runtime sync is disabled`, {
        source: source.name,
      });
    }
    run.mirrorDir = existing.dir;
    return;
  }
  // A webhook- or poll-named commit already in the mirror: no connection, no fetch.
  if (await namedCommitPresent(run)) return;
  // The stored URL is checked again here, at the connection, and git is pinned to the address.
  const remote = await connectSource(run.app, source);
  run.auth = remote.auth;
  const mirror = await ensureMirror(
    { name: source.name, ...remote },
    { mirrorsDir: run.app.settings.mirror_dir, timeouts: gitTimeouts(run.app.settings), keepMs: run.app.settings.mirror_keep_minutes * 60_000 },
  );
  run.mirrorDir = mirror.dir;
  // The fetch cache is the served mirror: keep its status as fresh as the mirror scheduler would.
  if (source.mirror_enabled === 1 && (mirror.updated || source.mirror_status !== 'ready')) {
    await setMirrorState(run.app.db.db, source.name, {
      mirror_status: 'ready',
      mirror_head_commit: mirror.headCommit ?? null,
      default_branch: mirror.defaultBranch ?? null,
      mirror_last_synced: new Date().toISOString(),
      mirror_last_error: null,
    });
  }
};

/**
 * A full commit id (what webhooks and polls name) that the mirror already holds, on the tracked
 * branch as the mirror knows it, needs no fetch at all: sets mirrorDir and returns true.
 */
async function namedCommitPresent(run: SyncRun): Promise<boolean> {
  const ref = run.ref!;
  if (!run.trustNamedCommit || !FULL_SHA_RE.test(ref)) return false;
  const existing = await openMirror(run.source!.name, { mirrorsDir: run.app.settings.mirror_dir });
  if (!existing || !(await hasCommit(existing.dir, ref))) return false;
  const ns = run.namespace!;
  if (ns.allow_unmerged_refs !== 1) {
    // Not on the branch here may only mean the mirror is behind: then fetch as usual.
    const onBranch = await isAncestor(existing.dir, ref, ns.branch, { sourceName: run.source!.name }).catch(() => false);
    if (!onBranch) return false;
  }
  run.mirrorDir = existing.dir;
  return true;
}

/** Resolves the ref to a commit and reads its author; sets commit, author. */
export const resolveCommit: Step = async (run) => {
  run.commit = await resolveRef(run.mirrorDir!, run.ref!, { sourceName: run.source!.name });
  const info = await commitInfo(run.mirrorDir!, run.commit);
  run.author = info.author;
};

/** Refuses a commit that is not on the tracked branch, unless the namespace allows it. */
export const checkOnBranch: Step = async (run) => {
  const ns = run.namespace!;
  if (ns.allow_unmerged_refs === 1 || run.allowUnmerged) return;
  // The branch name resolves to the branch tip (branches win over tags), trivially on the branch.
  if (run.ref === ns.branch) return;
  const onBranch = await isAncestor(run.mirrorDir!, run.commit!, ns.branch, { sourceName: run.source!.name });
  if (!onBranch) {
    throw new BadRequestError(
      'ref_not_on_branch',
      `Commit ${run.commit} ('${run.ref}') is not on branch '${ns.branch}' of source '${run.source!.name}'`,
      { ref: run.ref, commit: run.commit, branch: ns.branch },
    );
  }
};

/** Loads the server's kinds (compiled once, cached until one changes); sets registry. */
export const loadKinds: Step = async (run) => {
  run.registry = await loadKindRegistry(run.app.db.db);
};

/** Parse results per file, reused across syncs of unchanged blobs (see ParseCache). */
const parseCaches = new WeakMap<AppContext, ParseCache>();
function parseCacheFor(app: AppContext): ParseCache {
  let cache = parseCaches.get(app);
  if (!cache) parseCaches.set(app, (cache = new ParseCache()));
  return cache;
}

/**
 * Lists the spec files under the namespace path (one ls-tree) and reads, through one cat-file
 * process, only the blobs the parse cache does not already know; sets files, singleFile.
 */
export const readSpecs: Step = async (run) => {
  const entries = await listSpecEntries(run);
  run.singleFile = entries.length === 1 && entries[0]!.path === normalizeTreePath(run.namespace!.path);
  const cache = parseCacheFor(run.app);
  const missing = entries.filter((e) => !cache.has(e.path, e.blobSha, { registry: run.registry }));
  const read = new Map((await readEntries(run.mirrorDir!, missing)).map((f) => [f.path, f.content]));
  run.files = entries.map((e) => ({ path: e.path, id: e.blobSha, content: read.get(e.path) }));
};

/**
 * The spec files under the namespace path at `run.commit` (one ls-tree, size caps applied),
 * chosen by the namespace's include/exclude globs and the `.synclineignore` at its path (read
 * at the same commit); sets skippedFiles to what a rule skipped.
 */
export async function listSpecEntries(run: SyncRun): Promise<TreeEntry[]> {
  const s = run.app.settings;
  const nsPath = normalizeTreePath(run.namespace!.path);
  const ignorePath = nsPath === '' ? IGNORE_FILE : `${nsPath}/${IGNORE_FILE}`;
  const { include, exclude } = namespaceGlobs(run.namespace!);
  const prefix = nsPath === '' ? '' : `${nsPath}/`;
  const included = (p: string) => include.some((g) => minimatch(p.slice(prefix.length), g, { dot: true }));
  // A path naming one file (`.syncline.yml`) is read whatever its extension; in a folder the
  // candidates are .yaml/.yml files, files the include globs name, and the ignore file.
  const entries = await selectTree(run.mirrorDir!, run.commit!, nsPath, {
    sourceName: run.source!.name,
    maxFileBytes: s.max_file_bytes,
    maxFiles: s.max_files,
    maxTotalBytes: s.max_total_bytes,
    filter: (p) => p === nsPath || isSpecFile(p) || p === ignorePath || included(p),
  });
  if (entries.length === 1 && entries[0]!.path === nsPath) {
    run.skippedFiles = [];
    return entries;
  }
  const ignoreEntry = entries.find((e) => e.path === ignorePath);
  const ignoreFile = ignoreEntry ? (await readEntries(run.mirrorDir!, [ignoreEntry]))[0]!.content.toString('utf8') : null;
  const chosen = selectSpecFiles(entries.map((e) => e.path), nsPath, { include, exclude, ignoreFile });
  run.skippedFiles = chosen.skipped;
  const keep = new Set(chosen.selected);
  return entries.filter((e) => keep.has(e.path));
}

/** Parses and validates every document against the server's kinds; sets parsed. */
export const parseSpecs: Step = async (run) => {
  const s = run.app.settings;
  for (const f of run.files!) if (f.content !== undefined) assertFileDocumentCap(f.path, f.content, s.max_documents_per_file);
  // The files were chosen by the namespace's rules (listSpecEntries): parse them all.
  const options = { registry: run.registry!, singleFile: true, cache: parseCacheFor(run.app) };
  // Files not in the parse cache are parsed a few at a time, yielding to the event loop every
  // PARSE_SLICE_MS, so health checks and config reads are answered during a 10,000-file sync.
  // Each file's result lands in the cache; the full call below then only reads the cache and
  // runs the cross-file checks (duplicates), so the result is the same as one big call.
  let sliceStart = performance.now();
  for (const file of run.files!) {
    if (file.content === undefined) continue;
    parseSpecFiles([file], options);
    if (performance.now() - sliceStart >= PARSE_SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  run.parsed = parseSpecFiles(run.files!, options);
  assertNamespaceDocumentCap(run.namespaceName, run.parsed.documents.length + run.parsed.invalid.length, s.max_documents);
};

const PARSE_SLICE_MS = 10;

/** Plans desired (git) against live state; sets live, plan. */
export const planChanges: Step = async (run) => {
  run.live = await listResources(run.app.db.db, run.namespaceName);
  run.plan = buildPlan({
    desired: run.parsed!.documents,
    invalid: run.parsed!.invalid,
    live: run.live,
    registry: run.registry!,
    prune: run.namespace!.prune === 1,
    memo: planMemoFor(run.app),
  });
};

/**
 * Per-document plan results, reused while a document (shared through the parse cache), its live
 * resource and the kinds are unchanged: a re-sync re-plans only what changed.
 */
const planMemos = new WeakMap<AppContext, PlanMemo>();
function planMemoFor(app: AppContext): PlanMemo {
  let memo = planMemos.get(app);
  if (!memo) planMemos.set(app, (memo = new PlanMemo()));
  return memo;
}

/** Everything up to a plan: the shared prefix of sync, plan and drift. */
export const PLAN_STEPS: Step[] = [loadBinding, fetchSource, resolveCommit, checkOnBranch, loadKinds, readSpecs, parseSpecs, planChanges];

export async function runSteps(run: SyncRun, steps: Step[]): Promise<SyncRun> {
  for (const step of steps) await step(run);
  return run;
}
