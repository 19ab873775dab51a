/**
 * Reads the files under a path at a commit: one `ls-tree -r --long` to list (sizes included, so
 * oversize content is refused before a byte of it is read) and ONE `cat-file --batch` process for
 * all blobs. Only regular files are returned: symlinks are skipped, never followed (a symlink to
 * `/etc/passwd` in a repo must not become spec content), and submodules are skipped.
 */
import { FULL_SHA_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import { CatFileBatchParser } from './cat-file-parser.js';
import { GitError } from './git-error.js';
import { runGit, spawnGit, type GitTimeouts } from './runner.js';

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
  const args = ['ls-tree', '-r', '-z', '--long', commit];
  if (normalized) args.push('--', normalized);
  let stdout: Buffer;
  try {
    ({ stdout } = await runGit(args, {
      cwd: dir,
      // Pathspec magic (`:(glob)`, `:/`) must not apply to user-supplied paths.
      env: { GIT_LITERAL_PATHSPECS: '1' },
      maxStdoutBytes: 256 * 1024 * 1024,
      ...LOCAL,
      ...opts.timeouts,
    }));
  } catch (err) {
    if (err instanceof GitError && err.reason === 'output_too_large') {
      throw tooLarge(`Path '${printable(normalized || '.')}' holds too many entries to read`, { path: normalized });
    }
    if (err instanceof GitError && /not a (valid object name|tree object)/i.test(err.stderr)) {
      throw new SynclineError('ref_not_found', `Commit ${commit} not found in source '${opts.sourceName ?? 'source'}'`);
    }
    throw err;
  }

  const records = stdout.toString('utf8').split('\0').filter(Boolean);
  if (records.length === 0) {
    throw new SynclineError(
      'path_not_found',
      `Path '${printable(normalized || '.')}' not found at commit ${commit.slice(0, 12)} in source '${opts.sourceName ?? 'source'}'`,
      { path: normalized, commit },
    );
  }
  const entries: TreeEntry[] = [];
  for (const record of records) {
    const m = LS_TREE_LINE.exec(record);
    if (!m) throw new Error(`Unexpected ls-tree output: ${printable(record)}`);
    const [, mode = '', type, sha = '', size = '-', entryPath = ''] = m;
    // 120000 symlink, 160000 submodule (type commit): skipped, never followed.
    if (type !== 'blob' || !REGULAR_MODES.has(mode)) continue;
    entries.push({ path: entryPath, mode, size: Number(size), blobSha: sha });
  }
  return entries;
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
  const entries = opts.filter ? all.filter((e) => opts.filter?.(e.path)) : all;
  checkLimits(entries, limits);
  return entries;
}

/** The content of `entries` (from selectTree) through one `cat-file --batch`. */
export async function readEntries(dir: string, entries: TreeEntry[], timeouts?: GitTimeouts): Promise<TreeFile[]> {
  if (entries.length === 0) return [];
  const blobs = await readBlobs(dir, [...new Set(entries.map((e) => e.blobSha))], timeouts);
  return entries.map((e) => {
    const content = blobs.get(e.blobSha);
    if (!content || content.length !== e.size) throw new Error(`Blob ${e.blobSha} for '${e.path}' could not be read`);
    return { path: e.path, size: e.size, blobSha: e.blobSha, executable: e.mode === '100755', content };
  });
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

/** Reads blobs through a single `cat-file --batch` process, parsing its output as it streams. */
async function readBlobs(dir: string, shas: string[], timeouts?: GitTimeouts): Promise<Map<string, Buffer>> {
  const proc = spawnGit(['cat-file', '--batch'], { cwd: dir, ...LOCAL, ...timeouts });
  const parser = new CatFileBatchParser();
  const blobs = new Map<string, Buffer>();
  let parseError: Error | undefined;
  proc.stdout.on('data', (chunk: Buffer) => {
    if (parseError) return;
    try {
      for (const obj of parser.push(chunk)) {
        if (obj.type !== 'blob') throw new Error(`cat-file: ${obj.oid} is ${obj.type}, expected a blob`);
        blobs.set(obj.oid, obj.content);
      }
    } catch (err) {
      parseError = err as Error;
      proc.kill();
    }
  });
  // Requests are ids from ls-tree (hex only); stdin is buffered, git reads as it answers.
  proc.stdin.end(shas.map((s) => `${s}\n`).join(''));

  const exit = await proc.done;
  if (parseError) throw parseError;
  if (exit.killedFor || exit.code !== 0) {
    const reason = exit.killedFor ?? (exit.spawnError ? 'spawn' : 'exit');
    throw new GitError(reason, proc.args, exit.code, exit.stderr, exit.killedFor ? `killed (${exit.killedFor})` : undefined);
  }
  parser.end();
  return blobs;
}
