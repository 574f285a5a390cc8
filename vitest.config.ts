import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // e2e files start several processes each; keep the 2-core machine from thrashing.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
});
