import { afterAll, describe, it } from 'vitest';
import { checkConcurrentAppends } from './concurrency-check.fixture.ts';
import { cleanupTempDirs, tempDir } from './test-helpers.ts';

afterAll(() => cleanupTempDirs());

// The full 4 x 50 run is in concurrency.conformance.test.ts; this keeps `npm test` quick.
describe('multi-process writers', () => {
  it('4 processes x 5 appends to one table: contiguous commits, every row present', async () => {
    await checkConcurrentAppends(tempDir(), 4, 5);
  }, 60_000);
});
