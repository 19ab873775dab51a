#!/usr/bin/env node
// Compiles src/**/*.ts to dist/ (ES modules for Node 20, with source maps) so `npm start` and
// bin/syncline.js run plain JavaScript: no TypeScript loader at start-up. Each file is
// transpiled on its own (the sources use `.js` import specifiers already); type checking is
// `npm run typecheck`. Runs during `npm ci` (the `prepare` script) and before the tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist');

function listTs(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.isFile() && p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function listJs(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listJs(p);
    return e.isFile() && p.endsWith('.js') ? [p] : [];
  });
}

const started = Date.now();
fs.rmSync(out, { recursive: true, force: true });
const entryPoints = listTs(src);
await build({
  entryPoints,
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  bundle: false,
  logLevel: 'warning',
});

// Kysely ships ~260 ES module files; loading them one by one costs ~0.25 s of CPU at every start
// (the server and each local-mode CLI call), bundled it is one file and ~0.04 s. So dist/ gets
// one bundled copy, and the compiled files import it instead of the package (one instance: nothing
// else in dist/ or node_modules imports kysely). Tests run src/ and use the package as it is.
const VENDORED = ['kysely'];
for (const pkg of VENDORED) {
  await build({
    stdin: { contents: `export * from ${JSON.stringify(pkg)};`, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: path.join(out, 'vendor', `${pkg}.js`),
    logLevel: 'warning',
  });
}
const importOf = (pkg) => new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*)"${pkg}"`, 'g');
for (const file of listJs(out)) {
  if (file.startsWith(path.join(out, 'vendor') + path.sep)) continue;
  let text = fs.readFileSync(file, 'utf8');
  let changed = false;
  for (const pkg of VENDORED) {
    const target = path.relative(path.dirname(file), path.join(out, 'vendor', `${pkg}.js`)).split(path.sep).join('/');
    const next = text.replace(importOf(pkg), (_m, lead) => `${lead}"${target.startsWith('.') ? target : `./${target}`}"`);
    if (next !== text) [text, changed] = [next, true];
  }
  if (changed) fs.writeFileSync(file, text);
}

if (!process.argv.includes('--quiet')) {
  console.log(`built ${entryPoints.length} files into dist/ in ${Date.now() - started} ms`);
}
