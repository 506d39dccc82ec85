// @databricks/sdk-experimental (JS) WorkspaceClient.experiments against the server under test.
import { type ml, WorkspaceClient } from '@databricks/sdk-experimental';
import { describe, expect, it } from 'vitest';
import { enabled, unique, WEIR_TOKEN, WEIR_URL } from './env.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const metricMap = (r: ml.Run): Record<string, number | undefined> => Object.fromEntries((r.data?.metrics ?? []).map((m) => [m.key ?? '', m.value]));

describe.skipIf(!enabled)('@databricks/sdk-experimental 0.17.0', () => {
  const w = new WorkspaceClient({
    host: WEIR_URL,
    token: WEIR_TOKEN || 'unused',
    authType: 'pat',
    retryTimeoutSeconds: 30,
  });

  it('experiments.createExperiment / getExperiment / searchExperiments', async () => {
    const name = unique('dbx-js');
    const { experiment_id } = await w.experiments.createExperiment({ name });
    expect(experiment_id).toBeTruthy();
    const got = await w.experiments.getExperiment({ experiment_id: experiment_id ?? '' });
    expect(got.experiment?.experiment_id).toBe(experiment_id);
    expect(got.experiment?.name).toBe(name);
    expect(got.experiment?.lifecycle_stage).toBe('active');

    const found = await collect(w.experiments.searchExperiments({ filter: `name = '${name}'` }));
    expect(found.map((e) => e.experiment_id)).toEqual([experiment_id]);
  });

  it('experiments.createRun / logBatch / searchRuns / getHistory', async () => {
    const { experiment_id } = await w.experiments.createExperiment({ name: unique('dbx-js-runs') });
    expect(experiment_id).toBeTruthy();
    const exp = experiment_id ?? '';
    const t0 = Date.now();
    const ids: string[] = [];
    for (const [idx, name] of ['low', 'high'].entries()) {
      const { run } = await w.experiments.createRun({
        experiment_id: exp,
        run_name: name,
        start_time: t0,
        tags: [{ key: 'source', value: 'databricks-sdk-js' }],
      });
      expect(run?.info?.experiment_id).toBe(exp);
      const run_id = run?.info?.run_id ?? '';
      expect(run_id).not.toBe('');
      ids.push(run_id);
      await w.experiments.logBatch({
        run_id,
        metrics: [0, 1, 2, 3, 4].map((step) => ({ key: 'm', value: idx * 10 + step, timestamp: t0 + step, step })),
        params: [{ key: 'idx', value: String(idx) }],
        tags: [{ key: 'kind', value: name }],
      });
    }
    const [lowId, highId] = ids;

    const runs = await collect(w.experiments.searchRuns({ experiment_ids: [exp], filter: 'metrics.m >= 4', order_by: ['metrics.m DESC'] }));
    expect(runs.map((r) => r.info?.run_id)).toEqual([highId, lowId]);
    expect(runs.map((r) => metricMap(r).m)).toEqual([14, 4]);
    const high = runs[0];
    expect(Object.fromEntries((high?.data?.params ?? []).map((p) => [p.key, p.value]))).toEqual({ idx: '1' });
    const tags = Object.fromEntries((high?.data?.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags.kind).toBe('high');
    expect(tags.source).toBe('databricks-sdk-js');

    const onlyLow = await collect(w.experiments.searchRuns({ experiment_ids: [exp], filter: "params.idx = '0'" }));
    expect(onlyLow.map((r) => r.info?.run_id)).toEqual([lowId]);

    const history = await collect(w.experiments.getHistory({ run_id: highId ?? '', metric_key: 'm' }));
    expect(history.map((h) => [Number(h.step), h.value]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
      [4, 14],
    ]);
  });
});
