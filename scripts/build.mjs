#!/usr/bin/env node
// Compiles src/ to dist/ so `npm start` and bin/syncline.js run plain JavaScript: no TypeScript
// loader at start-up. Type checking is `npm run typecheck`. Runs during `npm ci` (the `prepare`
// script), before the tests and before a soak.
//
// The output is bundled (esbuild, code-split): loading ~170 compiled files and ~400 package files
// one by one cost about half of every start (the server and each local-mode CLI call: 0.55 s of
// CPU for `token list`, 0.3 s bundled). Two entry points, dist/cli/main.js and the parse worker
// dist/cli/parse-worker.js; every chunk sits beside them in dist/cli/, so a path a module finds
// relative to its own URL (the parse worker, ../../bin, ../../package.json, ui/dist) is the same
// from whichever chunk the module lands in. Tests run src/ as it is.
//
//   node scripts/build.mjs [--quiet] [--outdir DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const outFlag = argv.indexOf('--outdir');
const out = outFlag >= 0 ? path.resolve(argv[outFlag + 1] ?? '') : path.join(root, 'dist');

// Packages left to Node's loader: native addons (better-sqlite3; pg's optional native binding),
// packages that read their own files or start workers from paths next to them at run time
// (graphile-worker's SQL migrations, pino's transports, swagger-ui's and static's assets), and
// dev-only loaders. Everything else is pure JavaScript and is bundled.
const EXTERNAL = new Set([
  'better-sqlite3',
  'pg',
  'graphile-worker',
  'pino',
  'thread-stream',
  '@fastify/static',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'cli-progress',
  'tsx',
  'esbuild',
]);
const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

const started = Date.now();
fs.rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts', 'cli/parse-worker': 'src/specs/parse-worker.ts' },
  outdir: out,
  chunkNames: 'cli/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  // Bundled CommonJS packages call `require` for Node built-ins and the external packages.
  banner: { js: "import { createRequire as __syncline_cr } from 'node:module'; const require = __syncline_cr(import.meta.url);" },
  plugins: [
    {
      name: 'syncline-externals',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('node:') || EXTERNAL.has(packageOf(args.path))) return { path: args.path, external: true };
          return undefined;
        });
      },
    },
  ],
});

// `await import('pkg')` of a CommonJS package that is bundled gives a module with only `default`
// (esbuild does not reproduce Node's named exports for it), so `const { x } = await import('pkg')`
// works from src/ and breaks here. Such an import compiles to a chunk that only re-exports the
// package's module object; refuse to build one. Import the package statically in a module of ours
// and load that module with import() instead.
const cjsWrappers = Object.keys(result.metafile.outputs).filter(
  (f) => f.endsWith('.js') && /^export default require_\w+\(\);$/m.test(fs.readFileSync(path.resolve(root, f), 'utf8')),
);
if (cjsWrappers.length > 0) {
  console.error(`build: import() of a bundled CommonJS package, whose named exports would be undefined (see ${cjsWrappers.join(', ')})`);
  process.exit(1);
}

if (!argv.includes('--quiet')) {
  const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
  const bytes = files.reduce((n, f) => n + result.metafile.outputs[f].bytes, 0);
  console.log(`built ${files.length} files (${(bytes / 1024 / 1024).toFixed(1)} MiB) into ${path.relative(root, out) || '.'}/ in ${Date.now() - started} ms`);
}
