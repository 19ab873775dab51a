import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Prints the initial JavaScript (the entry chunk and what it imports statically) gzipped, the
 * number the budget (≤ 250 KB) is about. Lazy pages are not counted.
 */
function initialSize(): Plugin {
  return {
    name: 'syncline-initial-size',
    apply: 'build',
    writeBundle(options, bundle) {
      const chunks = new Map(Object.values(bundle).filter((c) => c.type === 'chunk').map((c) => [c.fileName, c]));
      const seen = new Set<string>();
      const visit = (name: string) => {
        const c = chunks.get(name);
        if (!c || seen.has(name)) return;
        seen.add(name);
        for (const i of c.imports) visit(i);
      };
      for (const c of chunks.values()) if (c.isEntry) visit(c.fileName);
      let gz = 0;
      for (const name of seen) gz += zlib.gzipSync(fs.readFileSync(path.join(options.dir!, name)), { level: 9 }).length;
      const kb = (gz / 1024).toFixed(1);
      const budget = 250;
      // eslint-disable-next-line no-console
      console.log(`\nSyncline UI: initial JS ${kb} KB gzipped (${seen.size} chunks; budget ${budget} KB)${gz / 1024 > budget ? '  OVER BUDGET' : ''}\n`);
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react(), initialSize()],
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7420' } },
});
