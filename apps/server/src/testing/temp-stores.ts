import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { type MetadataDb, openMetadataDb } from '../platform/db.ts';

/**
 * Temporary SQLite metadata stores for the tests of a describe block (call it in the block): each call of the function
 * it returns opens a store in a new temporary folder; after each test every store is closed and its folder removed.
 */
export function tempMetadataStores(prefix: string): () => { store: MetadataDb; dir: string } {
  const opened: MetadataDb[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    const store = openMetadataDb({ dataDir: dir });
    opened.push(store);
    return { store, dir };
  };
}
