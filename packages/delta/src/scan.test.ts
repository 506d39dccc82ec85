import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDeltaTable } from './table.ts';
import { cleanupTempDirs, rows, tempDir, testConnection } from './test-helpers.ts';

let con: DuckDBConnection;
beforeAll(async () => {
  con = await testConnection();
});
afterAll(() => {
  con.closeSync();
  cleanupTempDirs();
});

describe('scan SQL reader options', () => {
  it('reads files of one shape without union_by_name or file names, and still answers every row', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT i::BIGINT AS id, 'a' || i AS name FROM range(3) r(i)`);
    await table.write(`SELECT i::BIGINT AS id, 'b' || i AS name FROM range(3, 5) r(i)`);
    const sql = await (await table.snapshot()).scanSql({ connection: con });
    expect(sql).not.toContain('union_by_name');
    expect(sql).not.toContain('filename');
    expect(await rows(con, `SELECT id, name FROM (${sql}) ORDER BY id`)).toEqual([
      { id: 0n, name: 'a0' },
      { id: 1n, name: 'a1' },
      { id: 2n, name: 'a2' },
      { id: 3n, name: 'b3' },
      { id: 4n, name: 'b4' },
    ]);
  });

  it('unions by name once a file has other columns (schema evolution), so older files read the new column as NULL', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT 1::BIGINT AS id`);
    await table.write(`SELECT 'x' AS extra, 2::BIGINT AS id`, { mergeSchema: true });
    const sql = await (await table.snapshot()).scanSql({ connection: con });
    expect(sql).toContain('union_by_name = true');
    expect(await rows(con, `SELECT id, extra FROM (${sql}) ORDER BY id`)).toEqual([
      { id: 1n, extra: null },
      { id: 2n, extra: 'x' },
    ]);
  });

  it('asks for file names only where partition values are joined in', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT i::BIGINT AS id, CASE WHEN i < 2 THEN 'p' ELSE 'q' END AS part FROM range(4) r(i)`, { partitionBy: ['part'] });
    const sql = await (await table.snapshot()).scanSql({ connection: con });
    expect(sql).toContain("filename = '__weir_file'");
    expect(await rows(con, `SELECT id, part FROM (${sql}) ORDER BY id`)).toEqual([
      { id: 0n, part: 'p' },
      { id: 1n, part: 'p' },
      { id: 2n, part: 'q' },
      { id: 3n, part: 'q' },
    ]);
  });
});

describe('version() from log file names', () => {
  it('sees every new commit, ignores leftovers of crashed writers, and refuses a directory with no log', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT 1::BIGINT AS id`);
    expect(await table.version()).toBe(0);
    await table.write(`SELECT 2::BIGINT AS id`);
    await table.write(`SELECT 3::BIGINT AS id`);
    expect(await table.version()).toBe(2);
    // a temp file a crashed writer left beside the log is not a commit
    fs.writeFileSync(path.join(t, '_delta_log', `.${'3'.padStart(20, '0')}.json.abc.tmp`), '{}');
    expect(await table.version()).toBe(2);
    await table.checkpoint();
    expect(await table.version()).toBe(2);
    await expect(openDeltaTable(tempDir()).version()).rejects.toThrow(/not a Delta table/);
  });
});
