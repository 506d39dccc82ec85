// Lineage through the real stack: SQL writes, dataset inputs, registrations and endpoints on every metadata backend,
// read back through Databricks' lineage-tracking API, Weir's graph API and the system tables with SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { makeUser, type TestUser } from '../governance/governance.test-helpers.ts';
import { linearOnnxModel } from '../serving/serving.onnx-fixture.ts';
import { datasetTable, parseEntityId } from './index.ts';

const API = '/api/2.0/mlflow';
const UC = '/api/2.1/unity-catalog';
const TL = '/api/2.0/lineage-tracking/table-lineage';
const CL = '/api/2.0/lineage-tracking/column-lineage';
const GRAPH = '/api/weir/v1/lineage';

const MLMODEL = `artifact_path: model
flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
mlflow_version: 3.1.0
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
  params: null
`;

describe('entity ids and dataset sources', () => {
  it('parses the documented entity id forms and refuses others', () => {
    expect(parseEntityId('table:main.sales.orders')).toEqual({ kind: 'table', name: 'main.sales.orders' });
    expect(parseEntityId('model_version:main.ml.churn/3')).toEqual({ kind: 'model_version', name: 'main.ml.churn/3' });
    expect(parseEntityId('run:abc123')).toEqual({ kind: 'run', name: 'abc123' });
    expect(parseEntityId('endpoint:churn')).toEqual({ kind: 'endpoint', name: 'churn' });
    expect(parseEntityId('path:/Volumes/main/raw/landing/x.csv')).toEqual({ kind: 'path', name: '/Volumes/main/raw/landing/x.csv' });
    for (const bad of ['orders', 'table:orders', 'table:a..b', 'model_version:m/1', 'model_version:a.b.c/x', 'path:/etc/passwd', 'job:1', 'run:']) {
      expect(() => parseEntityId(bad), bad).toThrow(/Invalid entity/);
    }
  });

  it('reads a table name from MLflow dataset sources', () => {
    expect(datasetTable('delta_table', JSON.stringify({ path: null, delta_table_name: 'main.sales.orders', delta_table_version: 3 }))).toBe(
      'main.sales.orders',
    );
    expect(datasetTable('spark', JSON.stringify({ table_name: 'sales.orders' }))).toBe('main.sales.orders');
    expect(datasetTable('delta', 'orders')).toBe('main.default.orders');
    expect(datasetTable('http', 'https://example.com/data.csv')).toBeNull();
    expect(datasetTable('local', JSON.stringify({ uri: '/tmp/x.csv' }))).toBeNull();
  });
});

describe.each(testBackends)('lineage on $name', (backend) => {
  let s: TestServer;
  let reader: TestUser;
  let stranger: TestUser;

  async function sql(statement: string, token?: string) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' }, token);
    expect(res.status, res.text).toBe(200);
    return res.body as {
      status: { state: string; error?: { message: string } };
      result?: { data_array?: (string | null)[][] };
      manifest?: { schema: { columns: { name: string }[] } };
    };
  }
  async function ok(statement: string) {
    const r = await sql(statement);
    expect(r.status.state, `${statement}: ${r.status.error?.message}`).toBe('SUCCEEDED');
    return r;
  }
  /** Rows of a query as objects keyed by column name. */
  async function rows(statement: string): Promise<Record<string, string | null>[]> {
    const r = await ok(statement);
    const names = r.manifest?.schema.columns.map((c) => c.name) ?? [];
    return (r.result?.data_array ?? []).map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null])));
  }
  const upstreamNames = (body: any) =>
    (body.upstreams as any[]).map((u) => (u.tableInfo ? `${u.tableInfo.catalog_name}.${u.tableInfo.schema_name}.${u.tableInfo.name}` : u.fileInfo.path)).sort();
  const downstreamNames = (body: any) =>
    (body.downstreams as any[]).map((u) => `${u.tableInfo.catalog_name}.${u.tableInfo.schema_name}.${u.tableInfo.name}`).sort();
  const cols = (list: any[]) => list.map((c) => `${c.catalog_name}.${c.schema_name}.${c.table_name}.${c.name}`).sort();

  beforeAll(async () => {
    s = await startTestServer(backend);
    reader = await makeUser(s, 'reader@example.com');
    stranger = await makeUser(s, 'stranger@example.com');
    await ok('CREATE SCHEMA main.lin');
    await ok('CREATE TABLE main.lin.orders (id BIGINT, customer_id BIGINT, amount DOUBLE, status STRING)');
    await ok('CREATE TABLE main.lin.customers (customer_id BIGINT, name STRING, region STRING)');
    await ok("INSERT INTO main.lin.orders VALUES (1, 10, 5.0, 'open'), (2, 11, 7.5, 'paid'), (3, 10, 1.25, 'paid')");
    await ok("INSERT INTO main.lin.customers VALUES (10, 'ann', 'eu'), (11, 'bob', 'us')");
  });
  afterAll(async () => {
    await s?.close();
  });

  it('CTAS records its source table and traces columns through aliases and expressions', async () => {
    await ok(
      'CREATE TABLE main.lin.big_orders AS SELECT o.id AS order_id, o.amount * 2 AS doubled, upper(o.status) AS state FROM main.lin.orders AS o WHERE o.amount > 2',
    );
    const tl = await s.call('GET', TL, { table_name: 'main.lin.big_orders' });
    expect(tl.status, tl.text).toBe(200);
    expect(upstreamNames(tl.body)).toEqual(['main.lin.orders']);
    expect(tl.body.downstreams).toEqual([]);
    expect(tl.body.upstreams[0].tableInfo.table_type).toBe('TABLE');
    expect(tl.body.upstreams[0].tableInfo.lineage_timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    const doubled = await s.call('GET', CL, { table_name: 'main.lin.big_orders', column_name: 'doubled' });
    expect(doubled.status, doubled.text).toBe(200);
    expect(cols(doubled.body.upstream_cols)).toEqual(['main.lin.orders.amount']);
    expect(doubled.body.downstream_cols).toEqual([]);
    expect(cols((await s.call('GET', CL, { table_name: 'main.lin.big_orders', column_name: 'order_id' })).body.upstream_cols)).toEqual(['main.lin.orders.id']);
    // The WHERE clause filters; it does not feed a column.
    expect(cols((await s.call('GET', CL, { table_name: 'main.lin.big_orders', column_name: 'state' })).body.upstream_cols)).toEqual(['main.lin.orders.status']);
    const down = await s.call('GET', CL, { table_name: 'main.lin.orders', column_name: 'amount' });
    expect(cols(down.body.downstream_cols)).toEqual(['main.lin.big_orders.doubled']);
  });

  it('INSERT ... SELECT with a join records both upstreams and maps columns by the insert column list', async () => {
    await ok('CREATE TABLE main.lin.report (who STRING, total DOUBLE, note STRING, order_ref BIGINT)');
    await ok(
      `INSERT INTO main.lin.report (order_ref, who, total)
       SELECT o.id, c.name || '/' || c.region, o.amount + 1 FROM main.lin.orders o JOIN main.lin.customers c ON o.customer_id = c.customer_id`,
    );
    const tl = await s.call('GET', TL, { table_name: 'main.lin.report' });
    expect(upstreamNames(tl.body)).toEqual(['main.lin.customers', 'main.lin.orders']);
    expect(downstreamNames((await s.call('GET', TL, { table_name: 'main.lin.customers' })).body)).toEqual(['main.lin.report']);
    const col = async (c: string) => cols((await s.call('GET', CL, { table_name: 'main.lin.report', column_name: c })).body.upstream_cols);
    expect(await col('who')).toEqual(['main.lin.customers.name', 'main.lin.customers.region']);
    expect(await col('total')).toEqual(['main.lin.orders.amount']);
    expect(await col('order_ref')).toEqual(['main.lin.orders.id']);
    expect(await col('note')).toEqual([]);
  });

  it('traces through CTEs, subqueries, unions and SELECT *', async () => {
    await ok(
      `CREATE TABLE main.lin.mixed AS
       WITH paid AS (SELECT id AS pid, amount AS amt FROM main.lin.orders WHERE status = 'paid')
       SELECT x.pid, x.amt FROM (SELECT pid, amt FROM paid) x
       UNION ALL SELECT customer_id, 0.0 FROM main.lin.customers`,
    );
    expect(upstreamNames((await s.call('GET', TL, { table_name: 'main.lin.mixed' })).body)).toEqual(['main.lin.customers', 'main.lin.orders']);
    const col = async (c: string) => cols((await s.call('GET', CL, { table_name: 'main.lin.mixed', column_name: c })).body.upstream_cols);
    expect(await col('pid')).toEqual(['main.lin.customers.customer_id', 'main.lin.orders.id']);
    expect(await col('amt')).toEqual(['main.lin.orders.amount']);
    await ok('CREATE TABLE main.lin.copy_all AS SELECT * FROM main.lin.customers');
    expect(cols((await s.call('GET', CL, { table_name: 'main.lin.copy_all', column_name: 'region' })).body.upstream_cols)).toEqual([
      'main.lin.customers.region',
    ]);
    await ok('CREATE TABLE main.lin.star_forms AS SELECT * EXCLUDE (status) REPLACE (customer_id + amount AS amount) FROM main.lin.orders');
    const star = async (t: string, c: string) => cols((await s.call('GET', CL, { table_name: t, column_name: c })).body.upstream_cols);
    expect(await star('main.lin.star_forms', 'amount')).toEqual(['main.lin.orders.amount', 'main.lin.orders.customer_id']);
    expect(await star('main.lin.star_forms', 'id')).toEqual(['main.lin.orders.id']);
    await ok('CREATE TABLE main.lin.star_renamed AS SELECT * RENAME (id AS order_id) FROM main.lin.orders');
    expect(await star('main.lin.star_renamed', 'order_id')).toEqual(['main.lin.orders.id']);
  });

  it('MERGE records the source table and traces SET and INSERT assignments', async () => {
    await ok('CREATE TABLE main.lin.balances (customer_id BIGINT, balance DOUBLE, label STRING)');
    await ok(
      `MERGE INTO main.lin.balances AS t
       USING (SELECT customer_id AS cid, sum(amount) AS spent FROM main.lin.orders GROUP BY customer_id) AS s
       ON t.customer_id = s.cid
       WHEN MATCHED THEN UPDATE SET balance = t.balance + s.spent
       WHEN NOT MATCHED THEN INSERT (customer_id, balance, label) VALUES (s.cid, s.spent, 'new')`,
    );
    const got = await rows('SELECT customer_id, balance FROM main.lin.balances ORDER BY customer_id');
    expect(got).toEqual([
      { customer_id: '10', balance: '6.25' },
      { customer_id: '11', balance: '7.5' },
    ]);
    expect(upstreamNames((await s.call('GET', TL, { table_name: 'main.lin.balances' })).body)).toEqual(['main.lin.orders']);
    const col = async (c: string) => cols((await s.call('GET', CL, { table_name: 'main.lin.balances', column_name: c })).body.upstream_cols);
    expect(await col('balance')).toEqual(['main.lin.balances.balance', 'main.lin.orders.amount']);
    expect(await col('customer_id')).toEqual(['main.lin.orders.customer_id']);
    expect(await col('label')).toEqual([]);
    // UPDATE SET * / INSERT * map same-named columns of a named source.
    await ok('CREATE TABLE main.lin.customers_copy (customer_id BIGINT, name STRING, region STRING)');
    await ok(
      'MERGE INTO main.lin.customers_copy t USING main.lin.customers s ON t.customer_id = s.customer_id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *',
    );
    expect(cols((await s.call('GET', CL, { table_name: 'main.lin.customers_copy', column_name: 'name' })).body.upstream_cols)).toEqual([
      'main.lin.customers.name',
    ]);
  });

  it('UPDATE traces assignments within the table; a read through a view names the view, not its tables', async () => {
    await ok('CREATE TABLE main.lin.scores (id BIGINT, raw DOUBLE, scaled DOUBLE)');
    await ok('INSERT INTO main.lin.scores VALUES (1, 2.0, NULL)');
    await ok('UPDATE main.lin.scores SET scaled = raw * 10');
    expect(cols((await s.call('GET', CL, { table_name: 'main.lin.scores', column_name: 'scaled' })).body.upstream_cols)).toEqual(['main.lin.scores.raw']);
    await ok("CREATE VIEW main.lin.paid_orders AS SELECT id, amount FROM main.lin.orders WHERE status = 'paid'");
    await ok('CREATE TABLE main.lin.from_view AS SELECT id, amount FROM main.lin.paid_orders');
    const tl = await s.call('GET', TL, { table_name: 'main.lin.from_view' });
    expect(upstreamNames(tl.body)).toEqual(['main.lin.paid_orders']);
    expect(tl.body.upstreams[0].tableInfo.table_type).toBe('VIEW');
  });

  it('the system tables hold the Databricks columns and are queryable with SQL', async () => {
    const t = await rows(
      "SELECT source_table_full_name, source_type, target_table_full_name, target_type, entity_run_id, statement_id, created_by, direct_access, event_date FROM system.access.table_lineage WHERE target_table_full_name = 'main.lin.report' ORDER BY source_table_full_name",
    );
    expect(t.map((r) => [r.source_table_full_name, r.source_type, r.target_table_full_name, r.target_type, r.direct_access])).toEqual([
      ['main.lin.customers', 'TABLE', 'main.lin.report', 'TABLE', 'true'],
      ['main.lin.orders', 'TABLE', 'main.lin.report', 'TABLE', 'true'],
    ]);
    expect(t[0]?.statement_id).toMatch(/^01/);
    expect(t[0]?.entity_run_id).toBe(t[0]?.statement_id);
    expect(t[0]?.event_date).toBe(new Date().toISOString().slice(0, 10));
    const c = await rows(
      "SELECT source_table_full_name, source_column_name, target_column_name FROM system.access.column_lineage WHERE target_table_full_name = 'main.lin.report' ORDER BY target_column_name, source_column_name",
    );
    expect(c.map((r) => `${r.source_table_full_name}.${r.source_column_name}->${r.target_column_name}`)).toEqual([
      'main.lin.orders.id->order_ref',
      'main.lin.orders.amount->total',
      'main.lin.customers.name->who',
      'main.lin.customers.region->who',
    ]);
    // Written again and read again: the second read sees the new statement's rows, and nothing twice.
    await ok('INSERT INTO main.lin.report (who) SELECT name FROM main.lin.customers');
    const again = await rows(
      "SELECT count(*) AS n, count(DISTINCT record_id) AS d FROM system.access.table_lineage WHERE target_table_full_name = 'main.lin.report'",
    );
    expect(again).toEqual([{ n: '3', d: '3' }]);
    // Like every system table, it is readable by admins and by those granted SELECT on it.
    const refused = await sql('SELECT count(*) FROM system.access.table_lineage', stranger.token);
    expect(refused.status.state).toBe('FAILED');
  });

  it('a kill between marking a copy batch and its Delta commit loses and duplicates nothing', async () => {
    await ok('CREATE TABLE main.lin.kill_target AS SELECT id FROM main.lin.orders');
    // The state such a kill leaves: the statement's rows marked with a batch the Delta table's txn never reached.
    await s.weir.store.db
      .updateTable('lineage_edges' as never)
      .set({ batch: 999 } as never)
      .where('target_id' as never, '=', 'table:main.lin.kill_target' as never)
      .execute();
    const count = async (table: string) =>
      rows(`SELECT count(*) AS n FROM system.access.${table} WHERE target_table_full_name = 'main.lin.kill_target'`).then((r) => r[0]?.n);
    expect(await count('table_lineage')).toBe('1');
    expect(await count('column_lineage')).toBe('1');
    expect(await count('table_lineage')).toBe('1');
  });

  it('a statement that fails records no lineage', async () => {
    const r = await sql('INSERT INTO main.lin.report (total) SELECT name FROM main.lin.customers');
    expect(r.status.state).toBe('FAILED');
    const total = await s.call('GET', CL, { table_name: 'main.lin.report', column_name: 'total' });
    expect(cols(total.body.upstream_cols)).toEqual(['main.lin.orders.amount']);
  });

  it('COPY INTO records the volume path as a file source', async () => {
    await ok('CREATE VOLUME main.lin.landing');
    const put = await fetch(`${s.url}/api/2.0/fs/files/Volumes/main/lin/landing/in/a.csv`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}` },
      body: 'customer_id,name,region\n12,cy,eu\n',
    });
    expect(put.status).toBeLessThan(300);
    await ok("COPY INTO main.lin.customers FROM '/Volumes/main/lin/landing/in' FILEFORMAT = CSV");
    const tl = await s.call('GET', TL, { table_name: 'main.lin.customers' });
    expect(tl.body.upstreams).toEqual([
      expect.objectContaining({
        fileInfo: expect.objectContaining({ path: '/Volumes/main/lin/landing/in', securable_type: 'VOLUME', securable_name: 'main.lin.landing' }),
      }),
    ]);
    const t = await rows("SELECT source_path, source_type FROM system.access.table_lineage WHERE target_table_full_name = 'main.lin.customers'");
    expect(t).toEqual([{ source_path: '/Volumes/main/lin/landing/in', source_type: 'PATH' }]);
  });

  describe('runs, model versions and endpoints', () => {
    let runId: string;
    let experimentId: string;
    const model = 'main.lin.churn';

    beforeAll(async () => {
      experimentId = (await s.call('POST', `${API}/experiments/create`, { name: 'lineage-exp' })).body.experiment_id;
      const run = (await s.call('POST', `${API}/runs/create`, { experiment_id: experimentId, start_time: Date.now() })).body.run.info;
      runId = run.run_id;
      const logged = await s.call('POST', `${API}/runs/log-inputs`, {
        run_id: runId,
        datasets: [
          {
            dataset: {
              name: 'train',
              digest: 'd1',
              source_type: 'delta_table',
              source: JSON.stringify({ delta_table_name: 'main.lin.big_orders', delta_table_version: 1 }),
            },
          },
          { dataset: { name: 'web', digest: 'd2', source_type: 'http', source: JSON.stringify({ url: 'https://example.com/x.csv' }) } },
          { dataset: { name: 'gone', digest: 'd3', source_type: 'delta_table', source: JSON.stringify({ delta_table_name: 'main.lin.no_such_table' }) } },
        ],
      });
      expect(logged.status, logged.text).toBe(200);
      const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
      const files: Record<string, Buffer | string> = { MLmodel: MLMODEL, 'model.onnx': linearOnnxModel([1, 2, 3], 0.5) };
      for (const [file, body] of Object.entries(files)) {
        const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${s.adminToken}` },
          body: typeof body === 'string' ? Buffer.from(body) : body,
        });
        expect(res.status).toBe(200);
      }
      expect((await s.call('POST', `${API}/registered-models/create`, { name: model })).status).toBe(200);
      const created = await s.call('POST', `${API}/model-versions/create`, { name: model, source: `runs:/${runId}/model`, run_id: runId });
      expect(created.status, created.text).toBe(200);
      for (;;) {
        const got = await s.call('GET', `${API}/model-versions/get`, { name: model, version: '1' });
        if (got.body.model_version.status !== 'PENDING_REGISTRATION') {
          expect(got.body.model_version.status).toBe('READY');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const ep = await s.call('POST', '/api/2.0/serving-endpoints', {
        name: 'churn-ep',
        config: {
          served_entities: [{ entity_name: model, entity_version: '1' }],
          auto_capture_config: { enabled: true, catalog_name: 'main', schema_name: 'lin', table_name_prefix: 'churn' },
        },
      });
      expect(ep.status, ep.text).toBe(200);
      for (;;) {
        const got = await s.call('GET', '/api/2.0/serving-endpoints/churn-ep');
        if (got.body.state.config_update !== 'IN_PROGRESS') {
          expect(got.body.state.ready).toBe('READY');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    it('the graph follows table → run → model version → endpoint → payload table downstream, hop by hop', async () => {
      const one = await s.call('GET', GRAPH, { entity: 'table:main.lin.big_orders', direction: 'downstream', depth: 1 });
      expect(one.status, one.text).toBe(200);
      expect(one.body.nodes.map((n: any) => n.id).sort()).toEqual([`run:${runId}`, 'table:main.lin.big_orders'].sort());
      expect(one.body.edges).toEqual([
        expect.objectContaining({ source: 'table:main.lin.big_orders', target: `run:${runId}`, kind: 'dataset_input', event_count: 1 }),
      ]);
      const four = await s.call('GET', GRAPH, { entity: 'table:main.lin.big_orders', direction: 'downstream', depth: 4 });
      expect(four.body.edges.map((e: any) => `${e.source} -[${e.kind}]-> ${e.target}`).sort()).toEqual(
        [
          `table:main.lin.big_orders -[dataset_input]-> run:${runId}`,
          `run:${runId} -[registered_from_run]-> model_version:${model}/1`,
          `model_version:${model}/1 -[serves]-> endpoint:churn-ep`,
          'endpoint:churn-ep -[inference_table]-> table:main.lin.churn_payload',
        ].sort(),
      );
      const mv = four.body.nodes.find((n: any) => n.type === 'model_version');
      expect(mv).toEqual(expect.objectContaining({ id: `model_version:${model}/1`, name: `${model}/1`, model_name: model, version: 1 }));
      // Downstream only: the table's own sources are not part of it.
      expect(four.body.nodes.some((n: any) => n.id === 'table:main.lin.orders')).toBe(false);
    });

    it('upstream from the endpoint reaches back through the run to the SQL sources; both directions combine', async () => {
      const up = await s.call('GET', GRAPH, { entity: 'endpoint:churn-ep', direction: 'upstream', depth: 5 });
      expect(up.status, up.text).toBe(200);
      const ids = up.body.nodes.map((n: any) => n.id).sort();
      expect(ids).toEqual(['endpoint:churn-ep', `model_version:${model}/1`, `run:${runId}`, 'table:main.lin.big_orders', 'table:main.lin.orders'].sort());
      const two = await s.call('GET', GRAPH, { entity: `run:${runId}`, direction: 'both', depth: 1 });
      expect(two.body.nodes.map((n: any) => n.id).sort()).toEqual([`model_version:${model}/1`, `run:${runId}`, 'table:main.lin.big_orders'].sort());
      // The Databricks API lists the run as a downstream entity only when asked to.
      const plain = await s.call('GET', TL, { table_name: 'main.lin.big_orders' });
      expect(plain.body.downstreams).toEqual([]);
      const withEntities = await s.call('GET', TL, { table_name: 'main.lin.big_orders', include_entity_lineage: true });
      expect(withEntities.body.downstreams).toEqual([{ mlflowRunInfo: expect.objectContaining({ run_id: runId }) }]);
      expect(withEntities.body.upstreams[0].queryInfos[0].statement_id).toMatch(/^01/);
    });

    it('shows only what the caller may see: hidden nodes are left out with their edges and not expanded', async () => {
      // The stranger may see nothing here: asking about it is refused, and so is asking about a table that does not
      // exist (the two cannot be told apart).
      const refused = await s.call('GET', GRAPH, { entity: 'table:main.lin.orders', depth: 3 }, stranger.token);
      expect(refused.status).toBe(403);
      expect(refused.body.error_code).toBe('PERMISSION_DENIED');
      expect((await s.call('GET', TL, { table_name: 'main.lin.orders' }, stranger.token)).status).toBe(403);
      expect((await s.call('GET', CL, { table_name: 'main.lin.orders', column_name: 'amount' }, stranger.token)).status).toBe(403);
      expect((await s.call('GET', GRAPH, { entity: `run:${runId}` }, stranger.token)).status).toBe(403);
      expect((await s.call('GET', TL, { table_name: 'main.lin.nothing_here' }, stranger.token)).status).toBe(403);
      // reader may read orders and big_orders, but not report, balances or the run's experiment.
      const grant = (type: string, name: string, add: string[]) =>
        s.call('PATCH', `${UC}/permissions/${type}/${name}`, { changes: [{ principal: reader.userName, add }] });
      expect((await grant('catalog', 'main', ['USE_CATALOG'])).status).toBe(200);
      expect((await grant('schema', 'main.lin', ['USE_SCHEMA'])).status).toBe(200);
      expect((await grant('table', 'main.lin.orders', ['SELECT'])).status).toBe(200);
      expect((await grant('table', 'main.lin.big_orders', ['SELECT'])).status).toBe(200);
      const tl = await s.call('GET', TL, { table_name: 'main.lin.orders' }, reader.token);
      expect(tl.status, tl.text).toBe(200);
      expect(downstreamNames(tl.body)).toEqual(['main.lin.big_orders']);
      const cl = await s.call('GET', CL, { table_name: 'main.lin.orders', column_name: 'amount' }, reader.token);
      expect(cols(cl.body.downstream_cols)).toEqual(['main.lin.big_orders.doubled']);
      const graph = await s.call('GET', GRAPH, { entity: 'table:main.lin.orders', direction: 'downstream', depth: 5 }, reader.token);
      expect(graph.status, graph.text).toBe(200);
      expect(graph.body.nodes.map((n: any) => n.id).sort()).toEqual(['table:main.lin.big_orders', 'table:main.lin.orders']);
      expect(graph.body.edges.map((e: any) => `${e.source}->${e.target}`)).toEqual(['table:main.lin.orders->table:main.lin.big_orders']);
      // Read access to the run's experiment brings the run (but not the model or endpoint) into view.
      expect(
        (
          await s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
            access_control_list: [{ user_name: reader.userName, permission_level: 'CAN_READ' }],
          })
        ).status,
      ).toBe(200);
      const more = await s.call('GET', GRAPH, { entity: 'table:main.lin.big_orders', direction: 'downstream', depth: 5 }, reader.token);
      expect(more.body.nodes.map((n: any) => n.id).sort()).toEqual([`run:${runId}`, 'table:main.lin.big_orders'].sort());
      // The system tables are shared like any table: SELECT on one (with USE on system.access) opens all of its rows.
      expect((await sql('SELECT count(*) FROM system.access.table_lineage', reader.token)).status.state).toBe('FAILED');
      expect((await grant('catalog', 'system', ['USE_CATALOG'])).status).toBe(200);
      expect((await grant('schema', 'system.access', ['USE_SCHEMA'])).status).toBe(200);
      expect((await grant('table', 'system.access.table_lineage', ['SELECT'])).status).toBe(200);
      const shared = await sql("SELECT count(*) FROM system.access.table_lineage WHERE target_table_full_name = 'main.lin.report'", reader.token);
      expect(shared.status.state, shared.status.error?.message).toBe('SUCCEEDED');
      expect(Number(shared.result?.data_array?.[0]?.[0])).toBeGreaterThan(0);
      expect((await sql('SELECT count(*) FROM system.access.column_lineage', reader.token)).status.state).toBe('FAILED');
    });
  });

  it('refuses bad input with 400/404 and changes nothing', async () => {
    const before = await s.weir.store.db
      .selectFrom('lineage_edges' as never)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    for (const entity of ['orders', 'table:orders', 'widget:x', 'model_version:main.lin.churn']) {
      const r = await s.call('GET', GRAPH, { entity });
      expect(r.status, entity).toBe(400);
      expect(r.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await s.call('GET', GRAPH, { entity: 'table:main.lin.orders', depth: 0 })).status).toBe(400);
    expect((await s.call('GET', GRAPH, { entity: 'table:main.lin.orders', depth: 'deep' })).status).toBe(400);
    expect((await s.call('GET', GRAPH, { entity: 'table:main.lin.orders', direction: 'sideways' })).status).toBe(400);
    expect((await s.call('GET', TL, {})).status).toBe(400);
    expect((await s.call('GET', TL, { table_name: 'orders' })).status).toBe(400);
    const missing = await s.call('GET', TL, { table_name: 'main.lin.nothing_here' });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await s.call('GET', CL, { table_name: 'main.lin.orders' })).status).toBe(400);
    expect((await s.call('GET', GRAPH, { entity: 'table:main.lin.orders' }, null)).status).toBe(401);
    const after = await s.weir.store.db
      .selectFrom('lineage_edges' as never)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number((after as { n: number }).n)).toBe(Number((before as { n: number }).n));
  });
});
