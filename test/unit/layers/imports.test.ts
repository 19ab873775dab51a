/**
 * Dependencies point down: nothing below the HTTP layer imports from `server/` (or the CLI), and
 * the contracts and pure layers import no I/O layer. Scans the import statements of src/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a file, resolved to a path relative to src/ (`server/app.ts`). */
export function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g), ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1]!)
    .filter((s) => s.startsWith('.'));
  return specs.map((s) => path.relative(SRC, path.resolve(path.dirname(file), s)).split(path.sep).join('/'));
}

/** Top-level area of a src-relative path: `server/routes/x.ts` → `server`, `errors.ts` → `errors.ts`. */
const area = (rel: string) => rel.split('/')[0]!;

const RULES: { layer: string; forbidden: string[] }[] = [
  { layer: 'contracts', forbidden: ['server', 'cli', 'store', 'sync', 'git', 'mirror', 'specs', 'plan', 'security', 'events', 'providers', 'config', 'app-context.js'] },
  { layer: 'plan', forbidden: ['server', 'cli', 'store', 'sync', 'git', 'mirror', 'events', 'providers', 'app-context.js'] },
  { layer: 'specs', forbidden: ['server', 'cli', 'store', 'sync', 'git', 'mirror', 'plan', 'events', 'providers', 'app-context.js'] },
  { layer: 'store', forbidden: ['server', 'cli', 'sync', 'mirror'] },
  { layer: 'git', forbidden: ['server', 'cli', 'store', 'sync', 'mirror'] },
  { layer: 'sync', forbidden: ['server', 'cli'] },
  { layer: 'mirror', forbidden: ['server', 'cli'] },
  { layer: 'security', forbidden: ['server', 'cli', 'store', 'sync', 'mirror'] },
  { layer: 'providers', forbidden: ['server', 'cli', 'sync', 'mirror'] },
  { layer: 'events', forbidden: ['server', 'cli'] },
  { layer: 'jobs', forbidden: ['server', 'cli'] },
  { layer: 'webhooks', forbidden: ['server', 'cli'] },
  { layer: 'cluster', forbidden: ['server', 'cli'] },
  // A leaf: caches and the invalidation bus know nothing of what they hold.
  { layer: 'cache', forbidden: ['server', 'cli', 'store', 'sync', 'git', 'mirror', 'specs', 'plan', 'events', 'providers', 'security', 'config', 'app-context.js'] },
];

describe('layers', () => {
  for (const { layer, forbidden } of RULES) {
    it(`${layer}/ imports nothing from ${forbidden.join(', ')}`, () => {
      const dir = path.join(SRC, layer);
      if (!fs.existsSync(dir)) return;
      const bad = filesUnder(dir).flatMap((f) =>
        importsOf(f)
          .filter((target) => forbidden.includes(area(target)))
          .map((target) => `${path.relative(SRC, f)} → ${target}`),
      );
      expect(bad).toEqual([]);
    });
  }

  it('the scan sees imports (a server file importing server/ is found)', () => {
    const app = importsOf(path.join(SRC, 'server/app.ts'));
    expect(app.some((t) => area(t) === 'server')).toBe(true);
    expect(app).toContain('app-context.js');
  });

  it('only server/ knows HTTP statuses: no statusCode on domain errors', () => {
    const offenders = filesUnder(SRC)
      .filter((f) => !path.relative(SRC, f).startsWith('server/') && !path.relative(SRC, f).startsWith('mirror/git-http'))
      .filter((f) => /\bstatusCode\s*[=:]\s*\d{3}/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('a remote CLI call loads neither zod nor the server: the static value imports of cli/main.ts stay light', () => {
    // Dynamic import() (local mode) and `import type` are not loaded up front; everything else is.
    const valueImports = (file: string) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\b)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    const seen = new Set<string>();
    const packages = new Set<string>();
    const walk = (rel: string) => {
      if (seen.has(rel)) return;
      seen.add(rel);
      const file = path.join(SRC, rel.replace(/\.js$/, '.ts'));
      for (const spec of valueImports(file)) {
        if (spec.startsWith('.')) walk(path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep).join('/'));
        else if (!spec.startsWith('node:')) packages.add(spec);
      }
    };
    walk('cli/main.js');
    expect([...seen].filter((f) => area(f) === 'server')).toEqual([]);
    expect([...packages].sort()).toEqual(['commander']);
  });
});
