/**
 * selectSpecFiles matches through compiled Minimatch objects (compileGlobs) instead of calling
 * `minimatch(path, glob, options)` per path and glob. This checks that the choice is the same as
 * the per-call implementation it replaced, over a matrix of patterns, options and paths.
 */
import { minimatch } from 'minimatch';
import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { compileGlobs, IGNORE_FILE, selectSpecFiles, selectSpecFilesSliced, type FileRules, type FileSelection } from '../../../src/specs/select.js';
import { DEFAULT_INCLUDE } from '../../../src/contracts/namespaces.js';
import { isSpecFile } from '../../../src/specs/parse.js';

/** The implementation before compiled matchers (4f769f8), verbatim but for the names. */
function oldSelect(paths: readonly string[], nsPath: string, rules: FileRules = {}): FileSelection {
  const GLOB_OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;
  const include = rules.include && rules.include.length ? rules.include : DEFAULT_INCLUDE;
  const exclude = rules.exclude ?? [];
  const ig = rules.ignoreFile ? ignore().add(rules.ignoreFile) : null;
  const prefix = nsPath === '' ? '' : `${nsPath}/`;
  const selected: string[] = [];
  const skipped: Array<{ path: string; rule: string }> = [];
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

const PATTERNS = [
  '**/*.yaml', '**/*.yml', '*.yaml', '*.y?(a)ml', '**/*.{yaml,yml,json}', 'charts/**', 'charts/**/*.yaml', '**/charts/**',
  '**', '*', '**/.*', '.*/**', '.hidden/*.yaml', 'a/b/c.yaml', 'a/*/c.yaml', 'a/**/c.yaml', '**/c.yaml', '?.yaml',
  '[ab]*.yaml', '[!a]*.yaml', '**/*[0-9].yaml', '+(a|b)/*.yaml', '!(charts)/**', '@(x|y).yml', 'dir/', './a.yaml',
  '/a.yaml', '#comment', '!negated/*.yaml', '\\*.yaml', 'a\\/b.yaml', '**/x/**/y/*.yml', 'ü/*.yaml', 'A.YAML', '',
  'kustomization.yaml', '**/kustomization.yaml', 'base/{dev,prod}/**',
  // A large brace expansion (256 forms): compiled per selection, not kept across them.
  '{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}/**/*.yaml',
];
const PATHS = [
  'a.yaml', 'b.yml', 'c.json', 'README.md', '.hidden/x.yaml', '.env.yaml', 'a/b/c.yaml', 'a/x/c.yaml', 'a/x/y/c.yaml',
  'charts/app/values.yaml', 'charts/app/templates/deploy.yaml', 'x/charts/y.yaml', 'x/y.yml', 'x/y/z/w.yaml',
  '1.yaml', 'x9.yaml', 'ü/ñ.yaml', 'A.YAML', 'kustomization.yaml', 'base/dev/k.yaml', 'base/prod/deep/k.yml',
  'base/test/k.yaml', '*.yaml', 'a/.yaml', 'dir/file', '.synclineignore', 'x.yaml.bak', 'x/.y/z.yaml', 'a b/c d.yaml',
];
const NS_PATHS = ['', 'a', 'base', 'charts/app'];

describe('selectSpecFiles with compiled matchers', () => {
  it('chooses exactly what the per-call minimatch implementation chose, over a matrix of rules', async () => {
    const paths = [...PATHS, ...NS_PATHS.filter(Boolean).flatMap((ns) => PATHS.map((p) => `${ns}/${p}`))];
    let cases = 0;
    for (const ns of NS_PATHS) {
      const ruleSets: FileRules[] = [{}, { include: [] }, { ignoreFile: 'charts/\n*.yml\n!keep.yml\n' }];
      for (const g of PATTERNS) {
        ruleSets.push({ include: [g] }, { exclude: [g] }, { include: [g, '**/*.yml'], exclude: ['charts/**', g] });
      }
      for (let i = 0; i + 1 < PATTERNS.length; i += 3) {
        ruleSets.push({ include: [PATTERNS[i]!, PATTERNS[i + 1]!], exclude: [PATTERNS[i + 2] ?? '**/x/**'], ignoreFile: 'x/\n' });
      }
      for (const rules of ruleSets) {
        const expected = oldSelect(paths, ns, rules);
        expect(selectSpecFiles(paths, ns, rules), JSON.stringify({ ns, rules })).toEqual(expected);
        expect(await selectSpecFilesSliced(paths, ns, rules, () => new Promise((r) => setImmediate(r)), 0)).toEqual(expected);
        cases += 1;
      }
    }
    expect(cases).toBeGreaterThan(400);
  });

  it('compileGlobs answers what minimatch(path, glob, options) answers, with either option set', () => {
    for (const options of [{ dot: true }, { dot: true, nocomment: true, nonegate: true }]) {
      const matchers = compileGlobs(PATTERNS, options);
      for (const p of PATHS) {
        PATTERNS.forEach((g, i) => expect(matchers[i]!(p), `${g} ${p} ${JSON.stringify(options)}`).toBe(minimatch(p, g, options)));
      }
    }
  });
});
