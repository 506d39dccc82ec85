// The lineage-tracking API read with a JSON body on GET (as Databricks documents it and its SDKs send it), and lineage
// retention (`--lineage-retention-days`): expired edges leave the API and both system tables; the default keeps all.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type WeirApp } from '../../app.ts';
import { resolveConfig } from '../../platform/config.ts';
import { createTestPostgresDatabase, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const TL = '/api/2.0/lineage-tracking/table-lineage';
const CL = '/api/2.0/lineage-tracking/column-lineage';
const DAY_MS = 86_400_000;

/** A GET carrying a JSON body (fetch cannot send one), as the Databricks SDKs do for the lineage API. */
function getWithBody(url: string, token: string, apiPath: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${apiPath}`,
      { method: 'GET', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs SQL through the statements API and answers the rows; fails the test when the statement does not succeed. */
async function sqlRows(url: string, token: string, statement: string): Promise<(string | null)[][]> {
  const res = await fetch(`${url}/api/2.0/sql/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ statement, wait_timeout: '50s' }),
  });
  const body = (await res.json()) as { status: { state: string; error?: { message: string } }; result?: { data_array?: (string | null)[][] } };
  expect(body.status.state, `${statement}: ${body.status.error?.message}`).toBe('SUCCEEDED');
  return body.result?.data_array ?? [];
}

const upstreams = (body: any) =>
  ((body.upstreams ?? []) as any[]).map((u) => `${u.tableInfo.catalog_name}.${u.tableInfo.schema_name}.${u.tableInfo.name}`).sort();

/** Moves the recorded time of every edge into `target` back by `days` (what an old statement would have left). */
async function age(weir: WeirApp, target: string, days: number): Promise<void> {
  const res = await weir.store.db
    .updateTable('lineage_edges' as never)
    .set({ event_time: Date.now() - days * DAY_MS } as never)
    .where('target_id' as never, '=', `table:${target}` as never)
    .executeTakeFirst();
  expect(Number(res.numUpdatedRows)).toBeGreaterThan(0);
}

describe.each(testBackends)('lineage API bodies and default retention on $name', (backend) => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer(backend);
    for (const statement of [
      'CREATE SCHEMA main.lb',
      'CREATE TABLE main.lb.src (id BIGINT, v DOUBLE)',
      'INSERT INTO main.lb.src VALUES (1, 1.5)',
      'CREATE TABLE main.lb.dst AS SELECT id, v * 2 AS w FROM main.lb.src',
    ])
      await sqlRows(s.url, s.adminToken, statement);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('table-lineage and column-lineage read their parameters from a JSON body on GET', async () => {
    const table = await getWithBody(s.url, s.adminToken, TL, JSON.stringify({ table_name: 'main.lb.dst', include_entity_lineage: true }));
    expect(table.status, JSON.stringify(table.body)).toBe(200);
    expect(upstreams(table.body)).toEqual(['main.lb.src']);
    const column = await getWithBody(s.url, s.adminToken, CL, JSON.stringify({ table_name: 'main.lb.dst', column_name: 'w' }));
    expect(column.status, JSON.stringify(column.body)).toBe(200);
    expect((column.body.upstream_cols as any[]).map((c) => `${c.table_name}.${c.name}`)).toEqual(['src.v']);
    // The query string still works, and a GET without either is refused.
    const query = await s.call('GET', `${TL}?table_name=main.lb.dst`);
    expect(upstreams(query.body)).toEqual(['main.lb.src']);
    expect((await getWithBody(s.url, s.adminToken, TL, '')).status).toBe(400);
    const malformed = await getWithBody(s.url, s.adminToken, TL, '{"table_name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBe('MALFORMED_REQUEST');
    expect((await getWithBody(s.url, s.adminToken, TL, JSON.stringify({ table_name: 42 }))).status).toBe(400);
  });

  it('without a retention setting, lineage is kept however old it is', async () => {
    await sqlRows(s.url, s.adminToken, 'CREATE TABLE main.lb.ancient AS SELECT id FROM main.lb.src');
    await age(s.weir, 'main.lb.ancient', 1000);
    const rows = await sqlRows(
      s.url,
      s.adminToken,
      "SELECT source_table_full_name FROM system.access.table_lineage WHERE target_table_full_name = 'main.lb.ancient'",
    );
    expect(rows).toEqual([['main.lb.src']]);
    expect(upstreams((await s.call('GET', `${TL}?table_name=main.lb.ancient`)).body)).toEqual(['main.lb.src']);
  });
});

describe.each(testBackends)('lineage retention on $name', (backend) => {
  let weir: WeirApp;
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  const token = `dapi${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-lineage-retention-'));
    let metadataUrl: string | undefined;
    if (backend.name === 'postgres') {
      const db = await createTestPostgresDatabase('weir_lret');
      metadataUrl = db.url;
      drop = db.drop;
    }
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    // A long copy interval: the copies (and with them retention) run when the test reads the system tables.
    const config = resolveConfig(
      { port: 0, host: '127.0.0.1', dataDir, metadataUrl, adminToken: token, logLevel: 'warn', lineageRetentionDays: 30, auditCompactSeconds: 3600 },
      {},
    );
    expect(config.lineageRetentionDays).toBe(30);
    weir = await buildApp(config, { logStream: sink, announce: () => {} });
    url = await weir.app.listen({ host: '127.0.0.1', port: 0 });
    for (const statement of [
      'CREATE SCHEMA main.ret',
      'CREATE TABLE main.ret.src (id BIGINT)',
      'INSERT INTO main.ret.src VALUES (1)',
      'CREATE TABLE main.ret.expired AS SELECT id FROM main.ret.src',
      'CREATE TABLE main.ret.recent AS SELECT id FROM main.ret.src',
      'CREATE TABLE main.ret.today AS SELECT id FROM main.ret.src',
    ])
      await sqlRows(url, token, statement);
  });
  afterAll(async () => {
    await weir?.close();
    await drop?.();
  });

  it('drops edges older than the window from the API and both system tables, and keeps the rest', async () => {
    await age(weir, 'main.ret.expired', 45);
    await age(weir, 'main.ret.recent', 20);
    const api = async (table: string) => {
      const res = await fetch(`${url}${TL}?table_name=${table}`, { headers: { authorization: `Bearer ${token}` } });
      return upstreams(await res.json());
    };
    // Before a copy has run, the old edge is still recorded.
    expect(await api('main.ret.expired')).toEqual(['main.ret.src']);
    // Reading a system table copies and applies retention first.
    const tableRows = await sqlRows(
      url,
      token,
      "SELECT target_table_full_name FROM system.access.table_lineage WHERE source_table_full_name = 'main.ret.src' ORDER BY target_table_full_name",
    );
    expect(tableRows).toEqual([['main.ret.recent'], ['main.ret.today']]);
    const columnRows = await sqlRows(
      url,
      token,
      "SELECT target_table_full_name FROM system.access.column_lineage WHERE source_table_full_name = 'main.ret.src' ORDER BY target_table_full_name",
    );
    expect(columnRows).toEqual([['main.ret.recent'], ['main.ret.today']]);
    expect(await api('main.ret.expired')).toEqual([]);
    expect(await api('main.ret.recent')).toEqual(['main.ret.src']);
    expect(await api('main.ret.today')).toEqual(['main.ret.src']);
    // A second pass finds nothing more to drop.
    const again = await sqlRows(url, token, "SELECT count(*) FROM system.access.table_lineage WHERE source_table_full_name = 'main.ret.src'");
    expect(again).toEqual([['2']]);
  });

  it('refuses a retention that is not a positive number', () => {
    expect(() => resolveConfig({ lineageRetentionDays: 0 }, {})).toThrow(/lineage retention days/);
    expect(() => resolveConfig({}, { WEIR_LINEAGE_RETENTION_DAYS: 'soon' })).toThrow(/lineage retention days/);
    expect(resolveConfig({}, {}).lineageRetentionDays).toBeUndefined();
    expect(resolveConfig({}, { WEIR_LINEAGE_RETENTION_DAYS: '395' }).lineageRetentionDays).toBe(395);
  });
});
