import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../testing/test-server.ts';

describe('operations', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('serves /health, /version and the MLflow 3 server-info without credentials', async () => {
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('OK');
    expect((await fetch(`${s.url}/version`)).status).toBe(200);
    const info = await s.call('GET', '/api/3.0/mlflow/server-info', undefined, null);
    expect(info.body).toEqual({ store_type: 'SqlStore', workspaces_enabled: false });
  });

  it('answers unknown routes with a JSON ENDPOINT_NOT_FOUND', async () => {
    const res = await s.call('GET', '/api/2.0/mlflow/nope');
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('exposes request counts and latency per route in Prometheus format', async () => {
    await s.call('POST', '/api/2.0/mlflow/experiments/search', {});
    await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, null);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toContain('# TYPE weir_http_requests_total counter');
    expect(text).toMatch(/weir_http_requests_total\{method="POST",route="\/api\/2\.0\/mlflow\/experiments\/search",status="200"\} [1-9]/);
    expect(text).toMatch(/weir_http_requests_total\{method="POST",route="\/api\/2\.0\/mlflow\/experiments\/search",status="401"\} [1-9]/);
    expect(text).toMatch(/weir_http_request_duration_seconds_count\{method="POST",route="\/api\/2\.0\/mlflow\/experiments\/search"\} [1-9]/);
  });

  it('writes structured JSON logs with request ids and never a token or password', async () => {
    const password = 'super-secret-password-42';
    await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'logcheck', password });
    const basic = Buffer.from(`logcheck:${password}`).toString('base64');
    const tokenRes = await fetch(`${s.url}/api/2.0/token/create?token=${s.adminToken}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json', 'x-request-id': 'req-abc-123' },
      body: '{}',
    });
    const minted = ((await tokenRes.json()) as { token_value: string }).token_value;
    expect(tokenRes.headers.get('x-request-id')).toBe('req-abc-123');
    await s.call('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, minted);
    // Request lines are written up to 10 ms after the request: wait for the last one rather than for a fixed time.
    for (let i = 0; i < 200 && !s.logs.join('').includes('"url":"/api/2.0/mlflow/experiments/get"'); i++) await new Promise((r) => setTimeout(r, 10));
    const all = s.logs.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const line of s.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean)) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed).toHaveProperty('level');
    }
    expect(all).toContain('"reqId":"req-abc-123"');
    for (const secret of [s.adminToken, password, minted, basic]) expect(all).not.toContain(secret);
  });

  it('publishes an OpenAPI document with an input schema for every route', async () => {
    const doc = (await s.call('GET', '/api/openapi.json', undefined, null)).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const route of s.weir.routes) {
      expect(route.input, `${route.method} ${route.paths[0]} has no schema`).toBeInstanceOf(z.ZodObject);
      for (const p of route.paths) {
        const key = p.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\*$/, '{path}');
        expect(doc.paths[key]?.[route.method.toLowerCase()], `${route.method} ${p}`).toBeDefined();
      }
    }
    expect(doc.paths['/api/2.0/mlflow/runs/log-batch'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('metrics');
  });

  it('finishes in-flight requests on shutdown and loses no acknowledged write', async () => {
    const t = await startTestServer();
    const exp = (await t.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'shutdown' })).body.experiment_id;
    const run = (await t.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
    let closing: Promise<void> | undefined;
    let acked = 0;
    // Four writers keep requests in flight; shutdown starts once some have been acknowledged.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      const results: ({ status: number; step: number } | null)[] = [];
      for (let i = 0; i < 50; i++) {
        const step = w * 1000 + i;
        const res = await t
          .call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: step, timestamp: step, step }] })
          .catch(() => null);
        results.push(res ? { status: res.status, step } : null);
        if (res?.status === 200 && ++acked === 10) closing = t.weir.app.close();
        if (!res) break;
      }
      return results;
    });
    const results = (await Promise.all(writers)).flat();
    await closing;
    const acknowledged = results.flatMap((r) => (r?.status === 200 ? [r.step] : []));
    const rows = await t.weir.store.db
      .selectFrom('metrics')
      .innerJoin('latest_metrics', 'latest_metrics.series_id', 'metrics.series_id')
      .select('metrics.step')
      .where('latest_metrics.run_uuid', '=', run)
      .execute();
    const stored = new Set(rows.map((r: { step: number }) => r.step));
    expect(acknowledged.length).toBeGreaterThanOrEqual(10);
    for (const step of acknowledged) expect(stored.has(step)).toBe(true);
    // Requests that arrived after shutdown began were refused, not half-done.
    expect(results.every((r) => r === null || r.status === 200 || r.status === 503)).toBe(true);
    await t.weir.store.close();
  });
});
