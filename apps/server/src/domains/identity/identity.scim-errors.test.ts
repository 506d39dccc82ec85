// SCIM error bodies carry RFC 7644's `scimType` where SCIM defines one (uniqueness on 409; invalidFilter, invalidPath,
// invalidValue, invalidSyntax, mutability, noTarget on 400), in the error schema Databricks SDKs parse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const SCIM = '/api/2.0/preview/scim/v2';
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(testBackends)('SCIM error types on $name', (backend) => {
  let s: TestServer;
  let userId: string;
  let groupId: string;

  const patch = (kind: string, id: string, Operations: unknown[]) => s.call('PATCH', `${SCIM}/${kind}/${id}`, { schemas: [PATCH_OP], Operations });

  beforeAll(async () => {
    s = await startTestServer(backend);
    const user = await s.call('POST', `${SCIM}/Users`, { userName: 'scim-errors@example.com' });
    expect(user.status).toBe(201);
    userId = user.body.id;
    const group = await s.call('POST', `${SCIM}/Groups`, { displayName: 'scim_errors' });
    expect(group.status).toBe(201);
    groupId = group.body.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('409 on a taken name is uniqueness', async () => {
    for (const [kind, body] of [
      ['Users', { userName: 'scim-errors@example.com' }],
      ['Groups', { displayName: 'scim_errors' }],
    ] as const) {
      const dup = await s.call('POST', `${SCIM}/${kind}`, body);
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ schemas: [SCIM_ERROR], status: '409', scimType: 'uniqueness' });
      expect(typeof dup.body.detail).toBe('string');
    }
  });

  it('a malformed or unsupported filter is invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName zz "a"', 'nosuchattr eq "a"', '(userName eq "a"']) {
      const res = await s.call('GET', `${SCIM}/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.status, filter).toBe(400);
      expect(res.body, filter).toMatchObject({ schemas: [SCIM_ERROR], status: '400', scimType: 'invalidFilter' });
    }
  });

  it('a PATCH naming an attribute it cannot change is invalidPath; bad values, ops and targets have their own types', async () => {
    const cases: [string, string, unknown[], string][] = [
      ['Users', userId, [{ op: 'replace', path: 'nosuch', value: 'x' }], 'invalidPath'],
      ['Users', userId, [{ op: 'replace', value: { nosuch: 'x' } }], 'invalidPath'],
      ['Groups', groupId, [{ op: 'add', path: 'members[value eq "1"]', value: [] }], 'invalidPath'],
      ['Users', userId, [{ op: 'replace', path: 'active', value: 'maybe' }], 'invalidValue'],
      ['Users', userId, [{ op: 'move', path: 'active', value: true }], 'invalidSyntax'],
      ['Users', userId, [{ op: 'remove' }], 'noTarget'],
      ['Users', userId, [{ op: 'remove', path: 'active' }], 'mutability'],
    ];
    for (const [kind, id, ops, scimType] of cases) {
      const res = await patch(kind, id, ops);
      expect(res.status, JSON.stringify(ops)).toBe(400);
      expect(res.body, JSON.stringify(ops)).toMatchObject({ schemas: [SCIM_ERROR], status: '400', scimType });
    }
    // Nothing was changed by the refused patches.
    const user = await s.call('GET', `${SCIM}/Users/${userId}`);
    expect(user.body.active).toBe(true);
  });

  it('a body that fails the schema is invalidValue, unreadable JSON invalidSyntax; 404 carries no scimType', async () => {
    const bad = await s.call('POST', `${SCIM}/Users`, { userName: 42 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ schemas: [SCIM_ERROR], scimType: 'invalidValue' });
    const res = await fetch(`${s.url}${SCIM}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: '{"userName": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ schemas: [SCIM_ERROR], scimType: 'invalidSyntax' });
    const missing = await s.call('GET', `${SCIM}/Users/999999`);
    expect(missing.status).toBe(404);
    expect(missing.body.schemas).toEqual([SCIM_ERROR]);
    expect(missing.body).not.toHaveProperty('scimType');
  });
});
