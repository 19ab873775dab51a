/**
 * The sync as an ordered list of small named steps sharing one typed context (Flux
 * source-controller style). Each step's input type says what it reads; it returns only what it
 * sets, and the Pipeline merges that into the context the next steps see, so nothing downstream
 * reads a field an earlier step may not have set. A step that fails throws a SynclineError whose
 * `retryable` says whether trying again can help (a network failure) or not (a bad ref, bad YAML).
 */
import { SynclineError } from '../errors.js';
import { ensureMirror, openMirror } from '../git/mirror-cache.js';
import { FULL_SHA_RE } from '../contracts/common.js';
import { commitInfo, hasCommit, isAncestor, resolveBranch, resolveRef, type GitPerson } from '../git/refs.js';
import { normalizeTreePath, readEntries, selectTree, type TreeEntry } from '../git/tree.js';
import { buildPlanSteps, PlanMemo } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { KindRegistry } from '../specs/kinds.js';
import { adoptDetachedParse, isSpecFile, ParseCache, parseSpecFiles, warmParseCache } from '../specs/parse.js';
import { parseInWorkers, parsePoolSize } from '../specs/parse-pool.js';
import { mayReadFast } from '../specs/fast-yaml.js';
import { compileGlobs, IGNORE_FILE, selectSpecFilesSliced, type SkippedFile } from '../specs/select.js';
import type { ParseResult, SpecFile } from '../specs/types.js';
import type { AppContext } from '../app-context.js';
import { SliceClock } from '../slice-clock.js';
import { namespaceGlobs, type NamespaceRow } from '../store/namespaces.js';
import { listResourcesPaged, type LiveResource } from '../store/resources.js';
import { getSourceRow, type SourceRow } from '../store/sources.js';
import { recordCopy, stampCopy } from '../mirror/copies.js';
import { assertFileDocumentCap, assertNamespaceDocumentCap } from './document-caps.js';
import { connectSource } from './remote.js';
import { loadKindRegistry } from './kind-registry.js';
import { gitTimeouts } from './settings.js';
import { findLastPlan, planKey, rememberPlan, withoutContent, type LastPlan, type PlanKey } from './last-plan.js';

/** What every run starts from: the app and the namespace row (read once, by the caller). */
export interface RunStart {
  app: AppContext;
  namespace: NamespaceRow;
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
  trustNamedCommit?: boolean | undefined;
}

/**
 * One named step: reads what its input type names (everything earlier steps set) and returns
 * only what it adds. A Pipeline runs steps in order, merging each output into the context.
 */
export interface Step<In, Out> {
  name: string;
  run(ctx: In): Promise<Out>;
}

export interface StepHooks {
  /** Called before each step (e.g. a profiler naming the current step). */
  before?(name: string): void;
  /** Called after each step with the context so far (e.g. to keep what a failed run resolved). */
  after?(name: string, ctx: object): void;
}

/** An ordered list of steps whose context type grows with each step's output. */
export class Pipeline<Start, Ctx> {
  private constructor(private readonly steps: readonly Step<any, any>[]) {}

  static from<Start>(): Pipeline<Start, Start> {
    return new Pipeline<Start, Start>([]);
  }

  then<Out extends object>(step: Step<Ctx, Out>): Pipeline<Start, Ctx & Out> {
    return new Pipeline<Start, Ctx & Out>([...this.steps, step]);
  }

  get names(): string[] {
    return this.steps.map((s) => s.name);
  }

  async run(start: Start, hooks: StepHooks = {}): Promise<Ctx> {
    let ctx: object = start as object;
    for (const step of this.steps) {
      const app = (start as { app?: AppContext }).app;
      if (app) assertNotShuttingDown(app);
      hooks.before?.(step.name);
      const began = performance.now();
      ctx = { ...ctx, ...((await step.run(ctx)) as object) };
      hooks.after?.(step.name, ctx);
      // A step that took a while may have ended in a stretch of work (a 10,000-file step's last
      // synchronous call): an event-loop turn before the next one starts its own, so the two do
      // not add up to one longer stretch.
      if (performance.now() - began >= STEP_TURN_MS) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return ctx as Ctx;
  }
}

/** A step that ran this long is followed by an event-loop turn (Pipeline.run). */
const STEP_TURN_MS = 5;

/** Throws 503 `busy` once the server is shutting down (checked between steps and slices). */
export function assertNotShuttingDown(app: AppContext): void {
  if (app.shutdown.signal.aborted) {
    throw new SynclineError('busy', 'The server is shutting down; nothing was applied — try again', { retry_after: 5 });
  }
}

/** Yields to the event loop (a slice boundary), then checks for shutdown. */
export async function yieldSlice(app: AppContext): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  assertNotShuttingDown(app);
}

/** loadBinding: the namespace's source and the ref to use. */
export interface Binding {
  source: SourceRow;
  ref: string;
}

/** Reads the namespace's source; sets source, ref (the requested one or the branch). */
export const loadBinding: Step<RunStart, Binding> = {
  name: 'loadBinding',
  async run({ app, namespace, requestedRef }) {
    if (!namespace.source) {
      throw new SynclineError('git_not_configured', `Namespace '${namespace.name}' has no git source`, { namespace: namespace.name });
    }
    const source = await getSourceRow(app.db.db, namespace.source);
    return { source, ref: requestedRef ?? namespace.branch };
  },
};

/**
 * Brings the source's mirror up to date (incremental fetch); sets mirrorDir. In air-gap mode
 * (runtime sync off) upstream is never contacted: the mirror on disk is used as it is.
 */
export const fetchSource: Step<RunStart & Binding, { mirrorDir: string }> = {
  name: 'fetchSource',
  async run(run) {
    const { app, source, skipFetch } = run;
    if (!app.settings.mirror_runtime_sync || skipFetch) {
      const existing = await openMirror(source.name, { mirrorsDir: app.settings.mirror_dir });
      if (!existing) {
        throw new SynclineError('fetch_failed', `No mirror of source '${source.name}' on disk and runtime sync is disabled`, {
          source: source.name,
        });
      }
      return { mirrorDir: existing.dir };
    }
    // A webhook- or poll-named commit already in the mirror: no connection, no fetch.
    const named = await namedCommitMirror(run);
    if (named) return { mirrorDir: named };
    // The stored URL is checked again here, at the connection, and git is pinned to the address.
    const remote = await connectSource(app, source);
    const mirror = await ensureMirror(
      { name: source.name, ...remote },
      { mirrorsDir: app.settings.mirror_dir, timeouts: gitTimeouts(app.settings), keepMs: app.settings.mirror_keep_minutes * 60_000 },
    );
    await stampCopy(mirror.dir, source);
    // The fetch cache is this replica's copy of the served mirror: keep its state as fresh as the mirror scheduler would.
    if (source.mirror_enabled === 1 && (mirror.updated || source.mirror_status !== 'ready')) {
      await recordCopy(
        app,
        source,
        {
          status: 'ready',
          head_commit: mirror.headCommit ?? null,
          default_branch: mirror.defaultBranch ?? null,
          last_synced: new Date().toISOString(),
          last_error: null,
          last_error_code: null,
        },
        mirror.updated,
      );
    }
    return { mirrorDir: mirror.dir };
  },
};

/**
 * A full commit id (what webhooks and polls name) that the mirror already holds, on the tracked
 * branch as the mirror knows it, needs no fetch at all: returns the mirror's dir, else null.
 */
async function namedCommitMirror(run: RunStart & Binding): Promise<string | null> {
  const { ref, namespace: ns, source } = run;
  if (!run.trustNamedCommit || !FULL_SHA_RE.test(ref)) return null;
  const existing = await openMirror(source.name, { mirrorsDir: run.app.settings.mirror_dir });
  if (!existing || !(await hasCommit(existing.dir, ref))) return null;
  if (ns.allow_unmerged_refs !== 1) {
    // Not on the branch here may only mean the mirror is behind: then fetch as usual.
    const onBranch = await resolveBranch(existing.dir, ns.branch, { sourceName: source.name })
      .then((tip) => isAncestor(existing.dir, ref, tip))
      .catch(() => false);
    if (!onBranch) return null;
  }
  return existing.dir;
}

/** Resolves the ref to a full commit id and reads its author; sets commit, author. */
export const resolveCommit: Step<RunStart & Binding & { mirrorDir: string }, { commit: string; author: GitPerson | null }> = {
  name: 'resolveCommit',
  async run({ mirrorDir, ref, source }) {
    const commit = await resolveRef(mirrorDir, ref, { sourceName: source.name });
    const info = await commitInfo(mirrorDir, commit);
    return { commit, author: info.author };
  },
};

/** Refuses a commit that is not on the tracked branch, unless the namespace allows it; sets nothing. */
export const checkOnBranch: Step<RunStart & Binding & { mirrorDir: string; commit: string }, object> = {
  name: 'checkOnBranch',
  async run({ namespace: ns, ref, commit, mirrorDir, source, allowUnmerged }) {
    if (ns.allow_unmerged_refs === 1 || allowUnmerged) return {};
    // The branch name resolves to the branch tip (branches win over tags), trivially on the branch.
    if (ref === ns.branch) return {};
    const tip = await resolveBranch(mirrorDir, ns.branch, { sourceName: source.name });
    // The tip itself (what webhook and poll jobs sync) needs no merge-base process.
    if (commit !== tip && !(await isAncestor(mirrorDir, commit, tip))) {
      throw new SynclineError(
        'ref_not_on_branch',
        `Commit ${commit} ('${ref}') is not on branch '${ns.branch}' of source '${source.name}'`,
        { ref, commit, branch: ns.branch },
      );
    }
    return {};
  },
};

/** Loads the server's kinds (compiled once, cached until one changes); sets registry. */
export const loadKinds: Step<RunStart, { registry: KindRegistry }> = {
  name: 'loadKinds',
  async run({ app }) {
    return { registry: await loadKindRegistry(app.db.db) };
  },
};

/** What findPlan sets: the run's PlanKey, and the last plan of the namespace when its key is the same. */
export interface FoundPlan {
  planKey: PlanKey | null;
  reuse: LastPlan | null;
}

/**
 * "Nothing moved" (last-plan.ts): the same content at the namespace path, settings, kinds, caps
 * and live generation as the namespace's last plan → readSpecs, parseSpecs and planChanges
 * answer with what they set then (no tree listing, no blob, no parse, no live row read).
 */
export const findPlan: Step<GitRun & { registry: KindRegistry }, FoundPlan> = {
  name: 'findPlan',
  async run(run) {
    // A git failure here is left to readSpecs, which reports it as it always has.
    const key = await planKey(run).catch(() => null);
    return { planKey: key, reuse: findLastPlan(run.app, run.namespace.name, key) };
  },
};

/** Parse results per file, reused across syncs of unchanged blobs (see ParseCache). */
const parseCaches = new WeakMap<AppContext, ParseCache>();
function parseCacheFor(app: AppContext): ParseCache {
  let cache = parseCaches.get(app);
  if (!cache) parseCaches.set(app, (cache = new ParseCache()));
  return cache;
}

/** What readSpecs sets: the files to parse (content only for blobs the parse cache lacks). */
export interface ReadSpecs {
  files: SpecFile[];
  singleFile: boolean;
  /** Files under the namespace path that its include/exclude globs or .synclineignore skipped. */
  skippedFiles: SkippedFile[];
}

/**
 * Lists the spec files under the namespace path (one ls-tree) and reads, through one cat-file
 * process, only the blobs the parse cache does not already know; sets files, singleFile,
 * skippedFiles. Once the listing is accepted, the namespace's live rows are read meanwhile
 * (liveRead, awaited by planChanges).
 */
export const readSpecs: Step<GitRun & { registry: KindRegistry } & Partial<FoundPlan>, ReadSpecs & LiveRead> = {
  name: 'readSpecs',
  async run(run) {
    if (run.reuse) return { files: run.reuse.files, singleFile: run.reuse.singleFile, skippedFiles: run.reuse.skippedFiles, liveRead: null };
    return readSpecFiles(run);
  },
};

/** What readSpecs adds for planChanges: the live rows being read (null for a reused plan). */
export interface LiveRead {
  liveRead: Promise<LiveResource[]> | null;
}

/**
 * The namespace's live rows in pages of LIVE_PAGE, yielding between them (10,000 rows decoded in
 * one call held the loop). Started by readSpecs; a rejection is handled where it is awaited.
 */
function readLive(app: AppContext, namespace: string): Promise<LiveResource[]> {
  const p = listResourcesPaged(app.db.db, namespace, LIVE_PAGE, () => yieldSlice(app));
  p.catch(() => {}); // awaited later (planChanges) or settled on failure; never unhandled meanwhile
  return p;
}

async function settled(p: Promise<unknown> | null | undefined): Promise<void> {
  if (p) await p.then(() => {}, () => {});
}

async function readSpecFiles(run: GitRun & { registry: KindRegistry }): Promise<ReadSpecs & LiveRead> {
  const { app } = run;
  const { entries, skippedFiles } = await listSpecEntries(run);
  // The namespace's live rows are read from here on, while the blobs are read and parsed
  // (planChanges awaits them). Still after the namespace row and its live_generation (read by
  // the caller before any step), the order last-plan.ts relies on; and only for a tree the
  // listing accepted (a missing path or a tree over the caps reads no row, as before).
  const liveRead = readLive(app, run.namespace.name);
  try {
    return { ...(await readListed(run, entries, skippedFiles)), liveRead };
  } catch (err) {
    // A failed run leaves no read behind it (on shutdown it ends at its next page).
    await settled(liveRead);
    throw err;
  }
}

async function readListed(run: GitRun & { registry: KindRegistry }, entries: TreeEntry[], skippedFiles: SkippedFile[]): Promise<ReadSpecs> {
  const { app } = run;
  const singleFile = entries.length === 1 && entries[0]!.path === normalizeTreePath(run.namespace.path);
  const cache = parseCacheFor(app);
  // Per-entry loops over 10,000 files run in slices (READ_SLICE_MS) with event-loop turns
  // between, on one clock, so consecutive loops never add up to a longer stretch.
  const clock = syncClock(app, READ_SLICE_MS);
  const missing: TreeEntry[] = [];
  for (const e of entries) {
    if (!cache.has(e.path, e.blobSha, { registry: run.registry })) missing.push(e);
    if (clock.due()) await clock.turn();
  }
  const read = new Map<string, Buffer>();
  for (const f of await readEntries(run.mirrorDir, missing)) read.set(f.path, f.content);
  await clock.turn();
  const files: SpecFile[] = [];
  for (const e of entries) {
    files.push({ path: e.path, id: e.blobSha, content: read.get(e.path) });
    if (clock.due()) await clock.turn();
  }
  // A turn at the step's end: the next step's slices start on a fresh clock.
  if (entries.length > 0) await clock.turn();
  return { singleFile, skippedFiles, files };
}

/** A slice clock for the sync's loops over many files: its turns check for shutdown (as yieldSlice). */
function syncClock(app: AppContext, sliceMs: number): SliceClock {
  return new SliceClock({ sliceMs, onTurn: () => assertNotShuttingDown(app) });
}

/** Longest stretch of listing/reading work in readSpecs before the event loop gets a turn. */
const READ_SLICE_MS = 4;

/**
 * The spec files under the namespace path at `run.commit` (one ls-tree, size caps applied),
 * chosen by the namespace's include/exclude globs and the `.synclineignore` at its path (read
 * at the same commit), and the files a rule skipped.
 */
export async function listSpecEntries(run: GitRun): Promise<{ entries: TreeEntry[]; skippedFiles: SkippedFile[] }> {
  const s = run.app.settings;
  const nsPath = normalizeTreePath(run.namespace.path);
  const ignorePath = nsPath === '' ? IGNORE_FILE : `${nsPath}/${IGNORE_FILE}`;
  const { include, exclude } = namespaceGlobs(run.namespace);
  const prefix = nsPath === '' ? '' : `${nsPath}/`;
  // Compiled once for the 10,000 paths (same answers as minimatch(path, glob, { dot: true })).
  const includeMatch = compileGlobs(include, { dot: true });
  const included = (p: string) => {
    const rel = p.slice(prefix.length);
    return includeMatch.some((m) => m(rel));
  };
  // A path naming one file (`.syncline.yml`) is read whatever its extension; in a folder the
  // candidates are .yaml/.yml files, files the include globs name, and the ignore file.
  const entries = await selectTree(run.mirrorDir, run.commit, nsPath, {
    sourceName: run.source.name,
    maxFileBytes: s.max_file_bytes,
    maxFiles: s.max_files,
    maxTotalBytes: s.max_total_bytes,
    filter: (p) => p === nsPath || isSpecFile(p) || p === ignorePath || included(p),
  });
  assertNotShuttingDown(run.app);
  if (entries.length === 1 && entries[0]!.path === nsPath) return { entries, skippedFiles: [] };
  const ignoreEntry = entries.find((e) => e.path === ignorePath);
  const ignoreFile = ignoreEntry ? (await readEntries(run.mirrorDir, [ignoreEntry]))[0]!.content.toString('utf8') : null;
  const paths = entries.map((e) => e.path);
  const chosen = await selectSpecFilesSliced(paths, nsPath, { include, exclude, ignoreFile }, () => yieldSlice(run.app), READ_SLICE_MS);
  if (chosen.selected.length === entries.length) return { entries, skippedFiles: chosen.skipped };
  const keep = new Set(chosen.selected);
  return { entries: entries.filter((e) => keep.has(e.path)), skippedFiles: chosen.skipped };
}

/** Parses and validates every document against the server's kinds; sets parsed. */
export const parseSpecs: Step<RunStart & ReadSpecs & { registry: KindRegistry } & Partial<FoundPlan & LiveRead>, { parsed: ParseResult }> = {
  name: 'parseSpecs',
  async run(run) {
    try {
      return await parseFiles.run(run);
    } catch (err) {
      // A failed run leaves no read behind it (readSpecs started it).
      await settled(run.liveRead);
      throw err;
    }
  },
};

const parseFiles: Step<RunStart & ReadSpecs & { registry: KindRegistry } & Partial<FoundPlan>, { parsed: ParseResult }> = {
  name: 'parseSpecs',
  async run({ app, namespace, files, registry, reuse }) {
    if (reuse) return { parsed: reuse.parsed };
    const s = app.settings;
    // The files were chosen by the namespace's rules (listSpecEntries): parse them all.
    const options = { registry, singleFile: true, cache: parseCacheFor(app) };
    // Files not in the parse cache are parsed a few at a time, yielding to the event loop every
    // PARSE_SLICE_MS, so health checks and config reads are answered during a 10,000-file sync.
    // Each file's result lands in the cache; the full call below then only reads the cache and
    // runs the cross-file checks (duplicates), so the result is the same as one big call.
    // Many files the YAML fast path will not read (fast-yaml.ts): the parse workers parse them
    // (parse-pool.ts) and this thread only adopts their results into the cache, in slices. Files
    // the fast path reads cost this thread less to parse than to adopt from a worker (the
    // structured clone of the documents, their positions and normalised content), so they are
    // parsed here. Should the workers fail, the files are parsed here.
    // The per-file cap and the fast-path look at every file's bytes: in slices too.
    const toParse: SpecFile[] = [];
    const slow: SpecFile[] = [];
    const clock = syncClock(app, READ_SLICE_MS);
    for (const f of files) {
      if (f.content === undefined) continue;
      assertFileDocumentCap(f.path, f.content, s.max_documents_per_file);
      toParse.push(f);
      if (!mayReadFast(f.content)) slow.push(f);
      if (clock.due()) await clock.turn();
    }
    if (toParse.length > 0) await clock.turn();
    if (slow.length >= WORKER_MIN_FILES) {
      // This thread takes one worker's share itself, parsed in slices like the files below, while
      // the workers parse the rest (it would otherwise only wait for them).
      const own = Math.floor(slow.length / (parsePoolSize() + 1));
      const inWorkers = slow.slice(own);
      const pending = parseInWorkers(inWorkers, registry, {}).catch(() => null);
      const ownClock = syncClock(app, PARSE_SLICE_MS);
      for (let i = 0; i < own; i++) {
        warmParseCache([slow[i]!], options);
        if (ownClock.due()) await ownClock.turn();
      }
      const detached = await pending;
      if (detached) {
        const adoptClock = syncClock(app, PARSE_SLICE_MS);
        for (let i = 0; i < inWorkers.length; i++) {
          adoptDetachedParse(inWorkers[i]!, detached[i]!, options);
          if (adoptClock.due()) await adoptClock.turn();
        }
      }
    }
    const parseClock = syncClock(app, PARSE_SLICE_MS);
    for (const file of toParse) {
      // Skipped when adopted above (the cache answers).
      warmParseCache([file], options);
      if (parseClock.due()) await parseClock.turn();
    }
    const parsed = parseSpecFiles(files, options);
    assertNamespaceDocumentCap(namespace.name, parsed.documents.length + parsed.invalid.length, s.max_documents);
    return { parsed };
  },
};

const PARSE_SLICE_MS = 10;
const LIVE_PAGE = 1000;
/**
 * Fewer files (that the YAML fast path will not read) than this are parsed on the main thread,
 * in slices that yield: for them a worker's start-up (a fresh V8 isolate loading the parser and
 * ajv) costs more than it saves.
 */
const WORKER_MIN_FILES = 2000;

/**
 * Plans desired (git) against live state; sets live, plan. `live` is null for a reused settled
 * plan (last-plan.ts): the live rows are what its results say, an apply of it writes nothing.
 */
export const planChanges: Step<RunStart & ReadSpecs & { registry: KindRegistry; parsed: ParseResult } & Partial<FoundPlan & LiveRead>, { live: LiveResource[] | null; plan: Plan }> = {
  name: 'planChanges',
  async run({ app, namespace, registry, parsed, reuse, planKey: key, files, singleFile, skippedFiles, liveRead }) {
    if (reuse) return { live: reuse.live, plan: reuse.plan };
    // The live rows readSpecs started reading (after the namespace row and its generation).
    const live = await (liveRead ?? readLive(app, namespace.name));
    // buildPlan's steps (per document through the plan memo, then the prune pass, the sort),
    // yielding to the event loop every PARSE_SLICE_MS: the plan is the one a single call makes.
    const steps = buildPlanSteps({
      desired: parsed.documents,
      invalid: parsed.invalid,
      live,
      registry,
      prune: namespace.prune === 1,
      memo: planMemoFor(app),
    });
    const clock = syncClock(app, PARSE_SLICE_MS);
    let step = steps.next();
    while (!step.done) {
      if (clock.due()) await clock.turn();
      step = steps.next();
    }
    const plan = step.value;
    if (key) rememberPlan(app, namespace.name, { key, files: withoutContent(files), singleFile, skippedFiles, parsed, live, plan });
    return { live, plan };
  },
};

/**
 * Per-document plan results, reused while a document (shared through the parse cache), its live
 * resource and the kinds are unchanged: a re-sync re-plans only what changed.
 */
const planMemos = new WeakMap<AppContext, PlanMemo>();
export function planMemoFor(app: AppContext): PlanMemo {
  let memo = planMemos.get(app);
  if (!memo) planMemos.set(app, (memo = new PlanMemo()));
  return memo;
}

/** The git part every run shares: binding → fetch → commit → branch check. */
export const GIT_STEPS = Pipeline.from<RunStart>().then(loadBinding).then(fetchSource).then(resolveCommit).then(checkOnBranch);
/** The context after GIT_STEPS: a checked commit in a fetched mirror. */
export type GitRun = RunStart & Binding & { mirrorDir: string; commit: string; author: GitPerson | null };

/** Everything up to a plan: the shared prefix of sync, plan and drift. */
export const PLAN_STEPS = GIT_STEPS.then(loadKinds).then(findPlan).then(readSpecs).then(parseSpecs).then(planChanges);
/** The context after PLAN_STEPS: what sync applies and plan and drift report. */
export type PlannedRun = GitRun & ReadSpecs & FoundPlan & { registry: KindRegistry; parsed: ParseResult; live: LiveResource[] | null; plan: Plan };
