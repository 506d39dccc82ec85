import { afterAll, describe, it } from 'vitest';
import { checkKilledWriters } from './crash-check.fixture.ts';
import { cleanupTempDirs, tempDir } from './test-helpers.ts';

afterAll(() => cleanupTempDirs());

describe('a writer killed with SIGKILL mid-commit (full size)', () => {
  it('20 random kills: the table opens at its newest commit with whole batches; VACUUM removes the orphans', async () => {
    await checkKilledWriters(tempDir(), 20, 3000);
  }, 600_000);
});
