import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearOnnxModel } from '../../../server/src/domains/serving/serving.onnx-fixture.ts';
import { runWeir } from '../testing.ts';

describe('weir endpoints', () => {
  let s: TestServer;
  let home: string;
  beforeAll(async () => {
    s = await startTestServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-endpoints-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const weir = (args: string[]) => runWeir(args, { HOME: home, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken });

  it('lists, shows and queries an endpoint serving an ONNX model', async () => {
    const exp = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'cli-endpoints' })).body.experiment_id;
    const info = (await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info;
    const base = String(info.artifact_uri).replace('mlflow-artifacts:/', '');
    const mlmodel = 'flavors:\n  onnx:\n    data: model.onnx\nsignature:\n  inputs: \'[{"type": "double", "name": "x"}, {"type": "double", "name": "y"}]\'\n';
    for (const [file, body] of [
      ['model/MLmodel', Buffer.from(mlmodel)],
      ['model/model.onnx', linearOnnxModel([3, -1], 2)],
    ] as const) {
      const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body,
      });
      expect(res.status).toBe(200);
    }
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'cli-linear' });
    expect(
      (await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'cli-linear', source: `runs:/${info.run_id}/model` })).body.model_version.status,
    ).toBe('READY');
    expect(
      (
        await s.call('POST', '/api/2.0/serving-endpoints', {
          name: 'cli-ep',
          config: { served_entities: [{ entity_name: 'cli-linear', entity_version: '1' }] },
        })
      ).status,
    ).toBe(200);
    let state = '';
    while (state !== 'NOT_UPDATING') state = (await s.call('GET', '/api/2.0/serving-endpoints/cli-ep')).body.state.config_update;

    const listed = await weir(['endpoints', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/cli-ep\s+READY\s+NOT_UPDATING\s+cli-linear-1=main\.default\.cli-linear\/1 100%/);
    const shown = await weir(['endpoints', 'get', 'cli-ep', '--json']);
    expect(JSON.parse(shown.stdout).state.ready).toBe('READY');
    const queried = await weir(['endpoints', 'query', 'cli-ep', '--json', '{"dataframe_records": [{"x": 1, "y": 1}, {"x": 0, "y": 4}]}']);
    expect(queried.code, queried.stderr).toBe(0);
    // 3*1 - 1 + 2 = 4 and 3*0 - 4 + 2 = -2
    expect(JSON.parse(queried.stdout)).toEqual({ predictions: [4, -2] });
    const missing = await weir(['endpoints', 'query', 'cli-ep', '--json', '{"dataframe_records": [{"x": 1}]}']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("'y'");
    const unknown = await weir(['endpoints', 'get', 'nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('RESOURCE_DOES_NOT_EXIST');
  });
});
