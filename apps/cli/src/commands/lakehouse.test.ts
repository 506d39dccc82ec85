import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeir } from '../testing.ts';

describe('weir sql, tables load and volumes cp', () => {
  let s: TestServer;
  let work: string;
  beforeAll(async () => {
    s = await startTestServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-lake-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const weir = (args: string[]) => runWeir(args, { HOME: work, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken });

  it('runs SQL with table output, --json and --file, and reports failures with a non-zero exit', async () => {
    expect((await weir(['sql', 'CREATE SCHEMA main.cli'])).stdout).toBe('OK\n');
    const table = await weir(['sql', "SELECT 1 AS one, 'x' AS letter"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe('one  letter\n---  ------\n1    x\n(1 row)\n');
    const json = await weir(['sql', '--json', 'SELECT range AS n FROM range(3)']);
    expect(JSON.parse(json.stdout)).toEqual([{ n: '0' }, { n: '1' }, { n: '2' }]);
    const file = path.join(work, 'q.sql');
    fs.writeFileSync(file, 'SELECT 40 + 2 AS answer;\n');
    expect(JSON.parse((await weir(['sql', '--json', '--file', file])).stdout)).toEqual([{ answer: '42' }]);
    const bad = await weir(['sql', 'SELECT * FROM main.cli.nothing']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/TABLE_DOES_NOT_EXIST/);
  });

  it('loads CSV and Parquet files into tables (create, append, overwrite)', async () => {
    const csv = path.join(work, 'people.csv');
    fs.writeFileSync(csv, 'id,name\n1,ann\n2,bob\n');
    const created = await weir(['tables', 'load', 'main.cli.people', csv]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/created main\.cli\.people/);
    fs.writeFileSync(csv, 'name,id\ncy,3\n');
    const appended = await weir(['tables', 'load', 'main.cli.people', csv]);
    expect(appended.stdout).toMatch(/appended main\.cli\.people \(1 rows\)/);
    const rows = JSON.parse((await weir(['sql', '--json', 'SELECT id, name FROM main.cli.people ORDER BY id'])).stdout);
    expect(rows).toEqual([
      { id: '1', name: 'ann' },
      { id: '2', name: 'bob' },
      { id: '3', name: 'cy' },
    ]);
    const parquet = path.join(work, 'more.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const con = await duck.connect();
    await con.run(`COPY (SELECT 10::BIGINT AS id, 'zed' AS name) TO '${parquet}' (FORMAT parquet)`);
    con.closeSync();
    duck.closeSync();
    const replaced = await weir(['tables', 'load', 'main.cli.people', parquet, '--mode', 'overwrite']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse((await weir(['sql', '--json', 'SELECT id, name FROM main.cli.people'])).stdout)).toEqual([{ id: '10', name: 'zed' }]);
    const wrong = path.join(work, 'wrong.csv');
    fs.writeFileSync(wrong, 'id,colour\n1,red\n');
    const refused = await weir(['tables', 'load', 'main.cli.people', wrong]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/colour/);
    // the staging volume holds nothing afterwards
    const staged = await s.call('GET', '/api/2.0/fs/directories/Volumes/main/cli/weir_staging/');
    expect(staged.body.contents).toEqual([]);
  });

  it('copies files into and out of a volume', async () => {
    await s.call('POST', '/api/2.1/unity-catalog/volumes', { catalog_name: 'main', schema_name: 'cli', name: 'drop', volume_type: 'MANAGED' });
    const local = path.join(work, 'blob.bin');
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    fs.writeFileSync(local, data);
    const up = await weir(['volumes', 'cp', local, '/Volumes/main/cli/drop/']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/copied .* to \/Volumes\/main\/cli\/drop\/blob\.bin/);
    const again = await weir(['volumes', 'cp', local, '/Volumes/main/cli/drop/blob.bin']);
    expect(again.code).not.toBe(0);
    expect((await weir(['volumes', 'cp', '--overwrite', local, '/Volumes/main/cli/drop/blob.bin'])).code).toBe(0);
    const back = path.join(work, 'back.bin');
    const down = await weir(['volumes', 'cp', 'dbfs:/Volumes/main/cli/drop/blob.bin', back]);
    expect(down.code, down.stderr).toBe(0);
    expect(fs.readFileSync(back).equals(data)).toBe(true);
    expect((await weir(['volumes', 'cp', local, back])).code).not.toBe(0);
  });
});
