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
import { Minimatch, type MinimatchOptions } from 'minimatch';
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

/**
 * Compiled glob matchers, kept by options and pattern: `minimatch(path, glob, options)` looks its
 * compiled pattern up in minimatch's own cache on every call (validating the pattern and keying
 * the options first), which was most of the cost of choosing among 10,000 paths. The same
 * Minimatch objects answer the same (`test/unit/specs/select.test.ts` compares them over a
 * matrix of patterns and paths). Bounded: cleared when it holds MAX_COMPILED patterns, and a
 * pattern heavier than MAX_COMPILED_WEIGHT (a large brace expansion) is not kept.
 */
const compiled = new Map<string, Minimatch>();
const MAX_COMPILED = 512;
const MAX_COMPILED_WEIGHT = 4096;

/** About the memory a compiled pattern keeps: the pattern and its brace-expanded forms. */
function compiledWeight(mm: Minimatch): number {
  let w = mm.pattern.length;
  for (const g of mm.globSet) {
    w += g.length + 1;
    if (w > MAX_COMPILED_WEIGHT) break;
  }
  return w;
}

export type GlobOptions = Pick<MinimatchOptions, 'dot' | 'nocomment' | 'nonegate'>;

/** One matcher per glob, compiled once (what `minimatch(path, glob, options)` answers per glob). */
export function compileGlobs(globs: readonly string[], options: GlobOptions = GLOB_OPTIONS): Array<(path: string) => boolean> {
  const key = `${options.dot ? 1 : 0}${options.nocomment ? 1 : 0}${options.nonegate ? 1 : 0}`;
  return globs.map((glob) => {
    // minimatch() answers a comment pattern (`#…`, unless nocomment) false without compiling it.
    if (!options.nocomment && glob.charAt(0) === '#') return () => false;
    const k = `${key}\0${glob}`;
    let mm = compiled.get(k);
    return (path: string) => {
      // Compiled on first use, as minimatch() would (an invalid pattern throws only when used).
      if (!mm) {
        mm = new Minimatch(glob, options);
        // Kept for later selections only when light (as minimatch's own cache does): a pattern
        // with a large brace expansion is compiled once per selection instead.
        if (compiledWeight(mm) <= MAX_COMPILED_WEIGHT) {
          if (compiled.size >= MAX_COMPILED) compiled.clear();
          compiled.set(k, mm);
        }
      }
      return mm.match(path);
    };
  });
}

/** `paths` are repo-relative; `nsPath` is the namespace's folder ('' = the repository root). */
export function selectSpecFiles(paths: readonly string[], nsPath: string, rules: FileRules = {}): FileSelection {
  const steps = selectSteps(paths, nsPath, rules);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * selectSpecFiles in slices: gives the event loop a turn (`pause`) whenever `sliceMs` have
 * passed, so choosing among 10,000 paths never holds it. Same result as selectSpecFiles.
 */
export async function selectSpecFilesSliced(
  paths: readonly string[],
  nsPath: string,
  rules: FileRules,
  pause: () => Promise<void>,
  sliceMs = 4,
): Promise<FileSelection> {
  const steps = selectSteps(paths, nsPath, rules);
  let start = performance.now();
  let step = steps.next();
  while (!step.done) {
    if (performance.now() - start >= sliceMs) {
      await pause();
      start = performance.now();
    }
    step = steps.next();
  }
  return step.value;
}

/** The selection, pausing (a bare `yield`) every 64 paths. */
function* selectSteps(paths: readonly string[], nsPath: string, rules: FileRules): Generator<void, FileSelection, void> {
  const include = rules.include && rules.include.length ? rules.include : DEFAULT_INCLUDE;
  const exclude = rules.exclude ?? [];
  const includeMatch = compileGlobs(include);
  const excludeMatch = compileGlobs(exclude);
  const ig = rules.ignoreFile ? ignore().add(rules.ignoreFile) : null;
  const prefix = nsPath === '' ? '' : `${nsPath}/`;
  const selected: string[] = [];
  const skipped: SkippedFile[] = [];
  let n = 0;
  for (const path of paths) {
    if (++n % 64 === 0) yield;
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length);
    if (rel === IGNORE_FILE) continue;
    const included = includeMatch.some((m) => m(rel));
    if (!included) {
      if (isSpecFile(path)) skipped.push({ path, rule: `include: ${include.join(', ')}` });
      continue;
    }
    const excludedAt = excludeMatch.findIndex((m) => m(rel));
    if (excludedAt !== -1) {
      skipped.push({ path, rule: `exclude: ${exclude[excludedAt]}` });
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
