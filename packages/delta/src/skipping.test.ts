import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddFile } from './actions.ts';
import { sharedDuckDB } from './duck.ts';
import { DeltaInvalidOperationError } from './errors.ts';
import { parseJsonLossless } from './json.ts';
import { parsePredicate, pruneFiles, type SkippingScope } from './skipping.ts';

const schema = {
  type: 'struct' as const,
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'name', type: 'string', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'amount', type: 'decimal(38,2)', nullable: true, metadata: {} },
    { name: 'score', type: 'double', nullable: true, metadata: {} },
    { name: 's', type: { type: 'struct' as const, fields: [{ name: 'x', type: 'integer', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
    { name: 'day', type: 'date', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
  ],
};
const scope: SkippingScope = { schema, partitionColumns: ['day', 'p'] };

function file(name: string, partitionValues: Record<string, string | null>, stats?: object | string): AddFile {
  return {
    path: name,
    partitionValues,
    size: 1,
    modificationTime: 0,
    dataChange: true,
    stats: typeof stats === 'string' ? stats : stats ? JSON.stringify(stats) : null,
  };
}

const files = [
  file(
    'a',
    { day: '2024-01-01', p: 'x' },
    {
      numRecords: 10,
      minValues: { id: 1, name: 'apple', ts: '2024-01-01T00:00:00.000Z', score: 1.0, s: { x: 5 } },
      maxValues: { id: 10, name: 'kiwi', ts: '2024-01-01T10:00:00.000Z', score: 2.0, s: { x: 7 } },
      nullCount: { id: 0, name: 2, ts: 0, score: 0, s: { x: 0 } },
    },
  ),
  file(
    'b',
    { day: '2024-01-02', p: null },
    {
      numRecords: 5,
      minValues: { id: 11, name: 'lemon', score: 3.0, s: { x: 8 } },
      maxValues: { id: 20, name: 'zucchini', score: 4.0, s: { x: 9 } },
      nullCount: { id: 0, name: 0, ts: 5, score: 0, s: { x: 0 } },
    },
  ),
  // int64 and decimal stats beyond 2^53: must be compared exactly.
  file(
    'c',
    { day: null, p: 'y' },
    '{"numRecords":3,"minValues":{"id":9007199254740993,"amount":123456789012345678901234.50},"maxValues":{"id":9007199254740995,"amount":123456789012345678901234.99},"nullCount":{"id":0,"amount":0}}',
  ),
  file('d', { day: '2024-01-03', p: 'x' }),
];

let con: DuckDBConnection;
beforeAll(async () => {
  con = await (await sharedDuckDB()).connect();
});
afterAll(() => con.closeSync());

async function kept(predicate: string, s: SkippingScope = scope): Promise<string[]> {
  return pruneFiles(files, await parsePredicate(con, predicate), s).map((f) => f.path);
}

describe('data skipping', () => {
  it('prunes on partition values, including null partitions', async () => {
    expect(await kept(`day = DATE '2024-01-02'`)).toEqual(['b']);
    expect(await kept(`p = 'x'`)).toEqual(['a', 'd']);
    expect(await kept('p IS NULL')).toEqual(['b']);
    expect(await kept('day IS NULL')).toEqual(['c']);
    expect(await kept(`p IN ('y', 'z')`)).toEqual(['c']);
  });

  it('prunes on min/max stats and keeps files without stats', async () => {
    expect(await kept('id = 15')).toEqual(['b', 'd']);
    expect(await kept('id > 10')).toEqual(['b', 'c', 'd']);
    expect(await kept('id BETWEEN 2 AND 3')).toEqual(['a', 'd']);
    expect(await kept(`name < 'b'`)).toEqual(['a', 'c', 'd']);
    expect(await kept('s.x = 8')).toEqual(['b', 'c', 'd']);
    expect(await kept('NOT (id <= 10)')).toEqual(['b', 'c', 'd']);
  });

  it('uses nullCount for IS NULL / IS NOT NULL and all-null columns', async () => {
    expect(await kept('name IS NULL')).toEqual(['a', 'c', 'd']);
    expect(await kept('ts IS NOT NULL')).toEqual(['a', 'c', 'd']);
    expect(await kept(`ts > TIMESTAMPTZ '2020-01-01 00:00:00+00'`)).toEqual(['a', 'c', 'd']);
  });

  it('compares int64 and decimal stats without precision loss', async () => {
    expect(await kept('id = 9007199254740994')).toEqual(['c', 'd']);
    expect(await kept('id = 9007199254740996')).toEqual(['d']);
    expect(await kept('amount > 123456789012345678901234.98')).toEqual(['a', 'b', 'c', 'd']);
    expect(await kept('amount > 123456789012345678901234.99')).toEqual(['a', 'b', 'd']);
  });

  it('treats timestamp max as truncated to milliseconds', async () => {
    expect(await kept(`ts = TIMESTAMPTZ '2024-01-01 10:00:00.000500+00'`)).toEqual(['a', 'c', 'd']);
    expect(await kept(`ts > TIMESTAMPTZ '2024-01-01 10:00:00.001+00'`)).toEqual(['c', 'd']);
  });

  it('never prunes on what it does not understand', async () => {
    expect(await kept('lower(name) = 1')).toEqual(['a', 'b', 'c', 'd']);
    expect(await kept('id = 1 OR lower(name) = 1')).toEqual(['a', 'b', 'c', 'd']);
    expect(await kept('score > 100')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('resolves the target alias and ignores source columns (MERGE)', async () => {
    const mergeScope = { ...scope, alias: 't', foreignAliases: ['s'] };
    expect(await kept("t.id = s.id AND t.p = 'y'", mergeScope)).toEqual(['c']);
    expect(await kept('t.id = s.id', mergeScope)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads checkpoint stats_parsed when stats JSON is absent', async () => {
    const f = file('e', {}, undefined);
    f.statsParsed = parseJsonLossless('{"numRecords":2,"minValues":{"id":100},"maxValues":{"id":200},"nullCount":{"id":0}}');
    expect(pruneFiles([f], await parsePredicate(con, 'id = 150'), scope)).toHaveLength(1);
    expect(pruneFiles([f], await parsePredicate(con, 'id = 250'), scope)).toHaveLength(0);
  });

  it('rejects invalid SQL predicates', async () => {
    await expect(parsePredicate(con, 'id = = 1')).rejects.toThrow(DeltaInvalidOperationError);
  });
});
