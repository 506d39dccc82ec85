import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { makeGroup, makeUser, type TestUser } from './governance.test-helpers.ts';

const UC = '/api/2.1/unity-catalog';
const DATABRICKS_UA = 'databricks-sdk-py/0.133.0 python/3.12 os/linux auth/pat';
const OSS_UA = 'OpenAPI-Generator/0.7.0/python';
const COLUMNS = [{ name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0 }];

describe.each(testBackends)('Unity Catalog grants on $name', (backend) => {
  let s: TestServer;
  let owner: TestUser;
  let grantee: TestUser;
  let stranger: TestUser;

  async function as(user: TestUser | null, method: string, path: string, body?: unknown, userAgent?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Bearer ${user.token}`;
    if (userAgent) headers['user-agent'] = userAgent;
    let url = `${s.url}${path}`;
    let payload: string | undefined;
    if (body !== undefined && method === 'GET') url += `?${new URLSearchParams(body as Record<string, string>)}`;
    else if (body !== undefined) payload = JSON.stringify(body);
    const res = await fetch(url, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }
  const grant = (by: TestUser, type: string, name: string, principal: string, add: string[], ua?: string) =>
    as(by, 'PATCH', `${UC}/permissions/${type}/${name}`, { changes: [{ principal, add }] }, ua);
  const table = (name: string, schema = 's') => ({
    name,
    catalog_name: 'gc',
    schema_name: schema,
    table_type: 'MANAGED',
    data_source_format: 'DELTA',
    columns: COLUMNS,
  });

  beforeAll(async () => {
    s = await startTestServer(backend);
    owner = await makeUser(s, 'owner@example.com');
    grantee = await makeUser(s, 'grantee@example.com');
    stranger = await makeUser(s, 'stranger@example.com');
    // grantee is in `analysts`, which is in `team`: grants to `team` reach grantee through two levels.
    const analysts = await makeGroup(s, 'analysts', [grantee.id]);
    await makeGroup(s, 'team', [analysts]);
    const admin = { id: 0, userName: 'admin', token: s.adminToken };
    expect((await grant(admin, 'metastore', 'metastore', owner.userName, ['CREATE_CATALOG'])).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/catalogs`, { name: 'gc' })).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/schemas`, { name: 's', catalog_name: 'gc' })).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/tables`, table('t'))).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/volumes`, { name: 'v', catalog_name: 'gc', schema_name: 's', volume_type: 'MANAGED' })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('creating a catalog needs CREATE_CATALOG on the metastore', async () => {
    expect((await as(stranger, 'POST', `${UC}/catalogs`, { name: 'nope' })).status).toBe(403);
    expect((await as(null, 'POST', `${UC}/catalogs`, { name: 'nope' })).status).toBe(401);
  });

  it('grants reach a member of a nested group, with inheritance from catalog and schema', async () => {
    expect((await as(grantee, 'GET', `${UC}/tables/gc.s.t`)).status).toBe(403);
    expect((await grant(owner, 'catalog', 'gc', 'team', ['USE_CATALOG'])).status).toBe(200);
    expect((await as(grantee, 'GET', `${UC}/tables/gc.s.t`)).status).toBe(403);
    // USE SCHEMA and SELECT granted on the schema reach every table in it.
    expect((await grant(owner, 'schema', 'gc.s', 'team', ['USE SCHEMA', 'select'], OSS_UA)).status).toBe(200);
    const got = await as(grantee, 'GET', `${UC}/tables/gc.s.t`);
    expect(got.status).toBe(200);
    expect(got.body.full_name).toBe('gc.s.t');
    expect((await as(stranger, 'GET', `${UC}/tables/gc.s.t`)).status).toBe(403);
    // SELECT does not open a volume.
    expect((await as(grantee, 'GET', `${UC}/volumes/gc.s.v`)).status).toBe(403);
  });

  it('answers in the caller dialect and reads both spellings', async () => {
    await grant(owner, 'volume', 'gc.s.v', 'team', ['READ VOLUME'], OSS_UA);
    const dbx = await as(owner, 'GET', `${UC}/permissions/volume/gc.s.v`, undefined, DATABRICKS_UA);
    expect(dbx.body).toEqual({ privilege_assignments: [{ principal: 'team', privileges: ['READ_VOLUME'] }] });
    const oss = await as(owner, 'GET', `${UC}/permissions/VOLUME/gc.s.v`, undefined, OSS_UA);
    expect(oss.body).toEqual({ privilege_assignments: [{ principal: 'team', privileges: ['READ VOLUME'] }] });
    expect((await as(grantee, 'GET', `${UC}/volumes/gc.s.v`)).status).toBe(200);
  });

  it('shows effective permissions with where each is inherited from', async () => {
    const eff = await as(owner, 'GET', `${UC}/effective-permissions/table/gc.s.t`, { principal: grantee.userName }, DATABRICKS_UA);
    expect(eff.status).toBe(200);
    expect(eff.body.privilege_assignments).toHaveLength(1);
    expect(eff.body.privilege_assignments[0].principal).toBe(grantee.userName);
    expect(new Set(eff.body.privilege_assignments[0].privileges)).toEqual(
      new Set([
        { privilege: 'USE_SCHEMA', inherited_from_type: 'SCHEMA', inherited_from_name: 'gc.s' },
        { privilege: 'SELECT', inherited_from_type: 'SCHEMA', inherited_from_name: 'gc.s' },
        { privilege: 'USE_CATALOG', inherited_from_type: 'CATALOG', inherited_from_name: 'gc' },
      ]),
    );
    // A stranger may not read another principal's effective permissions.
    expect((await as(stranger, 'GET', `${UC}/effective-permissions/table/gc.s.t`, { principal: grantee.userName })).status).toBe(403);
  });

  it('refuses bad grants: unknown principal 404, wrong privilege for the type 400, no MANAGE 403, and changes nothing', async () => {
    const before = await as(owner, 'GET', `${UC}/permissions/table/gc.s.t`);
    expect((await grant(owner, 'table', 'gc.s.t', 'nobody@example.com', ['SELECT'])).status).toBe(404);
    const wrongType = await grant(owner, 'table', 'gc.s.t', 'team', ['READ_VOLUME']);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await grant(owner, 'table', 'gc.s.t', 'team', ['FLY'])).status).toBe(400);
    expect((await grant(owner, 'gadget', 'gc.s.t', 'team', ['SELECT'])).status).toBe(400);
    expect((await grant(owner, 'table', 'gc.s.missing', 'team', ['SELECT'])).status).toBe(404);
    const refused = await grant(grantee, 'table', 'gc.s.t', grantee.userName, ['MODIFY']);
    expect(refused.status).toBe(403);
    expect(refused.body.error_code).toBe('PERMISSION_DENIED');
    expect((await grant(stranger, 'metastore', 'metastore', stranger.userName, ['CREATE_CATALOG'])).status).toBe(403);
    // One bad change in a PATCH means none of it applies.
    const mixed = await as(owner, 'PATCH', `${UC}/permissions/table/gc.s.t`, {
      changes: [
        { principal: stranger.userName, add: ['SELECT'] },
        { principal: 'ghost', add: ['SELECT'] },
      ],
    });
    expect(mixed.status).toBe(404);
    expect((await as(owner, 'GET', `${UC}/permissions/table/gc.s.t`)).body).toEqual(before.body);
    expect((await as(stranger, 'GET', `${UC}/tables/gc.s.t`)).status).toBe(403);
  });

  it('MANAGE lets a grantee grant; ALL_PRIVILEGES does not include MANAGE', async () => {
    expect((await as(owner, 'POST', `${UC}/tables`, table('managed_by_team'))).status).toBe(200);
    await grant(owner, 'table', 'gc.s.managed_by_team', 'analysts', ['ALL_PRIVILEGES']);
    expect((await grant(grantee, 'table', 'gc.s.managed_by_team', stranger.userName, ['SELECT'])).status).toBe(403);
    await grant(owner, 'table', 'gc.s.managed_by_team', 'analysts', ['MANAGE']);
    expect((await grant(grantee, 'table', 'gc.s.managed_by_team', stranger.userName, ['SELECT'])).status).toBe(200);
    // Non-managers see only their own assignments; managers see all.
    const strangerView = await as(stranger, 'GET', `${UC}/permissions/table/gc.s.managed_by_team`);
    expect(strangerView.body).toEqual({ privilege_assignments: [{ principal: stranger.userName, privileges: ['SELECT'] }] });
    const managerView = await as(grantee, 'GET', `${UC}/permissions/table/gc.s.managed_by_team`);
    expect(managerView.body.privilege_assignments.map((a: { principal: string }) => a.principal)).toEqual(['analysts', stranger.userName]);
  });

  it('revokes', async () => {
    expect((await as(owner, 'POST', `${UC}/tables`, table('revocable'))).status).toBe(200);
    await grant(owner, 'table', 'gc.s.revocable', stranger.userName, ['SELECT']);
    await grant(owner, 'catalog', 'gc', stranger.userName, ['USE_CATALOG']);
    await grant(owner, 'schema', 'gc.s', stranger.userName, ['USE_SCHEMA']);
    expect((await as(stranger, 'GET', `${UC}/tables/gc.s.revocable`)).status).toBe(200);
    const revoked = await as(owner, 'PATCH', `${UC}/permissions/table/gc.s.revocable`, { changes: [{ principal: stranger.userName, remove: ['SELECT'] }] });
    expect(revoked.body).toEqual({ privilege_assignments: [] });
    expect((await as(stranger, 'GET', `${UC}/tables/gc.s.revocable`)).status).toBe(403);
    await as(owner, 'PATCH', `${UC}/permissions/catalog/gc`, { changes: [{ principal: stranger.userName, remove: ['USE_CATALOG'] }] });
    await as(owner, 'PATCH', `${UC}/permissions/schema/gc.s`, { changes: [{ principal: stranger.userName, remove: ['USE_SCHEMA'] }] });
  });

  it('drops the grants of a dropped object, so a new object of the same name starts with none', async () => {
    expect((await as(owner, 'POST', `${UC}/tables`, table('reborn'))).status).toBe(200);
    await grant(owner, 'table', 'gc.s.reborn', stranger.userName, ['SELECT']);
    expect((await as(owner, 'DELETE', `${UC}/tables/gc.s.reborn`)).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/tables`, table('reborn'))).status).toBe(200);
    expect((await as(owner, 'GET', `${UC}/permissions/table/gc.s.reborn`)).body).toEqual({ privilege_assignments: [] });
  });

  it('moves grants with a renamed schema', async () => {
    expect((await as(owner, 'POST', `${UC}/schemas`, { name: 'old', catalog_name: 'gc' })).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/tables`, table('x', 'old'))).status).toBe(200);
    await grant(owner, 'schema', 'gc.old', 'team', ['USE_SCHEMA']);
    await grant(owner, 'table', 'gc.old.x', 'team', ['SELECT']);
    expect((await as(owner, 'PATCH', `${UC}/schemas/gc.old`, { new_name: 'renamed' })).status).toBe(200);
    expect((await as(grantee, 'GET', `${UC}/tables/gc.renamed.x`)).status).toBe(200);
    expect((await as(owner, 'GET', `${UC}/permissions/table/gc.renamed.x`)).body).toEqual({
      privilege_assignments: [{ principal: 'team', privileges: ['SELECT'] }],
    });
  });

  it('lists only what the caller may see, in full pages', async () => {
    expect((await as(owner, 'POST', `${UC}/schemas`, { name: 'paged', catalog_name: 'gc' })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await as(owner, 'POST', `${UC}/tables`, table(`a${i}`, 'paged'))).status).toBe(200);
    await grant(owner, 'schema', 'gc.paged', 'team', ['USE_SCHEMA']);
    for (const t of ['a3', 'a7', 'a8']) await grant(owner, 'table', `gc.paged.${t}`, 'team', ['SELECT']);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await as(grantee, 'GET', `${UC}/tables`, {
        catalog_name: 'gc',
        schema_name: 'paged',
        max_results: '2',
        ...(token ? { page_token: token } : {}),
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.tables.map((t: { name: string }) => t.name));
      token = page.body.next_page_token;
      pages++;
    } while (token && pages < 10);
    expect(seen).toEqual(['a3', 'a7', 'a8']);
    expect(pages).toBe(2);
    const strangerList = await as(stranger, 'GET', `${UC}/tables`, { catalog_name: 'gc', schema_name: 'paged' });
    expect(strangerList.body.tables).toEqual([]);
    const ownerList = await as(owner, 'GET', `${UC}/tables`, { catalog_name: 'gc', schema_name: 'paged' });
    expect(ownerList.body.tables).toHaveLength(10);
    const catalogs = await as(grantee, 'GET', `${UC}/catalogs`);
    expect(catalogs.body.catalogs.map((c: { name: string }) => c.name)).toEqual(['gc']);
    expect((await as(stranger, 'GET', `${UC}/catalogs`)).body.catalogs.map((c: { name: string }) => c.name)).not.toContain('gc');
  });

  it('refuses an unknown principal as a new owner and a stranger changing the owner', async () => {
    expect((await as(owner, 'PATCH', `${UC}/catalogs/gc`, { owner: 'ghost@example.com' })).status).toBe(404);
    expect((await as(stranger, 'PATCH', `${UC}/catalogs/gc`, { owner: stranger.userName })).status).toBe(403);
    expect((await as(owner, 'GET', `${UC}/catalogs/gc`)).body.owner).toBe(owner.userName);
  });
});
