import { afterAll, describe, it } from 'vitest';
import { checkConcurrentAppends } from './concurrency-check.fixture.ts';
import { cleanupTempDirs, tempDir } from './test-helpers.ts';

afterAll(() => cleanupTempDirs());

describe('multi-process writers (full size)', () => {
  it('4 processes x 50 appends to one table: 200 contiguous commits, every row present', async () => {
    await checkConcurrentAppends(tempDir(), 4, 50);
  }, 300_000);
});
