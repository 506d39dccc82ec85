// Direction (a) through the catalog: a Weir server creates a *managed* table and changes it with SQL
// statements (POST /api/2.0/sql/statements), the table's storage_location comes from the Unity Catalog
// tables API, and DuckDB replays the same statements on a plain in-memory table for the expected rows.
// peers.py then reads the location with Spark (spark.read.format("delta").load(location)).
// Usage: npx tsx tests/interop/delta/weir-managed.ts <out-dir>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startTestServer } from '@weir/server/testing';
import { type ColumnKind, canonicalSelect } from './canonical.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: weir-managed.ts <out-dir>');
fs.mkdirSync(out, { recursive: true });

const columns: ColumnKind[] = [
  { name: 'id', kind: 'int' },
  { name: 'city', kind: 'string' },
  { name: 'amount', kind: 'decimal' },
  { name: 'score', kind: 'double' },
  { name: 'seen_at', kind: 'timestamp' },
  { name: 'day', kind: 'date' },
  { name: 'active', kind: 'boolean' },
];
const DDL = 'id BIGINT, city STRING, amount DECIMAL(12,2), score DOUBLE, seen_at TIMESTAMP, day DATE, active BOOLEAN';
const batch = (from: number, to: number) =>
  `SELECT range AS id, CASE WHEN range % 9 = 0 THEN NULL ELSE 'city_' || (range % 11) END AS city, CAST(range * 1.25 AS DECIMAL(12,2)) AS amount, ` +
  `range / 7.0 AS score, TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(range * 3601) AS seen_at, DATE '2023-12-30' + CAST(range % 400 AS INTEGER) AS day, ` +
  `range % 2 = 0 AS active FROM range(${from}, ${to})`;
// Each statement as Weir's SQL API takes it (three-part name) and as plain DuckDB runs it on its twin.
const statements: [string, string][] = [
  [`CREATE TABLE interop.managed.events (${DDL})`, `CREATE TABLE events (${DDL.replace('STRING', 'VARCHAR').replace('TIMESTAMP', 'TIMESTAMPTZ')})`],
  [`INSERT INTO interop.managed.events ${batch(0, 3000)}`, `INSERT INTO events ${batch(0, 3000)}`],
  [`INSERT INTO interop.managed.events ${batch(3000, 5000)}`, `INSERT INTO events ${batch(3000, 5000)}`],
  [
    'UPDATE interop.managed.events SET city = upper(city), score = score * 2 WHERE id % 5 = 1',
    'UPDATE events SET city = upper(city), score = score * 2 WHERE id % 5 = 1',
  ],
  ['DELETE FROM interop.managed.events WHERE id % 13 = 0', 'DELETE FROM events WHERE id % 13 = 0'],
  [
    'MERGE INTO interop.managed.events t USING (SELECT range AS id FROM range(4990, 5010)) s ON t.id = s.id WHEN MATCHED THEN DELETE',
    'DELETE FROM events WHERE id BETWEEN 4990 AND 5009',
  ],
];

const server = await startTestServer({ name: 'sqlite' }, { dataDir: path.join(out, 'server-data') });
try {
  async function sql(statement: string): Promise<void> {
    const res = await server.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'weir', wait_timeout: '50s' });
    if (res.status !== 200 || res.body.status?.state !== 'SUCCEEDED')
      throw new Error(`${statement}: ${res.status} ${JSON.stringify(res.body.status ?? res.body)}`);
  }
  await sql('CREATE CATALOG interop');
  await sql('CREATE SCHEMA interop.managed');
  const instance = await DuckDBInstance.create(':memory:');
  const mirror = await instance.connect();
  await mirror.run(`SET TimeZone = 'UTC'`);
  for (const [weir, duck] of statements) {
    await sql(weir);
    await mirror.run(duck);
  }
  const table = await server.call('GET', '/api/2.1/unity-catalog/tables/interop.managed.events');
  if (table.status !== 200) throw new Error(`tables API: ${table.status} ${table.text}`);
  if (table.body.table_type !== 'MANAGED') throw new Error(`expected a MANAGED table, got ${table.body.table_type}`);
  const location: string = table.body.storage_location;
  const rows = (await mirror.runAndReadAll(canonicalSelect('SELECT * FROM events', columns)))
    .getRowsJS()
    .map((r) => r.map((v) => (v === null ? null : String(v))));
  fs.writeFileSync(path.join(out, 'managed.expected.json'), JSON.stringify({ location, columns, rows, version: statements.length - 1 }, null, 1));
  console.log(`[weir-managed] interop.managed.events at ${location}: ${rows.length} rows expected`);
  mirror.closeSync();
  instance.closeSync();
} finally {
  await server.close();
}
