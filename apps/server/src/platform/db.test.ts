// The SQLite store reuses prepared statements by SQL text; these are the cases where reuse could go wrong.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type MetadataDb, openMetadataDb } from './db.ts';

describe('SQLite statement reuse', () => {
  let store: MetadataDb | undefined;
  let dir = '';
  afterEach(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  function open(): MetadataDb {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-db-cache-'));
    store = openMetadataDb({ dataDir: dir });
    return store;
  }

  it('a repeated query sees rows and columns added since it was first run', async () => {
    const { db } = open();
    await sql`create table t (a integer)`.execute(db);
    await sql`insert into t (a) values (1)`.execute(db);
    const read = async () => (await sql<Record<string, unknown>>`select * from t order by a`.execute(db)).rows;
    expect(await read()).toEqual([{ a: 1 }]);
    await sql`alter table t add column b text`.execute(db);
    await sql`insert into t (a, b) values (2, 'x')`.execute(db);
    expect(await read()).toEqual([
      { a: 1, b: null },
      { a: 2, b: 'x' },
    ]);
  });

  it('a statement that failed once runs again after the cause is fixed', async () => {
    const { db } = open();
    await sql`create table t (a integer primary key)`.execute(db);
    const insert = (a: number) => sql`insert into t (a) values (${a})`.execute(db);
    await insert(1);
    await expect(insert(1)).rejects.toThrow(/UNIQUE/);
    await insert(2);
    expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]?.n).toBe(2);
  });
});
