import { afterAll, describe, it } from 'vitest';
import { checkKilledWriters } from './crash-check.fixture.ts';
import { cleanupTempDirs, tempDir } from './test-helpers.ts';

afterAll(() => cleanupTempDirs());

// The 20-round run is in crash.conformance.test.ts; this keeps `npm test` quick.
describe('a writer killed with SIGKILL mid-commit', () => {
  it('3 random kills: the table opens at its newest commit with whole batches; VACUUM removes the orphans', async () => {
    await checkKilledWriters(tempDir(), 3, 1500);
  }, 120_000);
});
