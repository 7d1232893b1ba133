import { defineConfig } from 'vitest/config';

// Forks, not threads: Dawn (the `webgpu` package) must not be created inside a worker thread.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    pool: 'forks',
    // One test file at a time: several Dawn/lavapipe processes at once on a 2-core machine have crashed a
    // worker now and then (SIGSEGV inside Dawn, not a test failure); serial files have not.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
