import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '@weir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeir } from '../testing.ts';
import { parseModelRef } from './models.ts';

describe('weir models', () => {
  let s: TestServer;
  let home: string;
  beforeAll(async () => {
    s = await startTestServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cli-models-'));
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const weir = (args: string[]) => runWeir(args, { HOME: home, WEIR_HOST: s.url, WEIR_TOKEN: s.adminToken });

  it('parses NAME@ALIAS and NAME/VERSION', () => {
    expect(parseModelRef('fraud@champion')).toEqual({ name: 'fraud', alias: 'champion' });
    expect(parseModelRef('ml.prod.fraud/3')).toEqual({ name: 'ml.prod.fraud', version: '3' });
    expect(() => parseModelRef('fraud')).toThrow('NAME@ALIAS');
  });

  it('lists models and versions, promotes an alias and downloads the aliased version', async () => {
    const exp = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'cli-models' })).body.experiment_id;
    const runInfo = (await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info;
    const base = String(runInfo.artifact_uri).replace('mlflow-artifacts:/', '');
    const weights = Buffer.alloc(70_000, 3);
    for (const [file, body] of [
      ['model/MLmodel', Buffer.from('flavors:\n  onnx:\n    data: model.onnx\n')],
      ['model/nested/model.onnx', weights],
    ] as const) {
      const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${s.adminToken}` },
        body,
      });
      expect(res.status).toBe(200);
    }
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'cli-fraud' });
    for (let i = 0; i < 2; i++) {
      const v = await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'cli-fraud', source: `runs:/${runInfo.run_id}/model` });
      expect(v.body.model_version.status).toBe('READY');
    }

    const promoted = await weir(['models', 'promote', 'cli-fraud', '2', '--alias', 'champion']);
    expect(promoted.code, promoted.stderr).toBe(0);
    const list = await weir(['models', 'list']);
    expect(list.stdout).toMatch(/^cli-fraud\s+2\s+champion=v2/m);
    const versions = await weir(['models', 'versions', 'cli-fraud']);
    expect(versions.stdout).toMatch(/^2\s+READY\s+None\s+champion/m);
    expect(versions.stdout).toMatch(/^1\s+READY\s+None\s+/m);

    const dest = path.join(home, 'download');
    const dl = await weir(['models', 'download', 'cli-fraud@champion', dest]);
    expect(dl.code, dl.stderr).toBe(0);
    expect(dl.stdout).toContain('downloaded 2 files of cli-fraud version 2');
    expect(fs.readFileSync(path.join(dest, 'nested', 'model.onnx')).equals(weights)).toBe(true);
    expect(fs.readFileSync(path.join(dest, 'MLmodel'), 'utf8')).toContain('onnx');

    const missing = await weir(['models', 'download', 'cli-fraud@nobody', dest]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('RESOURCE_DOES_NOT_EXIST');
  });
});
