import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

// Workspace-object levels are served from memory (identity's ACL cache). These tests check that the cache never
// outlives a change: in one process a revoke holds for the very next request, and a replica sharing the store
// notices another replica's revoke within its epoch check.

type Call = TestServer['call'];

/** Creates a user in a fresh group and returns the user's token and the group's name. */
async function userInGroup(call: Call, baseUrl: string, adminToken: string, tag: string) {
  const userName = `${tag}@example.com`;
  const password = `${tag}-password-0123456789`;
  const user = await call('POST', '/api/2.0/preview/scim/v2/Users', { userName, password }, adminToken);
  expect(user.status).toBe(201);
  const groupName = `${tag}-team`;
  const group = await call('POST', '/api/2.0/preview/scim/v2/Groups', { displayName: groupName, members: [{ value: user.body.id }] }, adminToken);
  expect(group.status).toBe(201);
  const res = await fetch(`${baseUrl}/api/2.0/token/create`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${userName}:${password}`).toString('base64')}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(200);
  return { userName, groupName, token: ((await res.json()) as { token_value: string }).token_value };
}

/** An experiment owned by the admin with one run, plus a metric writer for a caller. */
async function experimentWithRun(call: Call, adminToken: string, name: string) {
  const exp = await call('POST', '/api/2.0/mlflow/experiments/create', { name }, adminToken);
  expect(exp.status).toBe(200);
  const experimentId = exp.body.experiment_id as string;
  const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId }, adminToken);
  expect(run.status).toBe(200);
  const runId = run.body.run.info.run_id as string;
  const logMetric = (via: Call, token: string) =>
    via('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 0.5, timestamp: Date.now(), step: 0 }, token);
  const readRun = (via: Call, token: string) => via('GET', '/api/2.0/mlflow/runs/get', { run_id: runId }, token);
  return { experimentId, logMetric, readRun };
}

describe.each(testBackends)('workspace-object permission cache on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('refuses the request right after a group grant is revoked, and allows it right after it is given back', async () => {
    const analyst = await userInGroup(s.call, s.url, s.adminToken, 'acl-revoke');
    const { experimentId, logMetric } = await experimentWithRun(s.call, s.adminToken, 'acl-cache-revoke');
    const grant = (level: string) =>
      s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
        access_control_list: [{ group_name: analyst.groupName, permission_level: level }],
      });

    expect((await logMetric(s.call, analyst.token)).status).toBe(403);
    expect((await grant('CAN_EDIT')).status).toBe(200);
    // Several allowed calls: the level is now held in memory.
    for (let i = 0; i < 3; i++) expect((await logMetric(s.call, analyst.token)).status).toBe(200);

    const revoke = await s.call('PUT', `/api/2.0/permissions/experiments/${experimentId}`, { access_control_list: [] });
    expect(revoke.status).toBe(200);
    const refused = await logMetric(s.call, analyst.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error_code).toBe('PERMISSION_DENIED');

    expect((await grant('CAN_EDIT')).status).toBe(200);
    expect((await logMetric(s.call, analyst.token)).status).toBe(200);
  });

  it('applies a downgrade at once: CAN_EDIT lowered to CAN_READ still reads but no longer writes', async () => {
    const analyst = await userInGroup(s.call, s.url, s.adminToken, 'acl-downgrade');
    const { experimentId, logMetric, readRun } = await experimentWithRun(s.call, s.adminToken, 'acl-cache-downgrade');
    const setLevel = (level: string) =>
      s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, { access_control_list: [{ user_name: analyst.userName, permission_level: level }] });

    expect((await setLevel('CAN_EDIT')).status).toBe(200);
    expect((await logMetric(s.call, analyst.token)).status).toBe(200);
    expect((await readRun(s.call, analyst.token)).status).toBe(200);

    expect((await setLevel('CAN_READ')).status).toBe(200);
    expect((await logMetric(s.call, analyst.token)).status).toBe(403);
    expect((await readRun(s.call, analyst.token)).status).toBe(200);
  });

  it('forgets a level when the grantee leaves the group that held it', async () => {
    const analyst = await userInGroup(s.call, s.url, s.adminToken, 'acl-leave');
    const { experimentId, logMetric } = await experimentWithRun(s.call, s.adminToken, 'acl-cache-leave');
    expect(
      (
        await s.call('PATCH', `/api/2.0/permissions/experiments/${experimentId}`, {
          access_control_list: [{ group_name: analyst.groupName, permission_level: 'CAN_EDIT' }],
        })
      ).status,
    ).toBe(200);
    expect((await logMetric(s.call, analyst.token)).status).toBe(200);

    const groups = await s.call('GET', '/api/2.0/preview/scim/v2/Groups', { filter: `displayName eq "${analyst.groupName}"` });
    const groupId = groups.body.Resources[0].id as string;
    const emptied = await s.call('PUT', `/api/2.0/preview/scim/v2/Groups/${groupId}`, { displayName: analyst.groupName, members: [] });
    expect(emptied.status).toBe(200);
    expect((await logMetric(s.call, analyst.token)).status).toBe(403);
  });
});

describe.skipIf(!process.env.WEIR_TEST_POSTGRES_URL)('workspace-object permission cache across two servers on one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    db = await createTestPostgresDatabase('weir_acl');
    first = await startTestServer({ name: 'postgres' }, { metadataUrl: db.url });
    second = await startTestServer({ name: 'postgres' }, { metadataUrl: db.url });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
  });

  /** Calls `probe` until it answers `status`, for at most `limitMs` (far above the 1 s epoch check); returns the last status. */
  async function waitForStatus(probe: () => Promise<{ status: number }>, status: number, limitMs = 5_000): Promise<number> {
    const deadline = Date.now() + limitMs;
    let last = (await probe()).status;
    while (last !== status && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      last = (await probe()).status;
    }
    return last;
  }

  it('a revoke answered by one server is enforced by the other within its epoch check, and stays enforced', async () => {
    // The second server's bootstrap replaced the configured admin token in the shared store: use its token on both.
    const adminToken = second.adminToken;
    const analyst = await userInGroup(second.call, second.url, adminToken, 'acl-replica');
    const { experimentId, logMetric } = await experimentWithRun(second.call, adminToken, 'acl-cache-replica');
    const grant = await second.call(
      'PATCH',
      `/api/2.0/permissions/experiments/${experimentId}`,
      { access_control_list: [{ group_name: analyst.groupName, permission_level: 'CAN_EDIT' }] },
      adminToken,
    );
    expect(grant.status).toBe(200);
    // The first server learns of the grant (within its epoch check) and then holds the level in memory.
    expect(await waitForStatus(() => logMetric(first.call, analyst.token), 200)).toBe(200);
    expect((await logMetric(first.call, analyst.token)).status).toBe(200);

    const revoke = await second.call('PUT', `/api/2.0/permissions/experiments/${experimentId}`, { access_control_list: [] }, adminToken);
    expect(revoke.status).toBe(200);
    // The server that answered the revoke refuses at once; the other one within its epoch check.
    expect((await logMetric(second.call, analyst.token)).status).toBe(403);
    expect(await waitForStatus(() => logMetric(first.call, analyst.token), 403)).toBe(403);
    for (let i = 0; i < 5; i++) expect((await logMetric(first.call, analyst.token)).status).toBe(403);
  });
});
