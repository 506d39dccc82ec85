import { DuckDBInstance } from '@duckdb/node-api';
import { type Table, tableFromIPC, type Vector } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

/** One row of every scalar type the manifest knows, a row of extremes, and a row of NULLs. */
const TYPED_QUERY = `
SELECT 1::TINYINT AS i8, -2::SMALLINT AS i16, 3::INTEGER AS i32, 9007199254740993::BIGINT AS i64, 1.5::DOUBLE AS f64, 0.25::FLOAT AS f32,
       true AS b, 'héllo ✓' AS s, DATE '2024-02-29' AS d, TIMESTAMP '2024-02-29 12:34:56.123456' AS ts, TIMESTAMPTZ '2024-02-29 12:34:56.5+02' AS tz,
       12.34::DECIMAL(10,2) AS dec10, -12345678901234567890.123456::DECIMAL(38,6) AS dec38, [1, 2] AS arr, {'a': 1} AS st, 0 AS ord
UNION ALL
SELECT (-128)::TINYINT, 32767::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, 'NaN'::DOUBLE, '-Infinity'::FLOAT, false, '', DATE '0044-03-15 (BC)', TIMESTAMP '1901-12-13 20:45:52.000001',
       TIMESTAMPTZ '2262-04-11 23:47:16+00', -0.01, 99999999999999999999999999999999.999999, [], {'a': NULL}, 1
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2
ORDER BY ord`;

/** What plain DuckDB says the exact Arrow payload must be: integers, day counts, epoch microseconds, unscaled decimals. */
const REFERENCE_QUERY = `
SELECT i8, i16, i32, i64::VARCHAR, f64, f32, b, s, (d - DATE '1970-01-01')::INTEGER, epoch_us(ts)::VARCHAR, epoch_us(tz)::VARCHAR,
       replace(dec10::VARCHAR, '.', ''), replace(dec38::VARCHAR, '.', ''), to_json(arr)::VARCHAR, to_json(st)::VARCHAR
FROM (${TYPED_QUERY})`;

async function plainDuckdb(query: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run(`SET TimeZone = 'UTC'`);
    return (await con.runAndReadAll(query)).getRows() as unknown[][];
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** The raw little-endian 64-bit words behind an Arrow column (no apache-arrow value conversion in between). */
function words64(v: Vector): BigInt64Array {
  const data = v.data[0];
  if (!data) throw new Error('no data');
  const values = data.values as ArrayBufferView;
  return new BigInt64Array(values.buffer, values.byteOffset, values.byteLength / 8);
}

function rawInt32(v: Vector): Int32Array {
  const values = v.data[0]?.values as ArrayBufferView;
  return new Int32Array(values.buffer, values.byteOffset, values.byteLength / 4);
}

function decimal128(v: Vector, i: number): bigint {
  const w = words64(v);
  return (BigInt(w[2 * i + 1] as bigint) << 64n) + BigInt.asUintN(64, w[2 * i] as bigint);
}

function column(t: Table, name: string): Vector {
  const v = t.getChild(name);
  if (!v) throw new Error(`no column ${name}`);
  return v;
}

describe.each(testBackends)('ARROW_STREAM statement results on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function execute(statement: string, extra: Record<string, unknown>) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'any', wait_timeout: '30s', ...extra });
    expect(res.status).toBe(200);
    expect(res.body.status, JSON.stringify(res.body.status)).toEqual({ state: 'SUCCEEDED' });
    return res.body;
  }

  it('encodes INLINE results as a base64 Arrow IPC stream whose values equal DuckDB’s exactly', async () => {
    const body = await execute(TYPED_QUERY, { format: 'ARROW_STREAM', disposition: 'INLINE' });
    expect(body.manifest.format).toBe('ARROW_STREAM');
    expect(body.result.data_array).toBeUndefined();
    const t = tableFromIPC(Buffer.from(body.result.attachment, 'base64'));
    expect(t.numRows).toBe(3);
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'i8:Int8',
      'i16:Int16',
      'i32:Int32',
      'i64:Int64',
      'f64:Float64',
      'f32:Float32',
      'b:Bool',
      's:Utf8',
      'd:Date32<DAY>',
      'ts:Timestamp<MICROSECOND>',
      'tz:Timestamp<MICROSECOND, UTC>',
      'dec10:Decimal[10e+2]',
      'dec38:Decimal[38e+6]',
      'arr:Utf8',
      'st:Utf8',
      'ord:Int32',
    ]);
    const ref = await plainDuckdb(REFERENCE_QUERY);
    for (let row = 0; row < 3; row++) {
      const expected = ref[row] as unknown[];
      const nulls = expected.map((v) => v === null);
      const names = t.schema.fields.map((f) => f.name).slice(0, 15);
      expect(names.map((n) => !column(t, n).isValid(row))).toEqual(nulls);
      if (row === 2) continue;
      expect(column(t, 'i8').get(row)).toBe(expected[0]);
      expect(column(t, 'i16').get(row)).toBe(expected[1]);
      expect(column(t, 'i32').get(row)).toBe(expected[2]);
      expect(String(words64(column(t, 'i64'))[row])).toBe(expected[3]);
      expect(column(t, 'f64').get(row)).toBe(expected[4]);
      expect(column(t, 'f32').get(row)).toBe(expected[5]);
      expect(column(t, 'b').get(row)).toBe(expected[6]);
      expect(column(t, 's').get(row)).toBe(expected[7]);
      expect(rawInt32(column(t, 'd'))[row]).toBe(expected[8]);
      expect(String(words64(column(t, 'ts'))[row])).toBe(expected[9]);
      expect(String(words64(column(t, 'tz'))[row])).toBe(expected[10]);
      expect(String(decimal128(column(t, 'dec10'), row))).toBe(String(BigInt(expected[11] as string)));
      expect(String(decimal128(column(t, 'dec38'), row))).toBe(String(BigInt(expected[12] as string)));
      expect(JSON.parse(column(t, 'arr').get(row))).toEqual(JSON.parse(expected[13] as string));
      expect(JSON.parse(column(t, 'st').get(row))).toEqual(JSON.parse(expected[14] as string));
    }
  });

  it('reads a catalog table in ARROW_STREAM with the same rows JSON_ARRAY gives, and an empty result as a schema-only stream', async () => {
    await execute('CREATE CATALOG IF NOT EXISTS arrowcat', {});
    await execute('CREATE SCHEMA IF NOT EXISTS arrowcat.s', {});
    await execute(
      "CREATE TABLE arrowcat.s.t AS SELECT range AS id, range % 7 AS k, CASE WHEN range % 3 = 0 THEN NULL ELSE 'n' || range END AS label FROM range(5000)",
      {},
    );
    const query = 'SELECT k, count(*) AS n, max(label) AS top FROM arrowcat.s.t GROUP BY k ORDER BY k';
    const json = await execute(query, {});
    const arrow = await execute(query, { format: 'ARROW_STREAM' });
    const t = tableFromIPC(Buffer.from(arrow.result.attachment, 'base64'));
    const decoded = [...Array(t.numRows).keys()].map((i) => [String(words64(column(t, 'k'))[i]), String(words64(column(t, 'n'))[i]), column(t, 'top').get(i)]);
    expect(decoded).toEqual(json.result.data_array);
    const reference = await plainDuckdb(
      "SELECT k::VARCHAR, count(*)::VARCHAR, max(label) FROM (SELECT range % 7 AS k, CASE WHEN range % 3 = 0 THEN NULL ELSE 'n' || range END AS label FROM range(5000)) GROUP BY k ORDER BY k",
    );
    expect(decoded).toEqual(reference);

    const none = await execute('SELECT id FROM arrowcat.s.t WHERE id < 0', { format: 'ARROW_STREAM' });
    const empty = tableFromIPC(Buffer.from(none.result.attachment, 'base64'));
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64']);
  });

  it('serves EXTERNAL_LINKS chunks as Arrow bytes behind signed links that need no token, in order, adding up to every row', async () => {
    const body = await execute('SELECT range AS id, range * 3 AS triple FROM range(700000) ORDER BY id', {
      format: 'ARROW_STREAM',
      disposition: 'EXTERNAL_LINKS',
    });
    const manifest = body.manifest;
    expect(manifest.format).toBe('ARROW_STREAM');
    expect(manifest.total_chunk_count).toBeGreaterThan(1);
    let link = body.result.external_links[0];
    let seen = 0;
    let wrong = 0;
    let bytes = 0;
    for (;;) {
      expect(link.row_offset).toBe(seen);
      expect(new Date(link.expiration).getTime()).toBeGreaterThan(Date.now());
      const res = await fetch(link.external_link);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
      const payload = new Uint8Array(await res.arrayBuffer());
      expect(payload.length).toBe(link.byte_count);
      bytes += payload.length;
      const t = tableFromIPC(payload);
      expect(t.numRows).toBe(link.row_count);
      const ids = words64(column(t, 'id'));
      const triples = words64(column(t, 'triple'));
      for (let i = 0; i < t.numRows; i++) {
        if (ids[i] !== BigInt(seen) || triples[i] !== BigInt(seen * 3)) wrong++;
        seen++;
      }
      if (link.next_chunk_internal_link === undefined) break;
      const next = await s.call('GET', link.next_chunk_internal_link);
      expect(next.status).toBe(200);
      link = next.body.external_links[0];
    }
    expect(wrong).toBe(0);
    expect(seen).toBe(700000);
    expect(manifest.total_byte_count).toBe(bytes);

    const good = new URL(body.result.external_links[0].external_link);
    const tampered = new URL(good);
    tampered.searchParams.set('expires', String(Number(good.searchParams.get('expires')) + 1));
    const refused = await fetch(tampered);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error_code: string }).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const otherChunk = new URL(good.toString().replace('/chunks/0/', '/chunks/1/'));
    expect((await fetch(otherChunk)).status).toBe(404);
  });

  it('serves JSON_ARRAY through EXTERNAL_LINKS too, and refuses CSV and unsigned downloads', async () => {
    const body = await execute('SELECT 1 AS one, NULL AS nothing', { disposition: 'EXTERNAL_LINKS', format: 'JSON_ARRAY' });
    const res = await fetch(body.result.external_links[0].external_link);
    expect(await res.json()).toEqual([['1', null]]);
    const csv = await s.call('POST', '/api/2.0/sql/statements', { statement: 'SELECT 1', warehouse_id: 'w', format: 'CSV', disposition: 'EXTERNAL_LINKS' });
    expect(csv.status).toBe(400);
    expect(csv.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const unsigned = await fetch(`${s.url}/api/2.0/sql/statements/${body.statement_id}/result/chunks/0/download`);
    expect(unsigned.status).toBe(400);
  });
});
