import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/**
 * Files that need a process of their own: `vi.mock` replaces a module only for a file that
 * imports it first, and these count calls into process-wide memos (tree-sizes: blob sizes).
 */
const ISOLATED = ['test/integration/git/tree-sizes.test.ts'];

const SERVER = {
  // Bounds against a hang, not speed targets: with four files at a time on a loaded 2-CPU
  // machine (load 20, a 36-minute run) a repository fixture's set-up took over 60 s.
  testTimeout: 120_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    // Most test files wait on git processes, PostgreSQL and HTTP rather than use a CPU, and each
    // has its own temp dirs, ports and database schema: four files at a time on a 2-CPU machine
    // take the suite from ~15 min (Vitest's default here, one worker) to ~6.
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: 'server',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', ...ISOLATED],
          ...SERVER,
          // Files share their worker's process: importing Fastify, the routes, pg, … once per
          // worker instead of once per file took the import time summed over the files from
          // ~300 s to ~30 s. What a file may leave behind process-wide is reset before each
          // file (test/helpers/per-file-setup.ts); files that mock modules run isolated below.
          isolate: false,
          setupFiles: ['test/helpers/per-file-setup.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'server-isolated',
          include: ISOLATED,
          ...SERVER,
        },
      },
      {
        // The browser test runs after the others, on its own: Chromium plus three CPU-heavy test
        // files on two CPUs made its 15 s waits for a page run out (a dialog's plan, a list).
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins: [react()],
        test: {
          name: 'ui',
          include: ['ui/src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          setupFiles: ['ui/src/test/setup.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
