import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
