/**
 * Refs in a mirror: resolving what a user typed to a commit, ancestry checks, commit metadata,
 * and `ls-remote` for source checks.
 *
 * Ref text comes from API callers and webhooks, so it is validated against a strict pattern
 * before git sees it, and lookups go through `cat-file --batch-check` on stdin rather than argv:
 * a ref like `--upload-pack=x` can never become an option.
 */
import { FULL_SHA_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import { assertSafeRemoteUrl, type GitAuth } from './auth.js';
import { throwNetworkError } from './classify.js';
import { catFile, closeCatFileWorker } from './cat-file-worker.js';
import type { RemotePin } from './remote.js';
import { runGit, type GitTimeouts } from './runner.js';

const LOCAL: GitTimeouts = { idleMs: 60_000, totalMs: 120_000 };

/**
 * Plain ref names and hex ids only: no revision syntax (`~ ^ : @{ ..`), no whitespace or control
 * characters, no leading `-` `.` `/`, no `.lock` suffix.
 */
const REF_CHARS = /^[A-Za-z0-9._\/+-]{1,255}$/;
const ABBREV_SHA = /^[0-9a-f]{4,63}$/;

export function isValidRefText(ref: string): boolean {
  return (
    REF_CHARS.test(ref) &&
    !/^[-./]/.test(ref) &&
    !/[/.]$/.test(ref) &&
    !ref.endsWith('.lock') &&
    !ref.includes('..') &&
    !ref.includes('//') &&
    !ref.includes('/.')
  );
}

export { isValidBranchName } from '../contracts/common.js';

/** Ref text safe to echo in a message: bounded, printable. */
function display(ref: string): string {
  const printable = ref.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 100 ? `${printable.slice(0, 100)}…` : printable;
}

function refNotFound(ref: string, sourceName: string, what = 'Ref'): SynclineError {
  return new SynclineError('ref_not_found', `${what} '${display(ref)}' not found in source '${sourceName}'`, {
    ref: display(ref),
    source: sourceName,
  });
}

/** Candidate full names, in priority order: a branch beats a same-named tag beats an abbreviated id. */
function candidates(ref: string): string[] {
  if (ref.startsWith('refs/') || ref === 'HEAD') return [ref];
  if (FULL_SHA_RE.test(ref)) return [ref];
  const out = [`refs/heads/${ref}`, `refs/tags/${ref}`];
  if (ABBREV_SHA.test(ref)) out.push(ref);
  return out;
}

/**
 * Looks names up in the repository's cat-file worker (peeling tags to commits); returns one entry
 * per name: the commit id, 'missing' or 'ambiguous'. A miss is asked again of a fresh process
 * once: a long-lived one may not have noticed a pack that a fetch just added (abbreviated ids).
 */
async function lookupCommits(dir: string, names: string[], retryMissing = true): Promise<string[]> {
  const ask = async (): Promise<string[]> =>
    (await catFile(dir, names.map((n) => ({ op: 'info' as const, name: `${n}^{commit}` })))).map((a) => {
      if (FULL_SHA_RE.test(a.oid) && a.type === 'commit') return a.oid;
      return a.type === 'ambiguous' ? 'ambiguous' : 'missing';
    });
  const first = await ask();
  // Only an abbreviated id can be missed for want of a pack rescan; full names and ids cannot.
  const found = first.some((r) => FULL_SHA_RE.test(r));
  if (!retryMissing || found || !names.some((n) => ABBREV_SHA.test(n) && !FULL_SHA_RE.test(n))) return first;
  closeCatFileWorker(dir);
  return ask();
}

/** Whether a full commit id is already in the repository (no network, no new process). */
export async function hasCommit(dir: string, commit: string): Promise<boolean> {
  if (!FULL_SHA_RE.test(commit)) return false;
  const [result] = await lookupCommits(dir, [commit], false);
  return result === commit;
}

/**
 * Resolves a full or abbreviated (≥4) commit id, branch, tag or `refs/...` name to a commit id.
 * Throws SynclineError `ref_not_found` for anything invalid, unknown or ambiguous.
 */
export async function resolveRef(dir: string, ref: string, opts: { sourceName: string }): Promise<string> {
  if (!isValidRefText(ref)) throw refNotFound(ref, opts.sourceName);
  const names = candidates(ref);
  const results = await lookupCommits(dir, names);
  const found = results.find((r) => FULL_SHA_RE.test(r));
  if (found) return found;
  if (results.includes('ambiguous')) {
    throw new SynclineError(
      'ref_not_found',
      `Ref '${display(ref)}' is ambiguous in source '${opts.sourceName}'; use a longer commit id`,
      { ref: display(ref), source: opts.sourceName },
    );
  }
  throw refNotFound(ref, opts.sourceName);
}

/** Commit id at the tip of `branch` (a short branch name or `refs/heads/...`). */
export async function resolveBranch(dir: string, branch: string, opts: { sourceName: string }): Promise<string> {
  const full = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  if (!isValidRefText(branch) || !full.startsWith('refs/heads/')) throw refNotFound(branch, opts.sourceName, 'Branch');
  const [result] = await lookupCommits(dir, [full]);
  if (!result || !FULL_SHA_RE.test(result)) throw refNotFound(branch, opts.sourceName, 'Branch');
  return result;
}

/** How many commits isAncestor and commitIsAncestor (changes.ts) read through the cat-file worker before they ask git. */
export const ANCESTRY_WALK_LIMIT = 64;

/**
 * Whether `ancestor` is reachable from `descendant` (the reviewed-branch check: a commit against
 * the branch tip from resolveBranch). Both must be full commit ids, so git only ever sees ids and
 * nothing is resolved twice.
 *
 * `descendant`'s history is walked first through the repository's cat-file worker, up to
 * ANCESTRY_WALK_LIMIT commits (a sync of a recent commit of the branch: no process; starting one
 * held a 300 MB server's event loop 10–250 ms on a loaded machine). A longer history, or
 * anything the walk cannot read, is asked of `git merge-base --is-ancestor` as before.
 */
export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  for (const sha of [ancestor, descendant]) {
    if (!FULL_SHA_RE.test(sha)) throw new SynclineError('ref_not_found', `'${display(sha)}' is not a full commit id`, { ref: display(sha) });
  }
  const walked = await walkAncestry(dir, ancestor, descendant, ANCESTRY_WALK_LIMIT).catch(() => null);
  if (walked === true) return true;
  // Not in the walked history: git answers "no" only for a commit it has (an unknown id fails).
  if (walked === false && (await hasCommit(dir, ancestor))) return false;
  // Exit 0: ancestor; 1: not; anything else (e.g. an unknown commit) is a real failure and throws.
  const { code } = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], {
    cwd: dir,
    okCodes: [0, 1],
    ...LOCAL,
  });
  return code === 0;
}

/**
 * Walks `b`'s history through the cat-file worker, one round trip per generation, reading at
 * most `limit` commits. True: `a` is `b` or in its history; false: `b`'s whole history was read
 * without it; null: gave up (too long, or an object that is not a commit).
 */
export async function walkAncestry(dir: string, a: string, b: string, limit: number): Promise<boolean | null> {
  if (!FULL_SHA_RE.test(a) || !FULL_SHA_RE.test(b)) return null;
  const seen = new Set<string>([b]);
  let frontier = [b];
  while (frontier.length > 0) {
    const answers = await catFile(dir, frontier.map((name) => ({ op: 'contents' as const, name })));
    const next: string[] = [];
    for (const obj of answers) {
      if (obj.type !== 'commit') return null;
      if (obj.oid === a) return true; // a === b, a commit
      for (const parent of commitParents(obj.content)) {
        if (parent === a) return true;
        if (seen.has(parent)) continue;
        if (seen.size >= limit) return null;
        seen.add(parent);
        next.push(parent);
      }
    }
    frontier = next;
  }
  return false;
}

/** The `parent` lines of a raw commit object (they follow `tree`, before `author`). */
function commitParents(raw: Buffer): string[] {
  const end = raw.indexOf('\n\n');
  const header = (end === -1 ? raw : raw.subarray(0, end)).toString('latin1');
  const out: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('parent ')) out.push(line.slice(7).trim());
    else if (line.startsWith('author ')) break;
  }
  return out;
}

/** The mirror's default branch (short name), or null when HEAD is detached or dangling. */
export async function defaultBranch(dir: string): Promise<string | null> {
  const { stdout, code } = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], {
    cwd: dir,
    okCodes: [0, 1],
    ...LOCAL,
  });
  const name = stdout.toString('utf8').trim();
  return code === 0 && name ? name : null;
}

export interface GitPerson {
  name: string;
  email: string;
  /** ISO 8601 with the author's offset. */
  date: string;
}

export interface CommitInfo {
  commit: string;
  author: GitPerson;
  committer: GitPerson;
  /** Full message (subject, blank line, body), trailing newline removed. */
  message: string;
  subject: string;
}

/** Author, committer and message of a commit (given as a full id, e.g. from resolveRef). */
export async function commitInfo(dir: string, commit: string): Promise<CommitInfo> {
  if (!FULL_SHA_RE.test(commit)) throw new SynclineError('ref_not_found', `Commit '${display(commit)}' is not a commit id`);
  // The raw object through the repository's cat-file worker: no `git log` process per sync.
  const [obj] = await catFile(dir, [{ op: 'contents', name: commit }]);
  if (!obj || obj.type !== 'commit') {
    throw new SynclineError('ref_not_found', `Commit '${display(commit)}' not found`);
  }
  return parseCommit(commit, obj.content);
}

/** Parses a raw commit object the way `git log --format=%an%ae%aI…%B` presents it. */
export function parseCommit(commit: string, raw: Buffer): CommitInfo {
  const text = raw.toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? '' : text.slice(split + 2);
  let author: GitPerson = { name: '', email: '', date: '' };
  let committer: GitPerson = { name: '', email: '', date: '' };
  for (const line of headers.split('\n')) {
    // Continuation lines (gpgsig, mergetag) start with a space and never match.
    if (line.startsWith('author ')) author = parsePerson(line.slice(7));
    else if (line.startsWith('committer ')) committer = parsePerson(line.slice(10));
  }
  const message = body.replace(/\n+$/, '');
  return { commit, author, committer, message, subject: message.split('\n', 1)[0] ?? '' };
}

const PERSON_RE = /^(.*?) ?<([^>]*)> (-?\d+) ([+-])(\d{2})(\d{2})$/;

function parsePerson(text: string): GitPerson {
  const m = PERSON_RE.exec(text);
  if (!m) return { name: text, email: '', date: '' };
  const [, name = '', email = '', seconds = '0', sign = '+', hh = '00', mm = '00'] = m;
  const offsetMin = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  const local = new Date((Number(seconds) + offsetMin * 60) * 1000).toISOString().slice(0, 19);
  return { name, email, date: `${local}${sign}${hh}:${mm}` };
}

export interface RemoteRefs {
  /** Short name of the branch the remote HEAD points to, if it advertises one. */
  defaultBranch: string | null;
  /** Commit of the remote HEAD. */
  head: string | null;
  /** Short branch name → commit. */
  branches: Record<string, string>;
  /** Short tag name → commit (annotated tags peeled). */
  tags: Record<string, string>;
}

/**
 * Lists a remote's branches, tags and default branch without cloning (source checks).
 * Failures map to `auth_failed` / `repo_not_found` (not retryable) or `fetch_failed` (retryable).
 */
export async function lsRemote(
  url: string,
  auth: GitAuth | undefined,
  opts: { sourceName?: string; timeouts?: GitTimeouts; signal?: AbortSignal; pin?: RemotePin | null } = {},
): Promise<RemoteRefs> {
  assertSafeRemoteUrl(url);
  let stdout: Buffer;
  try {
    ({ stdout } = await runGit(['ls-remote', '--symref', '--', url, 'HEAD', 'refs/heads/*', 'refs/tags/*'], {
      url,
      auth,
      pin: opts.pin,
      idleMs: 60_000,
      totalMs: 120_000,
      ...opts.timeouts,
      signal: opts.signal,
    }));
  } catch (err) {
    return throwNetworkError(err, { name: opts.sourceName ?? 'source', url, pin: opts.pin });
  }
  const out: RemoteRefs = { defaultBranch: null, head: null, branches: {}, tags: {} };
  for (const line of stdout.toString('utf8').split('\n')) {
    const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (symref?.[1]) {
      out.defaultBranch = symref[1];
      continue;
    }
    const [sha, name] = line.split('\t');
    if (!sha || !name || !FULL_SHA_RE.test(sha)) continue;
    if (name === 'HEAD') out.head = sha;
    else if (name.startsWith('refs/heads/')) out.branches[name.slice('refs/heads/'.length)] = sha;
    else if (name.startsWith('refs/tags/')) {
      const tag = name.slice('refs/tags/'.length);
      // `tag^{}` is the peeled commit and wins over the tag object's own id.
      if (tag.endsWith('^{}')) out.tags[tag.slice(0, -3)] = sha;
      else out.tags[tag] ??= sha;
    }
  }
  return out;
}
