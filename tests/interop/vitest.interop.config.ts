import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Node interop suite: real npm clients against a running Weir server.
// Run by tests/interop/run.sh with WEIR_URL and WEIR_TOKEN set.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // keep vitest's results cache out of the work tree
  cacheDir: join(tmpdir(), 'weir-interop-vite-cache'),
  test: {
    include: ['tests/interop/node/**/*.interop.test.ts'],
    env: { WEIR_INTEROP_REQUIRED: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // the npm `mlflow` client console.logs every POST body; keep the output readable
    onConsoleLog(log, type) {
      if (type === 'stdout' && /^\s*[{[]/.test(log)) return false;
      return undefined;
    },
  },
});
