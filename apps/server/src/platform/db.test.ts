// The SQLite store reuses prepared statements by SQL text; these are the cases where reuse could go wrong.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { tempMetadataStores } from '../testing/temp-stores.ts';
import { type MetadataDb, openMetadataDb, reusableQuery } from './db.ts';

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

describe('reusableQuery', () => {
  const openStore = tempMetadataStores('weir-db-reusable-');
  const open = (): MetadataDb => openStore().store;
  // Names listed in one order, used in the query in another: each value must land on its own column.
  const byOwnerAndName = reusableQuery(['name', 'owner'], (db, v) =>
    db.selectFrom('things').select(['id']).where('owner', '=', v.owner).where('name', '=', v.name).orderBy('id'),
  );

  it('binds each value to the parameter it names, again and again, on each database it meets', async () => {
    for (const { db } of [open(), open()]) {
      await sql`create table things (id integer primary key, name text, owner text)`.execute(db);
      await sql`insert into things (id, name, owner) values (1, 'a', 'ann'), (2, 'b', 'ann'), (3, 'a', 'bo')`.execute(db);
      expect(await byOwnerAndName(db, { name: 'a', owner: 'ann' })).toEqual([{ id: 1 }]);
      expect(await byOwnerAndName(db, { name: 'a', owner: 'bo' })).toEqual([{ id: 3 }]);
      expect(await byOwnerAndName(db, { name: 'b', owner: 'bo' })).toEqual([]);
      expect(await byOwnerAndName(db, { name: 'b', owner: 'ann' })).toEqual([{ id: 2 }]);
    }
  });
});
