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
if (!process.argv.includes('--quiet')) {
  console.log(`built ${entryPoints.length} files into dist/ in ${Date.now() - started} ms`);
}
