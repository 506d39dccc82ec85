import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDeltaTable } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { createSqlEngine } from './sql.engine.ts';

const UC = '/api/2.1/unity-catalog';
const GENERATOR =
  "SELECT range AS id, range % 7 AS k, (range * 13) % 101 AS v, CASE WHEN range % 3 = 0 THEN NULL ELSE 'n' || range END AS label FROM range(5000)";

/** Rows of the same query run on a plain DuckDB over the same generated data, rendered as JSON_ARRAY renders them. */
async function duckdbReference(query: string): Promise<(string | null)[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run(`CREATE TABLE events AS ${GENERATOR}`);
    const reader = await con.runAndReadAll(query);
    return reader.getRowsJson().map((r) => r.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))));
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

describe.each(testBackends)('SQL statement execution on $name', (backend) => {
  let s: TestServer;
  let userToken: string;
  beforeAll(async () => {
    s = await startTestServer(backend);
    userToken = (await s.createUser('reader@example.com')).token;
  });
  afterAll(async () => {
    await s?.close();
  });

  async function sql(statement: string, extra: Record<string, unknown> = {}, token?: string) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'any', wait_timeout: '30s', ...extra }, token);
    expect(res.status).toBe(200);
    return res.body;
  }
  async function ok(statement: string, extra: Record<string, unknown> = {}) {
    const body = await sql(statement, extra);
    expect(body.status, `${statement}: ${JSON.stringify(body.status)}`).toEqual({ state: 'SUCCEEDED' });
    return body;
  }
  async function rows(statement: string) {
    const body = await ok(statement);
    return (body.result?.data_array ?? []) as (string | null)[][];
  }
  async function failed(statement: string) {
    const body = await sql(statement);
    expect(body.status.state).toBe('FAILED');
    return body.status.error as { error_code: string; message: string };
  }
  async function tableVersion(c: string, sch: string, t: string) {
    const info = await s.call('GET', `${UC}/tables/${c}.${sch}.${t}`);
    return openDeltaTable(new URL(info.body.storage_location).pathname).version();
  }

  it('creates catalogs, schemas and tables with partitions and properties, and reports the Statement Execution shape', async () => {
    await ok('CREATE CATALOG IF NOT EXISTS lab');
    await ok('CREATE CATALOG IF NOT EXISTS lab');
    expect((await failed('CREATE CATALOG lab')).message).toMatch(/already exists/);
    await ok('CREATE SCHEMA IF NOT EXISTS lab.raw');
    const created = await ok(`CREATE TABLE lab.raw.events AS ${GENERATOR}`);
    expect(created.statement_id).toMatch(/^[0-9a-f]+$/);
    const info = await s.call('GET', `${UC}/tables/lab.raw.events`);
    expect(info.body.columns.map((c: { name: string; type_name: string }) => [c.name, c.type_name])).toEqual([
      ['id', 'LONG'],
      ['k', 'LONG'],
      ['v', 'LONG'],
      ['label', 'STRING'],
    ]);
    await ok(
      "CREATE TABLE lab.raw.orders (id BIGINT NOT NULL, amount DECIMAL(10,2), country STRING COMMENT 'ISO code') USING DELTA PARTITIONED BY (country) TBLPROPERTIES ('quality' = 'gold')",
    );
    const orders = await s.call('GET', `${UC}/tables/lab.raw.orders`);
    expect(orders.body).toMatchObject({ table_type: 'MANAGED', data_source_format: 'DELTA', properties: {} });
    const snap = await openDeltaTable(new URL(orders.body.storage_location).pathname).snapshot();
    expect(snap.partitionColumns).toEqual(['country']);
    expect(snap.configuration).toEqual({ quality: 'gold' });
    expect(snap.schema.fields.map((f) => [f.name, f.type, f.nullable])).toEqual([
      ['id', 'long', false],
      ['amount', 'decimal(10,2)', true],
      ['country', 'string', true],
    ]);
    await ok('CREATE TABLE IF NOT EXISTS lab.raw.orders (x INT)');
    expect((await failed('CREATE TABLE lab.raw.orders (x INT)')).message).toMatch(/already exists/);
    const q = await ok('SELECT k, count(*) AS n FROM lab.raw.events GROUP BY k ORDER BY k');
    expect(q.manifest).toMatchObject({
      format: 'JSON_ARRAY',
      schema: {
        column_count: 2,
        columns: [
          { name: 'k', type_name: 'LONG', type_text: 'bigint', position: 0 },
          { name: 'n', type_name: 'LONG', type_text: 'bigint', position: 1 },
        ],
      },
      total_chunk_count: 1,
      total_row_count: 7,
      truncated: false,
    });
    expect(q.result).toMatchObject({ chunk_index: 0, row_offset: 0, row_count: 7 });
    expect(q.result.data_array).toEqual(await duckdbReference('SELECT k, count(*) AS n FROM events GROUP BY k ORDER BY k'));
  });

  it('answers joins (including USING), CTEs and window functions exactly as DuckDB does on the same data', async () => {
    const queries: [string, string][] = [
      [
        'SELECT a.k, count(*) AS n, sum(b.v) AS s FROM lab.raw.events a JOIN lab.raw.events b USING (id) WHERE a.v > 50 GROUP BY a.k ORDER BY a.k',
        'SELECT a.k, count(*) AS n, sum(b.v) AS s FROM events a JOIN events b USING (id) WHERE a.v > 50 GROUP BY a.k ORDER BY a.k',
      ],
      [
        'WITH top AS (SELECT k, max(v) AS mv FROM lab.raw.events GROUP BY k) SELECT e.id, e.k, e.v FROM lab.raw.events e JOIN top ON e.k = top.k AND e.v = top.mv ORDER BY e.id LIMIT 20',
        'WITH top AS (SELECT k, max(v) AS mv FROM events GROUP BY k) SELECT e.id, e.k, e.v FROM events e JOIN top ON e.k = top.k AND e.v = top.mv ORDER BY e.id LIMIT 20',
      ],
      [
        'SELECT id, k, v, sum(v) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS w, rank() OVER (PARTITION BY k ORDER BY v DESC, id) AS r FROM lab.raw.events ORDER BY id LIMIT 50',
        'SELECT id, k, v, sum(v) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS w, rank() OVER (PARTITION BY k ORDER BY v DESC, id) AS r FROM events ORDER BY id LIMIT 50',
      ],
      [
        'SELECT label, id FROM lab.raw.events WHERE id IN (SELECT id FROM lab.raw.events WHERE v = 7) ORDER BY id',
        'SELECT label, id FROM events WHERE id IN (SELECT id FROM events WHERE v = 7) ORDER BY id',
      ],
      ['SELECT count(*), count(label), avg(v) FROM raw.events', 'SELECT count(*), count(label), avg(v) FROM events'],
    ];
    for (const [weir, duck] of queries) {
      const got = await rows(weir.replace('FROM raw.events', 'FROM lab.raw.events'));
      expect(got, weir).toEqual(await duckdbReference(duck));
    }
    // two-part names resolve in the request's catalog
    const scoped = await ok('SELECT count(*) FROM raw.events', { catalog: 'lab' });
    expect(scoped.result.data_array).toEqual([['5000']]);
  });

  it('inserts, overwrites, updates, deletes and merges through Delta commits, with time travel to earlier versions', async () => {
    await ok("INSERT INTO lab.raw.orders VALUES (1, 10.5, 'FR'), (2, 20, 'DE'), (3, 30.25, 'FR')");
    await ok("INSERT INTO lab.raw.orders (country, id) VALUES ('US', 4)");
    expect(await rows('SELECT id, amount, country FROM lab.raw.orders ORDER BY id')).toEqual([
      ['1', '10.50', 'FR'],
      ['2', '20.00', 'DE'],
      ['3', '30.25', 'FR'],
      ['4', null, 'US'],
    ]);
    const upd = await ok("UPDATE lab.raw.orders SET amount = amount * 2 WHERE id IN (SELECT id FROM lab.raw.orders WHERE country = 'FR')");
    expect(upd.result.data_array).toEqual([['2']]);
    const del = await ok("DELETE FROM lab.raw.orders WHERE id IN (SELECT id FROM lab.raw.orders WHERE country = 'US')");
    expect(del.result.data_array).toEqual([['1']]);
    await ok("CREATE TABLE lab.raw.changes AS SELECT 2::BIGINT AS id, 99::DECIMAL(10,2) AS amount, 'DE' AS country UNION ALL SELECT 7, 7, 'IT'");
    await ok('MERGE INTO lab.raw.orders t USING lab.raw.changes s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *');
    // read back with the Delta engine directly, not through SQL
    const location = new URL((await s.call('GET', `${UC}/tables/lab.raw.orders`)).body.storage_location).pathname;
    const direct = await openDeltaTable(location).snapshot();
    const read = await direct.readRows({ orderBy: 'id' });
    expect(read.map((r) => [Number(r.id), String(r.amount), r.country])).toEqual([
      [1, '21', 'FR'],
      [2, '99', 'DE'],
      [3, '60.5', 'FR'],
      [7, '7', 'IT'],
    ]);
    // version 1 is the first insert; time travel by version and by that commit's timestamp
    expect(await rows('SELECT id FROM lab.raw.orders VERSION AS OF 1 ORDER BY id')).toEqual([['1'], ['2'], ['3']]);
    const history = await rows('DESCRIBE HISTORY lab.raw.orders');
    expect(history.map((h) => [h[0], h[2]])).toEqual([
      ['5', 'MERGE'],
      ['4', 'DELETE'],
      ['3', 'UPDATE'],
      ['2', 'WRITE'],
      ['1', 'WRITE'],
      ['0', 'CREATE TABLE'],
    ]);
    // the first insert's metrics: three rows written
    expect(JSON.parse(String(history[4]?.[4])).numOutputRows).toBe('3');
    const v2time = (await openDeltaTable(location).snapshot({ version: 2 })).timestamp as number;
    const at = new Date(v2time).toISOString().replace('T', ' ').replace('Z', '');
    expect(await rows(`SELECT count(*) FROM lab.raw.orders TIMESTAMP AS OF '${at}'`)).toEqual([['4']]);
    expect(await rows('SELECT count(*) FROM lab.raw.orders AS o')).toEqual([['4']]);
    await ok("INSERT OVERWRITE lab.raw.changes SELECT 9::BIGINT, 1::DECIMAL(10,2), 'NL'");
    expect(await rows('SELECT id, country FROM lab.raw.changes')).toEqual([['9', 'NL']]);
    expect(await rows('SELECT count(*) FROM lab.raw.changes VERSION AS OF 0')).toEqual([['2']]);
  });

  it('refuses inserts whose columns do not match, naming the column and changing nothing', async () => {
    const before = await tableVersion('lab', 'raw', 'orders');
    const arity = await failed('INSERT INTO lab.raw.orders VALUES (1, 2)');
    expect(arity.message).toMatch(/country/);
    const unknown = await failed('INSERT INTO lab.raw.orders (id, colour) VALUES (1, 2)');
    expect(unknown.message).toMatch(/colour/);
    const badType = await failed("INSERT INTO lab.raw.orders (id, amount) VALUES (10, 'lots')");
    expect(badType.message).toMatch(/amount/);
    const notNull = await failed("INSERT INTO lab.raw.orders (amount, country) VALUES (1, 'FR')");
    expect(notNull.message).toMatch(/id/);
    expect(await tableVersion('lab', 'raw', 'orders')).toBe(before);
  });

  it('alters, describes, shows, optimizes, vacuums, creates views, registers external tables and drops', async () => {
    await ok('ALTER TABLE lab.raw.orders ADD COLUMN note STRING');
    const described = await rows('DESCRIBE lab.raw.orders');
    expect(described.slice(0, 4)).toEqual([
      ['id', 'bigint', null],
      ['amount', 'decimal(10,2)', null],
      ['country', 'string', 'ISO code'],
      ['note', 'string', null],
    ]);
    expect((await s.call('GET', `${UC}/tables/lab.raw.orders`)).body.columns.map((c: { name: string }) => c.name)).toContain('note');
    const detail = await ok('DESCRIBE DETAIL lab.raw.orders');
    const detailRow = detail.result.data_array[0];
    const names = detail.manifest.schema.columns.map((c: { name: string }) => c.name);
    expect(detailRow[names.indexOf('format')]).toBe('delta');
    expect(detailRow[names.indexOf('partitionColumns')]).toBe('["country"]');
    // `system` (audit and lineage tables) is there from the start, as in Databricks
    expect(await rows('SHOW CATALOGS')).toEqual([['lab'], ['main'], ['system']]);
    expect(await rows('SHOW SCHEMAS IN lab')).toEqual([['raw']]);
    expect((await rows('SHOW TABLES IN lab.raw')).map((r) => r[1])).toEqual(['changes', 'events', 'orders']);
    const optimized = await ok('OPTIMIZE lab.raw.orders');
    expect(optimized.manifest.schema.columns.map((c: { name: string }) => c.name)).toEqual(['path', 'numFilesAdded', 'numFilesRemoved']);
    expect(await rows('SELECT count(*) FROM lab.raw.orders')).toEqual([['4']]);
    await ok('VACUUM lab.raw.orders DRY RUN');
    expect((await failed('VACUUM lab.raw.orders RETAIN 0 HOURS')).message).toMatch(/retention/i);
    await ok("CREATE VIEW lab.raw.french AS SELECT id, amount FROM lab.raw.orders WHERE country = 'FR'");
    expect(await rows('SELECT id FROM lab.raw.french ORDER BY id')).toEqual([['1'], ['3']]);
    expect((await s.call('GET', `${UC}/tables/lab.raw.french`)).body).toMatchObject({
      table_type: 'VIEW',
      view_definition: "SELECT id, amount FROM lab.raw.orders WHERE country = 'FR'",
    });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-sql-ext-'));
    try {
      await openDeltaTable(path.join(outside, 't')).write('SELECT 1::BIGINT AS a UNION ALL SELECT 2');
      await ok(`CREATE TABLE lab.raw.ext USING DELTA LOCATION '${path.join(outside, 't')}'`);
      expect((await s.call('GET', `${UC}/tables/lab.raw.ext`)).body.table_type).toBe('EXTERNAL');
      expect(await rows('SELECT sum(a) FROM lab.raw.ext')).toEqual([['3']]);
      await ok('DROP TABLE lab.raw.ext');
      expect(fs.existsSync(path.join(outside, 't', '_delta_log'))).toBe(true);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    await ok('DROP VIEW lab.raw.french');
    await ok('DROP TABLE IF EXISTS lab.raw.nothing');
    expect((await failed('DROP TABLE lab.raw.nothing')).error_code).toBe('NOT_FOUND');
    await ok('CREATE OR REPLACE TABLE lab.raw.changes (only_col INT)');
    expect(await rows('SELECT count(*) FROM lab.raw.changes')).toEqual([['0']]);
    expect((await failed('DROP SCHEMA lab.raw')).message).toMatch(/force|CASCADE|object/i);
  });

  it('makes UC SQL functions callable and serves information_schema views', async () => {
    await ok('CREATE FUNCTION lab.raw.with_tax(x DOUBLE) RETURNS DOUBLE RETURN x * 1.25');
    expect(await rows('SELECT lab.raw.with_tax(8) AS t')).toEqual([['10.0']]);
    const fn = await s.call('GET', `${UC}/functions/lab.raw.with_tax`);
    expect(fn.body).toMatchObject({ routine_body: 'SQL', routine_definition: 'x * 1.25', full_name: 'lab.raw.with_tax' });
    expect(await rows("SELECT table_name, table_type FROM lab.information_schema.tables WHERE table_schema = 'raw' ORDER BY table_name")).toEqual([
      ['changes', 'MANAGED'],
      ['events', 'MANAGED'],
      ['orders', 'MANAGED'],
    ]);
    expect(await rows("SELECT column_name, full_data_type FROM lab.information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position")).toEqual([
      ['id', 'bigint'],
      ['k', 'bigint'],
      ['v', 'bigint'],
      ['label', 'string'],
    ]);
    expect(await rows('SELECT schema_name FROM lab.information_schema.schemata')).toEqual([['raw']]);
    expect(await rows('SELECT catalog_name FROM system.information_schema.catalogs ORDER BY 1')).toEqual([['lab'], ['main'], ['system']]);
  });

  it('refuses statements that would leave the catalog: ATTACH, COPY TO, extensions, settings, file reads outside volumes', async () => {
    for (const [statement, pattern] of [
      ["ATTACH '/tmp/x.db' AS x", /ATTACH/],
      ["COPY (SELECT 1) TO '/tmp/weir-should-not-exist.csv'", /COPY/],
      ['INSTALL httpfs', /extension/],
      ['LOAD httpfs', /extension/],
      ["SET memory_limit = '1GB'", /SET/],
      ['PRAGMA database_list', /PRAGMA/],
      ["SELECT * FROM read_csv('/etc/passwd')", /Volumes/],
      ["SELECT * FROM read_parquet(['/Volumes/lab/raw/x/a.parquet', '/etc/passwd'])", /Volumes/],
      ["SELECT * FROM '/etc/passwd'", /TABLE_DOES_NOT_EXIST/],
      ["SELECT * FROM read_text('/etc/passwd')", /not allowed/],
      ["SELECT * FROM query_table('lab.raw.orders')", /not allowed/],
      ['SELECT 1; DROP TABLE lab.raw.orders', /one SQL statement/],
    ] as [string, RegExp][]) {
      const err = await failed(statement);
      expect(err.message, statement).toMatch(pattern);
    }
    expect(fs.existsSync('/tmp/weir-should-not-exist.csv')).toBe(false);
    expect(await rows('SELECT count(*) FROM lab.raw.orders')).toEqual([['4']]);
  });

  it('reports syntax errors with the parser message and unknown tables as TABLE_DOES_NOT_EXIST', async () => {
    const syntax = await failed('SELEC 1');
    expect(syntax.message).toMatch(/PARSE_SYNTAX_ERROR.*syntax error at or near "SELEC"/);
    const inQuery = await failed('SELECT * FROM lab.raw.orders WHERE');
    expect(inQuery.message).toMatch(/syntax error/);
    const missing = await failed('SELECT * FROM lab.raw.missing JOIN lab.raw.orders USING (id)');
    expect(missing.error_code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/TABLE_DOES_NOT_EXIST.*lab\.raw\.missing/);
    expect((await failed('MERGE INTO lab.raw.orders t USING lab.raw.nope s ON t.id = s.id WHEN MATCHED THEN DELETE')).message).toMatch(/TABLE_DOES_NOT_EXIST/);
  });

  it('binds named parameters as typed values, never as SQL text', async () => {
    const body = await ok('SELECT :n + 1 AS next, :s AS text, :missing_null IS NULL AS isnull', {
      parameters: [
        { name: 'n', value: '41', type: 'INT' },
        { name: 's', value: "x'); DROP TABLE lab.raw.orders; --" },
        { name: 'missing_null', value: null },
      ],
    });
    expect(body.result.data_array).toEqual([['42', "x'); DROP TABLE lab.raw.orders; --", 'true']]);
    expect((await failed('SELECT :unbound')).error_code).toBe('UNBOUND_SQL_PARAMETER');
    expect(await rows('SELECT count(*) FROM lab.raw.orders')).toEqual([['4']]);
  });

  it('returns a 1,000,000-row result in chunks that add up to every row', async () => {
    const first = await ok('SELECT range AS i, (range * 7) % 1000 AS m FROM range(1000000) ORDER BY i');
    const manifest = first.manifest;
    expect(manifest.total_row_count).toBe(1_000_000);
    expect(manifest.total_chunk_count).toBeGreaterThan(1);
    expect(manifest.chunks.reduce((n: number, c: { row_count: number }) => n + c.row_count, 0)).toBe(1_000_000);
    let chunk = first.result;
    let seen = 0;
    let sum = 0;
    for (;;) {
      expect(chunk.row_offset).toBe(seen);
      let outOfOrder = 0;
      for (const r of chunk.data_array as string[][]) {
        if (Number(r[0]) !== seen) outOfOrder++;
        sum += Number(r[1]);
        seen++;
      }
      expect(outOfOrder).toBe(0);
      if (chunk.next_chunk_internal_link === undefined) break;
      const next = await s.call('GET', chunk.next_chunk_internal_link);
      expect(next.status).toBe(200);
      chunk = next.body;
    }
    expect(seen).toBe(1_000_000);
    expect(String(sum)).toBe((await duckdbReference('SELECT sum((range * 7) % 1000) FROM range(1000000)'))[0]?.[0]);
    const direct = await s.call('GET', `/api/2.0/sql/statements/${first.statement_id}/result/chunks/1`);
    expect(direct.body.chunk_index).toBe(1);
    expect((await s.call('GET', `/api/2.0/sql/statements/${first.statement_id}/result/chunks/9999`)).status).toBe(400);
    const limited = await ok('SELECT * FROM range(100)', { row_limit: 10 });
    expect(limited.manifest).toMatchObject({ total_row_count: 10, truncated: true });
  });

  it('runs asynchronously past wait_timeout, answers GET by id, and cancels', async () => {
    const started = await sql('SELECT count(*) FROM lab.raw.events', { wait_timeout: '0s' });
    expect(['PENDING', 'RUNNING', 'SUCCEEDED']).toContain(started.status.state);
    let state = started;
    for (let i = 0; i < 500 && ['PENDING', 'RUNNING'].includes(state.status.state); i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = (await s.call('GET', `/api/2.0/sql/statements/${started.statement_id}`)).body;
    }
    expect(state.status.state).toBe('SUCCEEDED');
    expect(state.result.data_array).toEqual([['5000']]);
    const slow = await sql('SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b', { wait_timeout: '0s' });
    expect(['PENDING', 'RUNNING']).toContain(slow.status.state);
    expect((await s.call('POST', `/api/2.0/sql/statements/${slow.statement_id}/cancel`)).status).toBe(200);
    let after = (await s.call('GET', `/api/2.0/sql/statements/${slow.statement_id}`)).body;
    for (let i = 0; i < 500 && after.status.state !== 'CANCELED'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = (await s.call('GET', `/api/2.0/sql/statements/${slow.statement_id}`)).body;
    }
    expect(after.status.state).toBe('CANCELED');
    // another user cannot see the admin's statements
    expect((await s.call('GET', `/api/2.0/sql/statements/${started.statement_id}`, undefined, userToken)).status).toBe(404);
    expect((await s.call('GET', '/api/2.0/sql/statements/does-not-exist')).status).toBe(404);
  });

  it('refuses bad requests with 400 and unauthenticated ones with 401', async () => {
    for (const body of [
      { statement: 'SELECT 1', wait_timeout: '3s' },
      { statement: 'SELECT 1', wait_timeout: 'soon' },
      { statement: 'SELECT 1', format: 'CSV' },
      { statement: 'SELECT 1', disposition: 'EXTERNAL_LINKS', format: 'CSV' },
      { statement: '' },
      { statement: 'SELECT 1', parameters: [{ value: '1' }] },
    ]) {
      const res = await s.call('POST', '/api/2.0/sql/statements', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await s.call('POST', '/api/2.0/sql/statements', { statement: 'SELECT 1' }, null)).status).toBe(401);
  });

  it('lets a user read a table only once granted SELECT, and write it only with MODIFY or as owner', async () => {
    expect(await rows('SELECT count(*) FROM lab.raw.orders')).toEqual([['4']]);
    const before = await sql('SELECT count(*) FROM lab.raw.orders', {}, userToken);
    expect(before.status.error.error_code).toBe('PERMISSION_DENIED');
    await ok('GRANT USE CATALOG ON CATALOG lab TO `reader@example.com`');
    await ok('GRANT USE SCHEMA ON SCHEMA lab.raw TO `reader@example.com`');
    await ok('GRANT SELECT ON TABLE lab.raw.orders TO `reader@example.com`');
    const read = await sql('SELECT count(*) FROM lab.raw.orders', {}, userToken);
    expect(read.result.data_array).toEqual([['4']]);
    const write = await sql('DELETE FROM lab.raw.orders', {}, userToken);
    expect(write.status.state).toBe('FAILED');
    expect(write.status.error.error_code).toBe('PERMISSION_DENIED');
    expect((await sql('DROP TABLE lab.raw.orders', {}, userToken)).status.state).toBe('FAILED');
    expect(await rows('SELECT count(*) FROM lab.raw.orders')).toEqual([['4']]);
  });
});

describe('the SQL engine sandbox', () => {
  it('runs DuckDB with external access off: files outside the allowed directories cannot be read, settings cannot change', async () => {
    const allowed = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-engine-allowed-'));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-engine-other-'));
    const maker = await DuckDBInstance.create(':memory:');
    const mk = await maker.connect();
    await mk.run(`COPY (SELECT 42 AS a) TO '${path.join(allowed, 'in.parquet')}'`);
    await mk.run(`COPY (SELECT 7 AS a) TO '${path.join(other, 'out.parquet')}'`);
    mk.closeSync();
    maker.closeSync();
    const engine = createSqlEngine({ dataDir: allowed });
    try {
      const con = await engine.connect();
      expect((await con.runAndReadAll(`SELECT a FROM read_parquet('${path.join(allowed, 'in.parquet')}')`)).getRowsJS()).toEqual([[42]]);
      await expect(con.run(`SELECT a FROM read_parquet('${path.join(other, 'out.parquet')}')`)).rejects.toThrow(/Permission Error/);
      await expect(con.run(`SELECT * FROM read_parquet('${path.join(allowed, '..', path.basename(other), 'out.parquet')}')`)).rejects.toThrow(
        /Permission Error/,
      );
      await expect(con.run(`COPY (SELECT 1) TO '${path.join(other, 'written.csv')}'`)).rejects.toThrow(/Permission Error/);
      await expect(con.run('SET enable_external_access = true')).rejects.toThrow(/locked/);
      await expect(con.run(`SET allowed_directories = ['/']`)).rejects.toThrow(/locked/);
      await expect(con.run('INSTALL httpfs')).rejects.toThrow();
      await expect(con.run('LOAD httpfs')).rejects.toThrow();
      expect(fs.existsSync(path.join(other, 'written.csv'))).toBe(false);
      con.closeSync();
      // widening to a new directory builds a new instance that may read it
      expect(await engine.allow(other)).toBe(true);
      expect(await engine.allow(other)).toBe(false);
      const wide = await engine.connect();
      expect((await wide.runAndReadAll(`SELECT a FROM read_parquet('${path.join(other, 'out.parquet')}')`)).getRowsJS()).toEqual([[7]]);
      // a clean connection given back is handed out again; one given back as not reusable is closed, never reused
      engine.release(wide, true);
      const again = await engine.connect();
      expect(again).toBe(wide);
      await again.run('CREATE TEMP VIEW left_behind AS SELECT 1 AS x');
      engine.release(again, false);
      const next = await engine.connect();
      expect(next).not.toBe(again);
      await expect(next.run('SELECT * FROM left_behind')).rejects.toThrow(/left_behind/);
      // connections of an instance retired by widening are not handed out again
      engine.release(next, true);
      const third = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-engine-third-'));
      try {
        expect(await engine.allow(third)).toBe(true);
        const widest = await engine.connect();
        expect(widest).not.toBe(next);
        widest.closeSync();
      } finally {
        fs.rmSync(third, { recursive: true, force: true });
      }
    } finally {
      engine.close();
      fs.rmSync(allowed, { recursive: true, force: true });
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
