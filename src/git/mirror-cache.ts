/**
 * The mirror cache: one bare mirror per source at `<mirrorsDir>/<name>.git`, the fetch cache for
 * every plan and sync and the repository the smart-HTTP mirror serves.
 *
 * A mirror only counts once it carries the completion marker. First use clones into a temp dir
 * beside the final one, verifies it, writes the marker and renames it into place, so a crash at
 * any point leaves either the previous state or garbage we recognise and remove — never a
 * half-cloned repo that looks complete. Later uses fetch incrementally with explicit refspecs
 * (branches and tags only: forge-specific refs like refs/pull/* are never downloaded); an HTTP
 * remote is first asked for its refs with one `ls-refs` request, and nothing is fetched when no
 * branch or tag moved, or only the moved refs with one request (smart-http.ts).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SOURCE_NAME_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import { assertSafeRemoteUrl, type GitAuth } from './auth.js';
import { throwNetworkError } from './classify.js';
import { closeCatFileWorker } from './cat-file-worker.js';
import { KeyedMutex } from './keyed-mutex.js';
import { deleteLooseRefs, hasFilesBackend, listRefsUnder, swapLooseRefs, writeLooseRefs, type RefUpdate } from './keep-refs.js';
import { readLocalRefs, type LocalRefs } from './local-refs.js';
import type { RemotePin } from './remote.js';
import { runGit, type GitTimeouts } from './runner.js';
import { GitError } from './git-error.js';
import { fetchPackHttp, lsRefsHttp } from './smart-http.js';
import { isValidRefText } from './refs.js';

export interface MirrorSource {
  /** Source name (`^[a-z0-9][a-z0-9_-]{0,62}$`); also the mirror's directory name. */
  name: string;
  url: string;
  auth?: GitAuth;
  /**
   * The address the outbound guard checked for this URL's host just now (see
   * security/url-guard `checkOutbound`); git connects only there. Callers in the server always
   * pass it (sync/remote.ts); null/absent means "no name to pin" (file://, IP literal, allow-listed).
   */
  pin?: RemotePin | null;
}

export interface MirrorOptions {
  mirrorsDir: string;
  /** Timeouts for the network step (clone/fetch). */
  timeouts?: GitTimeouts;
  /** Skip the fetch when the last successful one is younger than this. Default: always fetch. */
  maxAgeMs?: number;
  /** How long tips replaced by an update stay reachable (hidden refs). Default 30 min. */
  keepMs?: number;
  signal?: AbortSignal;
}

export interface MirrorInfo {
  dir: string;
  /** Commit of the mirror's HEAD (the upstream default branch), if it resolves. */
  headCommit?: string;
  /** Upstream default branch name (short), if HEAD is a branch. */
  defaultBranch?: string;
}

export interface MirrorResult extends MirrorInfo {
  /** Upstream was asked for this call (clone, fetch, or an ls-refs request that found nothing moved; or one was joined). */
  fetched: boolean;
  /** The mirror was (re)created by a fresh clone. */
  created: boolean;
  /** Some branch or tag changed (always true on creation). */
  updated: boolean;
}

/** File inside the bare repo saying "this clone finished and was verified". */
export const COMPLETE_MARKER = 'syncline-complete';
/** File whose mtime records the last successful fetch. */
const FETCHED_STAMP = 'syncline-fetched';
/** The URL remote.origin.url was last set to, so a fetch needs no `git config --get` first. */
const URL_STAMP = 'syncline-url';

export const MIRROR_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'] as const;

/**
 * Hidden refs holding the tips a mirror had before an update, for `keepMs` (default 30 min):
 * smart HTTP is stateless, so a client that listed refs just before a force-push update asks for
 * the old tips a moment later; these keep them reachable (the reachability hook counts every ref)
 * while `uploadpack.hideRefs` keeps them out of every advertisement. Layout:
 * `refs/syncline/keep/<epoch-ms>/<n>`, pruned once older than `keepMs`.
 */
export const KEEP_REFS_PREFIX = 'refs/syncline/keep';
export const DEFAULT_KEEP_MS = 30 * 60_000;

/** Local commands (config, rev-parse) should be instant; these only catch a wedged disk. */
const LOCAL: GitTimeouts = { idleMs: 60_000, totalMs: 120_000 };

const mutex = new KeyedMutex();
const inflight = new Map<string, { url: string; promise: Promise<MirrorResult> }>();

export function mirrorPath(mirrorsDir: string, name: string): string {
  assertMirrorName(name);
  return join(mirrorsDir, `${name}.git`);
}

function assertMirrorName(name: string): void {
  // The name becomes a path component: refuse anything that could escape mirrorsDir.
  if (!SOURCE_NAME_RE.test(name)) {
    throw new SynclineError('invalid_source_name', `Invalid source name '${name}'`);
  }
}

export async function isCompleteMirror(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, COMPLETE_MARKER))).isFile();
  } catch {
    return false;
  }
}

/** An existing complete mirror without touching the network, or null if there is none. */
export async function openMirror(name: string, opts: { mirrorsDir: string }): Promise<MirrorInfo | null> {
  const dir = mirrorPath(opts.mirrorsDir, name);
  if (!(await isCompleteMirror(dir))) return null;
  return describe(dir);
}

/** When the mirror was last fetched successfully, or null if never / not complete. */
export async function lastFetchedAt(name: string, opts: { mirrorsDir: string }): Promise<Date | null> {
  const dir = mirrorPath(opts.mirrorsDir, name);
  if (!(await isCompleteMirror(dir))) return null;
  try {
    return (await stat(join(dir, FETCHED_STAMP))).mtime;
  } catch {
    return null;
  }
}

/**
 * Makes sure the source's mirror exists and is fresh: clones on first use (or when a previous
 * clone was left incomplete), fetches incrementally otherwise. One fetch per mirror at a time in
 * this process; a caller arriving while a fetch for the same URL runs shares its result.
 */
export async function ensureMirror(source: MirrorSource, opts: MirrorOptions): Promise<MirrorResult> {
  assertMirrorName(source.name);
  assertSafeRemoteUrl(source.url);
  // Absolute, because git runs with other working directories.
  opts = { ...opts, mirrorsDir: resolve(opts.mirrorsDir) };
  const dir = mirrorPath(opts.mirrorsDir, source.name);
  const key = resolve(dir);

  const running = inflight.get(key);
  if (running && running.url === source.url) return running.promise;

  const promise = mutex.run(key, () => update(source, dir, opts));
  inflight.set(key, { url: source.url, promise });
  try {
    return await promise;
  } finally {
    if (inflight.get(key)?.promise === promise) inflight.delete(key);
  }
}

/** Deletes a source's mirror (after the source is deleted). Waits for a running fetch. */
export async function removeMirror(name: string, opts: { mirrorsDir: string }): Promise<void> {
  const dir = mirrorPath(opts.mirrorsDir, name);
  await mutex.run(resolve(dir), async () => {
    closeCatFileWorker(dir);
    await removeStaleTemps(opts.mirrorsDir, name);
    await rm(dir, { recursive: true, force: true });
  });
}

async function update(source: MirrorSource, dir: string, opts: MirrorOptions): Promise<MirrorResult> {
  await mkdir(opts.mirrorsDir, { recursive: true });
  // We hold the per-mirror lock, so any temp dir for this name is a leftover of a killed run.
  await removeStaleTemps(opts.mirrorsDir, source.name);

  if (await isCompleteMirror(dir)) {
    if (opts.maxAgeMs !== undefined) {
      const last = await lastFetchedAt(source.name, opts);
      if (last && Date.now() - last.getTime() < opts.maxAgeMs) {
        return { ...(await describe(dir)), fetched: false, created: false, updated: false };
      }
    }
    return fetchInto(source, dir, opts);
  }
  // A directory without the marker is a half-made mirror from an older layout or a crash.
  closeCatFileWorker(dir);
  await rm(dir, { recursive: true, force: true });
  return cloneInto(source, dir, opts);
}

async function cloneInto(source: MirrorSource, dir: string, opts: MirrorOptions): Promise<MirrorResult> {
  const tmp = join(opts.mirrorsDir, `.tmp-${source.name}-${randomBytes(8).toString('hex')}`);
  try {
    try {
      await runGit(['clone', '--bare', '--progress', '--', source.url, tmp], {
        cwd: opts.mirrorsDir,
        url: source.url,
        auth: source.auth,
        pin: source.pin,
        ...opts.timeouts,
        signal: opts.signal,
      });
    } catch (err) {
      await throwNetworkError(err, source);
    }
    // clone --bare maps heads and tags but records no refspec; make later fetches explicit. Git
    // merges repeated sections, so appending one is `git config --add` without two processes.
    await appendFile(join(tmp, 'config'), `[remote "origin"]\n${MIRROR_REFSPECS.map((r) => `\tfetch = ${r}\n`).join('')}`);
    await verify(tmp, source.name);
    // A commit-graph only pays for itself on a long history (git walks a few thousand commits in
    // milliseconds without one, and starting the process costs more): a small clone answers
    // without it; the mirror scheduler's maintainMirror (and a later `gc --auto`) writes it.
    if ((await packedObjectCount(tmp)) >= COMMIT_GRAPH_MIN_OBJECTS) await writeCommitGraph(tmp);
    await writeFile(join(tmp, FETCHED_STAMP), '');
    await writeFile(join(tmp, URL_STAMP), source.url);
    await writeFile(join(tmp, COMPLETE_MARKER), `${JSON.stringify({ completed_at: new Date().toISOString() })}\n`);
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another process finished the same clone first; theirs is as good as ours.
      if (!(await isCompleteMirror(dir))) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return { ...(await describe(dir)), fetched: true, created: true, updated: true };
}

async function fetchInto(source: MirrorSource, dir: string, opts: MirrorOptions): Promise<MirrorResult> {
  await syncRemoteUrl(source.url, dir);
  // Refs are read from disk (no for-each-ref process) before and after.
  const before = await localRefs(dir);
  const keepMs = opts.keepMs ?? DEFAULT_KEEP_MS;
  // An HTTP remote is first asked for its refs with one ls-refs request (no process): when no
  // branch or tag moved, the mirror is current and `git fetch` is skipped altogether.
  const remote = await remoteRefs(source, opts);
  if (remote && sameRefs(remote, before.refs)) {
    // Keep rounds that expired meanwhile still go (file reads only, unless one did expire).
    await settleKeepRefs(dir, { round: `${KEEP_REFS_PREFIX}/none`, loose: [] }, before.snapshot, keepMs).catch(() => undefined);
    await touchFetched(dir);
    return { ...(await describe(dir, before)), fetched: true, created: false, updated: false };
  }
  // Before the refs move: every current tip gets a hidden keep ref, so there is no moment in
  // which a tip a client was just shown is unreachable.
  const kept = await keepCurrentTips(dir, before.snapshot);
  const moved = remote ? movedRefs(remote, before.refs) : null;
  try {
    // The moved refs' objects in one request and one index-pack process, the refs then moved
    // from Node; whatever that cannot do, `git fetch` of the same refs does.
    const done = moved !== null && (await fetchFromNode(source, dir, opts, moved, before.refs));
    if (!done) await runFetch(source, dir, opts, moved ? moved.map((m) => `+${m.name}:${m.name}`) : null);
  } catch (err) {
    // Refs are only updated after the pack arrived complete: the mirror is still the old one.
    await throwNetworkError(err, source);
  }
  const after = await localRefs(dir);
  const updated = after.snapshot !== before.snapshot;
  await settleKeepRefs(dir, kept, after.snapshot, keepMs).catch(() => undefined);
  // The commit-graph and bitmaps are refreshed by the mirror scheduler (maintainMirror), not here:
  // a sync would wait for a repack; stale ones only cost speed (fewer commits covered).
  if (updated) await repairHead(source, dir, after, opts);
  await touchFetched(dir);
  if (updated) await autoMaintain(dir);
  return { ...(await describe(dir, updated ? await localRefs(dir) : after)), fetched: true, created: false, updated };
}

async function touchFetched(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, FETCHED_STAMP), now, now).catch(() => writeFile(join(dir, FETCHED_STAMP), ''));
}

/** The remote's branches and tags by one ls-refs request, or null (not HTTP, or it could not say: fetch as before). */
async function remoteRefs(source: MirrorSource, opts: MirrorOptions): Promise<Map<string, string> | null> {
  if (!/^https?:\/\//i.test(source.url)) return null;
  try {
    return await lsRefsHttp(source.url, source.auth, source.pin, {
      prefixes: ['refs/heads/', 'refs/tags/'],
      idleMs: opts.timeouts?.idleMs,
      totalMs: opts.timeouts?.totalMs,
      signal: opts.signal,
    });
  } catch (err) {
    // A timeout or an abort: the server is not answering; fetching would wait as long again.
    return throwNetworkError(err, source);
  }
}

function sameRefs(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, oid] of a) if (b.get(name) !== oid) return false;
  return true;
}

/** At most this many refs are fetched by name; more moved at once: the whole refspecs. */
const MAX_NARROW_REFS = 64;

/**
 * The refs that are new or moved upstream, so exactly those are fetched (`+refs/heads/main:…`):
 * git lists and negotiates only them. Null (fetch everything, prune) when a ref was deleted
 * upstream or too many moved.
 */
function movedRefs(remote: Map<string, string>, local: Map<string, string>): RefUpdate[] | null {
  for (const name of local.keys()) if (!remote.has(name)) return null;
  const moved = [...remote].filter(([name, oid]) => local.get(name) !== oid).map(([name, oid]) => ({ name, old: local.get(name), oid }));
  if (moved.length === 0 || moved.length > MAX_NARROW_REFS) return null;
  // Names came from the server: only plain ref names become refspecs (no glob, no option, no colon).
  if (!moved.every((m) => /^refs\/(heads|tags)\/[^\s:*?[\\^~]+$/.test(m.name) && isValidRefText(m.name))) return null;
  return moved;
}

/**
 * Fetches `moved` without `git fetch`: one v2 fetch request (our tips as haves, the moved refs'
 * old tips first) into `git unpack-objects` / `index-pack --strict` (smart-http.ts; unpack-objects
 * started while the server prepares the pack when every moved ref is an update), then the refs moved by a
 * compare-and-swap of loose ref files (keep-refs.ts). HTTP(S) on the files backend only; false
 * when it did not work (git fetch then does it). Throws on timeouts and aborts.
 */
async function fetchFromNode(source: MirrorSource, dir: string, opts: MirrorOptions, moved: RefUpdate[], local: Map<string, string>): Promise<boolean> {
  if (!(await hasFilesBackend(dir))) return false;
  const wants = [...new Set(moved.map((m) => m.oid))];
  const haves = [
    ...new Set([
      ...moved.flatMap((m) => (m.old ? [m.old] : [])),
      ...[...local].filter(([n]) => n.startsWith('refs/heads/')).map(([, oid]) => oid),
      ...[...local].filter(([n]) => n.startsWith('refs/tags/')).map(([, oid]) => oid),
    ]),
  ];
  const fetched = await fetchPackHttp(source.url, source.auth, source.pin, dir, wants, haves, {
    // Updates of refs the mirror has (a push): few objects, so unpack-objects starts at once.
    expectSmall: moved.every((m) => m.old !== undefined),
    idleMs: opts.timeouts?.idleMs,
    totalMs: opts.timeouts?.totalMs,
    signal: opts.signal,
  });
  if (!fetched) return false;
  try {
    return await swapLooseRefs(dir, moved);
  } finally {
    // The pack is referenced now (or git fetch will reference it): gc may treat it as any other.
    if (fetched.keep) await unlink(fetched.keep).catch(() => undefined);
  }
}

/**
 * `git fetch` into the mirror: the named refs only (`refspecs`), else every branch and tag with
 * pruning. No FETCH_HEAD, no tag following, no forced-update report, no auto-maintenance (its
 * check is a process per fetch; autoMaintain does it from Node).
 */
async function runFetch(source: MirrorSource, dir: string, opts: MirrorOptions, refspecs: string[] | null): Promise<void> {
  const flags = ['--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--no-show-forced-updates', '--progress'];
  const run = (specs: readonly string[], prune: boolean) =>
    // Explicit refspecs on the command line win over whatever the config says.
    runGit(['fetch', ...(prune ? ['--prune'] : []), ...flags, 'origin', ...specs], {
      cwd: dir,
      url: source.url,
      auth: source.auth,
      pin: source.pin,
      ...opts.timeouts,
      signal: opts.signal,
    });
  if (!refspecs) {
    await run(MIRROR_REFSPECS, true);
    return;
  }
  try {
    await run(refspecs, false);
  } catch (err) {
    // A named ref deleted upstream between the listing and the fetch: fetch everything instead.
    if (!(err instanceof GitError && err.reason === 'exit' && /couldn't find remote ref/i.test(err.stderr))) throw err;
    await run(MIRROR_REFSPECS, true);
  }
}

/**
 * What `git maintenance run --auto` after every fetch decided, without its process: git's own
 * estimate of loose objects (more than gc.auto = 6700, i.e. 27 in `objects/17`) or more than
 * gc.autoPackLimit = 50 packs. Only then `git gc --auto` runs (it detaches, as fetch's did).
 * Best-effort: a missed gc only costs speed.
 */
async function autoMaintain(dir: string): Promise<void> {
  try {
    const loose = (await readdir(join(dir, 'objects', '17')).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{38}$/.test(n)).length;
    const packDir = await readdir(join(dir, 'objects', 'pack')).catch(() => [] as string[]);
    const keep = new Set(packDir.filter((n) => n.endsWith('.keep')).map((n) => n.slice(0, -5)));
    const packs = packDir.filter((n) => n.endsWith('.pack') && !keep.has(n.slice(0, -5))).length;
    if (loose > AUTO_GC_LOOSE_IN_17 || packs > AUTO_GC_PACKS) await git(dir, ['gc', '--auto', '--quiet']);
  } catch {
    // Leave it for the next fetch (or the mirror scheduler's repack).
  }
}
const AUTO_GC_LOOSE_IN_17 = Math.ceil(6700 / 256);
const AUTO_GC_PACKS = 50;

/** Points remote.origin.url at `url` (the source's URL may have been edited); a process only when it changed. */
async function syncRemoteUrl(url: string, dir: string): Promise<void> {
  const stamped = await readFile(join(dir, URL_STAMP), 'utf8').catch(() => null);
  if (stamped === url) return;
  const { stdout: current } = await git(dir, ['config', '--get', 'remote.origin.url'], [0, 1]);
  if (current.toString('utf8').trim() !== url) await git(dir, ['config', 'remote.origin.url', url]);
  await writeFile(join(dir, URL_STAMP), url);
}

async function localRefs(dir: string): Promise<LocalRefs> {
  return readLocalRefs(dir, async () => (await git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'])).stdout.toString());
}

async function verify(dir: string, sourceName: string): Promise<void> {
  // `clone --bare` made it bare; what can go wrong is an upstream with nothing to mirror.
  const { refs } = await localRefs(dir);
  if (refs.size === 0) {
    throw new SynclineError('repo_empty', `Source '${sourceName}' has no branches or tags to mirror`, {
      source: sourceName,
    });
  }
}

/**
 * Fetch never moves a bare repo's HEAD. If the default branch was deleted upstream (and pruned
 * here), ask the remote what HEAD is now; best-effort, a dangling HEAD only affects mirror clients.
 */
async function repairHead(source: MirrorSource, dir: string, refs: LocalRefs, opts: MirrorOptions): Promise<void> {
  const head = await readHead(dir);
  if (head.commit || (head.branch && refs.refs.has(`refs/heads/${head.branch}`))) return;
  try {
    const { stdout } = await runGit(['ls-remote', '--symref', 'origin', 'HEAD'], {
      cwd: dir,
      url: source.url,
      auth: source.auth,
      pin: source.pin,
      ...opts.timeouts,
    });
    const match = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(stdout.toString('utf8'));
    if (match?.[1]) await git(dir, ['symbolic-ref', 'HEAD', match[1]]);
  } catch {
    // Leave HEAD as it is.
  }
}

/** HEAD of a bare repo read from its file: a branch (`ref: refs/heads/x`) or a detached commit. */
async function readHead(dir: string): Promise<{ branch?: string; commit?: string }> {
  const text = (await readFile(join(dir, 'HEAD'), 'utf8').catch(() => '')).trim();
  const sym = /^ref: refs\/heads\/(\S+)$/.exec(text);
  if (sym?.[1]) return { branch: sym[1] };
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text)) return { commit: text };
  return {};
}

/** The refs (`refSnapshot` of heads and tags) the mirror's bitmaps were last written for. */
const BITMAPS_STAMP = 'syncline-bitmapped';

/**
 * Keeps a mirror's reachability bitmaps fresh: when its branches or tags changed since the last
 * call (or `force`), repacks everything reachable from every ref — hidden keep refs included —
 * into one pack with a bitmap index (`git repack -a -d -b`), and rewrites the commit-graph.
 *
 * The bitmaps are what the upload-pack reachability check (mirror/reachability-hook.ts) asks:
 * "is everything these wants reach already reachable from some ref?" is then a bitmap AND-NOT
 * rather than a walk, so its cost does not grow with the repository. They also make clones and
 * fetches cheaper to count. Unreachable objects in old packs (history rewritten upstream, keep
 * refs expired) are dropped by the same repack.
 *
 * Runs under the same per-mirror lock as fetches, so it never overlaps one in this process.
 * Safe while clients read: upload-packs already running keep the old pack open; new ones see
 * the new pack. Returns whether a repack ran. Errors propagate (callers treat it as best-effort:
 * stale or missing bitmaps only cost speed, never correctness).
 */
export async function maintainMirror(dir: string, opts: { force?: boolean } = {}): Promise<boolean> {
  const key = resolve(dir);
  return mutex.run(key, async () => {
    if (!(await isCompleteMirror(key))) return false;
    const { snapshot } = await localRefs(key);
    const stamp = join(key, BITMAPS_STAMP);
    if (!opts.force && (await readFile(stamp, 'utf8').catch(() => null)) === snapshot) return false;
    // -a -d: one pack, old ones dropped; -b: bitmap index; -n: no update-server-info (the dumb
    // protocol is never served, and it would list the hidden keep refs).
    await runGit(['repack', '-a', '-d', '-b', '-n', '-q'], { cwd: key, idleMs: 600_000, totalMs: 3600_000 });
    await writeCommitGraph(key);
    await writeFile(stamp, snapshot);
    return true;
  });
}

/**
 * Objects in a fresh clone from which it gets its commit-graph before the first sync answers.
 * Below this (the sync bench's 2,000 commits are 11,000 objects) `git merge-base` over the
 * whole history takes no measurable time without one, while `commit-graph write` is a process
 * start on the first sync's path (30–80 ms at load 12 on the 2-CPU machine).
 */
export const COMMIT_GRAPH_MIN_OBJECTS = 50_000;

/**
 * Objects in the repository's packs, from each `.idx` header (the last fan-out entry): a clone
 * has one pack and no loose objects. Unreadable or unknown index versions count as large.
 */
export async function packedObjectCount(dir: string): Promise<number> {
  const packDir = join(dir, 'objects', 'pack');
  const names = (await readdir(packDir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx'));
  let total = 0;
  for (const name of names) {
    const fh = await open(join(packDir, name), 'r').catch(() => null);
    if (!fh) return Number.POSITIVE_INFINITY;
    try {
      const buf = Buffer.alloc(8 + 256 * 4);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      // Version 2 (SHA-1 and SHA-256 alike): "\377tOc", the version, then the 256-entry fan-out table.
      if (bytesRead < buf.length || buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) return Number.POSITIVE_INFINITY;
      total += buf.readUInt32BE(8 + 255 * 4);
    } finally {
      await fh.close();
    }
  }
  return total;
}

/** Speeds up later ancestry checks and log walks; losing it costs only speed. */
async function writeCommitGraph(dir: string): Promise<void> {
  await runGit(['commit-graph', 'write', '--reachable'], { cwd: dir, idleMs: 300_000, totalMs: 600_000 }).catch(() => {});
}

/** Unique tip ids of a `refSnapshot`. */
function tipsOf(snapshot: string): Set<string> {
  return new Set(snapshot.split('\n').map((l) => l.split(' ', 1)[0]!).filter((s) => /^[0-9a-f]{40,64}$/.test(s)));
}

/** A round of keep refs: its prefix and, when written as loose files, the names written. */
interface KeepRound {
  round: string;
  /** Loose keep refs written by this round (null: written with update-ref, e.g. reftable). */
  loose: Array<{ name: string; oid: string }> | null;
}

/**
 * Writes `refs/syncline/keep/<now>/<n>` for every current tip; returns the round. Loose ref files
 * from Node (no process) on the files backend, `update-ref --stdin` otherwise.
 */
async function keepCurrentTips(dir: string, snapshot: string): Promise<KeepRound> {
  const round = `${KEEP_REFS_PREFIX}/${Date.now()}`;
  const tips = [...tipsOf(snapshot)].map((oid, i) => ({ name: `${round}/${i}`, oid }));
  if (tips.length === 0) return { round, loose: [] };
  if (await hasFilesBackend(dir)) {
    try {
      await writeLooseRefs(dir, tips);
      return { round, loose: tips };
    } catch {
      // Fall through to git (drop whatever was written first: git will write them all).
      await deleteLooseRefs(dir, tips.map((t) => t.name)).catch(() => undefined);
    }
  }
  const input = tips.map((t) => `update ${t.name} ${t.oid}\n`).join('');
  await runGit(['update-ref', '--no-deref', '--stdin'], { cwd: dir, input, ...LOCAL });
  return { round, loose: null };
}

/**
 * After a fetch: drops this round's keep refs for tips that are still current (they need no
 * keeping), and every round older than `keepMs`. On the files backend with nothing expired (every
 * fetch but one per keep window), this reads files only: no git process.
 */
async function settleKeepRefs(dir: string, kept: KeepRound, snapshot: string, keepMs: number): Promise<void> {
  const { round } = kept;
  const current = tipsOf(snapshot);
  const drop: string[] = [];
  if (kept.loose) {
    const still = kept.loose.filter((t) => keepMs <= 0 || current.has(t.oid)).map((t) => t.name);
    drop.push(...(await deleteLooseRefs(dir, still)));
  }
  const listed = await listRefsUnder(dir, KEEP_REFS_PREFIX);
  let all: Array<[string, string]>;
  if (listed) all = [...listed];
  else {
    const { stdout } = await git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', KEEP_REFS_PREFIX]);
    all = stdout.toString('utf8').split('\n').map((l) => l.split(' ')).filter((p) => p[0] && p[1]).map(([sha, ref]) => [ref!, sha!]);
  }
  const cutoff = Date.now() - keepMs;
  for (const [ref, sha] of all) {
    if (drop.includes(ref)) continue;
    const stamp = Number(ref.slice(KEEP_REFS_PREFIX.length + 1).split('/', 1)[0]);
    const ours = ref.startsWith(`${round}/`);
    // This round's loose refs were settled above; what is left of it is kept (its tips moved).
    if (ours && kept.loose) continue;
    if (keepMs <= 0 || (ours && current.has(sha)) || !(stamp >= cutoff)) drop.push(ref);
  }
  if (drop.length) {
    await runGit(['update-ref', '--no-deref', '--stdin'], { cwd: dir, input: drop.map((r) => `delete ${r}\n`).join(''), ...LOCAL });
  }
}

async function describe(dir: string, known?: LocalRefs): Promise<MirrorInfo> {
  const refs = known ?? (await localRefs(dir));
  const head = await readHead(dir);
  const headCommit = head.commit ?? (head.branch ? refs.refs.get(`refs/heads/${head.branch}`) : undefined);
  const defaultBranch = head.branch;
  return { dir, ...(headCommit ? { headCommit } : {}), ...(defaultBranch ? { defaultBranch } : {}) };
}

async function removeStaleTemps(mirrorsDir: string, name: string): Promise<void> {
  const pattern = new RegExp(`^\\.tmp-${name}-[0-9a-f]{16}$`);
  let entries: string[];
  try {
    entries = await readdir(mirrorsDir);
  } catch {
    return;
  }
  await Promise.all(
    entries.filter((e) => pattern.test(e)).map((e) => rm(join(mirrorsDir, e), { recursive: true, force: true })),
  );
}

function git(cwd: string, args: string[], okCodes: number[] = [0]) {
  return runGit(args, { cwd, okCodes, ...LOCAL });
}
