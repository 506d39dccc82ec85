// `weir serve` as a real process: pulls a model from a Weir server's registry through the MLflow API, scores with the
// MLflow protocol, and follows the alias when it moves.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { freePort, linearExpected, registerLinearVersion, startWeirProcess, type WeirProcess } from './serving.process-fixture.ts';

const weirBin = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..'), 'apps/cli/bin/weir.js');
const W1 = [1, 2, 3];
const B1 = 0.5;
const W2 = [-1, 0, 4];
const B2 = 10;

describe.each(testBackends)('weir serve against a Weir server on $name', (backend) => {
  let s: TestServer;
  let serve: WeirProcess | null = null;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await serve?.kill('SIGTERM');
    await s?.close();
  });

  it('serves models:/name@alias with the scoring protocol and moves to the version the alias names', async () => {
    await registerLinearVersion(s.url, s.adminToken, 'standalone', W1, B1);
    await registerLinearVersion(s.url, s.adminToken, 'standalone', W2, B2);
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'standalone', alias: 'live', version: '1' })).status).toBe(200);
    const port = await freePort();
    serve = await startWeirProcess(
      ['serve', '--model', 'models:/standalone@live', '--port', String(port), '--server', s.url, '--token', s.adminToken, '--poll-seconds', '0.2'],
      port,
      {},
      '/ping',
    );
    const score = (body: string, type = 'application/json') =>
      fetch(`${serve?.url}/invocations`, { method: 'POST', headers: { 'content-type': type }, body }) as Promise<
        Omit<Response, 'json'> & { json(): Promise<any> }
      >;
    const rows = [
      [1, 2, 3],
      [0, -1, 2],
    ];
    const first = await score(JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c'], data: rows } }));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-weir-served-entity')).toBe('standalone-1');
    expect(await first.json()).toEqual({ predictions: linearExpected(W1, B1, rows) });
    const csv = await score('a,b,c\n1,2,3\n0,-1,2\n', 'text/csv');
    expect(await csv.json()).toEqual({ predictions: linearExpected(W1, B1, rows) });

    // The same refusals as the server's invocations route.
    const missing = await score(JSON.stringify({ dataframe_records: [{ a: 1, b: 2 }] }));
    expect(missing.status).toBe(400);
    expect((await missing.json()).message).toContain("'c'");
    expect((await score('{not json')).status).toBe(400);
    expect((await score('a=1', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await score(JSON.stringify({ inputs: 'x'.repeat(17 * 1024 * 1024) }))).status).toBe(413);
    expect((await fetch(`${serve.url}/api/2.0/serving-endpoints`)).status).toBe(404);
    expect(await (await fetch(`${serve.url}/metrics`)).text()).toContain('weir_serve_model_version 1');

    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'standalone', alias: 'live', version: '2' })).status).toBe(200);
    // The alias is polled (every 0.2 s here): wait for the switch, then every answer comes from version 2.
    let entity: string | null = null;
    for (let i = 0; i < 300 && entity !== 'standalone-2'; i++) {
      const r = await score(JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c'], data: rows } }));
      expect(r.status).toBe(200);
      entity = r.headers.get('x-weir-served-entity');
      const want = entity === 'standalone-2' ? linearExpected(W2, B2, rows) : linearExpected(W1, B1, rows);
      expect((await r.json()).predictions).toEqual(want);
      if (entity !== 'standalone-2') await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(entity).toBe('standalone-2');
    expect(await (await fetch(`${serve.url}/metrics`)).text()).toContain('weir_serve_model_version 2');
  });

  it('refuses to start, with the reason, when the alias does not exist', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [weirBin, 'serve', '--model', 'models:/standalone@nowhere', '--port', String(port), '--server', s.url, '--token', s.adminToken],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('nowhere');
  });
});
