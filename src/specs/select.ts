/**
 * Which files under a namespace's path are specs. Pure: takes repo-relative paths, returns the
 * chosen ones and the skipped ones with the rule that skipped them — nothing is dropped silently.
 *
 * - `include` globs (default `**\/*.yaml`, `**\/*.yml`) and `exclude` globs, relative to the
 *   namespace path (minimatch, dotfiles matched too);
 * - `.synclineignore` at the namespace path, gitignore syntax (read from git at the commit).
 * A `.yaml`/`.yml` file that is not included, or a file excluded by a rule, is listed as skipped
 * with its rule (`include`, `exclude: charts/**`, `.synclineignore: charts/`). Files that are
 * neither `.yaml`/`.yml` nor included are not candidates and are not listed. Nothing is excluded
 * by magic: Helm charts and kustomizations are skipped only when a rule says so.
 */
import ignore from 'ignore';
import { minimatch } from 'minimatch';
import { DEFAULT_INCLUDE } from '../contracts/namespaces.js';
import { isSpecFile } from './parse.js';

export const IGNORE_FILE = '.synclineignore';
export { DEFAULT_INCLUDE };

export interface FileRules {
  include?: readonly string[] | null;
  exclude?: readonly string[] | null;
  /** Text of the `.synclineignore` at the namespace path, if there is one. */
  ignoreFile?: string | null;
}

export interface SkippedFile {
  path: string;
  rule: string;
}

export interface FileSelection {
  selected: string[];
  skipped: SkippedFile[];
}

const GLOB_OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

/** `paths` are repo-relative; `nsPath` is the namespace's folder ('' = the repository root). */
export function selectSpecFiles(paths: readonly string[], nsPath: string, rules: FileRules = {}): FileSelection {
  const include = rules.include && rules.include.length ? rules.include : DEFAULT_INCLUDE;
  const exclude = rules.exclude ?? [];
  const ig = rules.ignoreFile ? ignore().add(rules.ignoreFile) : null;
  const prefix = nsPath === '' ? '' : `${nsPath}/`;
  const selected: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const path of paths) {
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length);
    if (rel === IGNORE_FILE) continue;
    const included = include.some((g) => minimatch(rel, g, GLOB_OPTIONS));
    if (!included) {
      if (isSpecFile(path)) skipped.push({ path, rule: `include: ${include.join(', ')}` });
      continue;
    }
    const excludedBy = exclude.find((g) => minimatch(rel, g, GLOB_OPTIONS));
    if (excludedBy !== undefined) {
      skipped.push({ path, rule: `exclude: ${excludedBy}` });
      continue;
    }
    const ignored = ig?.checkIgnore(rel);
    if (ignored?.ignored) {
      skipped.push({ path, rule: `${IGNORE_FILE}: ${ignored.rule?.pattern ?? '?'}` });
      continue;
    }
    selected.push(path);
  }
  return { selected, skipped };
}
