// MLflow acceptance checklist items 39–45 (shared/reference/mlflow-rest.md §10) and Weir's registry guarantees
// (owned files, permissions, Unity Catalog view, lineage), each on every backend.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const API = '/api/2.0/mlflow';
const UC = '/api/2.1/unity-catalog';

const ONNX_MLMODEL = `artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.2
mlflow_version: 3.1.0
model_size_bytes: 4096
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-01-01 00:00:00.000000'
`;

const SKLEARN_MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
mlflow_version: 3.1.0
`;

describe.each(testBackends)('MLflow registry checklist on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  const post = (p: string, body: unknown, token?: string | null) => s.call('POST', `${API}${p}`, body, token);
  const get = (p: string, query: Record<string, unknown>, token?: string | null) => s.call('GET', `${API}${p}`, query, token);
  const del = (p: string, query: Record<string, unknown>, token?: string | null) => s.call('DELETE', `${API}${p}`, query, token);
  const patch = (p: string, body: unknown, token?: string | null) => s.call('PATCH', `${API}${p}`, body, token);
  let counter = 0;
  const uniq = (prefix: string) => `${prefix}-${++counter}`;

  async function newModel(name = uniq('model')) {
    const res = await post('/registered-models/create', { name });
    expect(res.status, res.text).toBe(200);
    return name;
  }

  /** A run whose artifacts hold `model/` with the given MLmodel and a weights file, uploaded through the artifact proxy. */
  async function runWithModel(mlmodel = ONNX_MLMODEL, weights = Buffer.from('weights-bytes-0123456789')) {
    const exp = (await post('/experiments/create', { name: uniq('exp') })).body.experiment_id as string;
    const run = (await post('/runs/create', { experiment_id: exp, start_time: Date.now() })).body.run.info;
    const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
    for (const [file, body] of [
      ['model/MLmodel', Buffer.from(mlmodel)],
      ['model/model.onnx', weights],
      ['model/requirements.txt', Buffer.from('onnxruntime\n')],
      ['model/sub/extra.json', Buffer.from('{"a":1}')],
    ] as const) {
      const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body,
      });
      expect(res.status).toBe(200);
    }
    return { exp, runId: run.run_id as string, base, weights };
  }

  async function register(name: string, source: string, extra: Record<string, unknown> = {}) {
    const res = await post('/model-versions/create', { name, source, ...extra });
    expect(res.status, res.text).toBe(200);
    return res.body.model_version;
  }

  async function versionCount(): Promise<number> {
    const row = await s.weir.store.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number((row as { n: number | string }).n);
  }

  /** Downloads a directory the way MLflow's HttpArtifactRepository does: list (basenames) then GET each file. */
  async function downloadTree(artifactUri: string, sub = ''): Promise<Record<string, Buffer>> {
    const [base, tail] = artifactUri.split('/mlflow-artifacts/artifacts');
    const root = (tail ?? '').replace(/^\/+/, '');
    const listed = await fetch(`${base}/mlflow-artifacts/artifacts?path=${encodeURIComponent(sub ? `${root}/${sub}` : root)}`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(listed.status).toBe(200);
    const files = ((await listed.json()) as { files?: { path: string; is_dir: boolean }[] }).files ?? [];
    const out: Record<string, Buffer> = {};
    for (const f of files) {
      const rel = sub ? `${sub}/${f.path}` : f.path;
      if (f.is_dir) Object.assign(out, await downloadTree(artifactUri, rel));
      else {
        const res = await fetch(`${artifactUri}/${rel}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
        expect(res.status).toBe(200);
        out[rel] = Buffer.from(await res.arrayBuffer());
      }
    }
    return out;
  }

  async function newUserToken(userName: string) {
    const password = 'correct horse battery staple';
    expect((await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName, password })).status).toBe(201);
    const basic = Buffer.from(`${userName}:${password}`).toString('base64');
    const res = await fetch(`${s.url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: '{}',
    });
    return ((await res.json()) as { token_value: string }).token_value;
  }

  it('39: create, get, rename, update description, delete; duplicate 400; missing 404', async () => {
    const name = uniq('fraud');
    const created = await post('/registered-models/create', { name, description: 'first', tags: [{ key: 'team', value: 'risk' }] });
    expect(created.status).toBe(200);
    expect(created.body.registered_model).toMatchObject({ name, description: 'first', tags: [{ key: 'team', value: 'risk' }] });
    expect(typeof created.body.registered_model.creation_timestamp).toBe('number');

    const dup = await post('/registered-models/create', { name });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: `Registered Model (name=${name}) already exists.` });

    const missing = await get('/registered-models/get', { name: 'no-such-model' });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const empty = await post('/registered-models/create', { name: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    const updated = await patch('/registered-models/update', { name, description: 'second' });
    expect(updated.body.registered_model.description).toBe('second');
    expect((await get('/registered-models/get', { name })).body.registered_model.description).toBe('second');

    const { runId } = await runWithModel();
    await register(name, `runs:/${runId}/model`);
    const other = await newModel();
    const clash = await post('/registered-models/rename', { name, new_name: other });
    expect(clash.status).toBe(400);
    expect(clash.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    const renamed = uniq('renamed');
    const res = await post('/registered-models/rename', { name, new_name: renamed });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(renamed);
    expect((await get('/registered-models/get', { name })).status).toBe(404);
    const moved = await get('/model-versions/get', { name: renamed, version: '1' });
    expect(moved.body.model_version).toMatchObject({ name: renamed, version: '1', status: 'READY' });
    // The version's files moved with the model.
    const uri = (await get('/model-versions/get-download-uri', { name: renamed, version: '1' })).body.artifact_uri as string;
    expect(Object.keys(await downloadTree(uri))).toContain('MLmodel');

    // Databricks SDK style: DELETE parameters in the query string.
    expect((await del('/registered-models/delete', { name: renamed })).status).toBe(200);
    expect((await get('/registered-models/get', { name: renamed })).status).toBe(404);
    expect((await get('/model-versions/get', { name: renamed, version: '1' })).status).toBe(404);
    expect(fs.existsSync(path.join(s.dataDir, 'models', 'main', 'default', renamed))).toBe(false);
    // Python style: DELETE parameters in a JSON body.
    const viaBody = await s.call('DELETE', `${API}/registered-models/delete`, JSON.stringify({ name: other }));
    expect(viaBody.status).toBe(200);
    expect((await get('/registered-models/get', { name: other })).status).toBe(404);
  });

  it('40: source validation: safe sources accepted, traversal and NUL refused with nothing written', async () => {
    const name = await newModel();
    for (const source of [
      'mlflow-artifacts:/models',
      'mlflow-artifacts:/models/',
      'mlflow-artifacts:///models',
      'mlflow-artifacts://host:9000/models',
      'mlflow-artifacts:/models/..../',
      's3://bucket/path/to/model',
    ]) {
      const res = await post('/model-versions/create', { name, source });
      expect(res.status, `${source}: ${res.text}`).toBe(200);
    }
    const before = await versionCount();
    for (const source of [
      'mlflow-artifacts:/models/../../etc',
      'mlflow-artifacts:/models/..%2f..%2fetc',
      'mlflow-artifacts:/models/%00',
      's3a://bucket/path/../../other',
      'ftp://host/path/../../other',
      'runs:/abc/../../../etc',
    ]) {
      const res = await post('/model-versions/create', { name, source });
      expect(res.status, source).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(res.body.message).toContain('Invalid model version source');
    }
    const local = await post('/model-versions/create', { name, source: '/etc' });
    expect(local.status).toBe(400);
    expect(local.body.message).toContain('the run_id request parameter has to be specified');
    const { runId } = await runWithModel();
    const outside = await post('/model-versions/create', { name, source: '/etc', run_id: runId });
    expect(outside.status).toBe(400);
    const remoteFile = await post('/model-versions/create', { name, source: 'file://123.456.789.123/path' });
    expect(remoteFile.status).toBe(400);
    expect(remoteFile.body.message).toContain('is not a valid remote uri');
    const wrongRun = await post('/model-versions/create', { name, source: `runs:/${runId}/model`, run_id: 'f'.repeat(32) });
    expect(wrongRun.status).toBe(400);
    expect(await versionCount()).toBe(before);
  });

  it('41: versions number 1, 2, 3, are READY, and numbers are never reused after deletion', async () => {
    const name = await newModel();
    const { runId } = await runWithModel();
    const versions = [];
    for (let i = 0; i < 3; i++) versions.push(await register(name, `runs:/${runId}/model`, { run_id: runId }));
    expect(versions.map((v) => v.version)).toEqual(['1', '2', '3']);
    expect(versions.every((v) => v.status === 'READY' && v.run_id === runId && v.current_stage === 'None')).toBe(true);
    expect((await del('/model-versions/delete', { name, version: '3' })).status).toBe(200);
    expect((await get('/model-versions/get', { name, version: '3' })).status).toBe(404);
    const fourth = await register(name, `runs:/${runId}/model`);
    expect(fourth.version).toBe('4');
    const listed = await get('/model-versions/search', { filter: `name = '${name}'` });
    expect(listed.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['4', '2', '1']);
    const bad = await get('/model-versions/get', { name, version: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("Parameter 'version' must be an integer, got 'x'.");
    expect(fs.existsSync(path.join(s.dataDir, 'models', 'main', 'default', name, '3'))).toBe(false);
  });

  it('42: aliases set, move, delete and resolve; reserved names refused; removed with their version', async () => {
    const name = await newModel();
    const { runId } = await runWithModel();
    for (let i = 0; i < 3; i++) await register(name, `runs:/${runId}/model`);
    expect((await post('/registered-models/alias', { name, alias: 'champion', version: '1' })).status).toBe(200);
    expect((await get('/registered-models/alias', { name, alias: 'champion' })).body.model_version.version).toBe('1');
    expect((await post('/registered-models/alias', { name, alias: 'champion', version: '2' })).status).toBe(200);
    expect((await post('/registered-models/alias', { name, alias: 'challenger', version: '3' })).status).toBe(200);
    const byAlias = await get('/registered-models/alias', { name, alias: 'champion' });
    expect(byAlias.body.model_version).toMatchObject({ version: '2', aliases: ['champion'] });
    const model = (await get('/registered-models/get', { name })).body.registered_model;
    expect(model.aliases).toEqual([
      { alias: 'challenger', version: '3' },
      { alias: 'champion', version: '2' },
    ]);
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'bad alias', 'a/b']) {
      const res = await post('/registered-models/alias', { name, alias, version: '1' });
      expect(res.status, alias).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await post('/registered-models/alias', { name, alias: 'x', version: '99' })).status).toBe(404);
    expect((await del('/model-versions/delete', { name, version: '3' })).status).toBe(200);
    expect((await get('/registered-models/alias', { name, alias: 'challenger' })).status).toBe(404);
    // An alias on a deleted version is refused.
    const onDeleted = await post('/registered-models/alias', { name, alias: 'challenger', version: '3' });
    expect(onDeleted.status).toBe(404);
    expect(onDeleted.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await del('/registered-models/alias', { name, alias: 'champion' })).status).toBe(200);
    expect((await get('/registered-models/alias', { name, alias: 'champion' })).status).toBe(404);
    expect((await get('/registered-models/get', { name })).body.registered_model.aliases).toEqual([]);
  });

  it('43: stages: case-insensitive transitions, archive_existing_versions, latest versions per stage', async () => {
    const name = await newModel();
    const { runId } = await runWithModel();
    for (let i = 0; i < 4; i++) await register(name, `runs:/${runId}/model`);
    const t1 = await post('/model-versions/transition-stage', { name, version: '1', stage: 'production' });
    expect(t1.body.model_version.current_stage).toBe('Production');
    await post('/model-versions/transition-stage', { name, version: '2', stage: 'STAGING' });
    const t3 = await post('/model-versions/transition-stage', { name, version: '3', stage: 'Production', archive_existing_versions: true });
    expect(t3.status).toBe(200);
    expect((await get('/model-versions/get', { name, version: '1' })).body.model_version.current_stage).toBe('Archived');
    expect((await get('/model-versions/get', { name, version: '2' })).body.model_version.current_stage).toBe('Staging');
    const badArchive = await post('/model-versions/transition-stage', { name, version: '4', stage: 'Archived', archive_existing_versions: true });
    expect(badArchive.status).toBe(400);
    const badStage = await post('/model-versions/transition-stage', { name, version: '4', stage: 'Shipping' });
    expect(badStage.status).toBe(400);
    const latest = await post('/registered-models/get-latest-versions', { name, stages: ['production', 'Staging'] });
    expect(latest.body.model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage])).toEqual([
      ['2', 'Staging'],
      ['3', 'Production'],
    ]);
    const all = await get('/registered-models/get-latest-versions', { name });
    expect(all.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2', '3', '4']);
    const model = (await get('/registered-models/get', { name })).body.registered_model;
    expect(model.latest_versions.map((v: { version: string; current_stage: string }) => `${v.version}:${v.current_stage}`)).toEqual([
      '1:Archived',
      '2:Staging',
      '3:Production',
      '4:None',
    ]);
  });

  it('44: search registered models and model versions with filters, order_by and pagination', async () => {
    const prefix = uniq('srch');
    const names = [`${prefix}-b`, `${prefix}-a`, `${prefix}-C`, `${prefix}-d`];
    for (const n of names) await newModel(n);
    await post('/registered-models/set-tag', { name: names[0], key: 'team', value: 'risk' });
    await post('/registered-models/set-tag', { name: names[1], key: 'team', value: 'growth' });
    const find = async (query: Record<string, unknown>) => {
      const res = await get('/registered-models/search', query);
      expect(res.status, res.text).toBe(200);
      return (res.body.registered_models ?? []).map((m: { name: string }) => m.name);
    };
    expect(await find({ filter: `name LIKE '${prefix}-%'` })).toEqual([`${prefix}-C`, `${prefix}-a`, `${prefix}-b`, `${prefix}-d`]);
    expect(await find({ filter: `name ILIKE '${prefix}-c'` })).toEqual([`${prefix}-C`]);
    expect(await find({ filter: `name LIKE '${prefix}-c'` })).toEqual([]);
    expect(await find({ filter: `name LIKE '${prefix}%' AND tags.team = 'risk'` })).toEqual([`${prefix}-b`]);
    expect(await find({ filter: `name LIKE '${prefix}%' AND tags.team != 'risk'` })).toEqual([`${prefix}-a`]);
    expect(await find({ filter: `name LIKE '${prefix}%'`, order_by: ['name DESC'] })).toEqual([`${prefix}-d`, `${prefix}-b`, `${prefix}-a`, `${prefix}-C`]);
    const page1 = await get('/registered-models/search', { filter: `name LIKE '${prefix}%'`, max_results: 3 });
    expect(page1.body.registered_models).toHaveLength(3);
    const page2 = await get('/registered-models/search', { filter: `name LIKE '${prefix}%'`, max_results: 3, page_token: page1.body.next_page_token });
    expect(page2.body.registered_models.map((m: { name: string }) => m.name)).toEqual([`${prefix}-d`]);
    expect(page2.body.next_page_token).toBeUndefined();
    const legacy = await get('/registered-models/list', { max_results: 1000 });
    expect(legacy.body.registered_models.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(names));
    // Prompts are models tagged mlflow.prompt.is_prompt=true: hidden unless asked for; plain models lack the tag yet match `!= 'true'`.
    const promptName = `${prefix}-prompt`;
    expect((await post('/registered-models/create', { name: promptName, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] })).status).toBe(200);
    expect(await find({ filter: `name LIKE '${prefix}%'` })).not.toContain(promptName);
    expect(await find({ filter: `name LIKE '${prefix}%' AND tags.\`mlflow.prompt.is_prompt\` != 'true'` })).toEqual([
      `${prefix}-C`,
      `${prefix}-a`,
      `${prefix}-b`,
      `${prefix}-d`,
    ]);
    expect(await find({ filter: "tag.`mlflow.prompt.is_prompt` = 'true'" })).toEqual([promptName]);
    expect((await get('/registered-models/search', { filter: "name > 'a'" })).status).toBe(400);
    expect((await get('/registered-models/search', { max_results: 1001 })).status).toBe(400);
    expect((await get('/registered-models/search', { page_token: 'garbage' })).status).toBe(400);
    expect((await get('/registered-models/search', { order_by: ['bogus'] })).status).toBe(400);

    const r1 = await runWithModel();
    const r2 = await runWithModel();
    await register(names[0] as string, `runs:/${r1.runId}/model`);
    await register(names[0] as string, `runs:/${r2.runId}/model`);
    await register(names[1] as string, `runs:/${r2.runId}/model`);
    await post('/model-versions/set-tag', { name: names[1], version: '1', key: 'stage', value: 'candidate' });
    const versions = async (query: Record<string, unknown>) => {
      const res = await get('/model-versions/search', query);
      expect(res.status, res.text).toBe(200);
      return (res.body.model_versions ?? []).map((v: { name: string; version: string }) => `${v.name}/${v.version}`);
    };
    expect(await versions({ filter: `name = '${names[0]}'` })).toEqual([`${names[0]}/2`, `${names[0]}/1`]);
    expect(await versions({ filter: `run_id IN ('${r2.runId}')` })).toEqual([`${names[1]}/1`, `${names[0]}/2`]);
    expect(await versions({ filter: `name = '${names[0]}' AND version_number >= 2` })).toEqual([`${names[0]}/2`]);
    expect(await versions({ filter: "tags.stage = 'candidate'" })).toEqual([`${names[1]}/1`]);
    expect(await versions({ filter: `name LIKE '${prefix}%'`, order_by: ['version_number ASC'] })).toEqual([`${names[1]}/1`, `${names[0]}/1`, `${names[0]}/2`]);
    const vp1 = await get('/model-versions/search', { filter: `name LIKE '${prefix}%'`, max_results: 2 });
    const vp2 = await get('/model-versions/search', { filter: `name LIKE '${prefix}%'`, max_results: 2, page_token: vp1.body.next_page_token });
    expect([...vp1.body.model_versions, ...vp2.body.model_versions].map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual([
      `${names[1]}/1`,
      `${names[0]}/2`,
      `${names[0]}/1`,
    ]);
    expect((await get('/model-versions/search', { filter: "version_number LIKE '2'" })).status).toBe(400);
  });

  it('45: a registered version owns a copy of its files, downloadable through the proxy protocol after the run is gone', async () => {
    const name = await newModel();
    const weights = Buffer.alloc(256 * 1024, 7);
    const { runId, base } = await runWithModel(ONNX_MLMODEL, weights);
    const v = await register(name, `runs:/${runId}/model`);
    expect(v.status).toBe('READY');
    const dir = path.join(s.dataDir, 'models', 'main', 'default', name, '1');
    expect(fs.readFileSync(path.join(dir, 'model.onnx')).equals(weights)).toBe(true);

    // The run is deleted and its artifacts removed: the version still downloads whole.
    expect((await post('/runs/delete', { run_id: runId })).status).toBe(200);
    const removed = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/model`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(removed.status).toBe(200);
    await post('/registered-models/alias', { name, alias: 'champion', version: '1' });
    const version = (await get('/registered-models/alias', { name, alias: 'champion' })).body.model_version.version;
    const uri = (await get('/model-versions/get-download-uri', { name, version })).body.artifact_uri as string;
    expect(uri.startsWith(`${s.url}/api/weir/v1/model-files/mlflow-artifacts/artifacts/`)).toBe(true);
    const files = await downloadTree(uri);
    expect(Object.keys(files).sort()).toEqual(['MLmodel', 'model.onnx', 'requirements.txt', 'sub/extra.json']);
    expect(files['model.onnx']?.equals(weights)).toBe(true);
    expect(files.MLmodel?.toString()).toBe(ONNX_MLMODEL);

    // The MLflow UI's single-file download, with the exact "Invalid path" refusal for traversal.
    const one = await fetch(`${s.url}/model-versions/get-artifact?name=${name}&version=1&path=sub/extra.json`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(one.status).toBe(200);
    expect(await one.text()).toBe('{"a":1}');
    const trick = await s.call('GET', '/model-versions/get-artifact', { name, version: '1', path: '../path' });
    expect(trick.status).toBe(400);
    expect(trick.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });

    // Weir read the MLmodel: flavors, signature, input example; ONNX means servable.
    const facts = (await s.call('GET', `/api/weir/v1/models/${name}/versions/1`)).body;
    expect(facts.flavors).toEqual(['onnx', 'python_function']);
    expect(facts.servable).toBe(true);
    expect(facts.signature.inputs).toEqual([{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } }]);
    expect(facts.input_example).toMatchObject({ artifact_path: 'input_example.json', type: 'dataframe' });
    expect(facts.requirements_file).toBe('requirements.txt');
  });

  it('registers from an MLflow 3 logged model (models:/<id>) and keeps sklearn models with a reason they are not servable', async () => {
    const exp = (await post('/experiments/create', { name: uniq('lm') })).body.experiment_id as string;
    const run = (await post('/runs/create', { experiment_id: exp, start_time: Date.now() })).body.run.info.run_id as string;
    const lm = (await post('/logged-models', { experiment_id: exp, name: 'model', source_run_id: run })).body.model.info;
    const base = String(lm.artifact_uri).replace('mlflow-artifacts:/', '');
    for (const [file, body] of [
      ['MLmodel', SKLEARN_MLMODEL],
      ['model.pkl', 'pickle-bytes'],
    ]) {
      await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${file}`, { method: 'PUT', headers: { authorization: `Bearer ${s.adminToken}` }, body });
    }
    const name = await newModel();
    const v = await register(name, `models:/${lm.model_id}`, { model_id: lm.model_id });
    expect(v).toMatchObject({ status: 'READY', run_id: run, model_id: lm.model_id, source: `models:/${lm.model_id}` });
    const facts = (await s.call('GET', `/api/weir/v1/models/${name}/versions/1`)).body;
    expect(facts.flavors).toEqual(['python_function', 'sklearn']);
    expect(facts.servable).toBe(false);
    expect(facts.not_servable_reason).toContain('python_function, sklearn');
    const files = await downloadTree((await get('/model-versions/get-download-uri', { name, version: '1' })).body.artifact_uri);
    expect(files['model.pkl']?.toString()).toBe('pickle-bytes');
  });

  it('a failed copy ends FAILED_REGISTRATION with a reason and leaves no files', async () => {
    const name = await newModel();
    const { runId } = await runWithModel();
    const v = await register(name, `runs:/${runId}/no-such-dir`);
    expect(v.status).toBe('FAILED_REGISTRATION');
    expect(v.status_message).toContain('No model files');
    expect(fs.existsSync(path.join(s.dataDir, 'models', 'main', 'default', name, '1'))).toBe(false);
    const staging = path.join(s.dataDir, 'models', '.staging');
    expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
  });

  it('permissions: creator manages, strangers see nothing, grants open reads but not writes', async () => {
    const owner = await newUserToken(uniq('owner'));
    const stranger = await newUserToken(uniq('stranger'));
    const name = uniq('private');
    const created = await post('/registered-models/create', { name }, owner);
    expect(created.status).toBe(200);
    const id = created.body.registered_model.id as string;
    expect((await get('/registered-models/get', { name }, stranger)).status).toBe(403);
    const search = await get('/registered-models/search', { filter: `name = '${name}'` }, stranger);
    expect(search.body.registered_models ?? []).toEqual([]);
    expect((await get('/registered-models/get', { name }, owner)).status).toBe(200);
    const strangerName = (await s.call('GET', '/api/2.0/preview/scim/v2/Me', undefined, stranger)).body.userName;
    const grant = await s.call(
      'PATCH',
      `/api/2.0/permissions/registered-models/${id}`,
      { access_control_list: [{ user_name: strangerName, permission_level: 'CAN_READ' }] },
      owner,
    );
    expect(grant.status, grant.text).toBe(200);
    expect((await get('/registered-models/get', { name }, stranger)).status).toBe(200);
    expect((await patch('/registered-models/update', { name, description: 'x' }, stranger)).status).toBe(403);
    expect((await del('/registered-models/delete', { name }, stranger)).status).toBe(403);
    expect((await s.call('GET', `/api/2.0/permissions/registered-models/${id}`, undefined, stranger)).status).toBe(403);
    expect((await s.call('GET', '/api/2.0/permissions/registered-models/no-such-id')).status).toBe(404);
    expect((await del('/registered-models/delete', { name }, owner)).status).toBe(200);
  });

  it('Unity Catalog sees the same models: main.default.<name>, versions, aliases, force delete', async () => {
    const name = uniq('ucmodel');
    await newModel(name);
    const { runId } = await runWithModel();
    await register(name, `runs:/${runId}/model`);
    await post('/registered-models/alias', { name, alias: 'champion', version: '1' });
    const got = await s.call('GET', `${UC}/models/main.default.${name}`, { include_aliases: true });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name, catalog_name: 'main', schema_name: 'default', full_name: `main.default.${name}` });
    expect(got.body.aliases).toEqual([{ alias_name: 'champion', version_num: 1, catalog_name: 'main', schema_name: 'default', model_name: name }]);
    const listed = await s.call('GET', `${UC}/models`, { catalog_name: 'main', schema_name: 'default' });
    expect(listed.body.registered_models.map((m: { full_name: string }) => m.full_name)).toContain(`main.default.${name}`);
    const versions = await s.call('GET', `${UC}/models/main.default.${name}/versions`);
    expect(versions.body.model_versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([[1, 'READY']]);

    // Created through Unity Catalog, seen through MLflow by its flat name.
    const ucName = uniq('uc_native');
    expect((await s.call('POST', `${UC}/models`, { name: ucName, catalog_name: 'main', schema_name: 'default', comment: 'c' })).status).toBe(200);
    const v = await s.call('POST', `${UC}/models/versions`, {
      model_name: ucName,
      catalog_name: 'main',
      schema_name: 'default',
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(v.status, v.text).toBe(200);
    expect(v.body).toMatchObject({ version: 1, status: 'PENDING_REGISTRATION', run_id: runId });
    const fin = await s.call('PATCH', `${UC}/models/main.default.${ucName}/versions/1/finalize`, { full_name: `main.default.${ucName}`, version: '1' });
    expect(fin.body.status).toBe('READY');
    expect((await get('/model-versions/get', { name: ucName, version: '1' })).body.model_version.status).toBe('READY');
    expect((await s.call('PUT', `${UC}/models/main.default.${ucName}/aliases/prod`, { version_num: 1 })).status).toBe(200);
    expect((await get('/registered-models/alias', { name: ucName, alias: 'prod' })).body.model_version.version).toBe('1');
    expect((await s.call('GET', `${UC}/models/main.default.${ucName}/aliases/prod`)).body.version).toBe(1);
    const noForce = await s.call('DELETE', `${UC}/models/main.default.${ucName}`);
    expect(noForce.status).toBe(400);
    expect((await s.call('DELETE', `${UC}/models/main.default.${ucName}`, { force: true })).status).toBe(200);
    expect((await get('/registered-models/get', { name: ucName })).status).toBe(404);
    expect((await s.call('GET', `${UC}/models/main.default.nope`)).status).toBe(404);
    expect((await s.call('POST', `${UC}/models`, { name: 'x', catalog_name: 'nocatalog', schema_name: 'nos' })).status).toBe(404);
  });

  it('three-level MLflow names land in their catalog schema, which then refuses a non-force delete', async () => {
    const catalog = uniq('ml').replace(/-/g, '_');
    expect((await s.call('POST', `${UC}/catalogs`, { name: catalog })).status).toBe(200);
    expect((await s.call('POST', `${UC}/schemas`, { name: 'prod', catalog_name: catalog })).status).toBe(200);
    const name = `${catalog}.prod.fraud`;
    const created = await post('/registered-models/create', { name });
    expect(created.status, created.text).toBe(200);
    expect(created.body.registered_model.name).toBe(name);
    const { runId } = await runWithModel();
    await register(name, `runs:/${runId}/model`);
    expect(fs.existsSync(path.join(s.dataDir, 'models', catalog, 'prod', 'fraud', '1', 'MLmodel'))).toBe(true);
    const uc = await s.call('GET', `${UC}/models/${name}`);
    expect(uc.body).toMatchObject({ catalog_name: catalog, schema_name: 'prod', name: 'fraud', full_name: name });
    const listed = await s.call('GET', `${UC}/models`, { catalog_name: catalog });
    expect(listed.body.registered_models.map((m: { full_name: string }) => m.full_name)).toEqual([name]);
    expect((await post('/registered-models/create', { name: `${catalog}.nosuch.fraud` })).status).toBe(404);
    const refused = await s.call('DELETE', `${UC}/schemas/${catalog}.prod`);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await get('/registered-models/get', { name })).status).toBe(200);
  });

  it('lineage: version → source run → the tables its datasets came from', async () => {
    const { runId } = await runWithModel();
    await post('/runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          dataset: { name: 'penguins', digest: 'd1', source_type: 'delta_table', source: JSON.stringify({ table_name: 'main.default.penguins' }) },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
      ],
    });
    const name = await newModel();
    await register(name, `runs:/${runId}/model`);
    const lineage = await s.call('GET', `/api/weir/v1/models/${name}/versions/1/lineage`);
    expect(lineage.status).toBe(200);
    expect(lineage.body.run).toMatchObject({ run_id: runId, exists: true });
    expect(lineage.body.datasets).toEqual([
      { name: 'penguins', digest: 'd1', source_type: 'delta_table', source: '{"table_name":"main.default.penguins"}', tables: ['main.default.penguins'] },
    ]);
    expect(lineage.body.tables).toEqual(['main.default.penguins']);
    expect((await s.call('GET', `/api/weir/v1/models/${name}/versions/9/lineage`)).status).toBe(404);
  });
});
