// The invocation fast path over real HTTP (real stores, real onnxruntime): every scoring request it takes must be
// answered, audited, counted and logged exactly as the generic Fastify route answers the same request. The generic
// route is reached with `app.inject`, which hands a request to Fastify without the HTTP server's listener.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakAuditStorage, createTestPostgresDatabase, startTestServer, statementRunner, type TestServer, testBackends } from '../../testing/test-server.ts';
import { registerLinearVersion } from './serving.process-fixture.ts';
import { startStandaloneServing } from './serving.standalone.ts';

const EP = '/api/2.0/serving-endpoints';
const INVOCATIONS_ROUTE = '/serving-endpoints/:name/invocations';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Sent {
  path?: string;
  headers: Record<string, string>;
  body: string;
}

/** Registers a linear ONNX model (weights 1, 2, 3; bias 0.5) on a server and deploys it as a READY endpoint. */
async function deploy(s: TestServer, endpoint: string, capture?: { catalog_name: string; schema_name: string; table_name_prefix: string }): Promise<void> {
  const model = `${endpoint}_model`;
  const version = await registerLinearVersion(s.url, s.adminToken, model, [1, 2, 3], 0.5);
  const config = {
    served_entities: [{ name: 'fp_linear-1', entity_name: model, entity_version: String(version) }],
    ...(capture ? { auto_capture_config: { ...capture, enabled: true } } : {}),
  };
  const made = await s.call('POST', EP, { name: endpoint, config });
  expect(made.status, made.text).toBe(200);
  for (;;) {
    const got = await s.call('GET', `${EP}/${endpoint}`);
    if (got.body.state.config_update !== 'IN_PROGRESS') {
      expect(got.body.state.ready, got.body.state_message).toBe('READY');
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(testBackends)('scoring fast path on $name', (backend) => {
  let s: TestServer;
  let endpoint: string;
  let adminName: string;
  let outsiderName: string;
  let outsiderToken: string;
  const invocationsOf = (name: string) => `/serving-endpoints/${name}/invocations`;

  beforeAll(async () => {
    s = await startTestServer(backend);
    endpoint = 'fp_ep';
    await deploy(s, endpoint);
    adminName = (await s.call('GET', '/api/2.0/preview/scim/v2/Me')).body.userName;
    outsiderName = 'outsider@example.com';
    outsiderToken = (await s.createUser(outsiderName)).token;
  });
  afterAll(async () => {
    await s?.close();
  });

  const admin = () => ({ authorization: `Bearer ${s.adminToken}` });
  const json = (body: unknown, headers: Record<string, string> = admin()): Sent => ({
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  /** Sends over HTTP (through the server's listener, where the fast path sits). */
  async function overHttp(req: Sent) {
    const res = await fetch(`${s.url}${req.path ?? invocationsOf(endpoint)}`, { method: 'POST', headers: req.headers, body: req.body });
    return { status: res.status, text: await res.text(), headers: Object.fromEntries(res.headers) as Record<string, string> };
  }

  /** Sends straight to Fastify: the generic route layer and hooks, never the fast path. */
  async function throughFastify(req: Sent) {
    const res = await s.weir.app.inject({ method: 'POST', url: req.path ?? invocationsOf(endpoint), headers: req.headers, payload: req.body });
    return { status: res.statusCode, text: res.body, headers: res.headers as Record<string, string> };
  }

  it('answers each case as the generic route does (status, body, headers), and takes those requests past Fastify', async () => {
    const cases: [string, Sent, number][] = [
      ['dataframe_records', json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }), 200],
      ['dataframe_split', json({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 0, 0]] } }), 200],
      ['charset', json({ inputs: { a: [1], b: [1], c: [1] } }, { ...admin(), 'content-type': 'application/json; charset=utf-8' }), 200],
      ['csv', { headers: { ...admin(), 'content-type': 'text/csv' }, body: 'a,b,c\n1,2,3\n4,5,6\n' }, 200],
      ['missing column', json({ dataframe_records: [{ a: 1, b: 2 }] }), 400],
      ['wrong type', json({ dataframe_records: [{ a: 'x', b: 2, c: 3 }] }), 400],
      ['malformed JSON', json('{"inputs": ['), 400],
      ['two input keys', json({ inputs: [[1, 2, 3]], instances: [[1, 2, 3]] }), 400],
      ['unknown endpoint', { ...json({ inputs: [[1, 2, 3]] }), path: invocationsOf('no_such_ep') }, 404],
      ['no credentials', json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }, {}), 401],
      ['unknown token', json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }, { authorization: 'Bearer dapi-no-such-token' }), 401],
      ['no CAN_QUERY', json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }, { authorization: `Bearer ${outsiderToken}` }), 403],
    ];
    const before = s.weir.invocationFastPath?.taken() ?? 0;
    for (const [label, req, status] of cases) {
      const fast = await overHttp(req);
      const generic = await throughFastify(req);
      expect(fast.status, `${label}: ${fast.text}`).toBe(status);
      expect(generic.status, label).toBe(status);
      expect(fast.text, label).toBe(generic.text);
      for (const header of ['content-type', 'x-weir-served-entity', 'served-model-name'])
        expect(fast.headers[header], `${label}: ${header}`).toBe(generic.headers[header]);
      expect(JSON.parse(fast.text), label).toHaveProperty(status === 200 ? 'predictions' : 'error_code');
    }
    expect((s.weir.invocationFastPath?.taken() ?? 0) - before).toBe(cases.length);
    // Predictions computed here: 1*1 + 2*2 + 3*3 + 0.5 and 4 + 10 + 18 + 0.5.
    const csv = await overHttp({ headers: { ...admin(), 'content-type': 'text/csv' }, body: 'a,b,c\n1,2,3\n4,5,6\n' });
    expect(JSON.parse(csv.text).predictions.flat()).toEqual([14.5, 32.5]);
    expect(csv.headers['x-weir-served-entity']).toBe('fp_linear-1');
  });

  it('leaves to Fastify what it does not recognise exactly, which answers it as before', async () => {
    const before = s.weir.invocationFastPath?.taken() ?? 0;
    const xml = await overHttp({ headers: { ...admin(), 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    expect(JSON.parse(xml.text)).toMatchObject({ error_code: 'BAD_REQUEST' });
    const query = await overHttp({ ...json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }), path: `${invocationsOf(endpoint)}?trace=1` });
    expect(query.status).toBe(200);
    const encoded = await overHttp({ ...json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }), path: '/serving-endpoints/fp%5Fep/invocations' });
    expect(encoded.status).toBe(200);
    const trailing = await overHttp({ ...json({ inputs: [[1, 2, 3]] }), path: `${invocationsOf(endpoint)}/` });
    expect(trailing.status).toBe(404);
    expect(s.weir.invocationFastPath?.taken() ?? 0).toBe(before);
  });

  it('honours a valid incoming x-request-id and replaces an invalid one', async () => {
    const kept = await overHttp(json({ inputs: [[1, 2, 3]] }, { ...admin(), 'x-request-id': 'client-req.42_a' }));
    expect(kept.headers['x-request-id']).toBe('client-req.42_a');
    const replaced = await overHttp(json({ inputs: [[1, 2, 3]] }, { ...admin(), 'x-request-id': 'not a valid id!' }));
    expect(replaced.headers['x-request-id']).toMatch(UUID);
    const none = await overHttp(json({ inputs: [[1, 2, 3]] }));
    expect(none.headers['x-request-id']).toMatch(UUID);
    expect(none.headers['x-request-id']).not.toBe(replaced.headers['x-request-id']);
  });

  it('stores one audit event per invocation, with the principal, status and parameters, as the generic route does, and no secret', async () => {
    const agent = { 'user-agent': 'fp-audit-agent/1.0' };
    const sends: [string, Sent, number, string | null][] = [
      ['ok', json({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }, { ...admin(), ...agent }), 200, adminName],
      ['bad-input', json({ dataframe_records: [{ a: 1 }] }, { ...admin(), ...agent }), 400, adminName],
      ['forbidden', json({ inputs: [[1, 2, 3]] }, { authorization: `Bearer ${outsiderToken}`, ...agent }), 403, outsiderName],
      ['anonymous', json({ inputs: [[1, 2, 3]] }, { ...agent }), 401, null],
      ['missing', { ...json({ inputs: [[1, 2, 3]] }, { ...admin(), ...agent }), path: invocationsOf('no_such_ep') }, 404, adminName],
    ];
    for (const [label, req] of sends) {
      await overHttp({ ...req, headers: { ...req.headers, 'x-request-id': `fp-audit-${label}-http` } });
      await throughFastify({ ...req, headers: { ...req.headers, 'x-request-id': `fp-audit-${label}-generic` } });
    }
    // Read where users read them: system.access.audit, through SQL (which compacts what is pending first).
    const columns = [
      'request_id',
      'status_code',
      'user_name',
      'service_name',
      'action_name',
      'request_params',
      'user_agent',
      'source_ip_address',
      'error_message',
      'event_id',
      'event_time',
    ];
    const data = await statementRunner(s).ok(
      `SELECT request_id, response.status_code, user_identity.email, service_name, action_name, to_json(request_params), user_agent,
        source_ip_address, response.error_message, event_id, epoch_ms(event_time) FROM system.access.audit WHERE request_id LIKE 'fp-audit-%'`,
    );
    const rows = data.map((values) => Object.fromEntries(columns.map((c, i) => [c, c === 'status_code' ? Number(values[i]) : values[i]])));
    const byId = new Map(rows.map((r) => [String(r.request_id), r]));
    expect(rows.length).toBe(sends.length * 2);
    for (const [label, req, status, userName] of sends) {
      const fast = byId.get(`fp-audit-${label}-http`);
      const generic = byId.get(`fp-audit-${label}-generic`);
      expect(fast, label).toBeDefined();
      expect(fast?.status_code, label).toBe(status);
      expect(fast?.user_name ?? null, label).toBe(userName);
      expect(fast?.service_name, label).toBe('serving');
      expect(fast?.action_name, label).toBe('invocationsServingEndpoint');
      expect(JSON.parse(String(fast?.request_params)), label).toEqual({ name: req.path ? 'no_such_ep' : endpoint });
      expect(fast?.user_agent, label).toBe('fp-audit-agent/1.0');
      expect(String(fast?.source_ip_address), label).toMatch(/127\.0\.0\.1$/);
      expect(fast?.error_message === null, label).toBe(status === 200);
      // A UUIDv7 whose first 48 bits are the event's time in milliseconds.
      expect(String(fast?.event_id), label).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(String(fast?.event_id).replace('-', '').slice(0, 12), label).toBe(Number(fast?.event_time).toString(16).padStart(12, '0'));
      for (const column of ['status_code', 'user_name', 'service_name', 'action_name', 'request_params', 'user_agent', 'error_message']) {
        expect(fast?.[column], `${label}: ${column}`).toEqual(generic?.[column]);
      }
      const text = JSON.stringify(fast);
      for (const secret of [s.adminToken, outsiderToken]) expect(text.includes(secret), label).toBe(false);
    }
    expect(String(byId.get('fp-audit-forbidden-http')?.error_message)).toContain('CAN_QUERY');
  });

  it('does not acknowledge an invocation whose audit event cannot be stored, as the generic route does not', async () => {
    const body = { dataframe_records: [{ a: 1, b: 2, c: 3 }] };
    const broken = await breakAuditStorage(s);
    let fast: Awaited<ReturnType<typeof overHttp>>;
    let generic: Awaited<ReturnType<typeof throughFastify>>;
    try {
      fast = await overHttp(json(body, { ...admin(), 'x-request-id': 'fp-audit-down-http' }));
      broken.again();
      generic = await throughFastify(json(body, { ...admin(), 'x-request-id': 'fp-audit-down-generic' }));
    } finally {
      await broken.restore();
    }
    expect(fast.status).toBe(503);
    expect(generic.status).toBe(503);
    expect(JSON.parse(fast.text)).toEqual(JSON.parse(generic.text));
    expect(JSON.parse(fast.text).error_code).toBe('TEMPORARILY_UNAVAILABLE');
    expect((await overHttp(json(body))).status).toBe(200);
  });

  it('authenticates a web-session cookie when no Authorization header is sent, and requires the CSRF header with it', async () => {
    const userName = 'cookie-user@example.com';
    // TestServer.createUser's password.
    const password = 'correct horse battery';
    await s.createUser(userName);
    const id = (await s.call('GET', `${EP}/${endpoint}`)).body.id as string;
    const granted = await s.call('PATCH', `/api/2.0/permissions/serving-endpoints/${id}`, {
      access_control_list: [{ user_name: userName, permission_level: 'CAN_QUERY' }],
    });
    expect(granted.status, granted.text).toBe(200);
    const login = await fetch(`${s.url}/api/weir/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: userName, password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const csrf = ((await login.json()) as { csrf_token: string }).csrf_token;
    expect(cookie).toMatch(/^weir_session=/);
    const body = { dataframe_records: [{ a: 1, b: 1, c: 1 }] };
    const cases: [string, Record<string, string>, number][] = [
      ['cookie and CSRF header', { cookie, 'x-csrf-token': csrf }, 200],
      ['cookie without CSRF header', { cookie }, 403],
      ['cookie with a wrong CSRF header', { cookie, 'x-csrf-token': 'f'.repeat(64) }, 403],
      // A request with an Authorization header is judged by it alone.
      ['cookie and an unknown bearer token', { cookie, 'x-csrf-token': csrf, authorization: 'Bearer dapi-nope' }, 401],
    ];
    const before = s.weir.invocationFastPath?.taken() ?? 0;
    for (const [label, headers, status] of cases) {
      const fast = await overHttp(json(body, headers));
      const generic = await throughFastify(json(body, headers));
      expect(fast.status, `${label}: ${fast.text}`).toBe(status);
      expect(fast.text, label).toBe(generic.text);
    }
    expect((s.weir.invocationFastPath?.taken() ?? 0) - before).toBe(cases.length);
    const denied = await overHttp(json(body, { cookie }));
    expect(JSON.parse(denied.text).message).toContain('X-CSRF-Token');
  });

  it('counts each invocation in the HTTP and serving metrics and writes its request log line', async () => {
    const counter = (text: string, series: RegExp) => Number(series.exec(text)?.[1] ?? 0);
    const httpOk = new RegExp(`weir_http_requests_total\\{method="POST",route="${INVOCATIONS_ROUTE.replace(/[/:]/g, '\\$&')}",status="200"\\} (\\d+)`);
    const httpBad = new RegExp(`weir_http_requests_total\\{method="POST",route="${INVOCATIONS_ROUTE.replace(/[/:]/g, '\\$&')}",status="400"\\} (\\d+)`);
    const served = new RegExp(`weir_serving_requests_total\\{endpoint="${endpoint}",served_entity="fp_linear-1"\\} (\\d+)`);
    const failed = new RegExp(`weir_serving_errors_total\\{endpoint="${endpoint}",served_entity="fp_linear-1"\\} (\\d+)`);
    const before = await (await fetch(`${s.url}/metrics`)).text();
    for (let i = 0; i < 3; i++)
      expect((await overHttp(json({ dataframe_records: [{ a: i, b: i, c: i }] }, { ...admin(), 'x-request-id': `fp-log-${i}` }))).status).toBe(200);
    expect((await overHttp(json({ dataframe_records: [{ a: 'not a number', b: 1, c: 1 }] }))).status).toBe(400);
    const after = await (await fetch(`${s.url}/metrics`)).text();
    expect(counter(after, httpOk) - counter(before, httpOk)).toBe(3);
    expect(counter(after, httpBad) - counter(before, httpBad)).toBe(1);
    expect(counter(after, served) - counter(before, served)).toBe(4);
    expect(counter(after, failed) - counter(before, failed)).toBe(1);
    // Lines of one event-loop turn are written together after it: wait for them rather than for a fixed time.
    const lineOf = (id: string) =>
      s.logs
        .flatMap((chunk) => chunk.split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>)
        .find((l) => l.reqId === id);
    for (let i = 0; i < 200 && !lineOf('fp-log-2'); i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 3; i++) {
      const line = lineOf(`fp-log-${i}`);
      expect(line, `fp-log-${i}`).toMatchObject({
        level: 30,
        msg: 'request',
        status: 200,
        req: { method: 'POST', url: invocationsOf(endpoint), id: `fp-log-${i}` },
      });
      expect(typeof line?.ms).toBe('number');
    }
    expect(s.logs.join('').includes(s.adminToken)).toBe(false);
  });
  it('serves `weir serve` scoring on its own fast path, answering each case as its Fastify route does', async () => {
    const serve = await startStandaloneServing({ model: 'models:/fp_ep_model/1', host: '127.0.0.1', port: 0, server: s.url, token: s.adminToken });
    try {
      const cases: [string, Record<string, string>, string, number][] = [
        ['json', { 'content-type': 'application/json' }, JSON.stringify({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }), 200],
        ['csv', { 'content-type': 'text/csv; charset=utf-8' }, 'a,b,c\n4,5,6\n', 200],
        ['missing column', { 'content-type': 'application/json' }, JSON.stringify({ dataframe_records: [{ a: 1 }] }), 400],
        ['malformed JSON', { 'content-type': 'application/json' }, '{"inputs": [', 400],
      ];
      const before = serve.taken();
      for (const [label, headers, body, status] of cases) {
        const fast = await fetch(`${serve.url}/invocations`, { method: 'POST', headers, body });
        const generic = await serve.app.inject({ method: 'POST', url: '/invocations', headers, payload: body });
        const text = await fast.text();
        expect(fast.status, `${label}: ${text}`).toBe(status);
        expect(generic.statusCode, label).toBe(status);
        expect(text, label).toBe(generic.body);
        expect(fast.headers.get('content-type'), label).toBe(generic.headers['content-type']);
        for (const header of ['x-weir-served-entity', 'served-model-name']) expect(fast.headers.get(header) ?? undefined, label).toBe(generic.headers[header]);
      }
      expect(serve.taken() - before).toBe(cases.length);
      const form = await fetch(`${serve.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expect(form.status).toBe(415);
      expect(serve.taken() - before).toBe(cases.length);
    } finally {
      await serve.stop();
    }
  });

  it('answers every invocation in flight when shutdown begins, and keeps the audit event and capture row of each', async () => {
    const pgDb = backend.name === 'postgres' ? await createTestPostgresDatabase() : undefined;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-fp-stop-'));
    try {
      const t = await startTestServer(backend, { dataDir, ...(pgDb ? { metadataUrl: pgDb.url } : {}) });
      await deploy(t, 'fp_stop', { catalog_name: 'main', schema_name: 'default', table_name_prefix: 'fp_stop' });
      // Each request sends its headers now and its body only once shutdown has begun, so all of them are in flight then.
      const bodies = new Map<number, () => void>();
      const send = (i: number) =>
        new Promise<{ i: number; status: number; text: string }>((resolve) => {
          const body = JSON.stringify({ dataframe_records: [{ a: i, b: 0, c: 0 }] });
          const url = new URL(t.url);
          const req = http.request(
            {
              host: url.hostname,
              port: url.port,
              method: 'POST',
              path: invocationsOf('fp_stop'),
              agent: false,
              headers: {
                authorization: `Bearer ${t.adminToken}`,
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                'x-request-id': `fp-stop-${i}`,
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ i, status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            },
          );
          req.on('error', () => resolve({ i, status: 0, text: '' }));
          req.flushHeaders();
          bodies.set(i, () => req.end(body));
        });
      const taken = t.weir.invocationFastPath?.taken() ?? 0;
      const pending = Array.from({ length: 20 }, (_, k) => send(k));
      for (let k = 0; k < 500 && (t.weir.invocationFastPath?.taken() ?? 0) < taken + 20; k++) await new Promise((r) => setTimeout(r, 10));
      expect(t.weir.invocationFastPath?.taken()).toBe(taken + 20);
      const closing = t.weir.close(10_000);
      await new Promise((r) => setTimeout(r, 50));
      for (const finish of bodies.values()) finish();
      const answers = await Promise.all(pending);
      await closing;
      // Every request the fast path had taken before shutdown is answered, however long its body took.
      for (const a of answers) expect(a.status, `fp-stop-${a.i}: ${a.text}`).toBe(200);
      const answered = answers;
      for (const a of answered) expect(JSON.parse(a.text).predictions, `fp-stop-${a.i}`).toEqual([a.i + 0.5]);
      const again = await startTestServer(backend, { dataDir, ...(pgDb ? { metadataUrl: pgDb.url } : {}) });
      try {
        const query = async (statement: string) => {
          const r = await again.call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' });
          expect(r.status, r.text).toBe(200);
          expect(r.body.status.state, r.text).toBe('SUCCEEDED');
          return new Set(((r.body.result?.data_array ?? []) as string[][]).map((row) => row[0]));
        };
        const audited = await query("SELECT request_id FROM system.access.audit WHERE request_id LIKE 'fp-stop-%' AND response.status_code = 200");
        const captured = await query('SELECT databricks_request_id FROM main.default.fp_stop_payload WHERE status_code = 200');
        for (const a of answered) {
          expect(audited.has(`fp-stop-${a.i}`), `audit event of fp-stop-${a.i}`).toBe(true);
          expect(captured.has(`fp-stop-${a.i}`), `capture row of fp-stop-${a.i}`).toBe(true);
        }
      } finally {
        await again.weir.close(1000);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
      await pgDb?.drop();
    }
  }, 120_000);
});
