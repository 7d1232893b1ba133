import { defineConfig } from 'vitest/config';

// `tinytape-source` makes @tinytape/* resolve to their TypeScript sources (the packages' exports map
// it before the built dist/), so tests need no build step.
// Setting conditions replaces Vite's defaults for Node, so those are listed after it.
const conditions = ['tinytape-source', 'module', 'node', 'development|production'];

// Forks, not threads: Dawn (the `webgpu` package) must not be created inside a worker thread.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts', 'benchmarks/src/**/*.test.ts'],
    pool: 'forks',
    // One test file at a time: several Dawn/lavapipe processes at once on a 2-core machine have crashed a
    // worker now and then (SIGSEGV inside Dawn, not a test failure); serial files have not.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
