// npm `mlflow@2.0.7` ("MLflow api client for Node.js") against the server under test.
import mlflowModule from 'mlflow';
import { RunStatus, ViewType } from 'mlflow/enum.js';
import { describe, expect, it } from 'vitest';
import { authHeaders, enabled, unique, WEIR_URL } from './env.ts';

type MLflowClass = typeof import('mlflow').default;
// The package sets `module.exports = MLflow` but its typings declare `export default`.
const MLflow: MLflowClass = (mlflowModule as unknown as { default?: MLflowClass }).default ?? (mlflowModule as unknown as MLflowClass);

type KV = { key: string; value: string | number };
const toMap = (xs: KV[] | undefined): Record<string, string | number> => Object.fromEntries((xs ?? []).map((x) => [x.key, x.value]));

describe.skipIf(!enabled)('npm mlflow@2.0.7', () => {
  const client = new MLflow({ endpoint: WEIR_URL, headers: authHeaders() });

  it('Experiments.create / get / list', async () => {
    const name = unique('npm-exp');
    // artifact_location is typed as required; undefined is dropped by JSON.stringify
    const { experiment_id } = await client.Experiments.create({ name, artifact_location: undefined as unknown as string });
    expect(typeof experiment_id).toBe('string');
    expect(experiment_id.length).toBeGreaterThan(0);

    const got = await client.Experiments.get({ experiment_id });
    expect(got.experiment.experiment_id).toBe(experiment_id);
    expect(got.experiment.name).toBe(name);
    expect(got.experiment.lifecycle_stage).toBe('active');

    // GET /experiments/list (removed from MLflow >= 2.0; Weir keeps it for this client)
    const listed = await client.Experiments.list({ view_type: ViewType.ACTIVE_ONLY });
    const mine = (listed.experiments ?? []).find((e) => e.experiment_id === experiment_id);
    expect(mine?.name).toBe(name);
  });

  it('Runs.create / logMetric / logParameter / logBatch / get / update / search and Metrics.getHistory', async () => {
    const { experiment_id } = await client.Experiments.create({
      name: unique('npm-runs'),
      artifact_location: undefined as unknown as string,
    });
    const t0 = Date.now();
    const { run } = await client.Runs.create({
      experiment_id,
      user_id: 'node-interop',
      start_time: t0,
      tags: [
        { key: 'mlflow.runName', value: 'npm-run' },
        { key: 'src', value: 'npm' },
      ],
    });
    const run_id = run.info.run_id;
    expect(run_id).toMatch(/\S+/);
    expect(run.info.experiment_id).toBe(experiment_id);
    expect(run.info.status).toBe('RUNNING');
    expect(Number(run.info.start_time)).toBe(t0);

    await client.Runs.logMetric({ run_id, key: 'loss', value: 0.5, timestamp: t0 + 1, step: 0 });
    await client.Runs.logMetric({ run_id, key: 'loss', value: 0.25, timestamp: t0 + 2, step: 1 });
    await client.Runs.logParameter({ run_id, key: 'lr', value: '0.01' });
    await client.Runs.logBatch({
      run_id,
      metrics: [
        { key: 'acc', value: 0.9, timestamp: t0 + 3, step: 1 },
        { key: 'loss', value: 0.125, timestamp: t0 + 4, step: 2 },
      ],
      params: [{ key: 'epochs', value: '3' }],
      tags: [{ key: 'stage', value: 'npm' }],
    });

    const { run: got } = await client.Runs.get({ run_id });
    expect(got.info.run_id).toBe(run_id);
    expect(toMap(got.data.metrics)).toEqual({ loss: 0.125, acc: 0.9 });
    expect(toMap(got.data.params)).toEqual({ lr: '0.01', epochs: '3' });
    const tags = toMap(got.data.tags);
    expect(tags.src).toBe('npm');
    expect(tags.stage).toBe('npm');
    expect(tags['mlflow.runName']).toBe('npm-run');

    const { metrics } = await client.Metrics.getHistory({ run_id, metric_key: 'loss' });
    const history = [...(metrics ?? [])].sort((a, b) => Number(a.step) - Number(b.step));
    expect(history.map((m) => [Number(m.step), m.value, Number(m.timestamp)])).toEqual([
      [0, 0.5, t0 + 1],
      [1, 0.25, t0 + 2],
      [2, 0.125, t0 + 4],
    ]);

    const updated = await client.Runs.update({ run_id, status: RunStatus.FINISHED, end_time: t0 + 10 });
    expect(updated.run_info.status).toBe('FINISHED');
    expect(Number(updated.run_info.end_time)).toBe(t0 + 10);
    const { run: finished } = await client.Runs.get({ run_id });
    expect(finished.info.status).toBe('FINISHED');
    expect(Number(finished.info.end_time)).toBe(t0 + 10);

    const { run: other } = await client.Runs.create({ experiment_id, user_id: 'node-interop', start_time: t0 });
    await client.Runs.logBatch({
      run_id: other.info.run_id,
      metrics: [{ key: 'loss', value: 0.7, timestamp: t0, step: 0 }],
      params: [{ key: 'lr', value: '0.1' }],
    });

    const low = await client.Runs.search({
      experiment_ids: [experiment_id],
      filter: 'metrics.loss < 0.6',
      order_by: ['metrics.loss ASC'],
    });
    expect((low.runs ?? []).map((r) => r.info.run_id)).toEqual([run_id]);

    const all = await client.Runs.search({
      experiment_ids: [experiment_id],
      order_by: ['metrics.loss DESC'],
      max_results: 10,
    });
    expect((all.runs ?? []).map((r) => r.info.run_id)).toEqual([other.info.run_id, run_id]);

    const byParam = await client.Runs.search({ experiment_ids: [experiment_id], filter: "params.lr = '0.1'" });
    expect((byParam.runs ?? []).map((r) => r.info.run_id)).toEqual([other.info.run_id]);
  });

  it('rejects requests without the token', async () => {
    const anonymous = new MLflow({ endpoint: WEIR_URL });
    if (!authHeaders().Authorization) return; // server under test has no auth
    await expect(anonymous.Experiments.get({ experiment_id: '0' })).rejects.toThrow(/401/);
  });
});
