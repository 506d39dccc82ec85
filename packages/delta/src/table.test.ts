import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaConflictError, DeltaSchemaError, DeltaUnsupportedFeatureError } from './errors.ts';
import { openDeltaTable } from './table.ts';
import { cleanupTempDirs, headerActions, rows, schemaOf, tempDir, testConnection, writeCommitFile } from './test-helpers.ts';

let con: DuckDBConnection;
beforeAll(async () => {
  con = await testConnection();
});
afterAll(() => {
  con.closeSync();
  cleanupTempDirs();
});

const logLines = (t: string, v: number) =>
  fs
    .readFileSync(path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);

const ids = async (t: string, version?: number) =>
  (await (await openDeltaTable(t).snapshot(version === undefined ? {} : { version })).readRows({ columns: ['id'], orderBy: 'id' })).map((r) => Number(r.id));

describe('write: create, append, overwrite', () => {
  it('round-trips rows and writes a Spark-shaped first commit', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    const r = await table.write(`SELECT i::BIGINT AS id, 'n' || i AS name, i / 2 AS half FROM range(3) r(i)`);
    expect(r.version).toBe(0);
    const lines = logLines(t, 0);
    expect(Object.keys(lines[0] ?? {})).toEqual(['commitInfo']);
    expect(lines[0]?.commitInfo?.operation).toBe('CREATE TABLE AS SELECT');
    expect(lines[1]?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(JSON.parse(String(lines[2]?.metaData?.schemaString))).toEqual(schemaOf({ id: 'long', name: 'string', half: 'double' }));
    const add = lines[3]?.add as { path: string; size: number; stats: string };
    expect(add.size).toBe(fs.statSync(path.join(t, add.path)).size);
    expect(JSON.parse(add.stats)).toEqual({
      numRecords: 3,
      minValues: { id: 0, name: 'n0', half: 0 },
      maxValues: { id: 2, name: 'n2', half: 1 },
      nullCount: { id: 0, name: 0, half: 0 },
    });
    // Decimal points are kept as Spark writes doubles.
    expect(add.stats).toContain('"half":0.0');
    const data = await (await table.snapshot()).readRows({ orderBy: 'id' });
    expect(data).toEqual([
      { id: 0n, name: 'n0', half: 0 },
      { id: 1n, name: 'n1', half: 0.5 },
      { id: 2n, name: 'n2', half: 1 },
    ]);
  });

  it('appends are blind, overwrite removes everything, time travel sees old versions', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id');
    await table.write('SELECT 2::BIGINT AS id');
    expect(logLines(t, 1)[0]?.commitInfo?.isBlindAppend).toBe(true);
    await table.write('SELECT 3::BIGINT AS id', { mode: 'overwrite' });
    const info = logLines(t, 2)[0]?.commitInfo;
    expect(info?.isBlindAppend).toBe(false);
    expect(info?.readVersion).toBe(1);
    expect(logLines(t, 2).filter((l) => l.remove).length).toBe(2);
    expect(logLines(t, 2).find((l) => l.remove)?.remove).toMatchObject({ dataChange: true, extendedFileMetadata: true });
    expect(await ids(t)).toEqual([3]);
    expect(await ids(t, 1)).toEqual([1, 2]);
    expect((await table.history()).map((h) => h.operation)).toEqual(['WRITE', 'WRITE', 'CREATE TABLE AS SELECT']);
    await expect(table.write('SELECT 4::BIGINT AS id', { mode: 'errorIfExists' })).rejects.toThrow(/already exists/);
    expect((await table.write('SELECT 4::BIGINT AS id', { mode: 'ignore' })).skipped).toBe(true);
  });

  it('creates from a StructType and refuses a second create', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.create({ schema: JSON.stringify(schemaOf({ id: 'long', d: 'decimal(10,2)' })), configuration: { 'delta.appendOnly': 'false' } });
    expect((await table.snapshot()).files).toEqual([]);
    expect(await (await table.snapshot()).readRows()).toEqual([]);
    await expect(table.create({ schema: schemaOf({ id: 'long' }) })).rejects.toThrow(/already exists/);
    expect((await table.create({ schema: schemaOf({ id: 'long' }), ifNotExists: true })).skipped).toBe(true);
    await expect(openDeltaTable(tempDir()).create({ schema: schemaOf({ 'bad name': 'long' }) })).rejects.toThrow(DeltaSchemaError);
    await expect(
      openDeltaTable(tempDir()).create({ schema: schemaOf({ id: 'long' }), configuration: { 'delta.enableDeletionVectors': 'true' } }),
    ).rejects.toThrow(/deletionVectors/);
  });

  it('partitions with null, escaped, unicode, date and timestamp values', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(
      `SELECT * FROM (VALUES (1::BIGINT, 'a/b=c%', DATE '2021-01-02', TIMESTAMPTZ '2024-01-01 10:00:00.5+00'), (2, NULL, NULL, NULL), (3, 'sp ace 😈', DATE '1970-01-01', TIMESTAMPTZ '1970-01-01 00:00:00+00'), (4, '', DATE '1970-01-01', NULL)) v(id, s, d, ts)`,
      { partitionBy: ['s', 'd', 'ts'] },
    );
    const adds = logLines(t, 0)
      .filter((l) => l.add)
      .map((l) => l.add as { path: string; partitionValues: Record<string, string | null> });
    const byId = new Map<string, Record<string, string | null>>();
    for (const a of adds) byId.set(JSON.stringify(a.partitionValues), a.partitionValues);
    expect([...byId.values()]).toEqual(
      expect.arrayContaining([
        { s: 'a/b=c%', d: '2021-01-02', ts: '2024-01-01T10:00:00.500000Z' },
        { s: null, d: null, ts: null },
        { s: 'sp ace 😈', d: '1970-01-01', ts: '1970-01-01T00:00:00.000000Z' },
        { s: null, d: '1970-01-01', ts: null },
      ]),
    );
    const escaped = adds.find((a) => a.partitionValues.s === 'a/b=c%');
    // Hive-escaped directory, then URI-encoded once more in add.path (as Spark does).
    expect(escaped?.path.startsWith('s=a%252Fb%253Dc%2525/d=2021-01-02/')).toBe(true);
    expect(fs.existsSync(path.join(t, decodeURIComponent(escaped?.path ?? '')))).toBe(true);
    expect(adds.find((a) => a.partitionValues.d === null)?.path.startsWith('s=__HIVE_DEFAULT_PARTITION__/d=__HIVE_DEFAULT_PARTITION__/')).toBe(true);
    const r = await (await table.snapshot()).readRows({ orderBy: 'id' });
    expect(r.map((x) => x.s)).toEqual(['a/b=c%', null, 'sp ace 😈', null]);
    expect(r.map((x) => (x.ts as Date | null)?.toISOString() ?? null)).toEqual(['2024-01-01T10:00:00.500Z', null, '1970-01-01T00:00:00.000Z', null]);
    // Partition columns are not stored in the data files.
    const fileCols = await rows(con, `SELECT name FROM parquet_schema('${path.join(t, decodeURIComponent(escaped?.path ?? ''))}')`);
    expect(fileCols.map((c) => c.name)).toEqual(['duckdb_schema', 'id']);
  });

  it('casts DuckDB-only types to Delta types before they reach Parquet', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(
      `SELECT 12345678901234567890123456789012345678::HUGEINT AS h, '00000000-0000-0000-0000-000000000001'::UUID AS u, 200::UTINYINT AS ut, 4000000000::UINTEGER AS ui, 18446744073709551615::UBIGINT AS ub, TIMESTAMP_NS '2020-01-01 00:00:00.123456789' AS tns, TIMESTAMP '2020-01-01 00:00:00' AS tnaive`,
    );
    const snap = await table.snapshot();
    expect(Object.fromEntries(snap.schema.fields.map((f) => [f.name, f.type]))).toEqual({
      h: 'decimal(38,0)',
      u: 'string',
      ut: 'short',
      ui: 'long',
      ub: 'decimal(20,0)',
      tns: 'timestamp',
      tnaive: 'timestamp',
    });
    const file = path.join(t, decodeURIComponent(snap.files[0]?.path ?? ''));
    const physical = await rows(con, `SELECT name, type, logical_type::VARCHAR AS lt FROM parquet_schema('${file}') WHERE name <> 'duckdb_schema'`);
    const lt = Object.fromEntries(physical.map((p) => [p.name, `${p.type} ${p.lt}`]));
    expect(lt.u).toMatch(/^BYTE_ARRAY/);
    expect(lt.ut).toMatch(/^INT32 .*bitWidth=16, isSigned=1|^INT32/);
    expect(lt.tns).toMatch(/isAdjustedToUTC=1.*MICROS|MICROS.*isAdjustedToUTC=1/);
    expect(lt.tnaive).toMatch(/isAdjustedToUTC=1/);
    const r = (await snap.readRows())[0] ?? {};
    // DuckDB's JS conversion turns DECIMAL(38,0) into a double, so check the exact value in SQL.
    const exact = await rows(con, `SELECT h::VARCHAR AS h FROM (${await snap.scanSql()})`);
    expect(exact[0]?.h).toBe('12345678901234567890123456789012345678');
    expect(r.u).toBe('00000000-0000-0000-0000-000000000001');
    expect((r.tns as Date).toISOString()).toBe('2020-01-01T00:00:00.123Z');
    expect((r.tnaive as Date).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('writes Spark-rule stats: truncated strings, ms timestamps, exact int64/decimal, nested, nullCount', async () => {
    const t = tempDir();
    await openDeltaTable(t).write(
      `SELECT * FROM (VALUES (9223372036854775807::BIGINT, '${'x'.repeat(40)}', TIMESTAMPTZ '2024-01-01 00:00:00.123999+00', 12345678901234567.891::DECIMAL(38,3), {'a': 1, 'b': 'q'}, [1,2], true), (-9223372036854775808, NULL, NULL, NULL, NULL, NULL, NULL)) v(big, str, ts, dec, st, arr, flag)`,
    );
    const add = logLines(t, 0).find((l) => l.add)?.add as { stats: string };
    expect(add.stats).toBe(
      `{"numRecords":2,"minValues":{"big":-9223372036854775808,"str":"${'x'.repeat(32)}","ts":"2024-01-01T00:00:00.123Z","dec":12345678901234567.891,"st":{"a":1,"b":"q"}},"maxValues":{"big":9223372036854775807,"str":"${'x'.repeat(32)}\u007f","ts":"2024-01-01T00:00:00.123Z","dec":12345678901234567.891,"st":{"a":1,"b":"q"}},"nullCount":{"big":0,"str":1,"ts":1,"dec":1,"st":{"a":1,"b":1},"arr":1,"flag":1}}`,
    );
  });
});

describe('write: schema rules and invariants', () => {
  it('a schema-mismatched append names the column and changes nothing', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id, 1.5::DOUBLE AS x');
    const before = fs.readdirSync(t).sort();
    const err = await table.write(`SELECT 2::BIGINT AS id, 'oops' AS x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaSchemaError);
    expect((err as Error).message).toMatch(/column x: cannot write string into a column of type double/);
    await expect(table.write('SELECT 2::BIGINT AS id, 3 AS y')).rejects.toThrow(/column y is not in the table schema/);
    expect(fs.readdirSync(t).sort()).toEqual(before);
    expect(fs.readdirSync(path.join(t, '_delta_log'))).toEqual(['00000000000000000000.json']);
  });

  it('mergeSchema adds new nullable columns in a metaData action', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id');
    await table.write(`SELECT 2::BIGINT AS id, 'new' AS extra`, { mergeSchema: true });
    expect(logLines(t, 1).some((l) => l.metaData)).toBe(true);
    const r = await (await table.snapshot()).readRows({ orderBy: 'id' });
    expect(r).toEqual([
      { id: 1n, extra: null },
      { id: 2n, extra: 'new' },
    ]);
  });

  it('overwriteSchema replaces schema and partitioning', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id');
    await table.write(`SELECT 'a' AS k, 2 AS v`, { mode: 'overwrite', overwriteSchema: true, partitionBy: ['k'] });
    const snap = await table.snapshot();
    expect(snap.partitionColumns).toEqual(['k']);
    expect(await snap.readRows()).toEqual([{ k: 'a', v: 2 }]);
  });

  it('enforces NOT NULL columns (top-level and nested) and changes nothing', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    const nested = { type: 'struct', fields: [{ name: 'inner', type: 'integer', nullable: false, metadata: {} }] };
    await table.create({
      schema: {
        type: 'struct',
        fields: [
          { name: 'id', type: 'long', nullable: false, metadata: {} },
          { name: 's', type: nested as never, nullable: true, metadata: {} },
        ],
      },
    });
    await expect(table.write('SELECT NULL::BIGINT AS id')).rejects.toThrow(/NOT NULL constraint violated for column id/);
    await expect(table.write(`SELECT 1::BIGINT AS id, {'inner': NULL::INTEGER} AS s`)).rejects.toThrow(/column s\.inner/);
    await table.write('SELECT 1::BIGINT AS id, NULL::STRUCT("inner" INTEGER) AS s');
    await expect(table.update({ set: { id: 'NULL' } })).rejects.toThrow(/NOT NULL/);
    expect(await ids(t)).toEqual([1]);
    expect((await table.snapshot()).version).toBe(1);
  });

  it('enforces delta.appendOnly', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id', { configuration: { 'delta.appendOnly': 'true' } });
    await table.write('SELECT 2::BIGINT AS id');
    await expect(table.delete('id = 1')).rejects.toThrow(/appendOnly/);
    await expect(table.write('SELECT 3::BIGINT AS id', { mode: 'overwrite' })).rejects.toThrow(/appendOnly/);
    await expect(table.update({ set: { id: '5' } })).rejects.toThrow(/appendOnly/);
    expect(await ids(t)).toEqual([1, 2]);
  });

  it('refuses to write tables needing writer features it lacks', async () => {
    for (const [protocol, feature] of [
      [{ minReaderVersion: 1, minWriterVersion: 4 }, 'changeDataFeed'],
      [{ minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['appendOnly', 'domainMetadata'] }, 'domainMetadata'],
    ] as const) {
      const t = tempDir();
      writeCommitFile(t, 0, headerActions(schemaOf({ id: 'long' }), [], {}, protocol));
      const table = openDeltaTable(t);
      expect(await (await table.snapshot()).readRows()).toEqual([]);
      const err = await table.write('SELECT 1::BIGINT AS id').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeltaUnsupportedFeatureError);
      expect((err as Error).message).toContain(feature);
      expect(fs.readdirSync(path.join(t, '_delta_log'))).toEqual(['00000000000000000000.json']);
    }
  });

  it('txn (appId, version) makes writes idempotent', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id', { txn: { appId: 'job', version: 1 } });
    expect((await table.write('SELECT 1::BIGINT AS id', { txn: { appId: 'job', version: 1 } })).skipped).toBe(true);
    await table.write('SELECT 2::BIGINT AS id', { txn: { appId: 'job', version: 2 } });
    expect(await ids(t)).toEqual([1, 2]);
    expect((await table.snapshot()).txns.get('job')?.version).toBe(2);
    expect(logLines(t, 1).find((l) => l.txn)?.txn).toMatchObject({ appId: 'job', version: 2 });
  });
});

describe('rewrites', () => {
  async function partitioned() {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT i::BIGINT AS id, CASE WHEN i < 5 THEN 'a' ELSE 'b' END AS p, (i * 10)::INTEGER AS v FROM range(10) r(i)`, { partitionBy: ['p'] });
    return { t, table };
  }

  it('DELETE rewrites only files with matching rows, and drops whole files without rewriting', async () => {
    const { t, table } = await partitioned();
    const r = await table.delete('id = 2');
    expect(r).toMatchObject({ numAffectedRows: 1, numRemovedFiles: 1, numAddedFiles: 1 });
    expect(await ids(t)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    const whole = await table.delete(`p = 'b'`);
    expect(whole).toMatchObject({ numAffectedRows: 5, numRemovedFiles: 1, numAddedFiles: 0 });
    expect(await ids(t)).toEqual([0, 1, 3, 4]);
    expect((await table.delete('id > 100')).skipped).toBe(true);
    expect(logLines(t, 1)[0]?.commitInfo).toMatchObject({ operation: 'DELETE', isBlindAppend: false, readVersion: 0 });
  });

  it('UPDATE sets expressions on matching rows and can move rows between partitions', async () => {
    const { t, table } = await partitioned();
    const r = await table.update({ set: { v: 'v + 1', p: `'c'` }, where: 'id IN (1, 7)' });
    expect(r.numAffectedRows).toBe(2);
    const data = await (await table.snapshot()).readRows({ orderBy: 'id', predicate: 'id IN (0, 1, 7)' });
    expect(data).toEqual([
      { id: 0n, p: 'a', v: 0 },
      { id: 1n, p: 'c', v: 11 },
      { id: 7n, p: 'c', v: 71 },
    ]);
    await expect(table.update({ set: { nope: '1' } })).rejects.toThrow(/column nope/);
    expect(await ids(t)).toHaveLength(10);
  });

  it('MERGE: matched update/delete, not matched insert, not matched by source', async () => {
    const { t, table } = await partitioned();
    const r = await table.merge({
      source: `SELECT * FROM (VALUES (1::BIGINT, 'a', 100, 'upd'), (2, 'a', 0, 'del'), (42, 'z', 420, 'ins')) s(id, p, v, op)`,
      on: 't.id = s.id',
      whenMatched: [{ condition: `s.op = 'del'`, delete: true }, { update: { v: 's.v' } }],
      whenNotMatched: [{ insert: '*' }],
      whenNotMatchedBySource: [
        { condition: 't.id >= 8', delete: true },
        { condition: 't.id = 0', update: { v: '-1' } },
      ],
    });
    expect(r.numAffectedRows).toBe(6);
    const data = await (await table.snapshot()).readRows({ orderBy: 'id' });
    expect(data.map((x) => [Number(x.id), x.p, x.v])).toEqual([
      [0, 'a', -1],
      [1, 'a', 100],
      [3, 'a', 30],
      [4, 'a', 40],
      [5, 'b', 50],
      [6, 'b', 60],
      [7, 'b', 70],
      [42, 'z', 420],
    ]);
    await expect(table.merge({ source: 'SELECT 1::BIGINT AS id UNION ALL SELECT 1', on: 't.id = s.id', whenMatched: [{ delete: true }] })).rejects.toThrow(
      /more than one source row/,
    );
    expect(t).toBeTruthy();
  });

  it('overwrite with replaceWhere replaces only matching rows and checks written rows', async () => {
    const { t, table } = await partitioned();
    await table.write(`SELECT 100::BIGINT AS id, 'a' AS p, 1 AS v`, { mode: 'overwrite', replaceWhere: `p = 'a'` });
    expect(await ids(t)).toEqual([5, 6, 7, 8, 9, 100]);
    await expect(table.write(`SELECT 101::BIGINT AS id, 'b' AS p, 1 AS v`, { mode: 'overwrite', replaceWhere: `p = 'a'` })).rejects.toThrow(
      /do not match replaceWhere/,
    );
    await table.write(`SELECT 6::BIGINT AS id, 'b' AS p, 66 AS v`, { mode: 'overwrite', replaceWhere: 'id = 6' });
    const r = await (await table.snapshot()).readRows({ predicate: `p = 'b'`, orderBy: 'id' });
    expect(r.map((x) => [Number(x.id), x.v])).toEqual([
      [5, 50],
      [6, 66],
      [7, 70],
      [8, 80],
      [9, 90],
    ]);
  });

  it('OPTIMIZE compacts small files per partition with dataChange false', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    for (let i = 0; i < 3; i++) await table.write(`SELECT ${i}::BIGINT AS id, 'a' AS p UNION ALL SELECT ${i + 10}, 'b'`, { partitionBy: ['p'] });
    const r = await table.optimize();
    expect(r).toMatchObject({ numRemovedFiles: 6, numAddedFiles: 2 });
    const lines = logLines(t, r.version);
    expect(lines[0]?.commitInfo).toMatchObject({ operation: 'OPTIMIZE', isBlindAppend: false });
    expect(lines.filter((l) => l.add).every((l) => l.add?.dataChange === false)).toBe(true);
    expect(lines.filter((l) => l.remove).every((l) => l.remove?.dataChange === false)).toBe(true);
    expect(await ids(t)).toEqual([0, 1, 2, 10, 11, 12]);
    expect((await table.snapshot()).files).toHaveLength(2);
    expect((await table.optimize()).skipped).toBe(true);
  });

  it('VACUUM keeps live and recently removed files, honours retention, dry run and hidden paths', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 1::BIGINT AS id');
    await table.write('SELECT 2::BIGINT AS id', { mode: 'overwrite' });
    const removed = logLines(t, 1).find((l) => l.remove)?.remove?.path as string;
    const stray = path.join(t, 'stray.parquet');
    fs.writeFileSync(stray, 'x');
    fs.mkdirSync(path.join(t, '_hidden'));
    fs.writeFileSync(path.join(t, '_hidden', 'keep.parquet'), 'x');
    const old = new Date(Date.now() - 30 * 86_400_000);
    for (const f of [stray, path.join(t, removed), path.join(t, '_hidden', 'keep.parquet')]) fs.utimesSync(f, old, old);
    // Default retention (7 days): the tombstone is recent, so the removed file stays; the old stray goes.
    expect((await table.vacuum({ dryRun: true })).files).toEqual(['stray.parquet']);
    expect(fs.existsSync(stray)).toBe(true);
    await expect(table.vacuum({ retentionHours: 0 })).rejects.toThrow(/shorter than/);
    const done = await table.vacuum({ retentionHours: 0, force: true });
    expect(done.files.sort()).toEqual([removed, 'stray.parquet'].sort());
    expect(fs.existsSync(path.join(t, removed))).toBe(false);
    expect(fs.existsSync(path.join(t, '_hidden', 'keep.parquet'))).toBe(true);
    expect(await ids(t)).toEqual([2]);
  });
});

describe('commits and conflicts', () => {
  it('two racing DELETEs on one file: one wins, the other gets DeltaConflictError', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT i::BIGINT AS id FROM range(4) r(i)');
    const snap = await table.snapshot();
    await table.delete('id = 1', { snapshot: snap });
    const err = await table.delete('id = 2', { snapshot: snap }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaConflictError);
    expect((err as DeltaConflictError).winningVersion).toBe(1);
    expect(await ids(t)).toEqual([0, 2, 3]);
    expect(fs.readdirSync(path.join(t, '_delta_log')).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('concurrent blind appends rebase and retry at the next version', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 0::BIGINT AS id');
    const snap = await table.snapshot();
    const a = await table.write('SELECT 1::BIGINT AS id', { snapshot: snap });
    const b = await table.write('SELECT 2::BIGINT AS id', { snapshot: snap });
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(logLines(t, 2)[0]?.commitInfo?.readVersion).toBe(0);
    const parallel = await Promise.all([1, 2, 3, 4, 5].map((i) => table.write(`SELECT ${10 + i}::BIGINT AS id`)));
    expect(parallel.map((r) => r.version).sort()).toEqual([3, 4, 5, 6, 7]);
    expect(await ids(t)).toEqual([0, 1, 2, 11, 12, 13, 14, 15]);
  });

  it('a metadata change, a txn for the same appId, or a delete of read files conflicts', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write(`SELECT i::BIGINT AS id, CASE WHEN i < 2 THEN 'a' ELSE 'b' END AS p FROM range(4) r(i)`, { partitionBy: ['p'] });
    const snap = await table.snapshot();
    await table.write(`SELECT 9::BIGINT AS id, 'a' AS p, 'x' AS extra`, { mergeSchema: true });
    await expect(table.write(`SELECT 8::BIGINT AS id, 'a' AS p`, { snapshot: snap })).rejects.toMatchObject({ kind: 'MetadataChanged' });
    const s2 = await table.snapshot();
    await table.write(`SELECT 7::BIGINT AS id, 'a' AS p`, { txn: { appId: 'app', version: 1 } });
    await expect(table.write(`SELECT 7::BIGINT AS id, 'a' AS p`, { snapshot: s2, txn: { appId: 'app', version: 1 } })).rejects.toMatchObject({
      kind: 'ConcurrentTransaction',
    });
    // A DELETE in partition b does not conflict with an append to partition a.
    const s3 = await table.snapshot();
    await table.write(`SELECT 6::BIGINT AS id, 'a' AS p`);
    await table.delete(`p = 'b'`, { snapshot: s3 });
    // But an UPDATE that read partition a conflicts with an append into it.
    const s4 = await table.snapshot();
    await table.write(`SELECT 5::BIGINT AS id, 'a' AS p`);
    await expect(table.update({ set: { extra: `'y'` }, where: `p = 'a'`, snapshot: s4 })).rejects.toMatchObject({ kind: 'ConcurrentAppend' });
  });

  it('checkpoints every delta.checkpointInterval commits and readers use them', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.write('SELECT 0::BIGINT AS id', { configuration: { 'delta.checkpointInterval': '3' } });
    const results = [];
    for (let i = 1; i <= 7; i++) results.push(await table.write(`SELECT ${i}::BIGINT AS id`));
    expect(results.filter((r) => r.checkpointed).map((r) => r.version)).toEqual([3, 6]);
    const log = fs.readdirSync(path.join(t, '_delta_log'));
    expect(log.filter((f) => f.includes('checkpoint.parquet'))).toEqual(['00000000000000000003.checkpoint.parquet', '00000000000000000006.checkpoint.parquet']);
    expect(JSON.parse(fs.readFileSync(path.join(t, '_delta_log', '_last_checkpoint'), 'utf8'))).toMatchObject({ version: 6, size: 9, numOfAddFiles: 7 });
    for (let v = 0; v <= 5; v++) fs.rmSync(path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    expect(await ids(t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await ids(t, 6)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('deletes log files past delta.logRetentionDuration after a checkpoint, keeping what the retained versions need', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    const config = { 'delta.checkpointInterval': '5', 'delta.logRetentionDuration': 'interval 1 hour' };
    await table.write('SELECT 0::BIGINT AS id', { configuration: config });
    for (let i = 1; i <= 9; i++) await table.write(`SELECT ${i}::BIGINT AS id`);
    const logDir = path.join(t, '_delta_log');
    // Age everything written so far past the retention; the commit and checkpoint to come stay young.
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const f of fs.readdirSync(logDir)) if (/^\d{20}\./.test(f)) fs.utimesSync(path.join(logDir, f), twoHoursAgo, twoHoursAgo);
    const result = await table.write('SELECT 10::BIGINT AS id');
    expect(result.checkpointed).toBe(true);
    const left = fs.readdirSync(logDir).filter((f) => /^\d{20}\./.test(f));
    // Version 5's checkpoint is the newest one past the cutoff: everything before it goes, it and later files stay.
    for (let v = 0; v < 5; v++) expect(left).not.toContain(`${String(v).padStart(20, '0')}.json`);
    expect(left).toContain('00000000000000000005.checkpoint.parquet');
    expect(left).toContain('00000000000000000005.json');
    expect(left).toContain('00000000000000000010.checkpoint.parquet');
    expect(await ids(t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await ids(t, 5)).toEqual([0, 1, 2, 3, 4, 5]);
    await expect(ids(t, 2)).rejects.toThrow();
  });

  it('keeps every log file when delta.enableExpiredLogCleanup is false', async () => {
    const t = tempDir();
    const table = openDeltaTable(t);
    const config = { 'delta.checkpointInterval': '5', 'delta.logRetentionDuration': 'interval 1 hour', 'delta.enableExpiredLogCleanup': 'false' };
    await table.write('SELECT 0::BIGINT AS id', { configuration: config });
    for (let i = 1; i <= 9; i++) await table.write(`SELECT ${i}::BIGINT AS id`);
    const logDir = path.join(t, '_delta_log');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const f of fs.readdirSync(logDir)) if (/^\d{20}\./.test(f)) fs.utimesSync(path.join(logDir, f), twoHoursAgo, twoHoursAgo);
    await table.write('SELECT 10::BIGINT AS id');
    expect(fs.readdirSync(logDir).filter((f) => f.endsWith('.json') && /^\d{20}/.test(f))).toHaveLength(11);
    expect(await ids(t, 2)).toEqual([0, 1, 2]);
  });
});
