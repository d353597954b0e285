import { defineConfig } from 'vitest/config';

// Each test file gets its own database cloned from one migrated template
// (test/support/global-setup.ts). PGlite takes ~350 MB per instance, so at most
// two files run at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/event-types.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
