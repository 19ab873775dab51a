import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

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
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          globalSetup: ['test/helpers/global-setup.ts'],
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
