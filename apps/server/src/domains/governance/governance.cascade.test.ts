// Grants live and die with their objects: drops (REST, forced REST, SQL, registry) take them away, renames (REST, SQL,
// MLflow) move them, and an object re-created under an old name starts with none. Ownership moves through PATCH and
// SQL with the same checks everywhere (unknown principal 404, non-owner 403); UC models are read through EXECUTE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlFunctionInfo, startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { makeGroup, makeUser, type TestUser } from './governance.test-helpers.ts';

const UC = '/api/2.1/unity-catalog';
const COLUMNS = [{ name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0 }];

describe.each(testBackends)('grant cascades and ownership on $name', (backend) => {
  let s: TestServer;
  let owner: TestUser;
  let grantee: TestUser;
  let other: TestUser;
  let admin: TestUser;

  async function as(user: TestUser, method: string, path: string, body?: unknown) {
    const res = await s.call(method, path, body, user.token);
    return { status: res.status, body: res.body };
  }
  async function sql(user: TestUser, statement: string) {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' }, user.token);
    expect(res.status, res.text).toBe(200);
    return res.body as { status: { state: string; error?: { message: string; error_code?: string } }; result?: { data_array?: string[][] } };
  }
  async function ok(user: TestUser, statement: string) {
    const r = await sql(user, statement);
    expect(r.status.state, `${statement}: ${r.status.error?.message}`).toBe('SUCCEEDED');
    return r;
  }
  /** Direct grants on an object as the admin reads them: `principal:PRIVILEGE`, sorted. */
  async function grantsOn(type: string, name: string): Promise<string[]> {
    const res = await as(admin, 'GET', `${UC}/permissions/${type}/${name}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.privilege_assignments as { principal: string; privileges: string[] }[])
      .flatMap((a) => a.privileges.map((p) => `${a.principal}:${p}`))
      .sort();
  }
  const grant = async (type: string, name: string, principal: string, add: string[]) => {
    const res = await as(admin, 'PATCH', `${UC}/permissions/${type}/${name}`, { changes: [{ principal, add }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const table = (catalog: string, schema: string, name: string) => ({
    name,
    catalog_name: catalog,
    schema_name: schema,
    table_type: 'MANAGED',
    data_source_format: 'DELTA',
    columns: COLUMNS,
  });
  const fn = (name: string) => ({ function_info: sqlFunctionInfo('cc', 's', name) });

  beforeAll(async () => {
    s = await startTestServer(backend);
    admin = { id: 0, userName: 'admin', token: s.adminToken };
    owner = await makeUser(s, 'cc-owner@example.com');
    grantee = await makeUser(s, 'cc-grantee@example.com');
    other = await makeUser(s, 'cc-other@example.com');
    await makeGroup(s, 'cc_readers', [grantee.id]);
    await grant('metastore', 'metastore', owner.userName, ['CREATE_CATALOG']);
    expect((await as(owner, 'POST', `${UC}/catalogs`, { name: 'cc' })).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/schemas`, { name: 's', catalog_name: 'cc' })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('a table dropped through REST and re-created with its name starts without the old grants', async () => {
    expect((await as(owner, 'POST', `${UC}/tables`, table('cc', 's', 'rest_t'))).status).toBe(200);
    await grant('catalog', 'cc', 'cc_readers', ['USE_CATALOG']);
    await grant('schema', 'cc.s', 'cc_readers', ['USE_SCHEMA']);
    await grant('table', 'cc.s.rest_t', 'cc_readers', ['SELECT']);
    expect((await as(grantee, 'GET', `${UC}/tables/cc.s.rest_t`)).status).toBe(200);
    expect((await as(owner, 'DELETE', `${UC}/tables/cc.s.rest_t`)).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/tables`, table('cc', 's', 'rest_t'))).status).toBe(200);
    expect(await grantsOn('table', 'cc.s.rest_t')).toEqual([]);
    expect((await as(grantee, 'GET', `${UC}/tables/cc.s.rest_t`)).status).toBe(403);
  });

  it('SQL DROP TABLE, VOLUME and FUNCTION take the grants with them', async () => {
    await ok(owner, 'CREATE TABLE cc.s.sql_t (id BIGINT)');
    await ok(owner, 'INSERT INTO cc.s.sql_t VALUES (1)');
    await ok(owner, 'CREATE VOLUME cc.s.sql_v');
    expect((await as(owner, 'POST', `${UC}/functions`, fn('sql_f'))).status).toBe(200);
    await grant('table', 'cc.s.sql_t', 'cc_readers', ['SELECT']);
    await grant('volume', 'cc.s.sql_v', 'cc_readers', ['READ_VOLUME']);
    await grant('function', 'cc.s.sql_f', 'cc_readers', ['EXECUTE']);
    expect((await sql(grantee, 'SELECT count(*) FROM cc.s.sql_t')).status.state).toBe('SUCCEEDED');
    await ok(owner, 'DROP TABLE cc.s.sql_t');
    await ok(owner, 'DROP VOLUME cc.s.sql_v');
    await ok(owner, 'DROP FUNCTION cc.s.sql_f');
    await ok(owner, 'CREATE TABLE cc.s.sql_t (id BIGINT)');
    await ok(owner, 'CREATE VOLUME cc.s.sql_v');
    expect((await as(owner, 'POST', `${UC}/functions`, fn('sql_f'))).status).toBe(200);
    expect(await grantsOn('table', 'cc.s.sql_t')).toEqual([]);
    expect(await grantsOn('volume', 'cc.s.sql_v')).toEqual([]);
    expect(await grantsOn('function', 'cc.s.sql_f')).toEqual([]);
    const refused = await sql(grantee, 'SELECT count(*) FROM cc.s.sql_t');
    expect(refused.status.state).toBe('FAILED');
    expect(refused.status.error?.message).toMatch(/SELECT/);
  });

  it('dropping a schema or catalog (SQL CASCADE or REST force) forgets the grants of everything inside', async () => {
    await ok(admin, 'CREATE CATALOG dropme');
    await ok(admin, 'CREATE SCHEMA dropme.inner');
    await ok(admin, 'CREATE TABLE dropme.inner.t (id BIGINT)');
    await ok(admin, 'CREATE SCHEMA dropme.rest');
    await ok(admin, 'CREATE TABLE dropme.rest.t (id BIGINT)');
    await grant('catalog', 'dropme', 'cc_readers', ['USE_CATALOG']);
    await grant('schema', 'dropme.inner', 'cc_readers', ['USE_SCHEMA']);
    await grant('table', 'dropme.inner.t', 'cc_readers', ['SELECT']);
    await grant('table', 'dropme.rest.t', 'cc_readers', ['MODIFY']);
    expect((await as(admin, 'DELETE', `${UC}/schemas/dropme.rest?force=true`)).status).toBe(200);
    await ok(admin, 'CREATE SCHEMA dropme.rest');
    await ok(admin, 'CREATE TABLE dropme.rest.t (id BIGINT)');
    expect(await grantsOn('table', 'dropme.rest.t')).toEqual([]);
    // The other schema's grants are untouched by the first drop.
    expect(await grantsOn('table', 'dropme.inner.t')).toEqual(['cc_readers:SELECT']);
    await ok(admin, 'DROP CATALOG dropme CASCADE');
    await ok(admin, 'CREATE CATALOG dropme');
    await ok(admin, 'CREATE SCHEMA dropme.inner');
    await ok(admin, 'CREATE TABLE dropme.inner.t (id BIGINT)');
    expect(await grantsOn('catalog', 'dropme')).toEqual([]);
    expect(await grantsOn('schema', 'dropme.inner')).toEqual([]);
    expect(await grantsOn('table', 'dropme.inner.t')).toEqual([]);
    expect((await sql(grantee, 'SELECT count(*) FROM dropme.inner.t')).status.state).toBe('FAILED');
  });

  it('renames move grants: a catalog (with what is inside), a schema, a volume, and a table through SQL', async () => {
    await ok(admin, 'CREATE CATALOG mv');
    await ok(admin, 'CREATE SCHEMA mv.a');
    await ok(admin, 'CREATE TABLE mv.a.t (id BIGINT)');
    await ok(admin, 'INSERT INTO mv.a.t VALUES (7)');
    await ok(admin, 'CREATE VOLUME mv.a.v');
    await grant('catalog', 'mv', 'cc_readers', ['USE_CATALOG']);
    await grant('schema', 'mv.a', 'cc_readers', ['USE_SCHEMA']);
    await grant('table', 'mv.a.t', 'cc_readers', ['SELECT']);
    await grant('volume', 'mv.a.v', 'cc_readers', ['READ_VOLUME']);
    expect((await as(admin, 'PATCH', `${UC}/catalogs/mv`, { new_name: 'mv2' })).status).toBe(200);
    expect(await grantsOn('catalog', 'mv2')).toEqual(['cc_readers:USE_CATALOG']);
    expect(await grantsOn('table', 'mv2.a.t')).toEqual(['cc_readers:SELECT']);
    expect((await as(admin, 'PATCH', `${UC}/schemas/mv2.a`, { new_name: 'b' })).status).toBe(200);
    expect(await grantsOn('schema', 'mv2.b')).toEqual(['cc_readers:USE_SCHEMA']);
    expect((await as(admin, 'PATCH', `${UC}/volumes/mv2.b.v`, { new_name: 'v2' })).status).toBe(200);
    expect(await grantsOn('volume', 'mv2.b.v2')).toEqual(['cc_readers:READ_VOLUME']);
    await ok(admin, 'ALTER TABLE mv2.b.t RENAME TO t2');
    expect(await grantsOn('table', 'mv2.b.t2')).toEqual(['cc_readers:SELECT']);
    const read = await ok(grantee, 'SELECT id FROM mv2.b.t2');
    expect(read.result?.data_array).toEqual([['7']]);
    // Objects created under the old names have none of them.
    await ok(admin, 'CREATE CATALOG mv');
    await ok(admin, 'CREATE SCHEMA mv2.a');
    await ok(admin, 'CREATE TABLE mv2.b.t (id BIGINT)');
    expect(await grantsOn('catalog', 'mv')).toEqual([]);
    expect(await grantsOn('schema', 'mv2.a')).toEqual([]);
    expect(await grantsOn('table', 'mv2.b.t')).toEqual([]);
    // A rename into another schema, onto a taken name, or by a non-owner is refused and moves nothing.
    expect((await sql(admin, 'ALTER TABLE mv2.b.t2 RENAME TO mv2.a.t2')).status.state).toBe('FAILED');
    expect((await sql(admin, 'ALTER TABLE mv2.b.t2 RENAME TO t')).status.state).toBe('FAILED');
    expect((await sql(grantee, 'ALTER TABLE mv2.b.t2 RENAME TO t3')).status.state).toBe('FAILED');
    expect(await grantsOn('table', 'mv2.b.t2')).toEqual(['cc_readers:SELECT']);
  });

  it('registered models: deletes forget grants, MLflow renames move them', async () => {
    expect((await as(owner, 'POST', `${UC}/models`, { name: 'm', catalog_name: 'cc', schema_name: 's' })).status).toBe(200);
    await grant('function', 'cc.s.m', 'cc_readers', ['EXECUTE']);
    expect(await grantsOn('registered_model', 'cc.s.m')).toEqual(['cc_readers:EXECUTE']);
    const renamed = await as(owner, 'POST', '/api/2.0/mlflow/registered-models/rename', { name: 'cc.s.m', new_name: 'cc.s.m2' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(await grantsOn('registered_model', 'cc.s.m2')).toEqual(['cc_readers:EXECUTE']);
    expect((await as(owner, 'DELETE', `${UC}/models/cc.s.m2`)).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/models`, { name: 'm2', catalog_name: 'cc', schema_name: 's' })).status).toBe(200);
    expect(await grantsOn('registered_model', 'cc.s.m2')).toEqual([]);
    // The MLflow delete forgets them too.
    await grant('registered_model', 'cc.s.m2', 'cc_readers', ['EXECUTE']);
    expect((await as(owner, 'DELETE', `/api/2.0/mlflow/registered-models/delete?name=cc.s.m2`)).status).toBe(200);
    expect((await as(owner, 'POST', `${UC}/models`, { name: 'm2', catalog_name: 'cc', schema_name: 's' })).status).toBe(200);
    expect(await grantsOn('registered_model', 'cc.s.m2')).toEqual([]);
  });

  it('grants a lost cascade left behind (a kill after a drop committed) never reach an object created with the name', async () => {
    // The state such a kill leaves: grants on names no object has.
    const db = s.weir.store.db;
    const leftovers = [
      ['table', 'cc.s.ghost'],
      ['schema', 'cc.ghost_schema'],
      ['table', 'cc.ghost_schema.t'],
      ['registered_model', 'cc.s.ghost_model'],
    ];
    for (const [type, name] of leftovers) {
      await db
        .insertInto('uc_grants' as never)
        .values({ securable_type: type, full_name: name, principal_id: grantee.id, privilege: type === 'schema' ? 'USE_SCHEMA' : 'SELECT' } as never)
        .execute();
    }
    await db
      .updateTable('uc_grants_version' as never)
      .set({ version: 1_000_000 } as never)
      .execute();
    expect((await as(admin, 'GET', `${UC}/permissions/table/cc.s.ghost`)).status).toBe(404);
    // The store is what every replica's cache reloads from, so it is checked directly.
    const stored = async (name: string) =>
      (
        await db
          .selectFrom('uc_grants' as never)
          .select('privilege' as never)
          .where('full_name' as never, '=', name as never)
          .execute()
      ).length;
    expect(await stored('cc.s.ghost')).toBe(1);
    await ok(owner, 'CREATE TABLE cc.s.ghost (id BIGINT)');
    expect(await stored('cc.s.ghost')).toBe(0);
    expect(await grantsOn('table', 'cc.s.ghost')).toEqual([]);
    // A new container sweeps the names inside it too.
    await ok(owner, 'CREATE SCHEMA cc.ghost_schema');
    expect(await stored('cc.ghost_schema')).toBe(0);
    expect(await stored('cc.ghost_schema.t')).toBe(0);
    expect((await as(owner, 'POST', `${UC}/models`, { name: 'ghost_model', catalog_name: 'cc', schema_name: 's' })).status).toBe(200);
    expect(await stored('cc.s.ghost_model')).toBe(0);
    expect((await sql(grantee, 'SELECT count(*) FROM cc.s.ghost')).status.state).toBe('FAILED');
  });

  it('a grant written after the object appeared survives the sweep of the name (only older grants are leftovers)', async () => {
    const db = s.weir.store.db;
    // Stands for a grant another request made between the table's row commit and the sweep: it is younger than the table.
    const later = Date.now() + 60_000;
    const rows = [
      { privilege: 'SELECT', granted_at: 1 },
      { privilege: 'MODIFY', granted_at: later },
    ];
    for (const r of rows) {
      await db
        .insertInto('uc_grants' as never)
        .values({ securable_type: 'table', full_name: 'cc.s.raced', principal_id: grantee.id, ...r } as never)
        .execute();
    }
    await ok(owner, 'CREATE TABLE cc.s.raced (id BIGINT)');
    const left = await db
      .selectFrom('uc_grants' as never)
      .select('privilege' as never)
      .where('full_name' as never, '=', 'cc.s.raced' as never)
      .execute();
    expect(left.map((r) => (r as { privilege: string }).privilege)).toEqual(['MODIFY']);
  });

  it('PATCH owner on a table: unknown principal 404, non-owner 403, and the new owner manages it', async () => {
    expect((await as(owner, 'POST', `${UC}/tables`, table('cc', 's', 'own_t'))).status).toBe(200);
    const unknown = await as(owner, 'PATCH', `${UC}/tables/cc.s.own_t`, { owner: 'nobody@example.com' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await as(other, 'PATCH', `${UC}/tables/cc.s.own_t`, { owner: other.userName })).status).toBe(403);
    expect((await as(admin, 'GET', `${UC}/tables/cc.s.own_t`)).body.owner).toBe(owner.userName);
    // `other` may not grant on it yet; after the transfer it may, and it reads the table through ownership alone.
    expect((await as(other, 'PATCH', `${UC}/permissions/table/cc.s.own_t`, { changes: [{ principal: grantee.userName, add: ['SELECT'] }] })).status).toBe(403);
    const moved = await as(owner, 'PATCH', `${UC}/tables/cc.s.own_t`, { owner: other.userName });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.owner).toBe(other.userName);
    expect((await as(admin, 'GET', `${UC}/tables/cc.s.own_t`)).body.owner).toBe(other.userName);
    await grant('catalog', 'cc', other.userName, ['USE_CATALOG']);
    await grant('schema', 'cc.s', other.userName, ['USE_SCHEMA']);
    expect((await as(other, 'GET', `${UC}/tables/cc.s.own_t`)).status).toBe(200);
    expect((await as(other, 'PATCH', `${UC}/permissions/table/cc.s.own_t`, { changes: [{ principal: grantee.userName, add: ['SELECT'] }] })).status).toBe(200);
    // The new owner sees everyone's effective permissions on it (what managers see); a non-manager sees only its own.
    const eff = await as(other, 'GET', `${UC}/effective-permissions/table/cc.s.own_t`);
    expect(eff.status).toBe(200);
    expect((eff.body.privilege_assignments as { principal: string }[]).map((a) => a.principal)).toContain(grantee.userName);
  });

  it('PATCH owner on a function and a UC model, and SQL ALTER FUNCTION / MODEL / TABLE ... OWNER TO', async () => {
    expect((await as(owner, 'POST', `${UC}/functions`, fn('own_f'))).status).toBe(200);
    expect((await as(owner, 'PATCH', `${UC}/functions/cc.s.own_f`, { owner: 'nobody@example.com' })).status).toBe(404);
    expect((await as(other, 'PATCH', `${UC}/functions/cc.s.own_f`, { owner: other.userName })).status).toBe(403);
    const f = await as(owner, 'PATCH', `${UC}/functions/cc.s.own_f`, { owner: 'cc_readers' });
    expect(f.status, JSON.stringify(f.body)).toBe(200);
    expect((await as(admin, 'GET', `${UC}/functions/cc.s.own_f`)).body.owner).toBe('cc_readers');

    expect((await as(owner, 'POST', `${UC}/models`, { name: 'own_m', catalog_name: 'cc', schema_name: 's' })).status).toBe(200);
    expect((await as(owner, 'PATCH', `${UC}/models/cc.s.own_m`, { owner: 'nobody@example.com' })).status).toBe(404);
    expect((await as(other, 'PATCH', `${UC}/models/cc.s.own_m`, { owner: other.userName })).status).toBe(403);
    const m = await as(owner, 'PATCH', `${UC}/models/cc.s.own_m`, { owner: grantee.userName });
    expect(m.status, JSON.stringify(m.body)).toBe(200);
    expect(m.body.owner).toBe(grantee.userName);
    expect((await as(admin, 'GET', `${UC}/models/cc.s.own_m`)).body.owner).toBe(grantee.userName);

    await ok(owner, 'CREATE TABLE cc.s.sql_own (id BIGINT)');
    const unknown = await sql(owner, 'ALTER TABLE cc.s.sql_own OWNER TO `nobody@example.com`');
    expect(unknown.status.state).toBe('FAILED');
    expect((await sql(other, 'ALTER TABLE cc.s.sql_own OWNER TO `cc-other@example.com`')).status.state).toBe('FAILED');
    await ok(owner, 'ALTER TABLE cc.s.sql_own OWNER TO `cc-other@example.com`');
    expect((await as(admin, 'GET', `${UC}/tables/cc.s.sql_own`)).body.owner).toBe(other.userName);
    await ok(owner, 'ALTER FUNCTION cc.s.own_f OWNER TO `cc-other@example.com`');
    expect((await as(admin, 'GET', `${UC}/functions/cc.s.own_f`)).body.owner).toBe(other.userName);
    expect((await sql(other, 'ALTER MODEL cc.s.own_m OWNER TO `cc-other@example.com`')).status.state).toBe('FAILED');
    await ok(owner, 'ALTER MODEL cc.s.own_m OWNER TO `cc-other@example.com`');
    expect((await as(admin, 'GET', `${UC}/models/cc.s.own_m`)).body.owner).toBe(other.userName);
  });

  it('a UC model is read through EXECUTE (with USE CATALOG / USE SCHEMA); a flat MLflow name keeps the workspace ACL', async () => {
    await ok(admin, 'CREATE CATALOG mr');
    await ok(admin, 'CREATE SCHEMA mr.s');
    expect((await as(admin, 'POST', `${UC}/models`, { name: 'uc_m', catalog_name: 'mr', schema_name: 's' })).status).toBe(200);
    // No grant: refused through both APIs by its three-level name.
    expect((await as(grantee, 'GET', `${UC}/models/mr.s.uc_m`)).status).toBe(403);
    expect((await as(grantee, 'GET', `${UC}/models/mr.s.uc_m/versions`)).status).toBe(403);
    expect((await as(grantee, 'GET', '/api/2.0/mlflow/registered-models/get?name=mr.s.uc_m')).status).toBe(403);
    const listed = async () =>
      ((await as(grantee, 'GET', `${UC}/models?catalog_name=mr&schema_name=s`)).body.registered_models ?? []).map((m: { full_name: string }) => m.full_name);
    expect(await listed()).toEqual([]);
    // EXECUTE alone is not enough: the containers must be usable too.
    await grant('registered_model', 'mr.s.uc_m', 'cc_readers', ['EXECUTE']);
    expect((await as(grantee, 'GET', `${UC}/models/mr.s.uc_m`)).status).toBe(403);
    await grant('catalog', 'mr', 'cc_readers', ['USE_CATALOG']);
    await grant('schema', 'mr.s', 'cc_readers', ['USE_SCHEMA']);
    expect((await as(grantee, 'GET', `${UC}/models/mr.s.uc_m`)).status).toBe(200);
    expect(await listed()).toEqual(['mr.s.uc_m']);
    const versions = await as(grantee, 'GET', `${UC}/models/mr.s.uc_m/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.model_versions ?? []).toEqual([]);
    expect((await as(grantee, 'GET', '/api/2.0/mlflow/registered-models/get?name=mr.s.uc_m')).status).toBe(200);
    // Reading does not open writes: those stay with the workspace ACL (the grantee has none).
    expect((await as(grantee, 'PATCH', `${UC}/models/mr.s.uc_m`, { comment: 'x' })).status).toBe(403);
    // A flat MLflow name: the workspace ACL decides, UC grants do not.
    const created = await as(admin, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'ws_model' });
    expect(created.status).toBe(200);
    expect((await as(other, 'GET', '/api/2.0/mlflow/registered-models/get?name=ws_model')).status).toBe(403);
    const acl = await as(admin, 'PATCH', `/api/2.0/permissions/registered-models/${created.body.registered_model.id}`, {
      access_control_list: [{ user_name: other.userName, permission_level: 'CAN_READ' }],
    });
    expect(acl.status, JSON.stringify(acl.body)).toBe(200);
    expect((await as(other, 'GET', '/api/2.0/mlflow/registered-models/get?name=ws_model')).status).toBe(200);
  });
});
