import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const UC = '/api/2.1/unity-catalog';

describe.each(testBackends)('Unity Catalog tables on $name', (backend) => {
  let s: TestServer;
  let outside: string;
  beforeAll(async () => {
    s = await startTestServer(backend);
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-exttable-'));
    await s.call('POST', `${UC}/catalogs`, { name: 'lake' });
    await s.call('POST', `${UC}/schemas`, { name: 'sales', catalog_name: 'lake' });
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('creates a managed Delta table under warehouse/<catalog>/<schema>/<table> with columns from the Delta schema', async () => {
    const res = await s.call('POST', `${UC}/tables`, {
      name: 'orders',
      catalog_name: 'lake',
      schema_name: 'sales',
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      columns: [
        { name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0, nullable: false },
        { name: 'amount', type_text: 'decimal(10,2)', type_name: 'DECIMAL', position: 1 },
        { name: 'country', type_text: 'string', type_name: 'STRING', position: 2, partition_index: 0, comment: 'ISO code' },
        { name: 'tags', type_text: 'array<string>', type_name: 'ARRAY', position: 3 },
      ],
      properties: { quality: 'gold' },
    });
    expect(res.status).toBe(200);
    const dir = path.join(path.resolve(s.dataDir), 'warehouse', 'lake', 'sales', 'orders');
    expect(res.body).toMatchObject({
      name: 'orders',
      catalog_name: 'lake',
      schema_name: 'sales',
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      storage_location: `file://${dir}`,
      properties: { quality: 'gold' },
      owner: 'admin',
    });
    expect(res.body.columns).toEqual([
      {
        name: 'id',
        type_text: 'bigint',
        type_json: '{"name":"id","type":"long","nullable":false,"metadata":{}}',
        type_name: 'LONG',
        type_precision: 0,
        type_scale: 0,
        position: 0,
        nullable: false,
      },
      {
        name: 'amount',
        type_text: 'decimal(10,2)',
        type_json: '{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}}',
        type_name: 'DECIMAL',
        type_precision: 10,
        type_scale: 2,
        position: 1,
        nullable: true,
      },
      {
        name: 'country',
        type_text: 'string',
        type_json: '{"name":"country","type":"string","nullable":true,"metadata":{"comment":"ISO code"}}',
        type_name: 'STRING',
        type_precision: 0,
        type_scale: 0,
        position: 2,
        nullable: true,
        comment: 'ISO code',
        partition_index: 0,
      },
      {
        name: 'tags',
        type_text: 'array<string>',
        type_json: '{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}',
        type_name: 'ARRAY',
        type_precision: 0,
        type_scale: 0,
        position: 3,
        nullable: true,
      },
    ]);
    // the Delta log itself, read back by the engine, holds the schema and partitioning
    const snap = await openDeltaTable(dir).snapshot();
    expect(snap.version).toBe(0);
    expect(snap.partitionColumns).toEqual(['country']);
    expect(snap.schema.fields.map((f) => f.name)).toEqual(['id', 'amount', 'country', 'tags']);
    expect(snap.configuration).toEqual({ quality: 'gold' });
    const got = await s.call('GET', `${UC}/tables/lake.sales.orders`);
    expect(got.body).toEqual(res.body);
  });

  it('refuses bad tables: duplicates, names with dots, unknown types, non-Delta formats, missing columns', async () => {
    const base = { catalog_name: 'lake', schema_name: 'sales', table_type: 'MANAGED', columns: [{ name: 'a', type_text: 'int' }] };
    const dup = await s.call('POST', `${UC}/tables`, { ...base, name: 'orders' });
    expect(dup.status).toBe(400);
    expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    for (const body of [
      { ...base, name: 'a.b' },
      { ...base, name: 'x y' },
      { ...base, name: 't1', columns: [{ name: 'a', type_text: 'wibble' }] },
      {
        ...base,
        name: 't2',
        columns: [
          { name: 'a', type_text: 'int' },
          { name: 'A', type_text: 'int' },
        ],
      },
      { ...base, name: 't3', columns: [] },
      { ...base, name: 't4', data_source_format: 'CSV' },
      { ...base, name: 't5', storage_location: '/tmp/x' },
      { ...base, name: 't6', table_type: 'EXTERNAL' },
      { ...base, name: 't7', table_type: 'VIEW' },
    ]) {
      const res = await s.call('POST', `${UC}/tables`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const missing = await s.call('GET', `${UC}/tables/lake.sales.nothing`);
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('TABLE_DOES_NOT_EXIST');
    expect(missing.body.details[0]).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'TABLE_DOES_NOT_EXIST', metadata: {} });
    expect((await s.call('GET', `${UC}/tables/lake.nope.orders`)).status).toBe(404);
    const noSchema = await s.call('GET', `${UC}/tables`, { catalog_name: 'lake', schema_name: 'nope' });
    expect([noSchema.status, noSchema.body.error_code]).toEqual([404, 'SCHEMA_DOES_NOT_EXIST']);
    const noCatalog = await s.call('POST', `${UC}/tables`, { ...base, catalog_name: 'nowhere', name: 't8' });
    expect([noCatalog.status, noCatalog.body.error_code]).toEqual([404, 'CATALOG_DOES_NOT_EXIST']);
    expect((await s.call('DELETE', `${UC}/tables/lake.sales.nothing`)).body.error_code).toBe('TABLE_DOES_NOT_EXIST');
    expect((await s.call('GET', `${UC}/tables/lake.sales`)).status).toBe(400);
    // nothing was left behind by the refused creates
    expect(fs.readdirSync(path.join(s.dataDir, 'warehouse', 'lake', 'sales'))).toEqual(['orders']);
  });

  it('registers an external table from an existing Delta location and keeps its data on drop', async () => {
    const loc = path.join(outside, 'events');
    const t = openDeltaTable(loc);
    await t.write(`SELECT range AS id, 'e' || range AS name FROM range(5)`, { partitionBy: [] });
    const res = await s.call('POST', `${UC}/tables`, {
      name: 'events',
      catalog_name: 'lake',
      schema_name: 'sales',
      table_type: 'EXTERNAL',
      data_source_format: 'DELTA',
      storage_location: `file://${loc}`,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ table_type: 'EXTERNAL', storage_location: `file://${loc}` });
    expect(res.body.columns.map((c: { name: string; type_name: string }) => [c.name, c.type_name])).toEqual([
      ['id', 'LONG'],
      ['name', 'STRING'],
    ]);
    // a schema change made by another writer shows on the next get
    await t.write(`SELECT 9::BIGINT AS id, 'n' AS name, 1.5::DOUBLE AS score`, { mergeSchema: true });
    const again = await s.call('GET', `${UC}/tables/lake.sales.events`);
    expect(again.body.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'name', 'score']);
    const notDelta = await s.call('POST', `${UC}/tables`, {
      name: 'nodelta',
      catalog_name: 'lake',
      schema_name: 'sales',
      table_type: 'EXTERNAL',
      storage_location: path.join(outside, 'empty'),
    });
    expect(notDelta.status).toBe(400);
    const inside = await s.call('POST', `${UC}/tables`, {
      name: 'inside',
      catalog_name: 'lake',
      schema_name: 'sales',
      table_type: 'EXTERNAL',
      storage_location: path.join(s.dataDir, 'warehouse', 'lake', 'sales', 'orders'),
    });
    expect(inside.status).toBe(400);
    expect((await s.call('DELETE', `${UC}/tables/lake.sales.events`)).status).toBe(200);
    expect(await openDeltaTable(loc).version()).toBe(1);
    expect((await s.call('GET', `${UC}/tables/lake.sales.events`)).status).toBe(404);
  });

  it('lists tables by name with paging and shares names with volumes', async () => {
    for (const n of ['t_b', 't_a', 't_c']) {
      expect(
        (
          await s.call('POST', `${UC}/tables`, {
            name: n,
            catalog_name: 'lake',
            schema_name: 'sales',
            table_type: 'MANAGED',
            columns: [{ name: 'x', type_name: 'INT' }],
          })
        ).status,
      ).toBe(200);
    }
    const all = await s.call('GET', `${UC}/tables`, { catalog_name: 'lake', schema_name: 'sales' });
    expect(all.body.tables.map((t: { name: string }) => t.name)).toEqual(['orders', 't_a', 't_b', 't_c']);
    const p1 = await s.call('GET', `${UC}/tables`, { catalog_name: 'lake', schema_name: 'sales', max_results: 3 });
    expect(p1.body.tables.map((t: { name: string }) => t.name)).toEqual(['orders', 't_a', 't_b']);
    const p2 = await s.call('GET', `${UC}/tables`, { catalog_name: 'lake', schema_name: 'sales', max_results: 3, page_token: p1.body.next_page_token });
    expect(p2.body.tables.map((t: { name: string }) => t.name)).toEqual(['t_c']);
    expect(p2.body.next_page_token).toBeUndefined();
    const clash = await s.call('POST', `${UC}/volumes`, { catalog_name: 'lake', schema_name: 'sales', name: 't_a', volume_type: 'MANAGED' });
    expect(clash.status).toBe(400);
    expect(clash.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('cascades a forced schema delete to tables and their managed data', async () => {
    await s.call('POST', `${UC}/schemas`, { name: 'tmp', catalog_name: 'lake' });
    await s.call('POST', `${UC}/tables`, {
      name: 'gone',
      catalog_name: 'lake',
      schema_name: 'tmp',
      table_type: 'MANAGED',
      columns: [{ name: 'x', type_text: 'int' }],
    });
    const dir = path.join(s.dataDir, 'warehouse', 'lake', 'tmp', 'gone');
    expect(fs.existsSync(path.join(dir, '_delta_log'))).toBe(true);
    const refused = await s.call('DELETE', `${UC}/schemas/lake.tmp`);
    expect(refused.status).toBe(400);
    expect(fs.existsSync(dir)).toBe(true);
    expect((await s.call('DELETE', `${UC}/schemas/lake.tmp`, { force: true })).status).toBe(200);
    expect(fs.existsSync(dir)).toBe(false);
    expect((await s.call('GET', `${UC}/tables/lake.tmp.gone`)).status).toBe(404);
  });
});
