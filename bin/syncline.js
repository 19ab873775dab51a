#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` / `npm run build`): plain JavaScript, no
// TypeScript loader, so a CLI call starts quickly.
import fs from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!fs.existsSync(main)) {
  console.error('error: Syncline is not built (dist/ is missing): run `npm run build` (npm ci does it)');
  process.exit(2);
}
await import(main.href);
