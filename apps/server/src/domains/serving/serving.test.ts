// Model serving through the real stack: ONNX models built in the test, logged to a run through the artifact proxy,
// registered through the MLflow API, deployed and scored over HTTP on every metadata backend with real onnxruntime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { linearOnnxModel } from './serving.onnx-fixture.ts';

const API = '/api/2.0/mlflow';
const EP = '/api/2.0/serving-endpoints';
const HEADER = 'x-weir-served-entity';

/** An MLmodel with an onnx flavor, a column signature a, b, c (doubles) and a split-orient input example. */
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
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
  params: null
`;

const SKLEARN_MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
mlflow_version: 3.1.0
`;

/** What a linear model with these weights must answer, computed here and not by the server. */
const expected = (w: number[], b: number, rows: number[][]) => rows.map((r) => r.reduce((acc, x, i) => acc + x * (w[i] as number), b));

describe.each(testBackends)('model serving on $name', (backend) => {
  let s: TestServer;
  let counter = 0;
  const uniq = (p: string) => `${p}_${++counter}`;
  const W1 = [1, 2, 3];
  const B1 = 0.5;
  const W2 = [-1, 0, 4];
  const B2 = 10;
  const W3 = [0, 0, 1];
  const B3 = -2;

  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Logs a model directory to a new run through the artifact proxy and registers it as the next version of `name`. */
  async function registerVersion(name: string, files: Record<string, Buffer | string>): Promise<number> {
    const exp = (await s.call('POST', `${API}/experiments/create`, { name: uniq('exp') })).body.experiment_id as string;
    const run = (await s.call('POST', `${API}/runs/create`, { experiment_id: exp, start_time: Date.now() })).body.run.info;
    const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
    for (const [file, body] of Object.entries(files)) {
      const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body: typeof body === 'string' ? Buffer.from(body) : body,
      });
      expect(res.status).toBe(200);
    }
    const existing = await s.call('GET', `${API}/registered-models/get`, { name });
    if (existing.status === 404) expect((await s.call('POST', `${API}/registered-models/create`, { name })).status).toBe(200);
    const created = await s.call('POST', `${API}/model-versions/create`, { name, source: `runs:/${run.run_id}/model`, run_id: run.run_id });
    expect(created.status, created.text).toBe(200);
    const version = Number(created.body.model_version.version);
    for (;;) {
      const got = await s.call('GET', `${API}/model-versions/get`, { name, version: String(version) });
      if (got.body.model_version.status !== 'PENDING_REGISTRATION') {
        expect(got.body.model_version.status).toBe('READY');
        return version;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const onnxFiles = (w: number[], b: number) => ({
    MLmodel: MLMODEL,
    'model.onnx': linearOnnxModel(w, b),
    'input_example.json': JSON.stringify({ columns: ['a', 'b', 'c'], data: [[1, 2, 3]] }),
  });

  /** Polls an endpoint until its config update is no longer in progress. */
  async function settle(name: string, token?: string) {
    for (;;) {
      const got = await s.call('GET', `${EP}/${name}`, undefined, token);
      if (got.status !== 200 || got.body.state.config_update !== 'IN_PROGRESS') return got;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const invoke = (name: string, body: unknown, token?: string | null, contentType = 'application/json') =>
    fetch(`${s.url}/serving-endpoints/${name}/invocations`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(token === null ? {} : { authorization: `Bearer ${token ?? s.adminToken}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }) as Promise<Omit<Response, 'json'> & { json(): Promise<any> }>;

  async function endpointCount(): Promise<number> {
    const row = await s.weir.store.db
      .selectFrom('serving_endpoints' as never)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number((row as { n: number | string }).n);
  }

  let model: string;
  beforeAll(async () => {
    model = uniq('linear');
    await registerVersion(model, onnxFiles(W1, B1));
    await registerVersion(model, onnxFiles(W2, B2));
    await registerVersion(model, onnxFiles(W3, B3));
  });

  it('creates an endpoint in the Databricks shape that becomes READY and answers every scoring format', async () => {
    const name = uniq('ep');
    const created = await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } });
    expect(created.status, created.text).toBe(200);
    expect(created.body.name).toBe(name);
    expect(typeof created.body.id).toBe('string');
    const got = await settle(name);
    expect(got.body.state).toEqual({ ready: 'READY', config_update: 'NOT_UPDATING' });
    expect(got.body.config.served_entities).toEqual([
      expect.objectContaining({
        name: `${model}-1`,
        entity_name: `main.default.${model}`,
        entity_version: '1',
        state: expect.objectContaining({ deployment: 'DEPLOYMENT_READY' }),
      }),
    ]);
    expect(got.body.config.traffic_config).toEqual({ routes: [{ served_entity_name: `${model}-1`, traffic_percentage: 100 }] });
    expect((await s.call('GET', EP)).body.endpoints.map((e: { name: string }) => e.name)).toContain(name);

    const rows = [
      [1, 2, 3],
      [0, 0.5, -1],
    ];
    const want = expected(W1, B1, rows);
    const bodies: unknown[] = [
      { dataframe_split: { columns: ['a', 'b', 'c'], data: rows } },
      { dataframe_split: { columns: ['c', 'a', 'b'], data: rows.map(([a, b, c]) => [c, a, b]) } },
      { dataframe_records: rows.map(([a, b, c]) => ({ a, b, c })) },
      { instances: rows.map(([a, b, c]) => ({ a, b, c })) },
      { inputs: { a: rows.map((r) => r[0]), b: rows.map((r) => r[1]), c: rows.map((r) => r[2]) } },
      { dataframe_records: rows.map(([a, b, c]) => ({ a, b, c, unused: 'ignored' })), params: { unused: 1 } },
    ];
    for (const body of bodies) {
      const res = await invoke(name, body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.headers.get(HEADER)).toBe(`${model}-1`);
      expect(await res.json()).toEqual({ predictions: want });
    }
    const csv = await invoke(name, 'a,b,c\n1,2,3\n0,0.5,-1\n', undefined, 'text/csv');
    expect(csv.status).toBe(200);
    expect(await csv.json()).toEqual({ predictions: want });
    expect((await invoke(name, { dataframe_records: [{ a: 1 }] })).status).toBe(400);

    // Seven answered and one refused on this endpoint's only entity, as /metrics counts them.
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const labels = `endpoint="${name}",served_entity="${model}-1"`;
    expect(metrics).toContain(`weir_serving_requests_total{${labels}} 8`);
    expect(metrics).toContain(`weir_serving_errors_total{${labels}} 1`);
    expect(metrics).toContain(`weir_serving_in_flight{${labels}} 0`);
    expect(metrics).toContain(`weir_serving_request_duration_seconds_count{${labels}} 8`);
  });

  it('refuses bad scoring input with 400 naming the column, and answers 404, 413, 415 where due', async () => {
    const name = uniq('ep');
    expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: 1 }] } })).status).toBe(200);
    await settle(name);
    const missing = await invoke(name, { dataframe_records: [{ a: 1, b: 2 }] });
    expect(missing.status).toBe(400);
    const missingBody = await missing.json();
    expect(missingBody.error_code).toBe('BAD_REQUEST');
    expect(missingBody.message).toContain("'c'");
    const wrongType = await invoke(name, { dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 'two', 3]] } });
    expect(wrongType.status).toBe(400);
    expect((await wrongType.json()).message).toContain("'b'");
    for (const body of [
      '{not json',
      '[1,2,3]',
      '{}',
      JSON.stringify({ instances: [[1, 2, 3]], inputs: [[1, 2, 3]] }),
      JSON.stringify({ dataframe_split: 7 }),
    ]) {
      const res = await invoke(name, body);
      expect(res.status, body).toBe(400);
      const err = await res.json();
      expect(Object.keys(err).sort()).toEqual(['error_code', 'message']);
    }
    const huge = await invoke(name, `{"inputs":"${'x'.repeat(17 * 1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    expect((await huge.json()).error_code).toBeDefined();
    expect((await invoke(name, 'a,b,c', undefined, 'text/plain')).status).toBe(415);
    const unknown = await invoke('no_such_endpoint', { inputs: [[1, 2, 3]] });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await invoke(name, { inputs: [[1, 2, 3]] }, null)).status).toBe(401);
  });

  it('refuses configs that cannot serve, and changes nothing', async () => {
    const before = await endpointCount();
    const sk = uniq('sk');
    await registerVersion(sk, { MLmodel: SKLEARN_MLMODEL, 'model.pkl': Buffer.from('pickle') });
    const cases: [unknown, number, string][] = [
      // No onnx flavor and no --python: refused at config time, saying how to serve it.
      [{ served_entities: [{ entity_name: sk, entity_version: '1' }] }, 400, 'start the server with --python'],
      [{ served_entities: [{ entity_name: 'main.default.nope', entity_version: '1' }] }, 404, 'nope'],
      [{ served_entities: [{ entity_name: model, entity_version: '99' }] }, 404, '99'],
      [{ served_entities: [{ entity_name: model, entity_alias: 'missing' }] }, 404, 'missing'],
      [{ served_entities: [{ entity_name: model }] }, 400, 'entity_version'],
      [
        {
          served_entities: [
            { entity_name: model, entity_version: '1' },
            { entity_name: model, entity_version: '2' },
          ],
          traffic_config: {
            routes: [
              { served_entity_name: `${model}-1`, traffic_percentage: 50 },
              { served_entity_name: `${model}-2`, traffic_percentage: 40 },
            ],
          },
        },
        400,
        'sum to 100',
      ],
      [
        {
          served_entities: [
            { entity_name: model, entity_version: '1' },
            { entity_name: model, entity_version: '2' },
          ],
        },
        400,
        'traffic_config',
      ],
      [{ served_entities: [] }, 400, 'at least one'],
    ];
    for (const [config, status, text] of cases) {
      const res = await s.call('POST', EP, { name: uniq('bad'), config });
      expect(res.status, res.text).toBe(status);
      expect(res.body.message).toContain(text);
    }
    expect(await endpointCount()).toBe(before);
    const name = uniq('dup');
    expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } })).status).toBe(200);
    const dup = await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } });
    expect(dup.status).toBe(400);
    expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    await settle(name);
  });

  it('keeps an endpoint whose model fails to load NOT_READY with the reason, answering 503, and other endpoints unaffected', async () => {
    const broken = uniq('broken');
    await registerVersion(broken, {
      MLmodel: MLMODEL,
      'model.onnx': Buffer.from('this is not an onnx graph'),
      'input_example.json': '{"columns":["a","b","c"],"data":[[1,2,3]]}',
    });
    const good = uniq('ep');
    const bad = uniq('ep');
    expect((await s.call('POST', EP, { name: good, config: { served_entities: [{ entity_name: model, entity_version: '2' }] } })).status).toBe(200);
    expect((await s.call('POST', EP, { name: bad, config: { served_entities: [{ entity_name: broken, entity_version: '1' }] } })).status).toBe(200);
    const badState = await settle(bad);
    expect(badState.body.state).toEqual({ ready: 'NOT_READY', config_update: 'UPDATE_FAILED' });
    expect(badState.body.pending_config?.served_entities?.[0]?.state?.deployment ?? 'DEPLOYMENT_FAILED').toBe('DEPLOYMENT_FAILED');
    const res = await invoke(bad, { dataframe_records: [{ a: 1, b: 2, c: 3 }] });
    expect(res.status).toBe(503);
    const err = await res.json();
    expect(err.error_code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(err.message).toContain('failed to load');
    const logs = await s.call('GET', `${EP}/${bad}/served-models/${broken}-1/build-logs`);
    expect(logs.status).toBe(200);
    expect(logs.body.logs).toContain('failed to load');
    await settle(good);
    const ok = await invoke(good, { dataframe_records: [{ a: 1, b: 2, c: 3 }] });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ predictions: expected(W2, B2, [[1, 2, 3]]) });
  });

  it('splits traffic 80/20 over 5,000 requests within 3 points and names the entity in a header', async () => {
    const name = uniq('split');
    const res = await s.call('POST', EP, {
      name,
      config: {
        served_entities: [
          { name: 'blue', entity_name: model, entity_version: '1' },
          { name: 'green', entity_name: model, entity_version: '2' },
        ],
        traffic_config: {
          routes: [
            { served_entity_name: 'blue', traffic_percentage: 80 },
            { served_entity_name: 'green', traffic_percentage: 20 },
          ],
        },
      },
    });
    expect(res.status, res.text).toBe(200);
    await settle(name);
    const row = [[1, 2, 3]];
    const byEntity: Record<string, number> = {};
    const answers: Record<string, number> = { blue: expected(W1, B1, row)[0] as number, green: expected(W2, B2, row)[0] as number };
    let next = 0;
    const worker = async () => {
      while (next < 5000) {
        next++;
        const r = await invoke(name, { dataframe_split: { columns: ['a', 'b', 'c'], data: row } });
        expect(r.status).toBe(200);
        const entity = r.headers.get(HEADER) as string;
        expect((await r.json()).predictions[0]).toBe(answers[entity]);
        byEntity[entity] = (byEntity[entity] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const total = (byEntity.blue ?? 0) + (byEntity.green ?? 0);
    expect(total).toBe(5000);
    expect(Math.abs(((byEntity.blue ?? 0) / total) * 100 - 80)).toBeLessThanOrEqual(3);
  });

  it('follows an alias when it moves: every request after the alias call returns is answered by the new version', async () => {
    expect((await s.call('POST', `${API}/registered-models/alias`, { name: model, alias: 'champion', version: '1' })).status).toBe(200);
    const name = uniq('alias');
    expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_alias: 'champion' }] } })).status).toBe(200);
    const got = await settle(name);
    expect(got.body.config.served_entities[0]).toEqual(expect.objectContaining({ entity_alias: 'champion', entity_version: '1' }));
    const body = { dataframe_records: [{ a: 1, b: 2, c: 3 }] };
    expect((await (await invoke(name, body)).json()).predictions).toEqual(expected(W1, B1, [[1, 2, 3]]));
    // No polling and no waiting: the first requests sent once the alias call has answered must see the new version.
    for (const [version, w, b] of [
      ['3', W3, B3],
      ['2', W2, B2],
      ['1', W1, B1],
    ] as const) {
      expect((await s.call('POST', `${API}/registered-models/alias`, { name: model, alias: 'champion', version })).status).toBe(200);
      const answers = await Promise.all(Array.from({ length: 8 }, async () => (await (await invoke(name, body)).json()).predictions));
      for (const a of answers) expect(a).toEqual(expected([...w], b, [[1, 2, 3]]));
      expect((await s.call('GET', `${EP}/${name}`)).body.config.served_entities[0].entity_version).toBe(version);
    }
  });

  it('keeps 50 concurrent clients answered through three config updates with zero failures', async () => {
    const name = uniq('live');
    expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } })).status).toBe(200);
    await settle(name);
    const row = [[2, 1, 0]];
    const valid = new Set([expected(W1, B1, row)[0], expected(W2, B2, row)[0], expected(W3, B3, row)[0]]);
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const client = async () => {
      while (!stop) {
        const r = await invoke(name, { dataframe_split: { columns: ['a', 'b', 'c'], data: row } });
        const body = await r.json();
        if (r.status !== 200 || !valid.has(body.predictions?.[0])) failures.push(`${r.status} ${JSON.stringify(body)}`);
        answered++;
      }
    };
    const clients = Array.from({ length: 50 }, client);
    const configs = [
      { served_entities: [{ entity_name: model, entity_version: '2' }] },
      {
        served_entities: [
          { name: 'x', entity_name: model, entity_version: '2' },
          { name: 'y', entity_name: model, entity_version: '3' },
        ],
        traffic_config: {
          routes: [
            { served_entity_name: 'x', traffic_percentage: 50 },
            { served_entity_name: 'y', traffic_percentage: 50 },
          ],
        },
      },
      { served_entities: [{ entity_name: model, entity_version: '3' }] },
    ];
    for (const config of configs) {
      const before = answered;
      const put = await s.call('PUT', `${EP}/${name}/config`, config);
      expect(put.status, put.text).toBe(200);
      await settle(name);
      // Let traffic flow on the new config before the next switch.
      while (answered < before + 200) await new Promise((r) => setTimeout(r, 5));
    }
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    const final = await s.call('GET', `${EP}/${name}`);
    expect(final.body.config.config_version).toBe(4);
    expect(final.body.config.served_entities.map((e: { entity_version: string }) => e.entity_version)).toEqual(['3']);
    const r = await invoke(name, { dataframe_split: { columns: ['a', 'b', 'c'], data: row } });
    expect((await r.json()).predictions).toEqual(expected(W3, B3, row));
  });

  it('grants CAN_VIEW, CAN_QUERY and CAN_MANAGE through /api/2.0/permissions/serving-endpoints/{id}, in those names only', async () => {
    const name = uniq('perm');
    const created = await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } });
    await settle(name);
    const userName = uniq('user');
    const password = 'correct horse battery staple';
    expect((await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName, password })).status).toBe(201);
    const basic = Buffer.from(`${userName}:${password}`).toString('base64');
    const tokenRes = await fetch(`${s.url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const token = ((await tokenRes.json()) as { token_value: string }).token_value;
    const body = { dataframe_records: [{ a: 1, b: 2, c: 3 }] };
    const PERM = `/api/2.0/permissions/serving-endpoints/${created.body.id}`;
    expect((await s.call('GET', `${EP}/${name}`, undefined, token)).status).toBe(403);
    expect((await invoke(name, body, token)).status).toBe(403);
    expect((await s.call('GET', PERM, undefined, token)).status).toBe(403);
    expect((await s.call('GET', EP, undefined, token)).body.endpoints.map((e: { name: string }) => e.name)).not.toContain(name);
    const grant = (level: string, method = 'PATCH') => s.call(method, PERM, { access_control_list: [{ user_name: userName, permission_level: level }] });
    const levelsOf = (acl: { user_name?: string; all_permissions: { permission_level: string }[] }[]) =>
      acl.filter((e) => e.user_name === userName).map((e) => e.all_permissions[0]?.permission_level);

    // The generic workspace levels are refused here, and a refusal changes nothing.
    for (const other of ['CAN_READ', 'CAN_EDIT', 'CAN_RUN', 'can_view']) {
      const refused = await grant(other);
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(refused.body.message).toContain('CAN_VIEW, CAN_QUERY, CAN_MANAGE');
    }
    expect(levelsOf((await s.call('GET', PERM)).body.access_control_list)).toEqual([]);

    const viewGrant = await grant('CAN_VIEW');
    expect(viewGrant.status, viewGrant.text).toBe(200);
    expect(viewGrant.body.object_id).toBe(`/serving-endpoints/${created.body.id}`);
    expect(levelsOf(viewGrant.body.access_control_list)).toEqual(['CAN_VIEW']);
    const viewed = await s.call('GET', `${EP}/${name}`, undefined, token);
    expect(viewed.status).toBe(200);
    expect(viewed.body.permission_level).toBe('CAN_VIEW');
    expect((await invoke(name, body, token)).status).toBe(403);
    expect(
      (await s.call('GET', `${PERM}/permissionLevels`, undefined, token)).body.permission_levels.map((l: { permission_level: string }) => l.permission_level),
    ).toEqual(['CAN_VIEW', 'CAN_QUERY', 'CAN_MANAGE']);

    expect(levelsOf((await grant('CAN_QUERY')).body.access_control_list)).toEqual(['CAN_QUERY']);
    expect((await s.call('GET', `${EP}/${name}`, undefined, token)).body.permission_level).toBe('CAN_QUERY');
    expect((await invoke(name, body, token)).status).toBe(200);
    expect((await s.call('DELETE', `${EP}/${name}`, undefined, token)).status).toBe(403);
    expect((await s.call('PUT', `${EP}/${name}/config`, { served_entities: [{ entity_name: model, entity_version: '2' }] }, token)).status).toBe(403);
    expect((await s.call('GET', PERM, undefined, token)).status).toBe(403);

    // PUT replaces the list: the user is gone, so querying is refused again.
    const replaced = await s.call('PUT', PERM, { access_control_list: [] });
    expect(replaced.status).toBe(200);
    expect(levelsOf(replaced.body.access_control_list)).toEqual([]);
    expect((await invoke(name, body, token)).status).toBe(403);

    expect(levelsOf((await grant('CAN_MANAGE', 'PUT')).body.access_control_list)).toEqual(['CAN_MANAGE']);
    expect(levelsOf((await s.call('GET', PERM, undefined, token)).body.access_control_list)).toEqual(['CAN_MANAGE']);
    expect((await s.call('GET', `/api/2.0/permissions/serving-endpoints/nope`)).status).toBe(404);
  });

  it('deletes an endpoint: it stops answering and is gone from the list', async () => {
    const name = uniq('gone');
    expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } })).status).toBe(200);
    await settle(name);
    expect((await s.call('DELETE', `${EP}/${name}`)).status).toBe(200);
    expect((await s.call('GET', `${EP}/${name}`)).status).toBe(404);
    expect((await invoke(name, { inputs: [[1, 2, 3]] })).status).toBe(404);
    expect((await s.call('GET', EP)).body.endpoints.map((e: { name: string }) => e.name)).not.toContain(name);
  });
});

describe.each(testBackends)('serving endpoints survive a restart on $name', (backend) => {
  it('restores a persisted endpoint, READY and answering, on a new server over the same store', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-serving-restart-'));
    const shared = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_serving') : null;
    const opts = { dataDir, ...(shared ? { metadataUrl: shared.url } : {}) };
    try {
      let s = await startTestServer(backend, opts);
      const name = 'restart_ep';
      const model = 'restart_model';
      const exp = (await s.call('POST', `${API}/experiments/create`, { name: 'restart' })).body.experiment_id as string;
      const run = (await s.call('POST', `${API}/runs/create`, { experiment_id: exp, start_time: Date.now() })).body.run.info;
      const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
      const files = { MLmodel: MLMODEL, 'model.onnx': linearOnnxModel([2, 2, 2], 1), 'input_example.json': '{"columns":["a","b","c"],"data":[[1,2,3]]}' };
      for (const [file, body] of Object.entries(files)) {
        await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${s.adminToken}` },
          body,
        });
      }
      expect((await s.call('POST', `${API}/registered-models/create`, { name: model })).status).toBe(200);
      expect((await s.call('POST', `${API}/model-versions/create`, { name: model, source: `runs:/${run.run_id}/model`, run_id: run.run_id })).status).toBe(200);
      expect((await s.call('POST', EP, { name, config: { served_entities: [{ entity_name: model, entity_version: '1' }] } })).status).toBe(200);
      await s.close();
      s = await startTestServer(backend, opts);
      let got = await s.call('GET', `${EP}/${name}`);
      while (got.body.state?.config_update === 'IN_PROGRESS') got = await s.call('GET', `${EP}/${name}`);
      expect(got.body.state).toEqual({ ready: 'READY', config_update: 'NOT_UPDATING' });
      const res = await fetch(`${s.url}/serving-endpoints/${name}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` },
        body: JSON.stringify({ dataframe_records: [{ a: 1, b: 1, c: 1 }] }),
      });
      expect(await res.json()).toEqual({ predictions: [7] });
      await s.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
      await shared?.drop();
    }
  });
});

describe.each(testBackends)('inference tables on $name', (backend) => {
  it('captures every request and response into <prefix>_payload, flushed by a graceful stop', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-serving-capture-'));
    const shared = backend.name === 'postgres' ? await createTestPostgresDatabase('weir_serving') : null;
    const opts = { dataDir, ...(shared ? { metadataUrl: shared.url } : {}) };
    try {
      let s = await startTestServer(backend, opts);
      const UC = '/api/2.1/unity-catalog';
      expect((await s.call('POST', `${UC}/catalogs`, { name: 'cap' })).status).toBe(200);
      expect((await s.call('POST', `${UC}/schemas`, { catalog_name: 'cap', name: 'logs' })).status).toBe(200);
      const exp = (await s.call('POST', `${API}/experiments/create`, { name: 'capture' })).body.experiment_id as string;
      const run = (await s.call('POST', `${API}/runs/create`, { experiment_id: exp, start_time: Date.now() })).body.run.info;
      const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
      const files = { MLmodel: MLMODEL, 'model.onnx': linearOnnxModel([1, 1, 1], 0), 'input_example.json': '{"columns":["a","b","c"],"data":[[1,2,3]]}' };
      for (const [file, body] of Object.entries(files)) {
        await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${s.adminToken}` },
          body,
        });
      }
      expect((await s.call('POST', `${API}/registered-models/create`, { name: 'captured' })).status).toBe(200);
      expect((await s.call('POST', `${API}/model-versions/create`, { name: 'captured', source: `runs:/${run.run_id}/model`, run_id: run.run_id })).status).toBe(
        200,
      );
      const entities = [{ entity_name: 'captured', entity_version: '1' }];
      const noSchema = await s.call('POST', EP, {
        name: 'cap_bad',
        config: { served_entities: entities, auto_capture_config: { catalog_name: 'cap', schema_name: 'nope', table_name_prefix: 'x', enabled: true } },
      });
      expect(noSchema.status).toBe(404);
      const created = await s.call('POST', EP, {
        name: 'cap_ep',
        config: { served_entities: entities, auto_capture_config: { catalog_name: 'cap', schema_name: 'logs', table_name_prefix: 'cap_ep', enabled: true } },
      });
      expect(created.status, created.text).toBe(200);
      let got = await s.call('GET', `${EP}/cap_ep`);
      while (got.body.state.config_update === 'IN_PROGRESS') got = await s.call('GET', `${EP}/cap_ep`);
      expect(got.body.state.payload_table).toEqual({ name: 'cap.logs.cap_ep_payload', status: 'ACTIVE' });

      const sent: { body: string; status: number; client: string }[] = [];
      for (let i = 0; i < 27; i++) {
        const client = `client-${i}`;
        const body = JSON.stringify(
          i % 10 === 9
            ? { client_request_id: client, dataframe_records: [{ a: i }] }
            : { client_request_id: client, dataframe_records: [{ a: i, b: 1, c: 2 }] },
        );
        const res = await fetch(`${s.url}/serving-endpoints/cap_ep/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` },
          body,
        });
        await res.text();
        sent.push({ body, status: res.status, client });
      }
      expect(sent.filter((x) => x.status === 400)).toHaveLength(2);
      // The batch (under 1,000 rows, under 10 s) is still in memory: only the graceful stop writes it.
      await s.close();
      s = await startTestServer(backend, opts);
      const table = await s.call('GET', '/api/2.1/unity-catalog/tables/cap.logs.cap_ep_payload');
      expect(table.status, table.text).toBe(200);
      const rows = await (await openDeltaTable(String(table.body.storage_location).replace(/^file:\/\//, '')).snapshot()).readRows();
      const norm = (r: Record<string, unknown>) => ({ client: r.client_request_id, status: Number(r.status_code), body: r.request });
      const byClient = (a: { client: unknown }, b: { client: unknown }) => String(a.client).localeCompare(String(b.client));
      expect(rows.map(norm).sort(byClient)).toEqual(sent.map((x) => ({ client: x.client, status: x.status, body: x.body })).sort(byClient));
      for (const r of rows) {
        expect(r.served_entity_name).toBe('captured-1');
        expect(r.model_name).toBe('main.default.captured');
        expect(r.model_version).toBe('1');
        const response = JSON.parse(String(r.response));
        expect(Number(r.status_code) === 200 ? 'predictions' in response : response.error_code === 'BAD_REQUEST').toBe(true);
      }
      await s.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
      await shared?.drop();
    }
  });
});
