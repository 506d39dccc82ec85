// MLflow acceptance checklist items 1–38 (shared/reference/mlflow-rest.md §10), each a test, on every backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const API = '/api/2.0/mlflow';

describe.each(testBackends)('MLflow checklist on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  const post = (p: string, body: unknown) => s.call('POST', `${API}${p}`, body);
  const get = (p: string, query: Record<string, unknown>) => s.call('GET', `${API}${p}`, query);
  let counter = 0;
  const uniq = (prefix: string) => `${prefix}-${Date.now()}-${++counter}`;
  async function newExperiment(name = uniq('exp')) {
    const res = await post('/experiments/create', { name });
    expect(res.status).toBe(200);
    return res.body.experiment_id as string;
  }
  async function newRun(experimentId: string, extra: Record<string, unknown> = {}) {
    const res = await post('/runs/create', { experiment_id: experimentId, start_time: Date.now(), ...extra });
    expect(res.status).toBe(200);
    return res.body.run.info.run_id as string;
  }

  // ---- Experiments ----
  it('1: a fresh server has exactly the Default experiment 0', async () => {
    const fresh = await startTestServer(backend);
    try {
      const res = await fresh.call('POST', `${API}/experiments/search`, { max_results: 100 });
      expect(res.status).toBe(200);
      expect(res.body.experiments).toHaveLength(1);
      expect(res.body.experiments[0]).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active' });
    } finally {
      await fresh.close();
    }
  });

  it('2: create with artifact_location and tags; get returns them (local paths made absolute)', async () => {
    const name = uniq('exp2');
    const res = await post('/experiments/create', {
      name,
      artifact_location: 'relative/dir',
      tags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    });
    expect(res.status).toBe(200);
    const got = await get('/experiments/get', { experiment_id: res.body.experiment_id });
    expect(got.body.experiment.name).toBe(name);
    expect(got.body.experiment.artifact_location.startsWith('/')).toBe(true);
    expect(got.body.experiment.artifact_location.endsWith('/relative/dir')).toBe(true);
    expect(got.body.experiment.tags).toEqual(
      expect.arrayContaining([
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ]),
    );
  });

  it('3: create validates types with MLflow messages', async () => {
    let res = await post('/experiments/create', { name: 123 });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toContain("Invalid value 123 for parameter 'name'");
    res = await post('/experiments/create', {});
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("Missing value for required parameter 'name'");
    res = await post('/experiments/create', { name: uniq('x'), artifact_location: 9.0 });
    expect(res.status).toBe(400);
    res = await post('/experiments/create', { name: uniq('x'), tags: '5' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(`Invalid value "5" for parameter 'tags'`);
  });

  it('4: duplicate names are refused, also while the first is deleted', async () => {
    const name = uniq('dup');
    const id = await newExperiment(name);
    let res = await post('/experiments/create', { name });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    await post('/experiments/delete', { experiment_id: id });
    res = await post('/experiments/create', { name });
    expect(res.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('5: delete and restore an experiment; its runs follow', async () => {
    const name = uniq('del');
    const id = await newExperiment(name);
    const runId = await newRun(id);
    expect((await post('/experiments/delete', { experiment_id: id })).status).toBe(200);
    expect((await get('/experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('deleted');
    expect((await get('/experiments/get-by-name', { experiment_name: name })).body.experiment.lifecycle_stage).toBe('deleted');
    expect((await get('/runs/get', { run_id: runId })).body.run.info.lifecycle_stage).toBe('deleted');
    expect((await post('/experiments/restore', { experiment_id: id })).status).toBe(200);
    expect((await get('/experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('active');
    expect((await get('/runs/get', { run_id: runId })).body.run.info.lifecycle_stage).toBe('active');
  });

  it('6: view_type partitions active and deleted experiments', async () => {
    const prefix = uniq('vt');
    const a = await newExperiment(`${prefix}-a`);
    const d = await newExperiment(`${prefix}-d`);
    await post('/experiments/delete', { experiment_id: d });
    const ids = async (view?: string) =>
      ((await post('/experiments/search', { filter: `name LIKE '${prefix}%'`, ...(view ? { view_type: view } : {}) })).body.experiments ?? []).map(
        (e: { experiment_id: string }) => e.experiment_id,
      );
    expect(await ids()).toEqual([a]);
    expect(await ids('ACTIVE_ONLY')).toEqual([a]);
    expect(await ids('DELETED_ONLY')).toEqual([d]);
    expect((await ids('ALL')).sort()).toEqual([a, d].sort());
  });

  it('7: experiment search filters on name and tags', async () => {
    const p = uniq('f7');
    const a = (await post('/experiments/create', { name: `${p}-Alpha`, tags: [{ key: 'key', value: 'value' }] })).body.experiment_id;
    const b = (await post('/experiments/create', { name: `${p}-beta`, tags: [{ key: 'key', value: 'other' }] })).body.experiment_id;
    const c = (await post('/experiments/create', { name: `${p}-gamma` })).body.experiment_id;
    const find = async (filter: string) =>
      ((await post('/experiments/search', { filter: `name LIKE '${p}%' AND ${filter}` })).body.experiments ?? [])
        .map((e: { experiment_id: string }) => e.experiment_id)
        .sort();
    expect(await find(`attribute.name = '${p}-Alpha'`)).toEqual([a]);
    expect(await find(`name != '${p}-Alpha'`)).toEqual([b, c].sort());
    expect(await find(`name LIKE '${p}-a%'`)).toEqual([]); // LIKE is case-sensitive
    expect(await find(`name ILIKE '${p}-a%'`)).toEqual([a]);
    expect(await find(`tag.key = 'value'`)).toEqual([a]);
    expect(await find(`tag.key != 'value'`)).toEqual([b]);
    expect(await find(`tag.key ILIKE '%ALU%'`)).toEqual([a]);
  });

  it('8: default order is newest first; name DESC is byte-wise; pages are deterministic', async () => {
    const p = uniq('o8');
    const ids: string[] = [];
    for (const suffix of ['b', 'A', 'c', 'a']) ids.push(await newExperiment(`${p}-${suffix}`));
    const names = async (order?: string[]) =>
      ((await post('/experiments/search', { filter: `name LIKE '${p}%'`, ...(order ? { order_by: order } : {}) })).body.experiments ?? []).map(
        (e: { name: string }) => e.name,
      );
    expect(await names()).toEqual([`${p}-a`, `${p}-c`, `${p}-A`, `${p}-b`]);
    expect(await names(['name DESC'])).toEqual([`${p}-c`, `${p}-b`, `${p}-a`, `${p}-A`]);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await post('/experiments/search', { filter: `name LIKE '${p}%'`, max_results: 2, ...(token ? { page_token: token } : {}) });
      seen.push(...res.body.experiments.map((e: { experiment_id: string }) => e.experiment_id));
      token = res.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen).toEqual([...ids].reverse());
  });

  it('9: rename; rename of a deleted experiment is INVALID_STATE; unknown name is 404', async () => {
    const id = await newExperiment();
    const newName = uniq('renamed');
    expect((await post('/experiments/update', { experiment_id: id, new_name: newName })).status).toBe(200);
    expect((await get('/experiments/get', { experiment_id: id })).body.experiment.name).toBe(newName);
    await post('/experiments/delete', { experiment_id: id });
    const res = await post('/experiments/update', { experiment_id: id, new_name: uniq('again') });
    expect(res.status).toBe(500);
    expect(res.body.error_code).toBe('INVALID_STATE');
    const miss = await get('/experiments/get-by-name', { experiment_name: uniq('nope') });
    expect(miss.status).toBe(404);
    expect(miss.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('10: experiment tags upsert, allow multi-line and empty values; deleting a missing tag is 404', async () => {
    const a = await newExperiment();
    const b = await newExperiment();
    await post('/experiments/set-experiment-tag', { experiment_id: a, key: 'k', value: 'v1' });
    await post('/experiments/set-experiment-tag', { experiment_id: a, key: 'k', value: 'line1\nline2' });
    await post('/experiments/set-experiment-tag', { experiment_id: a, key: 'empty', value: '' });
    await post('/experiments/set-experiment-tag', { experiment_id: b, key: 'k', value: 'other' });
    const tags = (await get('/experiments/get', { experiment_id: a })).body.experiment.tags;
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'k', value: 'line1\nline2' },
        { key: 'empty', value: '' },
      ]),
    );
    expect(tags).toHaveLength(2);
    expect((await post('/experiments/delete-experiment-tag', { experiment_id: a, key: 'k' })).status).toBe(200);
    const miss = await post('/experiments/delete-experiment-tag', { experiment_id: a, key: 'k' });
    expect(miss.status).toBe(404);
    expect(miss.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  // ---- Runs ----
  it('11: create run echoes info, name, user and tags; run_uuid equals run_id', async () => {
    const exp = await newExperiment();
    const start = 1_700_000_000_123;
    const res = await post('/runs/create', {
      experiment_id: exp,
      user_id: 'alice',
      run_name: 'my-run',
      start_time: start,
      tags: [
        { key: 'mlflow.user', value: 'alice' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.parentRunId', value: 'abc' },
      ],
    });
    expect(res.status).toBe(200);
    const got = (await get('/runs/get', { run_id: res.body.run.info.run_id })).body.run;
    expect(got.info).toMatchObject({
      run_name: 'my-run',
      user_id: 'alice',
      start_time: start,
      status: 'RUNNING',
      experiment_id: exp,
      lifecycle_stage: 'active',
    });
    expect(got.info.run_uuid).toBe(got.info.run_id);
    expect(got.info.end_time).toBeUndefined();
    expect(got.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'mlflow.user', value: 'alice' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.parentRunId', value: 'abc' },
        { key: 'mlflow.runName', value: 'my-run' },
      ]),
    );
  });

  it('12: a run with no name gets a generated one; conflicting run_name and tag is 400', async () => {
    const exp = await newExperiment();
    const res = await post('/runs/create', { experiment_id: exp });
    const name = res.body.run.info.run_name;
    expect(name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(res.body.run.data.tags).toContainEqual({ key: 'mlflow.runName', value: name });
    const bad = await post('/runs/create', { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] });
    expect(bad.status).toBe(400);
  });

  it('13: terminate, fail and rename a run', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const before = Date.now();
    let res = await post('/runs/update', { run_id: run, status: 'FINISHED', end_time: before });
    expect(res.body.run_info).toMatchObject({ status: 'FINISHED', end_time: before });
    expect(res.body.run_info.end_time).toBeLessThanOrEqual(Date.now());
    const run2 = await newRun(exp);
    res = await post('/runs/update', { run_id: run2, status: 'FAILED' });
    expect(res.body.run_info.status).toBe('FAILED');
    res = await post('/runs/update', { run_id: run2, run_name: 'renamed' });
    expect(res.body.run_info).toMatchObject({ status: 'FAILED', run_name: 'renamed' });
    const got = (await get('/runs/get', { run_id: run2 })).body.run;
    expect(got.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'renamed' });
  });

  it('14: delete/restore a run; deleted runs are hidden from ACTIVE_ONLY and refuse writes', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    await post('/runs/delete', { run_id: run });
    expect((await get('/runs/get', { run_id: run })).body.run.info.lifecycle_stage).toBe('deleted');
    expect((await post('/runs/search', { experiment_ids: [exp] })).body.runs).toEqual([]);
    expect((await post('/runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' })).body.runs).toHaveLength(1);
    const w = await post('/runs/log-parameter', { run_id: run, key: 'p', value: '1' });
    expect(w.status).toBe(400);
    expect(w.body.message).toContain("must be in the 'active' state");
    await post('/runs/restore', { run_id: run });
    expect((await post('/runs/search', { experiment_ids: [exp] })).body.runs).toHaveLength(1);
  });

  it('15: unknown run is 404; run_uuid-only requests work', async () => {
    const res = await get('/runs/get', { run_id: 'f'.repeat(32) });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe(`Run with id=${'f'.repeat(32)} not found`);
    const exp = await newExperiment();
    const run = await newRun(exp);
    expect((await post('/runs/set-tag', { run_uuid: run, key: 't', value: 'v' })).status).toBe(200);
    expect((await get('/runs/get', { run_uuid: run })).body.run.data.tags).toContainEqual({ key: 't', value: 'v' });
  });

  // ---- Logging ----
  it('16: metrics keep value, timestamp and step; NaN and ±Inf round-trip', async () => {
    const run = await newRun(await newExperiment());
    await post('/runs/log-metric', { run_id: run, key: 'm', value: 1.5, timestamp: 100 });
    await post('/runs/log-metric', { run_id: run, key: 'nan', value: 'NaN', timestamp: 100, step: 1 });
    await post('/runs/log-metric', { run_id: run, key: 'pinf', value: 'Infinity', timestamp: 100 });
    await post('/runs/log-metric', { run_id: run, key: 'ninf', value: '-Infinity', timestamp: 100 });
    const hist = (await get('/metrics/get-history', { run_id: run, metric_key: 'm' })).body.metrics;
    expect(hist).toEqual([{ key: 'm', value: 1.5, timestamp: 100, step: 0 }]);
    expect((await get('/metrics/get-history', { run_id: run, metric_key: 'nan' })).body.metrics[0].value).toBe('NaN');
    expect((await get('/metrics/get-history', { run_id: run, metric_key: 'pinf' })).body.metrics[0].value).toBeGreaterThanOrEqual(1.7976931348623157e308);
    expect((await get('/metrics/get-history', { run_id: run, metric_key: 'ninf' })).body.metrics[0].value).toBeLessThanOrEqual(-1.7976931348623157e308);
  });

  it('17: latest metric is the max of (step, timestamp, value); history is ordered by timestamp, step, value', async () => {
    const run = await newRun(await newExperiment());
    const points = [
      { value: 5, timestamp: 300, step: 1 },
      { value: 7, timestamp: 100, step: 2 },
      { value: 6, timestamp: 100, step: 2 },
      { value: 1, timestamp: 200, step: 0 },
    ];
    await post('/runs/log-batch', { run_id: run, metrics: points.map((p) => ({ key: 'k', ...p })) });
    const latest = (await get('/runs/get', { run_id: run })).body.run.data.metrics;
    expect(latest).toEqual([{ key: 'k', value: 7, timestamp: 100, step: 2 }]);
    const hist = (await get('/metrics/get-history', { run_id: run, metric_key: 'k' })).body.metrics.map((m: { value: number }) => m.value);
    expect(hist).toEqual([6, 7, 1, 5]);
    // Paged the way the Python client pages: same points, same order.
    const paged: number[] = [];
    let token: string | undefined;
    do {
      const res = await get('/metrics/get-history', { run_id: run, metric_key: 'k', max_results: 3, ...(token ? { page_token: token } : {}) });
      paged.push(...res.body.metrics.map((m: { value: number }) => m.value));
      token = res.body.next_page_token;
    } while (token);
    expect(paged).toEqual([6, 7, 1, 5]);
  });

  it('18: history of a never-logged key is empty', async () => {
    const run = await newRun(await newExperiment());
    const res = await get('/metrics/get-history', { run_id: run, metric_key: 'never' });
    expect(res.status).toBe(200);
    expect(res.body.metrics ?? []).toEqual([]);
  });

  it('19: log-metric validation messages', async () => {
    const run = await newRun(await newExperiment());
    const cases: [Record<string, unknown>, string][] = [
      [{ run_id: 31, key: 'k', value: 1, timestamp: 1 }, "Invalid value 31 for parameter 'run_id' supplied"],
      [{ run_id: run, key: 31, value: 1, timestamp: 1 }, "Invalid value 31 for parameter 'key' supplied"],
      [{ run_id: run, key: 'k', value: 1, timestamp: 1, step: 'foo' }, `Invalid value "foo" for parameter 'step' supplied`],
      [{ run_id: run, key: 'k', value: 1, timestamp: 'foo' }, `Invalid value "foo" for parameter 'timestamp' supplied`],
      [{ run_id: run, value: 1, timestamp: 1 }, "Missing value for required parameter 'key'"],
      [{ run_id: run, key: null, value: 1, timestamp: 1 }, "Missing value for required parameter 'key'"],
    ];
    for (const [body, message] of cases) {
      const res = await post('/runs/log-metric', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(res.body.message).toContain(message);
    }
    const nullRun = await post('/runs/log-metric', { run_id: null, key: 'k', value: 1, timestamp: 1 });
    expect(nullRun.status).toBe(400);
  });

  it('20: log-parameter and set-tag validation', async () => {
    const run = await newRun(await newExperiment());
    let res = await post('/runs/log-parameter', { run_id: 31, key: 'k', value: 'v' });
    expect(res.body.message).toContain("Invalid value 31 for parameter 'run_id' supplied");
    res = await post('/runs/log-parameter', { run_id: run, key: 31, value: 'v' });
    expect(res.body.message).toContain("Invalid value 31 for parameter 'key' supplied");
    res = await post('/runs/set-tag', { run_id: run, key: 'k', value: 41 });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("Invalid value 41 for parameter 'value' supplied");
  });

  it('21: params are immutable', async () => {
    const run = await newRun(await newExperiment());
    expect((await post('/runs/log-parameter', { run_id: run, key: 'p', value: 'a' })).status).toBe(200);
    expect((await post('/runs/log-parameter', { run_id: run, key: 'p', value: 'a' })).status).toBe(200);
    const res = await post('/runs/log-parameter', { run_id: run, key: 'p', value: 'b' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('Changing param values is not allowed');
    const batch = await post('/runs/log-batch', { run_id: run, params: [{ key: 'p', value: 'c' }] });
    expect(batch.status).toBe(400);
    expect(batch.body.message).toContain('Changing param values is not allowed');
  });

  it('22: empty-string values are accepted for params, tags and experiment tags', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    expect((await post('/runs/log-parameter', { run_id: run, key: 'p', value: '' })).status).toBe(200);
    expect((await post('/runs/set-tag', { run_id: run, key: 't', value: '' })).status).toBe(200);
    expect((await post('/runs/log-batch', { run_id: run, params: [{ key: 'p2', value: '' }], tags: [{ key: 't2', value: '' }] })).status).toBe(200);
    expect((await post('/experiments/set-experiment-tag', { experiment_id: exp, key: 'e', value: '' })).status).toBe(200);
    const data = (await get('/runs/get', { run_id: run })).body.run.data;
    expect(data.params).toEqual(
      expect.arrayContaining([
        { key: 'p', value: '' },
        { key: 'p2', value: '' },
      ]),
    );
    expect(data.tags).toEqual(
      expect.arrayContaining([
        { key: 't', value: '' },
        { key: 't2', value: '' },
      ]),
    );
  });

  it('23: log-batch validation and visibility', async () => {
    const run = await newRun(await newExperiment());
    for (const field of ['metrics', 'params', 'tags']) {
      expect((await post('/runs/log-batch', { run_id: run, [field]: 'foo' })).status).toBe(400);
    }
    expect((await post('/runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: 1 }] })).status).toBe(400);
    expect((await post('/runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: 1, timestamp: 5 }] })).status).toBe(200);
    const many = (n: number, kind: 'metric' | 'kv') =>
      Array.from({ length: n }, (_, i) => (kind === 'metric' ? { key: `m${i}`, value: i, timestamp: 1 } : { key: `k${i}`, value: 'v' }));
    let res = await post('/runs/log-batch', { run_id: run, metrics: many(1001, 'metric') });
    expect(res.status).toBe(400);
    res = await post('/runs/log-batch', { run_id: run, params: many(101, 'kv') });
    expect(res.body.message).toContain('A batch logging request can contain at most 100 params. Got 101 params.');
    res = await post('/runs/log-batch', { run_id: run, tags: many(101, 'kv') });
    expect(res.status).toBe(400);
    res = await post('/runs/log-batch', { run_id: run, metrics: many(950, 'metric'), params: many(60, 'kv') });
    expect(res.status).toBe(400);
    res = await post('/runs/log-batch', {
      run_id: run,
      params: [
        { key: 'd', value: '1' },
        { key: 'd', value: '1' },
      ],
    });
    expect(res.body.message).toContain('Duplicate parameter keys have been submitted');
    res = await post('/runs/log-batch', { run_id: run, tags: [{ key: 'big', value: 'x'.repeat(1_000_001) }] });
    expect(res.status).toBe(400);
    res = await post('/runs/log-batch', {
      run_id: run,
      metrics: [{ key: 'bm', value: 2, timestamp: 10, step: 3 }],
      params: [{ key: 'bp', value: 'v' }],
      tags: [
        { key: 'bt', value: 'first' },
        { key: 'bt', value: 'last' },
      ],
    });
    expect(res.status).toBe(200);
    const data = (await get('/runs/get', { run_id: run })).body.run.data;
    expect(data.metrics).toContainEqual({ key: 'bm', value: 2, timestamp: 10, step: 3 });
    expect(data.params).toContainEqual({ key: 'bp', value: 'v' });
    expect(data.tags).toContainEqual({ key: 'bt', value: 'last' });
    // Nothing of the refused batches was written.
    expect(data.params.find((p: { key: string }) => p.key === 'k0')).toBeUndefined();
  });

  it('24: keys with bad characters, non-normalized paths or over 250 chars are refused', async () => {
    const run = await newRun(await newExperiment());
    for (const key of ['a//b', '/a', '..', 'a/', './a', 'a!b', 'k'.repeat(251)]) {
      const res = await post('/runs/log-metric', { run_id: run, key, value: 1, timestamp: 1 });
      expect(res.status, key).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await post('/runs/log-metric', { run_id: run, key: 'ok/key name-1.x:y', value: 1, timestamp: 1 })).status).toBe(200);
  });

  it('25: delete-tag', async () => {
    const run = await newRun(await newExperiment());
    await post('/runs/set-tag', { run_id: run, key: 'gone', value: 'v' });
    expect((await post('/runs/delete-tag', { run_id: run, key: 'gone' })).status).toBe(200);
    expect((await get('/runs/get', { run_id: run })).body.run.data.tags.find((t: { key: string }) => t.key === 'gone')).toBeUndefined();
    let res = await post('/runs/delete-tag', { run_id: run, key: 'fakeTag' });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('No tag with name: fakeTag');
    res = await post('/runs/delete-tag', { run_id: 'a'.repeat(32), key: 'x' });
    expect(res.status).toBe(404);
    await post('/runs/set-tag', { run_id: run, key: 'keep', value: 'v' });
    await post('/runs/delete', { run_id: run });
    res = await post('/runs/delete-tag', { run_id: run, key: 'keep' });
    expect(res.status).toBe(400);
  });

  // ---- Search runs ----
  it('26: pagination with equal start times orders by run_id', async () => {
    const exp = await newExperiment();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await newRun(exp, { start_time: 1000 }));
    ids.sort();
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const res = await post('/runs/search', { experiment_ids: [exp], max_results: 4, ...(token ? { page_token: token } : {}) });
      pages.push((res.body.runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id));
      token = res.body.next_page_token;
    } while (token);
    expect(pages.filter((p) => p.length > 0).map((p) => p.length)).toEqual([4, 4, 2]);
    expect(pages.flat()).toEqual(ids);
  });

  it('27: max_results beyond 50000 is refused', async () => {
    const res = await post('/runs/search', { experiment_ids: ['0'], max_results: 123456789 });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('Invalid value 123456789 for parameter');
    expect(res.body.message).toContain("'max_results' supplied");
  });

  it('28: run filters on metrics, params, tags, attributes and datasets', async () => {
    const exp = await newExperiment();
    const mk = async (name: string, m: number, p: string, t: string, start: number) => {
      const id = await newRun(exp, { run_name: name, start_time: start });
      await post('/runs/log-batch', {
        run_id: id,
        metrics: [{ key: 'acc', value: m, timestamp: 1 }],
        params: [{ key: 'lr', value: p }],
        tags: [
          { key: 'team-name', value: t },
          { key: 'my key', value: t },
        ],
      });
      return id;
    };
    const a = await mk('alpha', 0.9, '0.1', 'Vision', 1000);
    const b = await mk('beta', 0.5, '0.01', 'nlp', 2000);
    const c = await mk('gamma', 0.7, '0.1', 'vision', 3000);
    await post('/runs/log-inputs', {
      run_id: c,
      datasets: [
        { dataset: { name: 'train-set', digest: 'abc123', source_type: 'local', source: '{}' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] },
      ],
    });
    await post('/runs/update', { run_id: b, status: 'FINISHED' });
    const find = async (filter: string) => {
      const res = await post('/runs/search', { experiment_ids: [exp], filter });
      expect(res.status, `${filter}: ${res.text}`).toBe(200);
      return (res.body.runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id).sort();
    };
    expect(await find('metrics.acc > 0.6')).toEqual([a, c].sort());
    expect(await find('metrics.acc <= 0.7 and params.lr = "0.1"')).toEqual([c]);
    expect(await find("params.lr != '0.1'")).toEqual([b]);
    expect(await find("tags.`team-name` LIKE 'v%'")).toEqual([c]);
    expect(await find('tags."team-name" ILIKE \'v%\'')).toEqual([a, c].sort());
    expect(await find("tags.`my key` = 'nlp'")).toEqual([b]);
    expect(await find("attributes.status = 'FINISHED'")).toEqual([b]);
    expect(await find("attributes.run_name = 'alpha'")).toEqual([a]);
    expect(await find('attributes.start_time >= 2000')).toEqual([b, c].sort());
    expect(await find(`attributes.run_id IN ('${a}', '${b}')`)).toEqual([a, b].sort());
    expect(await find("datasets.name = 'train-set'")).toEqual([c]);
    expect(await find("datasets.digest = 'abc123' AND datasets.context = 'training'")).toEqual([c]);
    expect(await find('metrics.missing > 0')).toEqual([]);
    for (const bad of ['metrics.acc > 0.6 OR params.lr = "0.1"', 'params.lr = 0.1', 'attribute.nope = "x"']) {
      const res = await post('/runs/search', { experiment_ids: [exp], filter: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('29: order_by metrics, params, tags and attributes; missing keys sort last; duplicates refused', async () => {
    const exp = await newExperiment();
    const a = await newRun(exp, { run_name: 'a', start_time: 1 });
    const b = await newRun(exp, { run_name: 'b', start_time: 2 });
    const c = await newRun(exp, { run_name: 'c', start_time: 3 });
    await post('/runs/log-batch', {
      run_id: a,
      metrics: [{ key: 'm', value: 3, timestamp: 1 }],
      params: [{ key: 'p', value: 'z' }],
      tags: [{ key: 't', value: 'x' }],
    });
    await post('/runs/log-batch', { run_id: b, metrics: [{ key: 'm', value: 1, timestamp: 1 }], params: [{ key: 'p', value: 'y' }] });
    const order = async (o: string[]) =>
      ((await post('/runs/search', { experiment_ids: [exp], order_by: o })).body.runs ?? []).map((r: { info: { run_id: string } }) => r.info.run_id);
    expect(await order(['metrics.m ASC'])).toEqual([b, a, c]);
    expect(await order(['metrics.m DESC'])).toEqual([a, b, c]);
    expect(await order(['params.p'])).toEqual([b, a, c]);
    expect(await order(['tags.t DESC'])).toEqual([a, c, b]);
    expect(await order(['attributes.run_name DESC'])).toEqual([c, b, a]);
    expect(await order(['start_time ASC'])).toEqual([a, b, c]);
    const dup = await post('/runs/search', { experiment_ids: [exp], order_by: ['metrics.m ASC', 'metrics.m DESC'] });
    expect(dup.status).toBe(400);
  });

  // ---- Artifacts ----
  it('30: artifact locations', async () => {
    const exp = await newExperiment();
    const loc = (await get('/experiments/get', { experiment_id: exp })).body.experiment.artifact_location;
    expect(loc.endsWith(`/${exp}`)).toBe(true);
    const run = await newRun(exp);
    const uri = (await get('/runs/get', { run_id: run })).body.run.info.artifact_uri;
    expect(uri.startsWith(loc)).toBe(true);
    expect(uri.endsWith(`/${run}/artifacts`)).toBe(true);
  });

  async function putArtifact(rel: string, content: string) {
    const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${rel}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/plain' },
      body: content,
    });
    expect(res.status).toBe(200);
  }

  it('31: log artifacts, list root and sub-directory, download', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const base = `${exp}/${run}/artifacts`;
    await putArtifact(`${base}/my.file`, 'hello');
    await putArtifact(`${base}/dir/my.file`, 'nested');
    const root = await get('/artifacts/list', { run_id: run });
    expect(root.body.files.map((f: { path: string }) => f.path).sort()).toEqual(['dir', 'my.file']);
    expect(root.body.files.find((f: { path: string }) => f.path === 'my.file')).toEqual({ path: 'my.file', is_dir: false, file_size: 5 });
    const sub = await get('/artifacts/list', { run_id: run, path: 'dir' });
    expect(sub.body.files).toEqual([{ path: 'dir/my.file', is_dir: false, file_size: 6 }]);
    const dl = await fetch(`${s.url}/get-artifact?run_id=${run}&path=dir/my.file`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(dl.status).toBe(200);
    expect(await dl.text()).toBe('nested');
    expect(dl.headers.get('content-disposition')).toContain('attachment');
    const proxyList = await s.call('GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${base}/dir` });
    expect(proxyList.body.files).toEqual([{ path: 'my.file', is_dir: false, file_size: 6 }]);
  });

  it('32: traversal paths are "Invalid path"', async () => {
    const run = await newRun(await newExperiment());
    const expected = { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' };
    let res = await get('/artifacts/list', { run_id: run, path: '../path' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(expected);
    res = await s.call('GET', '/get-artifact', { run_id: run, path: '../path' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(expected);
  });

  it('33: proxy PUT/GET/list/DELETE; multipart answers the unsupported prefix', async () => {
    const exp = await newExperiment();
    const rel = `${exp}/proxy/file.txt`;
    await putArtifact(rel, 'data');
    const got = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${rel}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(await got.text()).toBe('data');
    const del = await s.call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${rel}`);
    expect(del.status).toBe(200);
    const gone = await s.call('GET', `/api/2.0/mlflow-artifacts/artifacts/${rel}`);
    expect(gone.status).toBe(404);
    const mpu = await s.call('POST', `/api/2.0/mlflow-artifacts/mpu/create/${rel}`, { path: 'file.txt', num_parts: 2 });
    expect(mpu.status).toBe(501);
    expect(mpu.body.message.startsWith('Multipart upload is not supported for the current artifact repository')).toBe(true);
  });

  it('34: UI upload-artifact validation and success', async () => {
    const run = await newRun(await newExperiment());
    const up = (query: string, body?: string) =>
      fetch(`${s.url}/ajax-api/2.0/mlflow/upload-artifact${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' },
        ...(body === undefined ? {} : { body }),
      });
    expect((await up(`?path=a.txt`, 'x')).status).toBe(400);
    expect((await up(`?run_uuid=${run}`, 'x')).status).toBe(400);
    expect((await up(`?run_uuid=${run}&path=a.txt`)).status).toBe(400);
    expect((await up(`?run_uuid=${run}&path=../a.txt`, 'x')).status).toBe(400);
    expect((await up(`?run_uuid=${run}&path=a.txt`, 'uploaded')).status).toBe(200);
    const dl = await fetch(`${s.url}/get-artifact?run_id=${run}&path=a.txt`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(await dl.text()).toBe('uploaded');
  });

  // ---- Inputs / models ----
  it('35: log_inputs round-trips datasets and dedupes (name, digest)', async () => {
    const run = await newRun(await newExperiment());
    const dataset = { name: 'ds', digest: 'd1', source_type: 'local', source: '{"uri":"x"}', schema: '{"mlflow_colspec":[]}', profile: '{"num_rows":3}' };
    const body = { run_id: run, datasets: [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'train' }] }] };
    expect((await post('/runs/log-inputs', body)).status).toBe(200);
    expect((await post('/runs/log-inputs', body)).status).toBe(200);
    const inputs = (await get('/runs/get', { run_id: run })).body.run.inputs.dataset_inputs;
    expect(inputs).toEqual([{ dataset, tags: [{ key: 'mlflow.data.context', value: 'train' }] }]);
    expect((await post('/runs/log-inputs', { datasets: [] })).status).toBe(400);
    expect((await post('/runs/log-inputs', { run_id: run, datasets: [{ dataset: { name: 'x' } }] })).status).toBe(400);
  });

  it('36: search-datasets needs 1..20 experiments and summarizes', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    await post('/runs/log-inputs', {
      run_id: run,
      datasets: [{ dataset: { name: 'ds', digest: 'd1', source_type: 'local', source: 's' }, tags: [{ key: 'mlflow.data.context', value: 'eval' }] }],
    });
    expect((await s.call('POST', '/ajax-api/2.0/mlflow/experiments/search-datasets', { experiment_ids: [] })).status).toBe(400);
    expect(
      (await s.call('POST', '/ajax-api/2.0/mlflow/experiments/search-datasets', { experiment_ids: Array.from({ length: 21 }, (_, i) => String(i)) })).status,
    ).toBe(400);
    const res = await s.call('POST', '/ajax-api/2.0/mlflow/experiments/search-datasets', { experiment_ids: [exp] });
    expect(res.body.dataset_summaries).toEqual([{ experiment_id: exp, name: 'ds', digest: 'd1', context: 'eval' }]);
  });

  it('37: log-model thrice keeps three history entries in order', async () => {
    const run = await newRun(await newExperiment());
    for (const p of ['m1', 'm2', 'm3']) {
      const model_json = JSON.stringify({ artifact_path: p, flavors: {}, utc_time_created: '2024-01-01', run_id: run });
      expect((await post('/runs/log-model', { run_id: run, model_json })).status).toBe(200);
    }
    const tag = (await get('/runs/get', { run_id: run })).body.run.data.tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history');
    expect(JSON.parse(tag.value).map((m: { artifact_path: string }) => m.artifact_path)).toEqual(['m1', 'm2', 'm3']);
    expect((await post('/runs/log-model', { run_id: run, model_json: '{"flavors":{}}' })).status).toBe(400);
  });

  it('38: logged models: create, finalize, tags, params, search, run outputs', async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const created = await post('/logged-models', { experiment_id: exp, name: 'model', source_run_id: run, params: [{ key: 'p', value: 'v' }] });
    expect(created.status).toBe(200);
    const info = created.body.model.info;
    expect(info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(info.status).toBe('LOGGED_MODEL_PENDING');
    expect(info.artifact_uri.endsWith(`/models/${info.model_id}/artifacts`)).toBe(true);
    const id = info.model_id;
    const fin = await s.call('PATCH', `${API}/logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(fin.body.model.info.status).toBe('LOGGED_MODEL_READY');
    await s.call('PATCH', `${API}/logged-models/${id}/tags`, {
      tags: [
        { key: 't', value: '1' },
        { key: 'u', value: '2' },
      ],
    });
    expect((await s.call('DELETE', `${API}/logged-models/${id}/tags/u`)).status).toBe(200);
    await post(`/logged-models/${id}/params`, { model_id: id, params: [{ key: 'q', value: 'w' }] });
    await post('/runs/log-batch', { run_id: run, metrics: [{ key: 'acc', value: 0.9, timestamp: 1, model_id: id }] });
    await post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: 0 }] });
    const got = (await s.call('GET', `${API}/logged-models/${id}`)).body.model;
    expect(got.info.tags).toEqual([{ key: 't', value: '1' }]);
    expect(got.data.params).toEqual(
      expect.arrayContaining([
        { key: 'p', value: 'v' },
        { key: 'q', value: 'w' },
      ]),
    );
    const other = (await post('/logged-models', { experiment_id: exp, name: 'other' })).body.model.info.model_id;
    const found = await post('/logged-models/search', { experiment_ids: [exp], filter: "metrics.acc > 0.5 AND params.p = 'v'" });
    expect(found.body.models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([id]);
    expect(found.body.models.map((m: { info: { model_id: string } }) => m.info.model_id)).not.toContain(other);
    expect((await get('/runs/get', { run_id: run })).body.run.outputs.model_outputs).toEqual([{ model_id: id, step: 0 }]);
    // The model's files live under its artifact URI and can be listed and read back.
    const rel = info.artifact_uri.replace('mlflow-artifacts:/', '');
    await putArtifact(`${rel}/MLmodel`, 'flavors: {}\n');
    const listed = await s.call('GET', `${API}/logged-models/${id}/artifacts/directories`);
    expect(listed.body.files).toEqual([{ path: 'MLmodel', is_dir: false, file_size: 12 }]);
    const file = await fetch(`${s.url}/ajax-api/2.0/mlflow/logged-models/${id}/artifacts/files?artifact_file_path=MLmodel`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(await file.text()).toBe('flavors: {}\n');
  });
});
