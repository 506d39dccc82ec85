// Direction (a), first half: Weir writes Delta tables under <out>, and for each one DuckDB replays the
// same statements on a plain in-memory table, so the expected rows never come from Weir's reader.
// Usage: npx tsx tests/interop/delta/weir-write.ts <out-dir>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type DeltaTable, openDeltaTable } from '@weir/delta';
import { type ColumnKind, canonicalSelect } from './canonical.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: weir-write.ts <out-dir>');
fs.mkdirSync(out, { recursive: true });

const instance = await DuckDBInstance.create(':memory:');
const mirror = await instance.connect();
await mirror.run(`SET TimeZone = 'UTC'`);

/** Rows of a SELECT as canonical text. */
async function canonicalRows(con: DuckDBConnection, relation: string, columns: ColumnKind[]): Promise<(string | null)[][]> {
  const reader = await con.runAndReadAll(canonicalSelect(relation, columns));
  return reader.getRowsJS().map((r) => r.map((v) => (v === null ? null : String(v))));
}

/** A Weir table with its DuckDB twin; every change is applied to both. */
class Twin {
  readonly table: DeltaTable;
  readonly operations: string[] = [];
  constructor(
    readonly name: string,
    readonly columns: ColumnKind[],
  ) {
    this.table = openDeltaTable(path.join(out as string, name));
  }
  async write(select: string, operation: string, options: Parameters<DeltaTable['write']>[1] = {}): Promise<void> {
    await this.table.write(select, options);
    if (this.operations.length === 0) await mirror.run(`CREATE TABLE "${this.name}" AS ${select}`);
    else await mirror.run(`INSERT INTO "${this.name}" BY NAME ${select}`);
    this.operations.push(operation);
  }
  async delete(predicate: string): Promise<void> {
    await this.table.delete(predicate);
    await mirror.run(`DELETE FROM "${this.name}" WHERE ${predicate}`);
    this.operations.push('DELETE');
  }
  async update(set: Record<string, string>, where: string): Promise<void> {
    await this.table.update({ set, where });
    const assignments = Object.entries(set).map(([k, v]) => `"${k}" = ${v}`);
    await mirror.run(`UPDATE "${this.name}" SET ${assignments.join(', ')} WHERE ${where}`);
    this.operations.push('UPDATE');
  }
  async save(extra: Record<string, unknown> = {}): Promise<void> {
    const rows = await canonicalRows(mirror, `SELECT * FROM "${this.name}"`, this.columns);
    const version = await this.table.version();
    if (version !== this.operations.length - 1) throw new Error(`${this.name}: Weir is at version ${version}, expected ${this.operations.length - 1}`);
    const expected = { columns: this.columns, rows, version, operations: this.operations, ...extra };
    fs.writeFileSync(path.join(out as string, `${this.name}.expected.json`), JSON.stringify(expected, null, 1));
    console.log(`[weir-write] ${this.name}: version ${version}, ${rows.length} rows`);
  }
}

const columns: ColumnKind[] = [
  { name: 'id', kind: 'int' },
  { name: 'region', kind: 'string' },
  { name: 'day', kind: 'date' },
  { name: 'amount', kind: 'decimal' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'score', kind: 'double' },
  { name: 'flag', kind: 'boolean' },
  { name: 'note', kind: 'string' },
];

// Partition values that need Hive escaping (space, '=', '/', '%', ':', non-ASCII) and a null.
const regions = [`'north'`, `'south west'`, `'a=b'`, `'x/y'`, `'50%'`, `'ü:ñ'`, 'NULL'];

/** Generated rows with ids from `from` (inclusive) to `to` (exclusive); deterministic, so both sides agree. */
function rows(from: number, to: number, tag = 'v1'): string {
  return `SELECT range::BIGINT AS id,
      (list_value(${regions.join(', ')}))[1 + range % ${regions.length}]::VARCHAR AS region,
      CASE WHEN range % 11 = 0 THEN NULL ELSE DATE '2024-02-27' + CAST(range % 5 AS INTEGER) END AS day,
      CAST(range * 1.25 - 40 AS DECIMAL(12,2)) AS amount,
      CASE WHEN range % 13 = 0 THEN NULL ELSE TIMESTAMPTZ '1969-12-31 23:59:58.000001+00' + to_microseconds(range * 86400123457) END AS ts,
      CASE WHEN range % 9 = 0 THEN NULL ELSE range / 8.0 END::DOUBLE AS score,
      CASE WHEN range % 17 = 0 THEN NULL ELSE range % 2 = 0 END AS flag,
      '${tag}-' || range::VARCHAR AS note
    FROM range(${from}, ${to})`;
}

// 1. Partitioned by two columns, with nulls and escaped values, then a DELETE and an UPDATE.
const partitioned = new Twin('partitioned', columns);
await partitioned.write(rows(0, 40), 'CREATE TABLE AS SELECT', { partitionBy: ['region', 'day'] });
await partitioned.write(rows(40, 80), 'WRITE');
await partitioned.write(rows(80, 120), 'WRITE');
await partitioned.delete(`region = 'a=b' AND id < 60`);
await partitioned.update({ note: `note || '-updated'`, amount: `amount * 2` }, `id % 7 = 0`);
await partitioned.save();

// 2. Fourteen commits, so a checkpoint at version 10 is followed by JSON commits.
const checkpointed = new Twin('checkpointed', columns);
await checkpointed.write(rows(0, 5), 'CREATE TABLE AS SELECT');
for (let i = 1; i < 14; i++) await checkpointed.write(rows(i * 5, i * 5 + 5), 'WRITE');
await checkpointed.delete(`id % 4 = 1`);
const checkpointFile = path.join(out, 'checkpointed', '_delta_log', '00000000000000000010.checkpoint.parquet');
if (!fs.existsSync(checkpointFile)) throw new Error(`expected a checkpoint at ${checkpointFile}`);
await checkpointed.save({ checkpoints: [10] });

// 3. MERGE with every clause kind.
const merged = new Twin('merged', columns);
await merged.write(rows(0, 100), 'CREATE TABLE AS SELECT', { partitionBy: ['region'] });
const source = `SELECT *, id % 10 = 3 AS drop_it FROM (${rows(90, 130, 'merged')})`;
await merged.table.merge({
  source,
  on: 't.id = s.id',
  whenMatched: [{ condition: 's.drop_it', delete: true }, { update: { amount: 's.amount', note: 's.note', ts: 's.ts' } }],
  whenNotMatched: [
    {
      insert: { id: 's.id', region: 's.region', day: 's.day', amount: 's.amount', ts: 's.ts', score: 's.score', flag: 's.flag', note: 's.note' },
    },
  ],
  whenNotMatchedBySource: [{ condition: 't.id < 5', delete: true }],
});
await mirror.run(`MERGE INTO "merged" AS t USING (${source}) AS s ON t.id = s.id
  WHEN MATCHED AND s.drop_it THEN DELETE
  WHEN MATCHED THEN UPDATE SET amount = s.amount, note = s.note, ts = s.ts
  WHEN NOT MATCHED THEN INSERT (id, region, day, amount, ts, score, flag, note) VALUES (s.id, s.region, s.day, s.amount, s.ts, s.score, s.flag, s.note)
  WHEN NOT MATCHED BY SOURCE AND t.id < 5 THEN DELETE`);
merged.operations.push('MERGE');
await merged.save();

// 4. Small files, a DELETE, OPTIMIZE, then VACUUM with zero retention: only live files may remain.
const optimized = new Twin('optimized', columns);
await optimized.write(rows(0, 10), 'CREATE TABLE AS SELECT', { partitionBy: ['flag'] });
for (let i = 1; i < 12; i++) await optimized.write(rows(i * 10, i * 10 + 10), 'WRITE');
await optimized.delete(`id BETWEEN 30 AND 44`);
const compacted = await optimized.table.optimize();
optimized.operations.push('OPTIMIZE');
if (compacted.numRemovedFiles === 0) throw new Error('OPTIMIZE removed no files');
const vacuumed = await optimized.table.vacuum({ retentionHours: 0, force: true });
if (vacuumed.files.length === 0) throw new Error('VACUUM deleted no files');
const liveFiles = (await optimized.table.snapshot()).files.length;
await optimized.save({ liveFiles, vacuumedFiles: vacuumed.files.length });

// 5. Types at their edges: decimals up to 38 digits, timestamps before the epoch and far ahead, integer limits.
const typeColumns: ColumnKind[] = [
  { name: 'k', kind: 'int' },
  { name: 'tiny', kind: 'int' },
  { name: 'small', kind: 'int' },
  { name: 'big', kind: 'int' },
  { name: 'd38', kind: 'decimal' },
  { name: 'd5', kind: 'decimal' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'day', kind: 'date' },
  { name: 'x', kind: 'double' },
];
const types = new Twin('types', typeColumns);
await types.write(
  `SELECT * FROM (VALUES
    (1, (-128)::TINYINT, (-32768)::SMALLINT, (-9223372036854775808)::BIGINT, '-9999999999999999999999999999.9999999999'::DECIMAL(38,10), (-99999)::DECIMAL(5,0),
       TIMESTAMPTZ '1900-01-01 00:00:00.000001+00', DATE '1900-01-01', (-1.5e300)::DOUBLE),
    (2, 127::TINYINT, 32767::SMALLINT, 9223372036854775807::BIGINT, '9999999999999999999999999999.9999999999'::DECIMAL(38,10), 99999::DECIMAL(5,0),
       TIMESTAMPTZ '2262-04-11 23:47:16.854775+00', DATE '9999-12-31', 'inf'::DOUBLE),
    (3, 0::TINYINT, 0::SMALLINT, 0::BIGINT, '0.0000000001'::DECIMAL(38,10), 0::DECIMAL(5,0),
       TIMESTAMPTZ '2024-03-10 02:30:00.123456+00', DATE '2024-02-29', 'nan'::DOUBLE),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (5, 1::TINYINT, 1::SMALLINT, 1::BIGINT, '12345678901234567890.1234567890'::DECIMAL(38,10), (-1)::DECIMAL(5,0),
       TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', DATE '1970-01-01', 0.1::DOUBLE)
  ) AS v(k, tiny, small, big, d38, d5, ts, day, x)`,
  'CREATE TABLE AS SELECT',
);
// A naive TIMESTAMP input is taken as UTC wall clock; the twin gets the same value as TIMESTAMPTZ.
await types.write(
  `SELECT 6 AS k, 2::TINYINT AS tiny, 2::SMALLINT AS small, 2::BIGINT AS big, 2.5::DECIMAL(38,10) AS d38, 2::DECIMAL(5,0) AS d5,
     TIMESTAMPTZ '2001-09-09 01:46:40.5+00' AS ts, DATE '2001-09-09' AS day, 2.0::DOUBLE AS x`,
  'WRITE',
);
await types.save();

instance.closeSync();
