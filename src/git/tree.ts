/**
 * Reads the files under a path at a commit: one `ls-tree -r --long` to list (sizes included, so
 * oversize content is refused before a byte of it is read) and ONE `cat-file --batch` process for
 * all blobs. Only regular files are returned: symlinks are skipped, never followed (a symlink to
 * `/etc/passwd` in a repo must not become spec content), and submodules are skipped.
 */
import { FULL_SHA_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import { SliceClock } from '../slice-clock.js';
import { catFile } from './cat-file-worker.js';
import type { GitTimeouts } from './runner.js';

export interface TreeLimits {
  /** Largest single file. Default 1 MiB. */
  maxFileBytes: number;
  /** Most files (after `filter`). Default 10,000. */
  maxFiles: number;
  /** Sum of file sizes (after `filter`). Default 64 MiB. */
  maxTotalBytes: number;
}

export const DEFAULT_TREE_LIMITS: Readonly<TreeLimits> = {
  maxFileBytes: 1024 * 1024,
  maxFiles: 10_000,
  maxTotalBytes: 64 * 1024 * 1024,
};

export interface ReadTreeOptions extends Partial<TreeLimits> {
  /** Keep only paths for which this returns true; applied before caps and before reading. */
  filter?: (path: string) => boolean;
  /** For error messages. */
  sourceName?: string;
  timeouts?: GitTimeouts;
}

export interface TreeEntry {
  /** Repo-relative path. */
  path: string;
  mode: string;
  size: number;
  blobSha: string;
}

export interface TreeFile {
  path: string;
  size: number;
  blobSha: string;
  /** true for mode 100755. */
  executable: boolean;
  content: Buffer;
}

const REGULAR_MODES = new Set(['100644', '100755']);
const LS_TREE_LINE = /^(\d{6}) ([a-z]+) ([0-9a-f]{40,64}) +(-|\d+)\t([\s\S]+)$/;
const LOCAL: GitTimeouts = { idleMs: 60_000, totalMs: 300_000 };

/**
 * Canonical repo-relative form of a user-supplied path: no leading `./` or `/`, no trailing `/`,
 * '' for the root. Throws `path_not_found` for `..`, `.` segments or control characters.
 */
export function normalizeTreePath(path: string): string {
  const trimmed = path.trim().replace(/\/{2,}/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed === '.') return '';
  const bad = trimmed.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') || /[\0-\x1f\x7f]/.test(trimmed);
  if (bad) throw new SynclineError('path_not_found', `Path '${printable(path)}' is not a valid repository path`);
  return trimmed;
}

function printable(text: string): string {
  const p = text.replace(/[^\x20-\x7e]/g, '?');
  return p.length > 200 ? `${p.slice(0, 200)}…` : p;
}

function tooLarge(message: string, details: Record<string, unknown>): SynclineError {
  return new SynclineError('specs_too_large', message, details);
}

/**
 * Lists regular files under `path` at `commit` (a full commit id) with sizes, without reading
 * them. `path` may name a folder or a single file; '' or '.' is the root.
 */
export async function listTree(
  dir: string,
  commit: string,
  path: string,
  opts: Pick<ReadTreeOptions, 'sourceName' | 'timeouts'> = {},
): Promise<TreeEntry[]> {
  if (!FULL_SHA_RE.test(commit)) {
    throw new SynclineError('ref_not_found', `'${printable(commit)}' is not a commit id`);
  }
  const normalized = normalizeTreePath(path);
  const source = opts.sourceName ?? 'source';
  const notFound = (): SynclineError =>
    new SynclineError(
      'path_not_found',
      `Path '${printable(normalized || '.')}' not found at commit ${commit.slice(0, 12)} in source '${source}'`,
      { path: normalized, commit },
    );
  // Walked through the repository's cat-file worker (one round trip per tree depth) instead of
  // an `ls-tree -r` process. `<commit>:<path>` takes the path literally: no pathspec magic.
  const [head, root] = await catFile(dir, [
    { op: 'info', name: commit },
    { op: 'contents', name: normalized ? `${commit}:${normalized}` : `${commit}^{tree}` },
  ]);
  if (!head || head.type !== 'commit') {
    throw new SynclineError('ref_not_found', `Commit ${commit} not found in source '${source}'`);
  }
  // A submodule at the path lists as an entry `ls-tree` would skip.
  if (root?.type === 'commit') return [];
  if (!root || (root.type !== 'tree' && root.type !== 'blob')) throw notFound();
  const oidBytes = commit.length / 2;

  if (root.type === 'blob') {
    // A single file: its mode (regular, executable, symlink) is in the parent tree.
    const slash = normalized.lastIndexOf('/');
    const parentName = slash === -1 ? `${commit}^{tree}` : `${commit}:${normalized.slice(0, slash)}`;
    const [parent] = await catFile(dir, [{ op: 'contents', name: parentName }]);
    const base = normalized.slice(slash + 1);
    const entry = parent?.type === 'tree' ? parseTree(parent.content, oidBytes).find((e) => e.name === base) : undefined;
    if (!entry) throw notFound();
    if (!REGULAR_MODES.has(entry.mode)) return [];
    return [{ path: normalized, mode: entry.mode, size: root.size, blobSha: entry.oid }];
  }

  // Breadth-first over subtrees (one cat-file request per depth), then flattened depth-first in
  // tree order, which is the order `ls-tree -r` prints. Parsing, flattening and sizing a large
  // tree (10,000 entries) runs in slices of at most SLICE_MS with event-loop turns between.
  const slicer = listingClock();
  const trees = new Map<string, RawTreeEntry[]>([[root.oid, await parseTreeSliced(root.content, oidBytes, slicer)]]);
  let frontier = [root.oid];
  let count = 0;
  while (frontier.length > 0) {
    const wanted = new Set<string>();
    for (const oid of frontier) {
      for (const e of trees.get(oid) ?? []) {
        count += 1;
        if (e.mode === '40000' && !trees.has(e.oid)) wanted.add(e.oid);
      }
    }
    if (count > MAX_TREE_ENTRIES) {
      throw tooLarge(`Path '${printable(normalized || '.')}' holds too many entries to read`, { path: normalized });
    }
    const oids = [...wanted];
    const answers = await catFile(dir, oids.map((name) => ({ op: 'contents' as const, name })));
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i]!;
      if (a.type !== 'tree') throw new Error(`Tree ${oids[i]} could not be read`);
      trees.set(oids[i]!, await parseTreeSliced(a.content, oidBytes, slicer));
    }
    frontier = oids;
  }
  let leaves = 0;
  // Sizes are filled in below (-1 until then).
  const files: TreeEntry[] = [];
  // Depth-first, iteratively (a stack of [entries, index, prefix]) so it can pause between entries.
  const stack: Array<{ entries: RawTreeEntry[]; i: number; prefix: string }> = [{ entries: trees.get(root.oid) ?? [], i: 0, prefix: normalized }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.entries.length) {
      stack.pop();
      continue;
    }
    const e = top.entries[top.i++]!;
    const p = top.prefix ? `${top.prefix}/${e.name}` : e.name;
    if (e.mode === '40000') {
      stack.push({ entries: trees.get(e.oid) ?? [], i: 0, prefix: p });
      continue;
    }
    leaves += 1;
    // 120000 symlink, 160000 submodule: skipped, never followed.
    if (REGULAR_MODES.has(e.mode)) files.push({ path: p, mode: e.mode, size: -1, blobSha: e.oid });
    if (slicer.due()) await slicer.turn();
  }
  if (leaves === 0) throw notFound();
  // Sizes of blobs listed before come from blobSizes: a one-file commit asks for one size, not
  // for every file's (1,000 `info` answers cost ~15 ms of this thread on a loaded machine).
  const unknown = new Set<string>();
  for (const f of files) {
    const known = blobSizes.get(f.blobSha);
    if (known !== undefined) f.size = known;
    else unknown.add(f.blobSha);
  }
  if (unknown.size > 0) {
    const shas = [...unknown];
    const sizes = new Map<string, number>();
    const answers = await catFile(dir, shas.map((name) => ({ op: 'info' as const, name })));
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i]!;
      if (a.type !== 'blob') throw new Error(`Blob ${shas[i]} could not be read`);
      sizes.set(shas[i]!, a.size);
      rememberBlobSize(shas[i]!, a.size);
      if (slicer.due()) await slicer.turn();
    }
    for (const f of files) if (f.size === -1) f.size = sizes.get(f.blobSha)!;
  }
  return files;
}

/** Longest stretch of listing work before the event loop gets a turn. */
const SLICE_MS = 4;

/** A clock for the listing's loops: cheap per item, it reads the time every 64 calls. */
const listingClock = (): SliceClock => new SliceClock({ sliceMs: SLICE_MS, checkEvery: 64 });

/**
 * Blob sizes by object id, from earlier listings. An id names its content (and so its size) in
 * every repository, and a mirror holds every blob its trees name (fetches check connectivity),
 * so a size known once needs no lookup again. Bounded: the oldest entries go first.
 */
const blobSizes = new Map<string, number>();
const MAX_BLOB_SIZES = 100_000;

function rememberBlobSize(oid: string, size: number): void {
  if (blobSizes.size >= MAX_BLOB_SIZES) {
    const oldest = blobSizes.keys().next().value;
    if (oldest !== undefined) blobSizes.delete(oldest);
  }
  blobSizes.set(oid, size);
}

/** Forgets every remembered blob size (tests). */
export function clearBlobSizes(): void {
  blobSizes.clear();
}

export interface RawTreeEntry {
  mode: string;
  name: string;
  oid: string;
}

const MAX_TREE_ENTRIES = 2_000_000;

/** Parses a raw tree object: repeated `<mode> <name>\0<binary oid>`; modes canonicalised as git does. */
export function parseTree(raw: Buffer, oidBytes: number): RawTreeEntry[] {
  const out: RawTreeEntry[] = [];
  let pos = 0;
  while (pos < raw.length) pos = parseTreeEntry(raw, pos, oidBytes, out);
  return out;
}

/** parseTree in slices (a 10,000-entry tree is ~0.5 MB). */
async function parseTreeSliced(raw: Buffer, oidBytes: number, slicer: SliceClock): Promise<RawTreeEntry[]> {
  const out: RawTreeEntry[] = [];
  let pos = 0;
  while (pos < raw.length) {
    pos = parseTreeEntry(raw, pos, oidBytes, out);
    if (slicer.due()) await slicer.turn();
  }
  return out;
}

/** Parses the entry at `pos` into `out`; returns the next entry's position. */
function parseTreeEntry(raw: Buffer, pos: number, oidBytes: number, out: RawTreeEntry[]): number {
  const space = raw.indexOf(0x20, pos);
  const nul = raw.indexOf(0, space + 1);
  if (space === -1 || nul === -1 || nul + 1 + oidBytes > raw.length) throw new Error('Malformed tree object');
  out.push({ mode: treeMode(raw, pos, space), name: raw.toString('utf8', space + 1, nul), oid: raw.toString('hex', nul + 1, nul + 1 + oidBytes) });
  return nul + 1 + oidBytes;
}

/** The entry's mode as `ls-tree` prints it: `100xxx` canonicalised to 100644/100755, `040000` → 40000. */
function treeMode(raw: Buffer, start: number, end: number): string {
  // The common modes without a string allocation (git writes these exact bytes).
  if (end - start === 6 && raw[start] === 0x31 && raw[start + 1] === 0x30 && raw[start + 2] === 0x30) {
    const d = raw[start + 3]!;
    if (d >= 0x30 && d <= 0x37 && raw[start + 4]! >= 0x30 && raw[start + 4]! <= 0x37 && raw[start + 5]! >= 0x30 && raw[start + 5]! <= 0x37) {
      return ((d - 0x30) & 0o1) !== 0 ? '100755' : '100644';
    }
  }
  if (end - start === 5 && raw.toString('latin1', start, end) === '40000') return '40000';
  let mode = raw.toString('latin1', start, end);
  if (mode.startsWith('100')) mode = (parseInt(mode, 8) & 0o100) !== 0 ? '100755' : '100644';
  else if (mode === '040000') mode = '40000';
  return mode;
}

/**
 * The regular files under `path` at `commit` that pass `filter`, with the caps checked on the
 * listing, so an oversize file or tree fails with `specs_too_large` before any content is read.
 * Read them with readEntries (a caller may skip blobs it already knows, by blob id).
 */
export async function selectTree(dir: string, commit: string, path: string, opts: ReadTreeOptions = {}): Promise<TreeEntry[]> {
  const limits: TreeLimits = {
    maxFileBytes: opts.maxFileBytes ?? DEFAULT_TREE_LIMITS.maxFileBytes,
    maxFiles: opts.maxFiles ?? DEFAULT_TREE_LIMITS.maxFiles,
    maxTotalBytes: opts.maxTotalBytes ?? DEFAULT_TREE_LIMITS.maxTotalBytes,
  };
  const all = await listTree(dir, commit, path, opts);
  const filter = opts.filter;
  let entries = all;
  if (filter) {
    entries = [];
    const slicer = listingClock();
    for (const e of all) {
      if (filter(e.path)) entries.push(e);
      if (slicer.due()) await slicer.turn();
    }
  }
  checkLimits(entries, limits);
  return entries;
}

/** The content of `entries` (from selectTree) through one `cat-file --batch`. */
export async function readEntries(dir: string, entries: TreeEntry[], timeouts?: GitTimeouts): Promise<TreeFile[]> {
  if (entries.length === 0) return [];
  const shas = new Set<string>();
  for (const e of entries) shas.add(e.blobSha);
  const blobs = await readBlobs(dir, [...shas], timeouts);
  // 10,000 entries are paired with their blobs in slices.
  const slicer = listingClock();
  const out: TreeFile[] = [];
  for (const e of entries) {
    const content = blobs.get(e.blobSha);
    if (!content || content.length !== e.size) throw new Error(`Blob ${e.blobSha} for '${e.path}' could not be read`);
    out.push({ path: e.path, size: e.size, blobSha: e.blobSha, executable: e.mode === '100755', content });
    if (slicer.due()) await slicer.turn();
  }
  return out;
}

function checkLimits(entries: TreeEntry[], limits: TreeLimits): void {
  if (entries.length > limits.maxFiles) {
    throw tooLarge(`${entries.length} files exceed the limit of ${limits.maxFiles} files`, {
      files: entries.length,
      limit: limits.maxFiles,
    });
  }
  let total = 0;
  for (const e of entries) {
    if (e.size > limits.maxFileBytes) {
      throw tooLarge(`File '${printable(e.path)}' is ${e.size} bytes; the limit is ${limits.maxFileBytes} bytes per file`, {
        file: e.path,
        size: e.size,
        limit: limits.maxFileBytes,
      });
    }
    total += e.size;
  }
  if (total > limits.maxTotalBytes) {
    throw tooLarge(`Files total ${total} bytes; the limit is ${limits.maxTotalBytes} bytes`, {
      total,
      limit: limits.maxTotalBytes,
    });
  }
}

/** Reads blobs through the repository's cat-file worker (no process of their own). */
async function readBlobs(dir: string, shas: string[], _timeouts?: GitTimeouts): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  // Requests are ids from the tree listing (hex only).
  const answers = await catFile(dir, shas.map((name) => ({ op: 'contents' as const, name })));
  const slicer = listingClock();
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i]!;
    if (a.type !== 'blob') throw new Error(`cat-file: ${shas[i]} is ${a.type}, expected a blob`);
    blobs.set(a.oid, a.content);
    if (slicer.due()) await slicer.turn();
  }
  return blobs;
}
