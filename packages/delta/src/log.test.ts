import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaLogError, DeltaNotFoundError, DeltaUnsupportedFeatureError } from './errors.ts';
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

const add = (p: string, partitionValues: Record<string, string | null> = {}, extra: object = {}) => ({
  add: { path: p, partitionValues, size: 1, modificationTime: 0, dataChange: true, ...extra },
});
const remove = (p: string) => ({ remove: { path: p, deletionTimestamp: Date.now(), dataChange: true } });

/** Data file with the given SQL rows, written by DuckDB directly (the fixture does not use the writer under test). */
async function dataFile(table: string, rel: string, sql: string): Promise<void> {
  const file = path.join(table, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await con.run(`COPY (${sql}) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
}

describe('log replay', () => {
  it('reconciles adds/removes by path, last protocol and metadata win, txn per appId', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' })), add('a'), add('b'), { txn: { appId: 'app', version: 1 } }]);
    writeCommitFile(t, 1, [remove('a'), add('c'), { txn: { appId: 'app', version: 2 } }, { txn: { appId: 'other', version: 7 } }]);
    writeCommitFile(t, 2, [add('a'), { metaData: { ...headerActions(schemaOf({ id: 'long', x: 'string' }))[1]?.metaData, configuration: { k: 'v' } } }]);
    const snap = await openDeltaTable(t).snapshot();
    expect(snap.version).toBe(2);
    expect(snap.files.map((f) => f.path).sort()).toEqual(['a', 'b', 'c']);
    expect(snap.schema.fields.map((f) => f.name)).toEqual(['id', 'x']);
    expect(snap.configuration).toEqual({ k: 'v' });
    expect(snap.txns.get('app')?.version).toBe(2);
    expect(snap.txns.get('other')?.version).toBe(7);
    const v1 = await openDeltaTable(t).snapshot({ version: 1 });
    expect(v1.files.map((f) => f.path).sort()).toEqual(['b', 'c']);
    expect(v1.tombstones.map((f) => f.path)).toEqual(['a']);
  });

  it('compares paths after URI-decoding (canonical paths)', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' })), add('a%20b.parquet')]);
    writeCommitFile(t, 1, [remove('a b.parquet')]);
    expect((await openDeltaTable(t).snapshot()).files).toEqual([]);
  });

  it('reports a corrupt or truncated commit instead of skipping it', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' })), add('a')]);
    writeCommitFile(t, 1, [], `${JSON.stringify(add('b'))}\n{"add":{"path":"c","partitionVal`);
    await expect(openDeltaTable(t).snapshot()).rejects.toThrow(DeltaLogError);
    await expect(openDeltaTable(t).snapshot()).rejects.toThrow(/commit 1 .*line 2/);
    writeCommitFile(t, 1, [], '');
    await expect(openDeltaTable(t).snapshot()).rejects.toThrow(/commit 1 is empty/);
    // Earlier versions stay readable.
    expect((await openDeltaTable(t).snapshot({ version: 0 })).files).toHaveLength(1);
  });

  it('refuses non-contiguous versions and unreachable versions', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' }))]);
    writeCommitFile(t, 2, [add('a')]);
    await expect(openDeltaTable(t).snapshot()).rejects.toThrow(/not contiguous: commit 1 is missing/);
    await expect(openDeltaTable(t).snapshot({ version: 5 })).rejects.toThrow(DeltaNotFoundError);
    await expect(openDeltaTable(tempDir()).snapshot()).rejects.toThrow(/not a Delta table/);
  });

  it('fails when the log has no protocol or no metadata', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [headerActions(schemaOf({ id: 'long' }))[1] as object]);
    await expect(openDeltaTable(t).snapshot()).rejects.toThrow(/no protocol action/);
    const u = tempDir();
    writeCommitFile(u, 0, [headerActions(schemaOf({ id: 'long' }))[0] as object]);
    await expect(openDeltaTable(u).snapshot()).rejects.toThrow(/no metaData action/);
  });

  it('refuses unsupported reader features by name, before reading data', async () => {
    const cases: [object, string][] = [
      [{ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] }, 'deletionVectors'],
      [{ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz', 'blahabl'], writerFeatures: ['timestampNtz', 'blahabl'] }, 'blahabl'],
      [{ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['v2Checkpoint'], writerFeatures: ['v2Checkpoint'] }, 'v2Checkpoint'],
      [{ minReaderVersion: 2, minWriterVersion: 5 }, 'columnMapping'],
      [{ minReaderVersion: 99, minWriterVersion: 7 }, 'minReaderVersion 99'],
    ];
    for (const [protocol, name] of cases) {
      const t = tempDir();
      // The data file does not exist: a reader that touched data before checking would fail differently.
      writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' }), [], {}, protocol), add('missing.parquet')]);
      const err = await openDeltaTable(t)
        .snapshot()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeltaUnsupportedFeatureError);
      expect((err as DeltaUnsupportedFeatureError).features).toContain(name);
      expect((err as Error).message).toContain(name);
    }
  });

  it('reads reader-3 tables whose only reader features are timestampNtz/vacuumProtocolCheck, but will not write them', async () => {
    const t = tempDir();
    await dataFile(t, 'f.parquet', `SELECT TIMESTAMP '2020-01-02 03:04:05' AS ts`);
    const protocol = {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['timestampNtz', 'vacuumProtocolCheck'],
      writerFeatures: ['timestampNtz', 'vacuumProtocolCheck'],
    };
    writeCommitFile(t, 0, [...headerActions(schemaOf({ ts: 'timestamp_ntz' }), [], {}, protocol), add('f.parquet')]);
    const table = openDeltaTable(t);
    const r = await (await table.snapshot()).readRows();
    expect(r).toHaveLength(1);
    expect((r[0] as { ts: Date }).ts.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    const err = await table.write(`SELECT TIMESTAMP '2020-01-01' AS ts`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaUnsupportedFeatureError);
    expect((err as Error).message).toMatch(/timestampNtz|vacuumProtocolCheck/);
  });

  it('adds partition columns from the log, not from paths (null, escaped, date, both timestamp spellings)', async () => {
    const t = tempDir();
    await dataFile(t, 'x=wrong/a.parquet', 'SELECT 1::BIGINT AS id');
    await dataFile(t, 'b%25c.parquet', 'SELECT 2::BIGINT AS id');
    await dataFile(t, 'c.parquet', 'SELECT 3::BIGINT AS id');
    writeCommitFile(t, 0, [
      ...headerActions(schemaOf({ id: 'long', s: 'string', d: 'date', ts: 'timestamp', n: 'integer' }), ['s', 'd', 'ts', 'n']),
      add('x=wrong/a.parquet', { s: 'a/b=c%', d: '2021-03-04', ts: '2021-09-08 11:11:11', n: '7' }),
      add('b%2525c.parquet', { s: null, d: null, ts: '2024-01-01T10:00:00.000000Z', n: null }),
      add('c.parquet', { s: '', d: '1970-01-01', ts: '1970-01-01 00:00:00.5', n: '-1' }),
    ]);
    const r = await (await openDeltaTable(t).snapshot()).readRows({ connection: con, orderBy: 'id' });
    expect(r.map((x) => x.s)).toEqual(['a/b=c%', null, null]);
    expect(r.map((x) => (x.d instanceof Date ? x.d.toISOString().slice(0, 10) : x.d))).toEqual(['2021-03-04', null, '1970-01-01']);
    expect(r.map((x) => (x.ts as Date).toISOString())).toEqual(['2021-09-08T11:11:11.000Z', '2024-01-01T10:00:00.000Z', '1970-01-01T00:00:00.500Z']);
    expect(r.map((x) => x.n)).toEqual([7, null, -1]);
  });

  it('reads naive Parquet timestamps (INT96-style) as UTC and fills columns missing from old files with NULL', async () => {
    const t = tempDir();
    await dataFile(t, 'old.parquet', `SELECT 1::BIGINT AS id, TIMESTAMP '2020-05-06 07:08:09' AS ts`);
    await dataFile(t, 'new.parquet', `SELECT 2::BIGINT AS id, TIMESTAMPTZ '2020-05-06 07:08:09+02' AS ts, 'x' AS extra`);
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long', ts: 'timestamp', extra: 'string' })), add('old.parquet'), add('new.parquet')]);
    const r = await (await openDeltaTable(t).snapshot()).readRows({ orderBy: 'id' });
    expect(r.map((x) => (x.ts as Date).toISOString())).toEqual(['2020-05-06T07:08:09.000Z', '2020-05-06T05:08:09.000Z']);
    expect(r.map((x) => x.extra)).toEqual([null, 'x']);
  });

  it('time travel by timestamp uses commit file times, made monotonic', async () => {
    const t = tempDir();
    writeCommitFile(t, 0, [...headerActions(schemaOf({ id: 'long' })), add('a')]);
    writeCommitFile(t, 1, [add('b')]);
    writeCommitFile(t, 2, [add('c')]);
    const set = (v: number, iso: string) => fs.utimesSync(path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`), new Date(iso), new Date(iso));
    set(0, '2024-01-01T00:00:00Z');
    set(1, '2024-01-02T00:00:00Z');
    set(2, '2024-01-01T12:00:00Z'); // clock went backwards: treated as 2024-01-02T00:00:00.001
    const table = openDeltaTable(t);
    expect((await table.snapshot({ timestamp: '2024-01-01T06:00:00Z' })).version).toBe(0);
    expect((await table.snapshot({ timestamp: '2024-01-02T00:00:00Z' })).version).toBe(1);
    expect((await table.snapshot({ timestamp: '2024-01-01T13:00:00Z' })).version).toBe(0);
    expect((await table.snapshot({ timestamp: new Date('2030-01-01') })).version).toBe(2);
    await expect(table.snapshot({ timestamp: '2023-12-31T00:00:00Z' })).rejects.toThrow(/no commit at or before/);
  });
});

describe('checkpoints', () => {
  async function tableWithCheckpoint() {
    const t = tempDir();
    const table = openDeltaTable(t);
    await table.create({ schema: schemaOf({ id: 'long' }) });
    for (let i = 1; i <= 3; i++) writeCommitFile(t, i, [add(`f${i}`), ...(i === 2 ? [remove('f1')] : [])]);
    await table.checkpoint({ connection: con });
    writeCommitFile(t, 4, [add('f4')]);
    return { t, table };
  }

  it('replays from the newest checkpoint plus later commits, with commits before it deleted', async () => {
    const { t, table } = await tableWithCheckpoint();
    for (let v = 0; v <= 3; v++) fs.rmSync(path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const snap = await table.snapshot();
    expect(snap.version).toBe(4);
    expect(snap.files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    await expect(table.snapshot({ version: 2 })).rejects.toThrow(/cannot be reconstructed/);
  });

  it('reuses a parsed checkpoint without letting later commits change it', async () => {
    const { t, table } = await tableWithCheckpoint();
    expect((await table.snapshot()).files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    writeCommitFile(t, 5, [remove('f2')]);
    expect((await table.snapshot()).files.map((f) => f.path).sort()).toEqual(['f3', 'f4']);
    expect((await table.snapshot({ version: 4 })).files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    expect((await table.snapshot({ version: 3 })).files.map((f) => f.path).sort()).toEqual(['f2', 'f3']);
    expect((await table.snapshot()).files.map((f) => f.path).sort()).toEqual(['f3', 'f4']);
  });

  it('treats _last_checkpoint as a hint: stale, empty, corrupt or missing is fine', async () => {
    const { t, table } = await tableWithCheckpoint();
    const hint = path.join(t, '_delta_log', '_last_checkpoint');
    expect(JSON.parse(fs.readFileSync(hint, 'utf8')).version).toBe(3);
    for (const content of ['{"version":1,"size":2}', '', 'garbage{', undefined]) {
      if (content === undefined) fs.rmSync(hint);
      else fs.writeFileSync(hint, content);
      for (let v = 0; v <= 2; v++) fs.rmSync(path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`), { force: true });
      const snap = await table.snapshot();
      expect(snap.files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    }
  });

  it('reads multi-part checkpoints and ignores incomplete ones', async () => {
    const { t, table } = await tableWithCheckpoint();
    const log = path.join(t, '_delta_log');
    const single = path.join(log, '00000000000000000003.checkpoint.parquet');
    const part = (i: number) => path.join(log, `00000000000000000003.checkpoint.000000000${i}.0000000002.parquet`);
    await con.run(`COPY (SELECT * FROM read_parquet('${single}') WHERE add IS NULL) TO '${part(1)}' (FORMAT parquet)`);
    await con.run(`COPY (SELECT * FROM read_parquet('${single}') WHERE add IS NOT NULL) TO '${part(2)}' (FORMAT parquet)`);
    fs.rmSync(single);
    for (let v = 0; v <= 3; v++) fs.rmSync(path.join(log, `${String(v).padStart(20, '0')}.json`));
    expect((await table.snapshot()).files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    fs.rmSync(part(2));
    await expect(table.snapshot()).rejects.toThrow(/cannot be reconstructed/);
  });

  it('reads a classic checkpoint with an all-null sidecar column (as delta-rs writes) but refuses one with sidecars', async () => {
    const { t, table } = await tableWithCheckpoint();
    const log = path.join(t, '_delta_log');
    const single = path.join(log, '00000000000000000003.checkpoint.parquet');
    const withSidecar = path.join(log, 'with-sidecar.parquet');
    const sidecarType = 'STRUCT(path VARCHAR, sizeInBytes BIGINT, modificationTime BIGINT)';
    await con.run(`COPY (SELECT *, CAST(NULL AS ${sidecarType}) AS sidecar FROM read_parquet('${single}')) TO '${withSidecar}' (FORMAT parquet)`);
    fs.renameSync(withSidecar, single);
    for (let v = 0; v <= 3; v++) fs.rmSync(path.join(log, `${String(v).padStart(20, '0')}.json`));
    expect((await table.snapshot()).files.map((f) => f.path).sort()).toEqual(['f2', 'f3', 'f4']);
    await con.run(
      `COPY (SELECT * REPLACE (CASE WHEN protocol IS NOT NULL THEN {'path': 'x.parquet', 'sizeInBytes': 1, 'modificationTime': 0} END::${sidecarType} AS sidecar)
             FROM read_parquet('${single}')) TO '${withSidecar}' (FORMAT parquet)`,
    );
    fs.renameSync(withSidecar, single);
    await expect(table.snapshot()).rejects.toThrow(/v2Checkpoint/);
  });

  it('writes the classic checkpoint schema with Spark physical types', async () => {
    const { t } = await tableWithCheckpoint();
    const schema = await rows(
      con,
      `SELECT name, type, repetition_type AS rep FROM parquet_schema('${path.join(t, '_delta_log', '00000000000000000003.checkpoint.parquet')}')`,
    );
    const find = (name: string) => schema.filter((r) => r.name === name).map((r) => `${r.type}/${r.rep}`);
    expect(
      schema
        .filter((r) => r.rep === 'OPTIONAL' && r.type === null)
        .map((r) => r.name)
        .slice(0, 6),
    ).toEqual(['txn', 'add', 'partitionValues', 'tags', 'deletionVector', 'remove']);
    expect(find('minReaderVersion')).toEqual(['INT32/OPTIONAL']);
    expect(find('size')).toEqual(['INT64/OPTIONAL', 'INT64/OPTIONAL']);
    expect(find('key_value').every((x) => x === 'null/REPEATED')).toBe(true);
    expect(find('key').every((x) => x === 'BYTE_ARRAY/REQUIRED')).toBe(true);
    const actions = await rows(
      con,
      `SELECT count(add) AS adds, count(remove) AS removes, count(protocol) AS p, count(metaData) AS m FROM read_parquet('${path.join(t, '_delta_log', '00000000000000000003.checkpoint.parquet')}')`,
    );
    expect(actions[0]).toEqual({ adds: 2n, removes: 1n, p: 1n, m: 1n });
  });
});
