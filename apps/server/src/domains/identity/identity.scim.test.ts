import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { parseScimFilter } from './identity.scim.ts';
import { createIdentityService } from './identity.service.ts';
import type { IdentityTables } from './identity.tables.ts';

const SCIM = '/api/2.0/preview/scim/v2';
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('SCIM filter parser', () => {
  it('parses comparisons, and/or precedence, not and parentheses', () => {
    expect(parseScimFilter('userName eq "a@b.c"')).toEqual({ type: 'cmp', attr: 'userName', op: 'eq', value: 'a@b.c' });
    expect(parseScimFilter('a eq "1" or b eq "2" and c pr')).toEqual({
      type: 'or',
      left: { type: 'cmp', attr: 'a', op: 'eq', value: '1' },
      right: { type: 'and', left: { type: 'cmp', attr: 'b', op: 'eq', value: '2' }, right: { type: 'cmp', attr: 'c', op: 'pr', value: null } },
    });
    expect(parseScimFilter('not (active eq false)')).toEqual({ type: 'not', inner: { type: 'cmp', attr: 'active', op: 'eq', value: false } });
    expect(parseScimFilter('displayName eq "say \\"hi\\""')).toEqual({ type: 'cmp', attr: 'displayName', op: 'eq', value: 'say "hi"' });
  });

  it('refuses malformed filters with a 400 error', () => {
    for (const bad of ["'''", 'userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a" extra', 'userName eq "open', '"x" eq "y"', '']) {
      expect(() => parseScimFilter(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
    }
    expect(() => parseScimFilter(`${'('.repeat(40)}a eq "b"${')'.repeat(40)}`)).toThrow(/nested too deeply/);
  });
});

describe.each(testBackends)('SCIM identities and token management on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  const patch = (kind: string, id: string, Operations: unknown[], token?: string) =>
    s.call('PATCH', `${SCIM}/${kind}/${id}`, { schemas: [PATCH_OP], Operations }, token);

  async function create(kind: 'Users' | 'Groups' | 'ServicePrincipals', body: Record<string, unknown>) {
    const res = await s.call('POST', `${SCIM}/${kind}`, body);
    expect(res.status, res.text).toBe(201);
    return res.body as Record<string, any> & { id: string };
  }

  async function userWithToken(userName: string) {
    const user = await create('Users', { userName, password: 'long enough password' });
    const basic = Buffer.from(`${userName}:long enough password`).toString('base64');
    const res = await fetch(`${s.url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    return { user, token: ((await res.json()) as { token_value: string }).token_value };
  }

  const meStatus = async (token: string) => (await s.call('GET', `${SCIM}/Me`, undefined, token)).status;
  const canAdminister = async (token: string) => (await s.call('GET', `${SCIM}/Groups`, undefined, token)).status;
  const count = async (table: 'principals' | 'group_members' | 'tokens') =>
    Number(
      (
        (await s.weir.store.db
          .selectFrom(table)
          .select((eb: any) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()) as { n: number | string }
      ).n,
    );

  it('creates users with SCIM attributes and answers a duplicate userName with 409 in the SCIM error dialect', async () => {
    const u = await create('Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'grace@example.com',
      displayName: 'Grace Hopper',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: 'grace@example.com', primary: true, type: 'work' }],
      entitlements: [{ value: 'allow-cluster-create' }],
    });
    expect(u).toMatchObject({
      userName: 'grace@example.com',
      displayName: 'Grace Hopper',
      active: true,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: 'grace@example.com', primary: true, type: 'work' }],
      entitlements: [{ value: 'allow-cluster-create' }],
      groups: [],
    });
    expect((await s.call('GET', `${SCIM}/Users/${u.id}`)).body.displayName).toBe('Grace Hopper');
    const before = await count('principals');
    const dup = await s.call('POST', `${SCIM}/Users`, { userName: 'grace@example.com' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ schemas: [SCIM_ERROR], status: '409', error_code: 'ALREADY_EXISTS' });
    expect(dup.body.detail).toContain('grace@example.com');
    expect(await count('principals')).toBe(before);
    const missing = await s.call('GET', `${SCIM}/Users/99999999`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [SCIM_ERROR], status: '404' });
    // A group id is not a user.
    const admins = (await s.call('GET', `${SCIM}/Groups`, { filter: 'displayName eq "admins"' })).body.Resources[0];
    expect((await s.call('GET', `${SCIM}/Users/${admins.id}`)).status).toBe(404);
  });

  it('lists with filters (eq, co, sw, and/or), sorting and startIndex/count paging', async () => {
    for (const n of ['alpha', 'alps', 'beta', 'gamma']) await create('Users', { userName: `${n}@list.test`, displayName: `List ${n.toUpperCase()}` });
    const list = async (query: Record<string, unknown>) => {
      const res = await s.call('GET', `${SCIM}/Users`, query);
      expect(res.status, res.text).toBe(200);
      return res.body as { totalResults: number; startIndex: number; itemsPerPage: number; Resources: { id: string; userName: string }[] };
    };
    const names = (r: { Resources: { userName: string }[] }) => r.Resources.map((x) => x.userName);
    expect(names(await list({ filter: 'userName eq "beta@list.test"' }))).toEqual(['beta@list.test']);
    expect(names(await list({ filter: 'userName eq "BETA@LIST.TEST"' }))).toEqual(['beta@list.test']);
    expect(names(await list({ filter: 'displayName sw "list al"' }))).toEqual(['alpha@list.test', 'alps@list.test']);
    expect(names(await list({ filter: 'displayName co "MM"' }))).toEqual(['gamma@list.test']);
    expect(names(await list({ filter: 'userName ew "@list.test" and not (displayName sw "List A")' }))).toEqual(['beta@list.test', 'gamma@list.test']);
    expect(names(await list({ filter: 'userName eq "alpha@list.test" or userName eq "gamma@list.test"' }))).toEqual(['alpha@list.test', 'gamma@list.test']);
    const beta = (await list({ filter: 'userName eq "beta@list.test"' })).Resources[0] as { id: string };
    expect(names(await list({ filter: `id eq "${beta.id}"` }))).toEqual(['beta@list.test']);
    expect(names(await list({ filter: 'userName sw "nobody"' }))).toEqual([]);

    const all = await list({ filter: 'userName ew "@list.test"', sortBy: 'userName', sortOrder: 'descending' });
    expect(names(all)).toEqual(['gamma@list.test', 'beta@list.test', 'alps@list.test', 'alpha@list.test']);
    const page = await list({ filter: 'userName ew "@list.test"', sortBy: 'userName', startIndex: 2, count: 2 });
    expect(page).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 });
    expect(names(page)).toEqual(['alps@list.test', 'beta@list.test']);
    const past = await list({ filter: 'userName ew "@list.test"', startIndex: 5, count: 2 });
    expect(past).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
    const projected = await list({ filter: 'userName eq "beta@list.test"', attributes: 'userName' });
    expect(projected.Resources[0]).toEqual({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: beta.id, userName: 'beta@list.test' });

    for (const filter of ["'''", 'userName eq', 'nosuch eq "x"', 'applicationId eq "x"', 'userName zz "x"']) {
      const res = await s.call('GET', `${SCIM}/Users`, { filter });
      expect(res.status, filter).toBe(400);
      expect(res.body.schemas).toEqual([SCIM_ERROR]);
    }
    expect((await s.call('GET', `${SCIM}/Users`, { startIndex: 0 })).status).toBe(400);
    expect((await s.call('GET', `${SCIM}/Users`, { count: 'many' })).status).toBe(400);
  });

  it('nests groups: membership is transitive, and joining or leaving admins takes effect on the next request', async () => {
    const { user, token } = await userWithToken('nested@example.com');
    const inner = await create('Groups', { displayName: 'inner-team', members: [{ value: user.id }] });
    expect(inner.members).toEqual([{ display: 'nested@example.com', value: user.id, $ref: `Users/${user.id}` }]);
    const outer = await create('Groups', { displayName: 'outer-team', members: [{ value: inner.id }] });
    expect((await s.call('GET', `${SCIM}/Users/${user.id}`)).body.groups).toEqual([
      { display: 'inner-team', value: inner.id, $ref: `Groups/${inner.id}`, type: 'direct' },
    ]);
    expect((await s.call('GET', `${SCIM}/Groups/${inner.id}`)).body.groups.map((g: { value: string }) => g.value)).toEqual([outer.id]);

    // A second service instance over the same store: groupsOf is transitive.
    const fresh = createIdentityService({ db: s.weir.store.db as Kysely<IdentityTables> });
    expect(await fresh.groupsOf(Number(user.id))).toEqual([Number(inner.id), Number(outer.id)].sort((a, b) => a - b));
    expect(await fresh.groupsOf(Number(outer.id))).toEqual([]);

    expect(await canAdminister(token)).toBe(403);
    const admins = (await s.call('GET', `${SCIM}/Groups`, { filter: 'displayName eq "admins"' })).body.Resources[0] as { id: string };
    // The user becomes an admin through outer-team ⊂ admins (two levels of nesting) at once.
    expect((await patch('Groups', admins.id, [{ op: 'add', path: 'members', value: [{ value: outer.id }] }])).status).toBe(200);
    expect(await canAdminister(token)).toBe(200);
    // Removing the nested group with a value filter revokes it at once.
    const removed = await patch('Groups', admins.id, [{ op: 'remove', path: `members[value eq "${outer.id}"]` }]);
    expect(removed.status).toBe(200);
    expect(removed.body.members.map((m: { value: string }) => m.value)).not.toContain(outer.id);
    expect(await canAdminister(token)).toBe(403);
    // Directly, through the user's own `groups` attribute.
    expect((await patch('Users', user.id, [{ op: 'add', path: 'groups', value: [{ value: admins.id }] }])).status).toBe(200);
    expect(await canAdminister(token)).toBe(200);
    expect((await patch('Users', user.id, [{ op: 'remove', path: 'groups', value: [{ value: admins.id }] }])).status).toBe(200);
    expect(await canAdminister(token)).toBe(403);
  });

  it('refuses cycles, self-membership, unknown members and malformed PatchOps, changing nothing', async () => {
    const a = await create('Groups', { displayName: 'cycle-a' });
    const b = await create('Groups', { displayName: 'cycle-b', members: [{ value: a.id }] });
    const c = await create('Groups', { displayName: 'cycle-c', members: [{ value: b.id }] });
    const edges = await count('group_members');
    const principals = await count('principals');

    const cycle = await patch('Groups', a.id, [{ op: 'add', path: 'members', value: [{ value: c.id }] }]);
    expect(cycle.status).toBe(400);
    expect(cycle.body).toMatchObject({ schemas: [SCIM_ERROR], status: '400', error_code: 'INVALID_PARAMETER_VALUE' });
    expect(cycle.body.detail).toMatch(/cycle/);
    expect((await patch('Groups', c.id, [{ op: 'add', path: 'groups', value: [{ value: a.id }] }])).status).toBe(400);
    expect((await patch('Groups', a.id, [{ op: 'add', path: 'members', value: [{ value: a.id }] }])).status).toBe(400);
    expect((await s.call('PUT', `${SCIM}/Groups/${a.id}`, { displayName: 'cycle-a', members: [{ value: c.id }] })).status).toBe(400);

    const unknown = await patch('Groups', a.id, [
      { op: 'add', path: 'displayName', value: 'renamed-first' },
      { op: 'add', path: 'members', value: [{ value: '987654321' }] },
    ]);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ schemas: [SCIM_ERROR], status: '404' });
    expect((await s.call('POST', `${SCIM}/Groups`, { displayName: 'with-ghost', members: [{ value: '987654321' }] })).status).toBe(404);
    // A user is not a group one can join.
    const u = await create('Users', { userName: 'not-a-group@example.com' });
    expect((await patch('Groups', a.id, [{ op: 'add', path: 'groups', value: [{ value: u.id }] }])).status).toBe(400);

    for (const [what, body] of [
      ['no Operations', { schemas: [PATCH_OP] }],
      ['empty Operations', { Operations: [] }],
      ['unknown op', { Operations: [{ op: 'move', path: 'members', value: [] }] }],
      ['unknown path', { Operations: [{ op: 'replace', path: 'favouriteColour', value: 'blue' }] }],
      ['members not a list', { Operations: [{ op: 'add', path: 'members', value: 'x' }] }],
      ['member without value', { Operations: [{ op: 'add', path: 'members', value: [{ display: 'x' }] }] }],
      ['remove without path', { Operations: [{ op: 'remove' }] }],
      ['no path, value not an object', { Operations: [{ op: 'replace', value: [1] }] }],
      ['empty displayName', { Operations: [{ op: 'replace', path: 'displayName', value: '' }] }],
      ['Operations not a list', { Operations: { op: 'add' } }],
    ] as const) {
      const res = await s.call('PATCH', `${SCIM}/Groups/${a.id}`, body);
      expect(res.status, what).toBe(400);
      expect(res.body.schemas, what).toEqual([SCIM_ERROR]);
    }
    const bad = await patch('Users', u.id, [{ op: 'replace', path: 'active', value: 'maybe' }]);
    expect(bad.status).toBe(400);

    expect(await count('group_members')).toBe(edges);
    expect(await count('principals')).toBe(principals + 1);
    expect((await s.call('GET', `${SCIM}/Groups/${a.id}`)).body).toMatchObject({ displayName: 'cycle-a', members: [] });
    expect((await patch('Groups', '987654321', [{ op: 'add', path: 'members', value: [{ value: a.id }] }])).status).toBe(404);
  });

  it('patches and replaces groups: add, remove, replace members and displayName; duplicate names are 409', async () => {
    const u1 = await create('Users', { userName: 'm1@example.com' });
    const u2 = await create('Users', { userName: 'm2@example.com' });
    const u3 = await create('Users', { userName: 'm3@example.com' });
    const g = await create('Groups', { displayName: 'editors', members: [{ value: u1.id }] });
    const memberIds = async () => ((await s.call('GET', `${SCIM}/Groups/${g.id}`)).body.members as { value: string }[]).map((m) => m.value).sort();
    expect((await patch('Groups', g.id, [{ op: 'Add', path: 'members', value: [{ value: u2.id }, { value: u3.id }] }])).status).toBe(200);
    expect(await memberIds()).toEqual([u1.id, u2.id, u3.id].sort());
    expect((await patch('Groups', g.id, [{ op: 'remove', path: 'members', value: [{ value: u1.id }] }])).status).toBe(200);
    expect(await memberIds()).toEqual([u2.id, u3.id].sort());
    const replaced = await patch('Groups', g.id, [
      { op: 'replace', path: 'members', value: [{ value: u1.id }] },
      { op: 'replace', path: 'displayName', value: 'writers' },
    ]);
    expect(replaced.status).toBe(200);
    expect(replaced.body.displayName).toBe('writers');
    expect(await memberIds()).toEqual([u1.id]);
    // Pathless replace, as some SCIM clients send it.
    expect((await patch('Groups', g.id, [{ op: 'replace', value: { displayName: 'authors', externalId: 'ext-1' } }])).body).toMatchObject({
      displayName: 'authors',
      externalId: 'ext-1',
    });
    await create('Groups', { displayName: 'taken-name' });
    expect((await s.call('POST', `${SCIM}/Groups`, { displayName: 'taken-name' })).status).toBe(409);
    expect((await patch('Groups', g.id, [{ op: 'replace', path: 'displayName', value: 'taken-name' }])).status).toBe(409);

    const put = await s.call('PUT', `${SCIM}/Groups/${g.id}`, { displayName: 'authors', members: [{ value: u2.id }, { value: u3.id }] });
    expect(put.status).toBe(200);
    expect(await memberIds()).toEqual([u2.id, u3.id].sort());
    expect((await s.call('PUT', `${SCIM}/Groups/${g.id}`, { displayName: 'authors' })).body.members).toEqual([]);
    expect((await s.call('GET', `${SCIM}/Groups`, { filter: 'displayName eq "authors"' })).body.totalResults).toBe(1);

    expect((await s.call('DELETE', `${SCIM}/Groups/${g.id}`)).status).toBe(204);
    expect((await s.call('GET', `${SCIM}/Groups/${g.id}`)).status).toBe(404);
    expect((await s.call('DELETE', `${SCIM}/Groups/${g.id}`)).status).toBe(404);
  });

  it('protects the admins group and never leaves it without an active member', async () => {
    const admins = (await s.call('GET', `${SCIM}/Groups`, { filter: 'displayName eq "admins"' })).body.Resources[0] as {
      id: string;
      members: { value: string }[];
    };
    expect((await s.call('DELETE', `${SCIM}/Groups/${admins.id}`)).status).toBe(400);
    expect((await patch('Groups', admins.id, [{ op: 'replace', path: 'displayName', value: 'root' }])).status).toBe(400);
    const emptied = await patch('Groups', admins.id, [{ op: 'replace', path: 'members', value: [] }]);
    expect(emptied.status).toBe(400);
    expect(emptied.body.detail).toMatch(/admins/);
    const me = (await s.call('GET', `${SCIM}/Me`)).body as { id: string };
    expect((await patch('Users', me.id, [{ op: 'replace', path: 'active', value: false }])).status).toBe(400);
    expect((await s.call('GET', `${SCIM}/Groups/${admins.id}`)).body.members).toEqual(admins.members);
    expect(await meStatus(s.adminToken)).toBe(200);
  });

  it('deactivating a user stops their tokens and web sessions at once; reactivating restores them', async () => {
    const { user, token } = await userWithToken('leaver@example.com');
    const login = await fetch(`${s.url}/api/weir/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'leaver@example.com', password: 'long enough password' }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const session = () => fetch(`${s.url}/api/weir/v1/auth/session`, { headers: { cookie } }).then((r) => r.status);
    expect(await meStatus(token)).toBe(200);
    expect(await session()).toBe(200);

    // Databricks' documented shape: value as a list of {"value": "false"}.
    const off = await patch('Users', user.id, [{ op: 'replace', path: 'active', value: [{ value: 'false' }] }]);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect(await meStatus(token)).toBe(401);
    expect(await session()).toBe(401);
    expect((await s.call('GET', `${SCIM}/Users`, { filter: 'userName eq "leaver@example.com" and active eq false' })).body.totalResults).toBe(1);

    expect((await patch('Users', user.id, [{ op: 'replace', path: 'active', value: true }])).status).toBe(200);
    expect(await meStatus(token)).toBe(200);
    // PUT with active:false deactivates too.
    const put = await s.call('PUT', `${SCIM}/Users/${user.id}`, { userName: 'leaver@example.com', displayName: 'Leaver', active: false });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Leaver', active: false });
    expect(await meStatus(token)).toBe(401);
    expect(await session()).toBe(401);
  });

  it('patches user attributes: displayName, name, entitlements; userName is left unchanged', async () => {
    const u = await create('Users', { userName: 'attrs@example.com' });
    const res = await patch('Users', u.id, [
      { op: 'replace', path: 'displayName', value: 'Attr Person' },
      { op: 'add', path: 'name.givenName', value: 'Attr' },
      { op: 'add', path: 'entitlements', value: [{ value: 'databricks-sql-access' }, { value: 'workspace-access' }] },
      { op: 'remove', path: 'entitlements[value eq "workspace-access"]' },
      { op: 'replace', path: 'userName', value: 'someone-else@example.com' },
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      userName: 'attrs@example.com',
      displayName: 'Attr Person',
      name: { givenName: 'Attr' },
      entitlements: [{ value: 'databricks-sql-access' }],
    });
    await create('Users', { userName: 'other-attrs@example.com' });
    expect((await s.call('PUT', `${SCIM}/Users/${u.id}`, { userName: 'other-attrs@example.com' })).status).toBe(409);
  });

  it('service principals: applicationId generated or given, filtered, immutable; duplicates are 409', async () => {
    const generated = await create('ServicePrincipals', { displayName: 'etl-bot' });
    expect(generated.applicationId).toMatch(UUID);
    expect(generated).toMatchObject({ displayName: 'etl-bot', active: true, schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal'] });
    const appId = '6f1c2b8e-1d2a-4b7c-9e8f-0a1b2c3d4e5f';
    const given = await create('ServicePrincipals', { applicationId: appId, displayName: 'ci-bot' });
    expect(given.applicationId).toBe(appId);
    expect((await s.call('POST', `${SCIM}/ServicePrincipals`, { applicationId: appId })).status).toBe(409);
    expect((await s.call('POST', `${SCIM}/ServicePrincipals`, { applicationId: 'not-a-uuid' })).status).toBe(400);
    const found = await s.call('GET', `${SCIM}/ServicePrincipals`, { filter: `applicationId eq "${appId}"` });
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([given.id]);
    expect((await s.call('GET', `${SCIM}/ServicePrincipals`, { filter: 'displayName sw "etl"' })).body.Resources.map((r: { id: string }) => r.id)).toEqual([
      generated.id,
    ]);
    expect((await s.call('PUT', `${SCIM}/ServicePrincipals/${given.id}`, { applicationId: generated.applicationId })).status).toBe(400);
    const put = await s.call('PUT', `${SCIM}/ServicePrincipals/${given.id}`, { displayName: 'ci-bot-2' });
    expect(put.body).toMatchObject({ applicationId: appId, displayName: 'ci-bot-2' });

    // principalByName resolves what grants name: users by userName, groups by displayName, SPs by applicationId or display name.
    const svc = createIdentityService({ db: s.weir.store.db as Kysely<IdentityTables> });
    expect(await svc.principalByName(appId)).toMatchObject({ id: Number(given.id), kind: 'service_principal', name: appId });
    expect(await svc.principalByName(appId.toUpperCase())).toMatchObject({ id: Number(given.id) });
    expect(await svc.principalByName('etl-bot')).toMatchObject({ id: Number(generated.id), kind: 'service_principal' });
    expect(await svc.principalByName('admins')).toMatchObject({ kind: 'group', name: 'admins' });
    expect(await svc.principalByName('admin')).toMatchObject({ kind: 'user', name: 'admin' });
    expect(await svc.principalByName('nobody-at-all')).toBeNull();

    expect((await s.call('DELETE', `${SCIM}/ServicePrincipals/${generated.id}`)).status).toBe(204);
    expect((await s.call('GET', `${SCIM}/ServicePrincipals/${generated.id}`)).status).toBe(404);
  });

  it('token management: admins mint tokens for service principals, list, get and revoke them', async () => {
    const sp = await create('ServicePrincipals', { displayName: 'obo-bot' });
    const { token: userToken } = await userWithToken('not-admin@example.com');
    const refused = await s.call('POST', '/api/2.0/token-management/on-behalf-of/tokens', { application_id: sp.applicationId }, userToken);
    expect(refused.status).toBe(403);
    expect(refused.body.error_code).toBe('PERMISSION_DENIED');
    expect((await s.call('GET', '/api/2.0/token-management/tokens', undefined, userToken)).status).toBe(403);
    expect((await s.call('POST', '/api/2.0/token-management/on-behalf-of/tokens', { application_id: '00000000-0000-0000-0000-000000000000' })).status).toBe(
      404,
    );

    const created = await s.call('POST', '/api/2.0/token-management/on-behalf-of/tokens', {
      application_id: sp.applicationId,
      comment: 'pipeline',
      lifetime_seconds: 3600,
    });
    expect(created.status, created.text).toBe(200);
    const { token_value, token_info } = created.body;
    expect(token_value).toMatch(/^dapi[0-9a-f]{40}$/);
    const adminId = Number((await s.call('GET', `${SCIM}/Me`)).body.id);
    expect(token_info).toMatchObject({ comment: 'pipeline', owner_id: Number(sp.id), created_by_id: adminId, created_by_username: 'admin' });
    expect(token_info.expiry_time - token_info.creation_time).toBe(3_600_000);

    // The token acts as the service principal.
    const me = await s.call('GET', `${SCIM}/Me`, undefined, token_value);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: sp.id, userName: sp.applicationId, displayName: 'obo-bot' });

    const all = await s.call('GET', '/api/2.0/token-management/tokens');
    expect(all.body.token_infos.map((t: { token_id: string }) => t.token_id)).toContain(token_info.token_id);
    const byAdmin = await s.call('GET', '/api/2.0/token-management/tokens', { created_by_username: 'admin' });
    expect(byAdmin.body.token_infos.map((t: { token_id: string }) => t.token_id)).toContain(token_info.token_id);
    expect(byAdmin.body.token_infos.every((t: { created_by_id: number }) => t.created_by_id === adminId)).toBe(true);
    const byOther = await s.call('GET', '/api/2.0/token-management/tokens', { created_by_username: 'not-admin@example.com' });
    expect(byOther.body.token_infos.length).toBe(1);
    expect(byOther.body.token_infos.map((t: { token_id: string }) => t.token_id)).not.toContain(token_info.token_id);
    const byId = await s.call('GET', '/api/2.0/token-management/tokens', { created_by_id: adminId });
    expect(byId.body.token_infos.map((t: { token_id: string }) => t.token_id)).toContain(token_info.token_id);
    expect(JSON.stringify(all.body)).not.toContain(token_value);

    expect((await s.call('GET', `/api/2.0/token-management/tokens/${token_info.token_id}`)).body.token_info).toEqual(token_info);
    expect((await s.call('DELETE', `/api/2.0/token-management/tokens/${token_info.token_id}`)).status).toBe(200);
    expect(await meStatus(token_value)).toBe(401);
    expect((await s.call('GET', `/api/2.0/token-management/tokens/${token_info.token_id}`)).status).toBe(404);
    expect((await s.call('DELETE', `/api/2.0/token-management/tokens/${token_info.token_id}`)).status).toBe(404);
  });

  it('deactivating or deleting a service principal stops its tokens at once', async () => {
    const sp = await create('ServicePrincipals', { displayName: 'short-lived-bot' });
    const mint = async () =>
      (await s.call('POST', '/api/2.0/token-management/on-behalf-of/tokens', { application_id: sp.applicationId })).body.token_value as string;
    const token = await mint();
    expect(await meStatus(token)).toBe(200);
    expect((await patch('ServicePrincipals', sp.id, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200);
    expect(await meStatus(token)).toBe(401);
    const inactive = await s.call('POST', '/api/2.0/token-management/on-behalf-of/tokens', { application_id: sp.applicationId });
    expect(inactive.status).toBe(400);
    expect((await patch('ServicePrincipals', sp.id, [{ op: 'replace', path: 'active', value: true }])).status).toBe(200);
    expect(await meStatus(token)).toBe(200);
    const tokens = await count('tokens');
    expect((await s.call('DELETE', `${SCIM}/ServicePrincipals/${sp.id}`)).status).toBe(204);
    expect(await meStatus(token)).toBe(401);
    expect(await count('tokens')).toBe(tokens - 1);
  });

  it('concurrent membership writes are all kept, and of two writes that together make a cycle only one lands', async () => {
    const g = await create('Groups', { displayName: 'crowd' });
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => create('Users', { userName: `crowd-${i}@example.com` })));
    const results = await Promise.all(users.map((u) => patch('Groups', g.id, [{ op: 'add', path: 'members', value: [{ value: u.id }] }])));
    expect(results.map((r) => r.status)).toEqual(users.map(() => 200));
    const members = ((await s.call('GET', `${SCIM}/Groups/${g.id}`)).body.members as { value: string }[]).map((m) => m.value).sort();
    expect(members).toEqual(users.map((u) => u.id).sort());

    const x = await create('Groups', { displayName: 'race-x' });
    const y = await create('Groups', { displayName: 'race-y' });
    const [xy, yx] = await Promise.all([
      patch('Groups', x.id, [{ op: 'add', path: 'members', value: [{ value: y.id }] }]),
      patch('Groups', y.id, [{ op: 'add', path: 'members', value: [{ value: x.id }] }]),
    ]);
    expect([xy.status, yx.status].sort()).toEqual([200, 400]);
    const xMembers = (await s.call('GET', `${SCIM}/Groups/${x.id}`)).body.members.length;
    const yMembers = (await s.call('GET', `${SCIM}/Groups/${y.id}`)).body.members.length;
    expect(xMembers + yMembers).toBe(1);
  });

  it('another replica over the same store sees membership and deactivation writes through the shared epoch', async () => {
    const db = s.weir.store.db as Kysely<IdentityTables>;
    const replica = createIdentityService({ db, epochCheckMs: 0 });
    const { user, token } = await userWithToken('replica@example.com');
    const g = await create('Groups', { displayName: 'replica-group' });
    expect(await replica.groupsOf(Number(user.id))).toEqual([]);
    expect((await replica.authenticate(`Bearer ${token}`))?.id).toBe(Number(user.id));
    // Written through the server's own service; the replica has both answers cached.
    expect((await patch('Groups', g.id, [{ op: 'add', path: 'members', value: [{ value: user.id }] }])).status).toBe(200);
    expect(await replica.groupsOf(Number(user.id))).toEqual([Number(g.id)]);
    expect((await patch('Users', user.id, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200);
    expect(await replica.authenticate(`Bearer ${token}`)).toBeNull();
    expect(await replica.principalById(Number(user.id))).toBeNull();
  });

  it('lets another domain clean up inside the deleting transaction; a failing listener aborts the deletion', async () => {
    const svc = createIdentityService({ db: s.weir.store.db as Kysely<IdentityTables> });
    const seen: number[] = [];
    let refuse = false;
    svc.onPrincipalDeleted(async (id) => {
      if (refuse) throw new Error('listener refused');
      seen.push(id);
    });
    const kept = await create('Groups', { displayName: 'hook-kept' });
    refuse = true;
    await expect(svc.deletePrincipal('group', kept.id)).rejects.toThrow('listener refused');
    expect((await s.call('GET', `${SCIM}/Groups/${kept.id}`)).status).toBe(200);
    refuse = false;
    await svc.deletePrincipal('group', kept.id);
    expect(seen).toEqual([Number(kept.id)]);
    expect((await s.call('GET', `${SCIM}/Groups/${kept.id}`)).status).toBe(404);
  });

  it('refuses non-admins on every SCIM collection and lets anyone read Me', async () => {
    const { token } = await userWithToken('plain@example.com');
    for (const kind of ['Users', 'Groups', 'ServicePrincipals']) {
      const res = await s.call('GET', `${SCIM}/${kind}`, undefined, token);
      expect(res.status, kind).toBe(403);
      expect(res.body.schemas).toEqual([SCIM_ERROR]);
      expect((await s.call('POST', `${SCIM}/${kind}`, { displayName: 'x', userName: 'x' }, token)).status).toBe(403);
    }
    expect((await s.call('GET', `${SCIM}/Groups`, undefined, null)).status).toBe(401);
    const me = await s.call('GET', `${SCIM}/Me`, undefined, token);
    expect(me.body).toMatchObject({ userName: 'plain@example.com', active: true });
  });
});
