// runs/search ordered by a metric: values, then NaN, then runs without the key — whole and page by page.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openMetadataDb } from '../../platform/db.ts';
import { createTestPostgresDatabase, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { trackingMigrations } from './tracking.migrations.ts';

const API = '/api/2.0/mlflow';

describe.each(testBackends)('runs ordered by a metric on $name', (backend) => {
  let s: TestServer;
  let exp: string;
  let other: string;
  /** Run ids by name. */
  const id: Record<string, string> = {};
  const post = (p: string, body: unknown) => s.call('POST', `${API}${p}`, body);

  beforeAll(async () => {
    s = await startTestServer(backend);
    exp = (await post('/experiments/create', { name: `metric-order-${Date.now()}` })).body.experiment_id;
    other = (await post('/experiments/create', { name: `metric-order-other-${Date.now()}` })).body.experiment_id;
    // name → [start_time, value of m (undefined: never logged)]
    const runs: [string, number, number | string | undefined][] = [
      ['r1', 1, 5],
      ['r2', 2, 7],
      ['r3', 3, 5],
      ['r4', 4, 'NaN'],
      ['r5', 5, undefined],
      ['r6', 6, 'NaN'],
      ['r7', 7, undefined],
      ['r8', 8, -1],
    ];
    for (const [name, start, m] of runs) {
      const run = await post('/runs/create', { experiment_id: exp, run_name: name, start_time: start });
      id[name] = run.body.run.info.run_id;
      const metrics = [{ key: 'other', value: start, timestamp: 1 }];
      if (m !== undefined) metrics.push({ key: 'm', value: m as number, timestamp: 1 });
      // p sorts the tie r1/r3 the other way round than start_time does.
      const params = [{ key: 'p', value: name === 'r1' ? 'a' : 'b' }];
      expect((await post('/runs/log-batch', { run_id: id[name], metrics, params })).status).toBe(200);
    }
    const x = await post('/runs/create', { experiment_id: other, run_name: 'x', start_time: 9 });
    id.x = x.body.run.info.run_id;
    await post('/runs/log-batch', { run_id: id.x, metrics: [{ key: 'm', value: 100, timestamp: 1 }] });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function names(body: Record<string, unknown>): Promise<string[]> {
    const res = await post('/runs/search', { experiment_ids: [exp], ...body });
    expect(res.status).toBe(200);
    const byId = new Map(Object.entries(id).map(([k, v]) => [v, k]));
    return (res.body.runs ?? []).map((r: { info: { run_id: string } }) => byId.get(r.info.run_id));
  }

  /** Every page of a search of `pageSize` runs, concatenated. */
  async function paged(body: Record<string, unknown>, pageSize: number): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 20; i++) {
      const res = await post('/runs/search', { experiment_ids: [exp], ...body, max_results: pageSize, ...(token ? { page_token: token } : {}) });
      expect(res.status).toBe(200);
      const byId = new Map(Object.entries(id).map(([k, v]) => [v, k]));
      out.push(...(res.body.runs ?? []).map((r: { info: { run_id: string } }) => byId.get(r.info.run_id) as string));
      token = res.body.next_page_token;
      if (!token) return out;
    }
    throw new Error('too many pages');
  }

  it('orders values, then NaN, then runs without the key; ties newest first', async () => {
    expect(await names({ order_by: ['metrics.m DESC'] })).toEqual(['r2', 'r3', 'r1', 'r8', 'r6', 'r4', 'r7', 'r5']);
    expect(await names({ order_by: ['metrics.m ASC'] })).toEqual(['r8', 'r3', 'r1', 'r2', 'r6', 'r4', 'r7', 'r5']);
    expect(await names({ order_by: ['metrics.m'] })).toEqual(['r8', 'r3', 'r1', 'r2', 'r6', 'r4', 'r7', 'r5']);
  });

  it('breaks ties with the later order_by terms', async () => {
    expect(await names({ order_by: ['metrics.m DESC', 'params.p ASC'] })).toEqual(['r2', 'r1', 'r3', 'r8', 'r6', 'r4', 'r7', 'r5']);
    expect(await names({ order_by: ['metrics.m ASC', 'attributes.start_time ASC'] })).toEqual(['r8', 'r1', 'r3', 'r2', 'r4', 'r6', 'r5', 'r7']);
  });

  it('pages through the values, the NaN runs and the runs without the key without losing or repeating one', async () => {
    const all = ['r2', 'r3', 'r1', 'r8', 'r6', 'r4', 'r7', 'r5'];
    for (const size of [1, 2, 3, 4, 5, 7]) expect(await paged({ order_by: ['metrics.m DESC'] }, size)).toEqual(all);
  });

  it('applies the filter and the lifecycle stage in every part', async () => {
    expect(await names({ order_by: ['metrics.m DESC'], filter: 'metrics.other > 2' })).toEqual(['r3', 'r8', 'r6', 'r4', 'r7', 'r5']);
    const doomed = await post('/runs/create', { experiment_id: exp, run_name: 'gone', start_time: 10 });
    id.gone = doomed.body.run.info.run_id;
    await post('/runs/log-batch', { run_id: id.gone, metrics: [{ key: 'm', value: 50, timestamp: 1 }] });
    await post('/runs/delete', { run_id: id.gone });
    expect(await names({ order_by: ['metrics.m DESC'] })).toEqual(['r2', 'r3', 'r1', 'r8', 'r6', 'r4', 'r7', 'r5']);
    expect(await names({ order_by: ['metrics.m DESC'], run_view_type: 'DELETED_ONLY' })).toEqual(['gone']);
    expect(await names({ order_by: ['metrics.m DESC'], run_view_type: 'ALL' })).toEqual(['gone', 'r2', 'r3', 'r1', 'r8', 'r6', 'r4', 'r7', 'r5']);
  });

  it('orders across several experiments and keeps other experiments out', async () => {
    expect(await names({ order_by: ['metrics.m DESC'], experiment_ids: [exp, other] })).toEqual(['x', 'r2', 'r3', 'r1', 'r8', 'r6', 'r4', 'r7', 'r5']);
    expect(await names({ order_by: ['metrics.m DESC'], experiment_ids: [other] })).toEqual(['x']);
  });
});

describe.each(testBackends)('latest metrics keyed by experiment (migration 0101) on $name', (backend) => {
  it('fills in the experiment of metrics logged before it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-0101-'));
    const pgDb = backend.name === 'postgres' ? await createTestPostgresDatabase() : undefined;
    const store = openMetadataDb({ dataDir: dir, metadataUrl: pgDb?.url });
    try {
      await migrate(
        store,
        trackingMigrations.filter((m) => m.id < '0101'),
      );
      await sql`insert into runs (run_uuid, experiment_id, name, user_id, status, start_time, lifecycle_stage, artifact_uri)
        values ('a', 7, 'a', 'u', 'FINISHED', 1, 'active', 'x'), ('b', 8, 'b', 'u', 'FINISHED', 1, 'active', 'x')`.execute(store.db);
      await sql`insert into latest_metrics (run_uuid, key, timestamp, step, value, is_nan) values ('a', 'm', 1, 0, 1, 0), ('b', 'm', 1, 0, 2, 0)`.execute(
        store.db,
      );
      await migrate(store, trackingMigrations);
      const rows = await sql<{ run_uuid: string; experiment_id: number }>`select run_uuid, experiment_id from latest_metrics order by run_uuid`.execute(
        store.db,
      );
      expect(rows.rows).toEqual([
        { run_uuid: 'a', experiment_id: 7 },
        { run_uuid: 'b', experiment_id: 8 },
      ]);
    } finally {
      await store.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
