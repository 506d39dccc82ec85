import { defineConfig } from 'vitest/config';

// Slow and corpus-backed suites: the Delta conformance run over ../shared/data/delta (WEIR_DELTA_CORPUS overrides it).
export default defineConfig({
  test: {
    include: ['packages/delta/**/*.conformance.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
