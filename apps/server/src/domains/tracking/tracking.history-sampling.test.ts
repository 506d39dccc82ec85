// get-history-bulk-interval: the sampled history a chart asks for, on every backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const API = '/api/2.0/mlflow';
const BASE_TS = 1_700_000_000_000;

describe.each(testBackends)('sampled metric history on $name', (backend) => {
  let s: TestServer;
  let experimentId: string;
  beforeAll(async () => {
    s = await startTestServer(backend);
    const res = await s.call('POST', `${API}/experiments/create`, { name: `sampling-${Date.now()}` });
    experimentId = res.body.experiment_id;
  });
  afterAll(async () => {
    await s?.close();
  });

  /** A run whose `key` history holds one point per step in `steps` (value = step / 10, timestamp = BASE_TS + step). */
  async function runWithSteps(steps: number[], key = 'loss'): Promise<string> {
    const run = await s.call('POST', `${API}/runs/create`, { experiment_id: experimentId, start_time: BASE_TS });
    const runId = run.body.run.info.run_id as string;
    for (let i = 0; i < steps.length; i += 1000) {
      const metrics = steps.slice(i, i + 1000).map((step) => ({ key, value: step / 10, timestamp: BASE_TS + step, step }));
      const res = await s.call('POST', `${API}/runs/log-batch`, { run_id: runId, metrics });
      expect(res.status).toBe(200);
    }
    return runId;
  }
  const sampled = (query: Record<string, unknown>) => s.call('GET', `${API}/metrics/get-history-bulk-interval`, { metric_key: 'loss', ...query });

  it('returns a short history whole, in step order', async () => {
    const runId = await runWithSteps([5, 1, 3, 2, 4]);
    const res = await sampled({ run_ids: [runId], max_results: 10 });
    expect(res.status).toBe(200);
    expect(res.body.metrics.map((m: { step: number }) => m.step)).toEqual([1, 2, 3, 4, 5]);
    expect(res.body.metrics[0]).toEqual({ key: 'loss', value: 0.1, timestamp: BASE_TS + 1, step: 1, run_id: runId });
  });

  it('samples a long history to at most max_results points: the first of each equal step bucket, plus the last', async () => {
    const steps = Array.from({ length: 3000 }, (_, i) => i);
    const runId = await runWithSteps(steps);
    const res = await sampled({ run_ids: [runId], max_results: 11 });
    expect(res.status).toBe(200);
    // 10 buckets of 300 steps over 0..2999 → their first steps, then the last step 2999.
    expect(res.body.metrics.map((m: { step: number }) => m.step)).toEqual([0, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 2999]);
    expect(res.body.metrics[3]).toEqual({ key: 'loss', value: 90, timestamp: BASE_TS + 900, step: 900, run_id: runId });
  });

  it('skips empty buckets of a sparse history and keeps the real steps', async () => {
    const runId = await runWithSteps([0, 1, 2, 50, 51, 97, 98, 99]);
    const res = await sampled({ run_ids: [runId], max_results: 5 });
    // Buckets of 25 steps over 0..99: [0,25) starts at 0, [25,50) is empty, [50,75) starts at 50, [75,100) at 97; then 99.
    expect(res.body.metrics.map((m: { step: number }) => m.step)).toEqual([0, 50, 97, 99]);
  });

  it('samples inside start_step..end_step only', async () => {
    const runId = await runWithSteps(Array.from({ length: 200 }, (_, i) => i));
    const res = await sampled({ run_ids: [runId], max_results: 5, start_step: 100, end_step: 139 });
    expect(res.body.metrics.map((m: { step: number }) => m.step)).toEqual([100, 110, 120, 130, 139]);
    const one = await sampled({ run_ids: [runId], max_results: 1 });
    expect(one.body.metrics.map((m: { step: number }) => m.step)).toEqual([199]);
  });

  it('samples each run on its own and tags points with their run', async () => {
    const a = await runWithSteps(Array.from({ length: 30 }, (_, i) => i));
    const b = await runWithSteps([7, 8]);
    const res = await sampled({ run_ids: [a, b], max_results: 4 });
    expect(res.body.metrics.map((m: { run_id: string; step: number }) => `${m.run_id === a ? 'a' : 'b'}${m.step}`)).toEqual([
      'a0',
      'a10',
      'a20',
      'a29',
      'b7',
      'b8',
    ]);
  });

  const log = (runId: string, points: { step: number; value: number; timestamp: number }[]) =>
    s.call('POST', `${API}/runs/log-batch`, { run_id: runId, metrics: points.map((p) => ({ key: 'loss', ...p })) });
  const steps = (res: { body: { metrics: { step: number }[] } }) => res.body.metrics.map((m) => m.step);

  it('includes points logged after an earlier sample of the same series', async () => {
    const runId = await runWithSteps(Array.from({ length: 3000 }, (_, i) => i));
    expect(steps(await sampled({ run_ids: [runId], max_results: 11 }))).toEqual([0, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 2999]);
    const more = Array.from({ length: 3000 }, (_, i) => 3000 + i);
    for (let i = 0; i < more.length; i += 1000) {
      expect(
        (
          await log(
            runId,
            more.slice(i, i + 1000).map((step) => ({ step, value: step / 10, timestamp: BASE_TS + step })),
          )
        ).status,
      ).toBe(200);
    }
    const res = await sampled({ run_ids: [runId], max_results: 11 });
    // 10 buckets of 600 steps over 0..5999.
    expect(steps(res)).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600, 4200, 4800, 5400, 5999]);
    expect(res.body.metrics[6]).toEqual({ key: 'loss', value: 360, timestamp: BASE_TS + 3600, step: 3600, run_id: runId });
  });

  it('includes a point logged with an earlier timestamp than the series already sampled', async () => {
    const runId = await runWithSteps(Array.from({ length: 3000 }, (_, i) => 1000 + i));
    expect(steps(await sampled({ run_ids: [runId], max_results: 11 }))).toEqual([1000, 1300, 1600, 1900, 2200, 2500, 2800, 3100, 3400, 3700, 3999]);
    expect((await log(runId, [{ step: 10, value: -1, timestamp: BASE_TS - 5 }])).status).toBe(200);
    const res = await sampled({ run_ids: [runId], max_results: 11 });
    // Buckets of 399 steps from 10: [10,409) holds step 10, [409,808) is empty, [808,1207) starts at 1000, then every 399.
    expect(steps(res)).toEqual([10, 1000, 1207, 1606, 2005, 2404, 2803, 3202, 3601, 3999]);
    expect(res.body.metrics[0]).toEqual({ key: 'loss', value: -1, timestamp: BASE_TS - 5, step: 10, run_id: runId });
  });

  it("keeps a step's earliest point as its sample, whenever the points were logged", async () => {
    const runId = await runWithSteps(Array.from({ length: 3000 }, (_, i) => i));
    expect((await sampled({ run_ids: [runId], max_results: 11 })).body.metrics[3].value).toBe(90);
    // A second point at step 900, logged later but timestamped before the first: it is now the step's first point.
    expect((await log(runId, [{ step: 900, value: 12345, timestamp: BASE_TS }])).status).toBe(200);
    expect((await sampled({ run_ids: [runId], max_results: 11 })).body.metrics[3]).toEqual({
      key: 'loss',
      value: 12345,
      timestamp: BASE_TS,
      step: 900,
      run_id: runId,
    });
    // A third one, timestamped after every other point: the step's first point stays.
    expect((await log(runId, [{ step: 900, value: 777, timestamp: BASE_TS + 1_000_000 }])).status).toBe(200);
    const res = await sampled({ run_ids: [runId], max_results: 11 });
    expect(steps(res)).toEqual([0, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 2999]);
    expect(res.body.metrics[3].value).toBe(12345);
    // The last point is the highest step's latest point, whichever was logged first.
    expect((await log(runId, [{ step: 2999, value: 4242, timestamp: BASE_TS + 5000 }])).status).toBe(200);
    expect((await log(runId, [{ step: 2999, value: 1, timestamp: BASE_TS + 4000 }])).status).toBe(200);
    expect((await sampled({ run_ids: [runId], max_results: 11 })).body.metrics.at(-1)).toEqual({
      key: 'loss',
      value: 4242,
      timestamp: BASE_TS + 5000,
      step: 2999,
      run_id: runId,
    });
  });

  it('returns nothing for a key the run never logged', async () => {
    const runId = await runWithSteps([1, 2]);
    const res = await sampled({ run_ids: [runId], metric_key: 'acc' });
    expect(res.status).toBe(200);
    expect(res.body.metrics ?? []).toEqual([]);
  });
});
