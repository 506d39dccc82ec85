import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

describe.each(testBackends)('identity and experiment permissions on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function newUser(name: string, password?: string) {
    const res = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: name, ...(password ? { password } : {}) });
    expect(res.status).toBe(201);
    return res.body as { id: string; userName: string };
  }

  async function tokenFor(userName: string, password: string) {
    const basic = Buffer.from(`${userName}:${password}`).toString('base64');
    const res = await fetch(`${s.url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'test' }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token_value: string }).token_value;
  }

  it('refuses requests without credentials with 401 UNAUTHENTICATED JSON', async () => {
    const res = await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, null);
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('UNAUTHENTICATED');
    const bad = await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, 'dapinotatoken');
    expect(bad.status).toBe(401);
  });

  it('accepts Bearer and Basic with the token as password', async () => {
    const basic = Buffer.from(`anyone:${s.adminToken}`).toString('base64');
    const res = await fetch(`${s.url}/api/2.0/mlflow/experiments/search`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
  });

  it('creates, lists and revokes tokens; revoked tokens stop working at once', async () => {
    const created = await s.call('POST', '/api/2.0/token/create', { comment: 'ci', lifetime_seconds: 3600 });
    expect(created.status).toBe(200);
    const { token_value, token_info } = created.body;
    expect(token_value).toMatch(/^dapi[0-9a-f]{40}$/);
    expect(token_info.comment).toBe('ci');
    expect(token_info.expiry_time).toBeGreaterThan(Date.now());
    expect((await s.call('GET', '/api/2.0/token/list', undefined, token_value)).body.token_infos.map((t: { token_id: string }) => t.token_id)).toContain(
      token_info.token_id,
    );
    expect((await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, token_value)).status).toBe(200);
    expect((await s.call('POST', '/api/2.0/token/delete', { token_id: token_info.token_id })).status).toBe(200);
    expect((await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, token_value)).status).toBe(401);
  });

  it('stores only token hashes', async () => {
    const created = await s.call('POST', '/api/2.0/token/create', { comment: 'hash-check' });
    const rows = await s.weir.store.db.selectFrom('tokens').select('token_hash').execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows as { token_hash: string }[]) expect(r.token_hash).not.toContain(created.body.token_value);
    expect(rows.map((r: { token_hash: string }) => r.token_hash)).not.toContain(s.adminToken);
  });

  it('SCIM users: admins create, get, list, delete; others are refused', async () => {
    const u = await newUser('scim-user@example.com', 'correct horse battery');
    expect((await s.call('GET', `/api/2.0/preview/scim/v2/Users/${u.id}`)).body.userName).toBe('scim-user@example.com');
    const list = await s.call('GET', '/api/2.0/preview/scim/v2/Users', { filter: 'userName eq "scim-user@example.com"' });
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0].id).toBe(u.id);
    const dup = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'scim-user@example.com' });
    expect(dup.status).toBe(409);
    const userToken = await tokenFor('scim-user@example.com', 'correct horse battery');
    const denied = await s.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'x' }, userToken);
    expect(denied.status).toBe(403);
    expect((await s.call('GET', '/api/2.0/preview/scim/v2/Me', undefined, userToken)).body.userName).toBe('scim-user@example.com');
    expect((await s.call('DELETE', `/api/2.0/preview/scim/v2/Users/${u.id}`)).status).toBe(204);
    expect((await s.call('GET', `/api/2.0/preview/scim/v2/Users/${u.id}`)).status).toBe(404);
    expect((await s.call('POST', '/api/2.0/mlflow/experiments/search', {}, userToken)).status).toBe(401);
  });

  it('a second user cannot read or write an experiment without a grant, and can after one', async () => {
    await newUser('owner@example.com', 'owner-password-1');
    await newUser('second@example.com', 'second-password-1');
    const owner = await tokenFor('owner@example.com', 'owner-password-1');
    const second = await tokenFor('second@example.com', 'second-password-1');
    const exp = (await s.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'private-exp' }, owner)).body.experiment_id as string;
    const run = (await s.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp }, owner)).body.run.info.run_id as string;

    // The creator manages it.
    const acl = await s.call('GET', `/api/2.0/permissions/experiments/${exp}`, undefined, owner);
    expect(acl.status).toBe(200);
    expect(acl.body.access_control_list).toContainEqual({
      user_name: 'owner@example.com',
      all_permissions: [{ permission_level: 'CAN_MANAGE', inherited: false }],
    });

    const read = () => s.call('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: exp }, second);
    const readRun = () => s.call('GET', '/api/2.0/mlflow/runs/get', { run_id: run }, second);
    const write = () => s.call('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: run, key: 'k', value: 'v' }, second);
    const searchIds = async () =>
      ((await s.call('POST', '/api/2.0/mlflow/experiments/search', { max_results: 1000 }, second)).body.experiments ?? []).map(
        (e: { experiment_id: string }) => e.experiment_id,
      );

    for (const res of [await read(), await readRun(), await write()]) {
      expect(res.status).toBe(403);
      expect(res.body.error_code).toBe('PERMISSION_DENIED');
    }
    expect(await searchIds()).not.toContain(exp);
    expect((await s.call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] }, second)).body.runs).toEqual([]);
    // Only managers may change permissions.
    expect((await s.call('PATCH', `/api/2.0/permissions/experiments/${exp}`, { access_control_list: [] }, second)).status).toBe(403);

    const grantRead = await s.call(
      'PATCH',
      `/api/2.0/permissions/experiments/${exp}`,
      { access_control_list: [{ user_name: 'second@example.com', permission_level: 'CAN_READ' }] },
      owner,
    );
    expect(grantRead.status).toBe(200);
    expect((await read()).status).toBe(200);
    expect((await readRun()).status).toBe(200);
    expect(await searchIds()).toContain(exp);
    expect((await write()).status).toBe(403);

    await s.call(
      'PATCH',
      `/api/2.0/permissions/experiments/${exp}`,
      { access_control_list: [{ user_name: 'second@example.com', permission_level: 'CAN_EDIT' }] },
      owner,
    );
    expect((await write()).status).toBe(200);

    // PUT replaces the list: the grant is gone again (the owner keeps theirs because it is listed).
    await s.call(
      'PUT',
      `/api/2.0/permissions/experiments/${exp}`,
      { access_control_list: [{ user_name: 'owner@example.com', permission_level: 'CAN_MANAGE' }] },
      owner,
    );
    expect((await read()).status).toBe(403);
    // Admins see everything.
    expect((await s.call('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: exp })).status).toBe(200);
  });

  it('bootstraps an admin token into <data-dir>/admin-token with mode 600 when none is configured', async () => {
    const { buildApp } = await import('../../app.ts');
    const { resolveConfig } = await import('../../platform/config.ts');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-boot-'));
    const lines: string[] = [];
    const app = await buildApp(resolveConfig({ dataDir: dir, port: 0, adminToken: undefined, logLevel: 'silent' }, {}), { announce: (l) => lines.push(l) });
    try {
      const file = path.join(dir, 'admin-token');
      const token = fs.readFileSync(file, 'utf8').trim();
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(lines.join('\n')).toContain(token);
      const res = await app.app.inject({ method: 'GET', url: '/api/2.0/preview/scim/v2/Me', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json().userName).toBe('admin');
    } finally {
      await app.close();
    }
    // A second start does not print or replace it.
    const again: string[] = [];
    const app2 = await buildApp(resolveConfig({ dataDir: dir, port: 0, adminToken: undefined, logLevel: 'silent' }, {}), { announce: (l) => again.push(l) });
    await app2.close();
    expect(again).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
