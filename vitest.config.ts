import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // A page or a job that is polled answers within a second here, but a loaded 2-core CI machine can
    // take several (the console's Jobs page after a cancel once took longer than the default second).
    expect: { poll: { timeout: 10_000 } },
  },
});
