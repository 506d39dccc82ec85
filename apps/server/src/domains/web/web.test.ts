import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

/** A request with full control over headers (cookies, CSRF) and the raw path. */
async function send(base: string, method: string, rawPath: string, headers: Record<string, string> = {}, body?: unknown) {
  const url = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders; json: any }>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: rawPath,
        headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, headers: res.headers, json });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

describe.each(testBackends)('web sessions on $name', (backend) => {
  let s: TestServer;
  let distDir: string;
  beforeAll(async () => {
    distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-web-dist-'));
    fs.mkdirSync(path.join(distDir, 'assets'));
    fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>Weir UI marker</title><div id="root"></div>');
    fs.writeFileSync(path.join(distDir, 'assets', 'app-1234.js'), 'console.log("asset marker")');
    process.env.WEIR_WEB_DIST = distDir;
    s = await startTestServer(backend);
    delete process.env.WEIR_WEB_DIST;
    const created = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'ada@example.com', password: 'correct horse battery' });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(distDir, { recursive: true, force: true });
  });

  async function login(username = 'ada@example.com', password = 'correct horse battery') {
    const res = await send(s.url, 'POST', '/api/weir/v1/auth/login', {}, { username, password });
    const setCookie = String(res.headers['set-cookie'] ?? '');
    const cookie = setCookie.split(';')[0] ?? '';
    return { res, setCookie, cookie, csrf: res.json?.csrf_token as string };
  }

  it('signs in with a password: HttpOnly SameSite=Strict cookie, only a hash stored', async () => {
    const { res, setCookie, cookie } = await login();
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ user_name: 'ada@example.com', is_admin: false, via: 'cookie' });
    expect(res.json.csrf_token).toMatch(/^[0-9a-f]{64}$/);
    expect(setCookie).toMatch(/^weir_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const sessionId = cookie.slice('weir_session='.length);
    const rows = await s.weir.store.db.selectFrom('web_sessions').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(sessionId);
  });

  it('refuses a wrong password with 401 and opens no session', async () => {
    const before = await s.weir.store.db.selectFrom('web_sessions').selectAll().execute();
    const { res, setCookie } = await login('ada@example.com', 'wrong password!');
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error_code: 'UNAUTHENTICATED', message: 'Invalid user name or password.' });
    expect(setCookie).toBe('');
    const after = await s.weir.store.db.selectFrom('web_sessions').selectAll().execute();
    expect(after.length).toBe(before.length);
  });

  it('authenticates reads by cookie and demands the CSRF header on writes', async () => {
    const { cookie, csrf } = await login();
    const who = await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie });
    expect(who.status).toBe(200);
    expect(who.json).toMatchObject({ user_name: 'ada@example.com', via: 'cookie', csrf_token: csrf });
    const read = await send(s.url, 'GET', '/api/2.0/mlflow/experiments/search?max_results=10', { cookie });
    expect(read.status).toBe(200);

    const forged = await send(s.url, 'POST', '/api/2.0/mlflow/experiments/create', { cookie }, { name: 'csrf-victim' });
    expect(forged.status).toBe(403);
    expect(forged.json.error_code).toBe('PERMISSION_DENIED');
    const wrong = await send(s.url, 'POST', '/api/2.0/mlflow/experiments/create', { cookie, 'x-csrf-token': 'a'.repeat(64) }, { name: 'csrf-victim' });
    expect(wrong.status).toBe(403);
    const lookup = await s.call('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'csrf-victim' });
    expect(lookup.status).toBe(404);

    const ok = await send(s.url, 'POST', '/api/2.0/mlflow/experiments/create', { cookie, 'x-csrf-token': csrf }, { name: 'made-from-the-ui' });
    expect(ok.status).toBe(200);
    expect(ok.json.experiment_id).toMatch(/^\d+$/);
  });

  it('keeps Bearer and Basic as they are: a header is judged alone, even beside a valid cookie', async () => {
    const { cookie } = await login();
    const bearer = await send(s.url, 'GET', '/api/weir/v1/auth/session', { authorization: `Bearer ${s.adminToken}` });
    expect(bearer.json).toEqual({ user_name: 'admin', is_admin: true, kind: 'user', via: 'header' });
    const basic = await send(s.url, 'GET', '/api/weir/v1/auth/session', {
      authorization: `Basic ${Buffer.from('ada@example.com:correct horse battery').toString('base64')}`,
    });
    expect(basic.json).toMatchObject({ user_name: 'ada@example.com', via: 'header' });
    const badHeader = await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie, authorization: 'Bearer dapi-not-a-token' });
    expect(badHeader.status).toBe(401);
    const none = await send(s.url, 'GET', '/api/weir/v1/auth/session');
    expect(none.status).toBe(401);
    expect(none.json.error_code).toBe('UNAUTHENTICATED');
  });

  it('logs out: the cookie stops working and the row is gone', async () => {
    const { cookie, csrf } = await login();
    const withoutCsrf = await send(s.url, 'POST', '/api/weir/v1/auth/logout', { cookie }, {});
    expect(withoutCsrf.status).toBe(403);
    expect((await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie })).status).toBe(200);
    const out = await send(s.url, 'POST', '/api/weir/v1/auth/logout', { cookie, 'x-csrf-token': csrf }, {});
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie })).status).toBe(401);
  });

  it('ends the sessions of a deleted user', async () => {
    const user = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'temp-user', password: 'temporary password' });
    const { cookie } = await login('temp-user', 'temporary password');
    expect((await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie })).status).toBe(200);
    expect((await s.call('DELETE', `/api/2.0/preview/scim/v2/Users/${user.body.id}`)).status).toBe(204);
    expect((await send(s.url, 'GET', '/api/weir/v1/auth/session', { cookie })).status).toBe(401);
  });

  it('serves the built UI at / with an index.html fallback that never shadows the APIs', async () => {
    const root = await send(s.url, 'GET', '/');
    expect(root.status).toBe(200);
    expect(root.text).toContain('Weir UI marker');
    const clientRoute = await send(s.url, 'GET', '/experiments/12/runs/abc');
    expect(clientRoute.status).toBe(200);
    expect(clientRoute.text).toContain('Weir UI marker');
    const asset = await send(s.url, 'GET', '/assets/app-1234.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.text).toContain('asset marker');
    const missingAsset = await send(s.url, 'GET', '/assets/missing.js');
    expect(missingAsset.status).toBe(404);
    for (const reserved of ['/api/2.0/nothing-here', '/ajax-api/2.0/nothing', '/serving-endpoints/x/invocations', '/get-artifact/x', '/api']) {
      const res = await send(s.url, 'GET', reserved);
      expect(res.status, reserved).toBe(404);
      expect(res.json.error_code, reserved).toBe('ENDPOINT_NOT_FOUND');
    }
    expect((await send(s.url, 'GET', '/health')).text).toBe('OK');
    expect((await send(s.url, 'GET', '/version')).status).toBe(200);
    expect((await send(s.url, 'GET', '/metrics')).text).toContain('# ');
    for (const trick of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd']) {
      const res = await send(s.url, 'GET', trick);
      expect(res.text, trick).not.toContain('root:');
      expect(res.status, trick).toBeLessThan(500);
    }
  });
});

describe('web UI not built', () => {
  it('starts anyway and explains at / how to build the UI', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-web-empty-'));
    process.env.WEIR_WEB_DIST = empty;
    const s = await startTestServer();
    delete process.env.WEIR_WEB_DIST;
    try {
      const res = await send(s.url, 'GET', '/');
      expect(res.status).toBe(200);
      expect(res.text).toContain('npm run build -w @weir/web');
      expect((await send(s.url, 'GET', '/api/2.0/mlflow/experiments/search', { authorization: `Bearer ${s.adminToken}` })).status).toBe(200);
    } finally {
      await s.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
