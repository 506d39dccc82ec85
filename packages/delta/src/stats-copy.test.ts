import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFileStats, parseCopyStats } from './stats.ts';
import { cleanupTempDirs, schemaOf, tempDir, testConnection } from './test-helpers.ts';

let con: DuckDBConnection;
beforeAll(async () => {
  con = await testConnection();
});
afterAll(() => {
  con.closeSync();
  cleanupTempDirs();
});

const fields = schemaOf({
  i: 'integer',
  l: 'long',
  d: 'date',
  ts: 'timestamp',
  s: 'string',
  b: 'boolean',
  x: 'double',
  dec: 'decimal(20,4)',
  empty: 'long',
}).fields;
const rowsSql = `SELECT * FROM (VALUES
    (1, (-9223372036854775808)::BIGINT, DATE '1900-01-01', TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', 'short', true, 'nan'::DOUBLE, 1.5::DECIMAL(20,4), NULL::BIGINT),
    (-7, 9223372036854775807::BIGINT, DATE '2024-02-29', TIMESTAMPTZ '2024-03-10 02:30:00.123456+00', '${'long value '.repeat(5)}', false, 2.5::DOUBLE, (-3)::DECIMAL(20,4), NULL),
    (NULL, NULL, NULL, NULL, 'ünïcødé ☃', NULL, NULL, NULL, NULL),
    (3, 0, DATE '9999-12-31', TIMESTAMPTZ '2001-09-09 01:46:40.5+00', '', true, -0.25::DOUBLE, 0::DECIMAL(20,4), NULL)
  ) AS v(i, l, d, ts, s, b, x, dec, empty)`;

/** Writes the rows with RETURN_STATS under a session zone, and returns stats computed both ways. */
async function bothWays(zone: string) {
  await con.run(`SET TimeZone = '${zone}'`);
  try {
    const file = path.join(tempDir(), 'f.parquet');
    const r = (await con.runAndReadAll(`COPY (${rowsSql}) TO '${file}' (FORMAT parquet, RETURN_STATS true)`)).getRowObjectsJson()[0] as Record<string, unknown>;
    const fromCopy = await computeFileStats(con, file, fields, {}, parseCopyStats(Number(r.count), r.column_statistics));
    const fromScan = await computeFileStats(con, file, fields, {});
    return { fromCopy, fromScan };
  } finally {
    await con.run(`SET TimeZone = 'UTC'`);
  }
}

describe('stats from COPY ... RETURN_STATS', () => {
  it.each(['UTC', 'America/New_York', 'Asia/Kolkata'])('equal the stats read back from the file (session zone %s)', async (zone) => {
    const { fromCopy, fromScan } = await bothWays(zone);
    expect(fromCopy).toEqual(fromScan);
    // The values a reader relies on, stated independently of both code paths.
    const stats = JSON.parse(fromCopy.stats);
    expect(stats.numRecords).toBe(4);
    expect(stats.minValues.ts).toBe('1969-12-31T23:59:59.999Z');
    expect(stats.maxValues.ts).toBe('2024-03-10T02:30:00.123Z');
    expect(stats.minValues.d).toBe('1900-01-01');
    expect(stats.maxValues.i).toBe(3);
    expect(stats.minValues.i).toBe(-7);
    expect(stats.nullCount).toMatchObject({ i: 1, ts: 1, s: 0, b: 1, empty: 4 });
    expect(stats.minValues.s).toBe('');
    expect(stats.maxValues.s).toBe('ünïcødé ☃');
    expect(stats.minValues.x).toBeUndefined();
  });

  it('need no read-back when every leaf is an integer, date, timestamp, short string or boolean', async () => {
    const exact = fields.filter((f) => !['x', 'dec'].includes(f.name));
    const file = path.join(tempDir(), 'f.parquet');
    const cols = exact.map((f) => f.name).join(', ');
    const r = (
      await con.runAndReadAll(`COPY (SELECT ${cols} FROM (${rowsSql})) TO '${file}' (FORMAT parquet, RETURN_STATS true)`)
    ).getRowObjectsJson()[0] as Record<string, unknown>;
    const fromScan = await computeFileStats(con, file, exact, {});
    // With the file gone, only the COPY's own statistics can produce the stats.
    fs.rmSync(file);
    expect(await computeFileStats(con, file, exact, {}, parseCopyStats(Number(r.count), r.column_statistics))).toEqual(fromScan);
  });
});
