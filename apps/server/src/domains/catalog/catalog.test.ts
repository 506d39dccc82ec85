import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';

const UC = '/api/2.1/unity-catalog';

describe.each(testBackends)('Unity Catalog catalogs, schemas, volumes and functions on $name', (backend) => {
  let s: TestServer;
  let userToken: string;
  beforeAll(async () => {
    s = await startTestServer(backend);
    userToken = (await s.createUser('analyst@example.com')).token;
  });
  afterAll(async () => {
    await s?.close();
  });

  function expectUcError(res: { status: number; body: any }, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.body.error_code).toBe(code);
    expect(typeof res.body.message).toBe('string');
    // Schema violations are answered by the HTTP layer without details; Weir's own errors carry UC's ErrorInfo.
    if (res.body.details !== undefined) {
      expect(res.body.details[0]).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, metadata: {} });
    }
  }

  it('starts with catalog main and schema default owned by the admin', async () => {
    const main = await s.call('GET', `${UC}/catalogs/main`);
    expect(main.status).toBe(200);
    expect(main.body).toMatchObject({ name: 'main', owner: 'admin' });
    const schema = await s.call('GET', `${UC}/schemas/main.default`);
    expect(schema.body).toMatchObject({ name: 'default', catalog_name: 'main', full_name: 'main.default', owner: 'admin' });
    expect(typeof schema.body.schema_id).toBe('string');
  });

  it('creates, gets, updates and renames a catalog with UC field names', async () => {
    const created = await s.call('POST', `${UC}/catalogs`, { name: 'cat_a', comment: 'first', properties: { team: 'ml' } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'cat_a', comment: 'first', properties: { team: 'ml' }, owner: 'admin', created_by: 'admin' });
    expect(typeof created.body.id).toBe('string');
    expect(typeof created.body.created_at).toBe('number');
    const got = await s.call('GET', `${UC}/catalogs/cat_a`);
    expect(got.body).toEqual(created.body);
    // properties are replaced, not merged
    const updated = await s.call('PATCH', `${UC}/catalogs/cat_a`, { comment: 'second', properties: { owner_team: 'data' } });
    expect(updated.body).toMatchObject({ comment: 'second', properties: { owner_team: 'data' } });
    expect(updated.body.properties.team).toBeUndefined();
    const empty = await s.call('PATCH', `${UC}/catalogs/cat_a`, {});
    expect(empty.body).toMatchObject({ name: 'cat_a', comment: 'second' });
    const renamed = await s.call('PATCH', `${UC}/catalogs/cat_a`, { new_name: 'cat_b' });
    expect(renamed.body.name).toBe('cat_b');
    expect(renamed.body.id).toBe(created.body.id);
    expectUcError(await s.call('GET', `${UC}/catalogs/cat_a`), 404, 'CATALOG_DOES_NOT_EXIST');
    expect((await s.call('DELETE', `${UC}/catalogs/cat_b`)).status).toBe(200);
  });

  it('refuses duplicate names and names with dots or illegal characters', async () => {
    expect((await s.call('POST', `${UC}/catalogs`, { name: 'dup' })).status).toBe(200);
    expectUcError(await s.call('POST', `${UC}/catalogs`, { name: 'dup' }), 400, 'RESOURCE_ALREADY_EXISTS');
    for (const bad of ['a.b', 'has space', 'sl/ash', 'x'.repeat(256), 'semi;colon', 'quote"d']) {
      expectUcError(await s.call('POST', `${UC}/catalogs`, { name: bad }), 400, 'INVALID_PARAMETER_VALUE');
      expectUcError(await s.call('POST', `${UC}/schemas`, { name: bad, catalog_name: 'dup' }), 400, 'INVALID_PARAMETER_VALUE');
    }
    expect((await s.call('POST', `${UC}/catalogs`, { name: 'ok-name_1@x' })).status).toBe(200);
    expectUcError(await s.call('POST', `${UC}/catalogs`, {}), 400, 'INVALID_PARAMETER_VALUE');
    const list = await s.call('GET', `${UC}/catalogs`);
    // `system` (audit and lineage tables) is there from the start, as in Databricks
    expect(list.body.catalogs.map((c: { name: string }) => c.name)).toEqual(['dup', 'main', 'ok-name_1@x', 'system']);
    await s.call('DELETE', `${UC}/catalogs/dup`);
    await s.call('DELETE', `${UC}/catalogs/ok-name_1@x`);
  });

  it('pages by name with max_results and next_page_token, and returns every row when max_results is absent', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'paged' });
    const names = Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    for (const name of names) expect((await s.call('POST', `${UC}/schemas`, { name, catalog_name: 'paged' })).status).toBe(200);
    const expected = ['default', ...names].filter((n) => n !== 'default').sort();
    const all = await s.call('GET', `${UC}/schemas`, { catalog_name: 'paged' });
    expect(all.body.schemas.map((x: { name: string }) => x.name)).toEqual(expected);
    expect(all.body.next_page_token).toBeUndefined();
    const zero = await s.call('GET', `${UC}/schemas`, { catalog_name: 'paged', max_results: 0 });
    expect(zero.body.schemas).toHaveLength(25);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s.call('GET', `${UC}/schemas`, { catalog_name: 'paged', max_results: 10, ...(token ? { page_token: token } : {}) });
      expect(page.status).toBe(200);
      expect(page.body.schemas.length).toBeLessThanOrEqual(10);
      seen.push(...page.body.schemas.map((x: { name: string }) => x.name));
      token = page.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    // the token is the last name: everything up to and including it is excluded
    const after = await s.call('GET', `${UC}/schemas`, { catalog_name: 'paged', page_token: 's20' });
    expect(after.body.schemas.map((x: { name: string }) => x.name)).toEqual(['s21', 's22', 's23', 's24']);
    expectUcError(await s.call('GET', `${UC}/schemas`, { catalog_name: 'paged', max_results: -1 }), 400, 'INVALID_PARAMETER_VALUE');
    expectUcError(await s.call('GET', `${UC}/schemas`, { catalog_name: 'nope' }), 404, 'CATALOG_DOES_NOT_EXIST');
    expect((await s.call('DELETE', `${UC}/catalogs/paged`, { force: true })).status).toBe(200);
  });

  it('deletes a non-empty catalog or schema only with force, cascading to children', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'cascade' });
    await s.call('POST', `${UC}/schemas`, { name: 'inner', catalog_name: 'cascade' });
    const vol = await s.call('POST', `${UC}/volumes`, { catalog_name: 'cascade', schema_name: 'inner', name: 'files', volume_type: 'MANAGED' });
    expect(vol.status).toBe(200);
    const dir = new URL(vol.body.storage_location).pathname;
    expect(fs.existsSync(dir)).toBe(true);
    expectUcError(await s.call('DELETE', `${UC}/schemas/cascade.inner`), 400, 'INVALID_PARAMETER_VALUE');
    expectUcError(await s.call('DELETE', `${UC}/catalogs/cascade`), 400, 'INVALID_PARAMETER_VALUE');
    expect((await s.call('GET', `${UC}/volumes/cascade.inner.files`)).status).toBe(200);
    expect((await s.call('DELETE', `${UC}/catalogs/cascade`, { force: true })).status).toBe(200);
    expectUcError(await s.call('GET', `${UC}/catalogs/cascade`), 404, 'CATALOG_DOES_NOT_EXIST');
    // its catalog went with it, which is what the answer names
    expectUcError(await s.call('GET', `${UC}/schemas/cascade.inner`), 404, 'CATALOG_DOES_NOT_EXIST');
    expect(fs.existsSync(dir)).toBe(false);
    // a catalog holding only its empty default schema goes without force
    await s.call('POST', `${UC}/catalogs`, { name: 'emptyish' });
    await s.call('POST', `${UC}/schemas`, { name: 'default', catalog_name: 'emptyish' });
    expect((await s.call('DELETE', `${UC}/catalogs/emptyish`)).status).toBe(200);
  });

  it('renames a schema keeping its id and updates full_name', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'ren' });
    const a = await s.call('POST', `${UC}/schemas`, { name: 'before', catalog_name: 'ren', comment: 'c' });
    expectUcError(await s.call('POST', `${UC}/schemas`, { name: 'before', catalog_name: 'ren' }), 400, 'RESOURCE_ALREADY_EXISTS');
    const b = await s.call('PATCH', `${UC}/schemas/ren.before`, { new_name: 'after' });
    expect(b.body).toMatchObject({ name: 'after', full_name: 'ren.after', schema_id: a.body.schema_id, comment: 'c' });
    expectUcError(await s.call('GET', `${UC}/schemas/ren.before`), 404, 'SCHEMA_DOES_NOT_EXIST');
    expectUcError(await s.call('GET', `${UC}/schemas/ren`), 400, 'INVALID_PARAMETER_VALUE');
    expectUcError(await s.call('GET', `${UC}/schemas/a.b.c`), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('manages volumes: managed gets a location under the data dir, external needs an existing directory', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'vol' });
    await s.call('POST', `${UC}/schemas`, { name: 'raw', catalog_name: 'vol' });
    const managed = await s.call('POST', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', name: 'landing', volume_type: 'MANAGED', comment: 'in' });
    expect(managed.body).toMatchObject({ full_name: 'vol.raw.landing', volume_type: 'MANAGED', owner: 'admin', comment: 'in' });
    expect(managed.body.storage_location).toBe(`file://${path.join(path.resolve(s.dataDir), 'volumes', 'vol', 'raw', 'landing')}`);
    expectUcError(await s.call('GET', `${UC}/volumes/vol.raw.nothing`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectUcError(
      await s.call('POST', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', name: 'landing', volume_type: 'MANAGED' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    expectUcError(
      await s.call('POST', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', name: 'bad', volume_type: 'OTHER' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-extvol-'));
    try {
      const ext = await s.call('POST', `${UC}/volumes`, {
        catalog_name: 'vol',
        schema_name: 'raw',
        name: 'ext',
        volume_type: 'EXTERNAL',
        storage_location: `file://${outside}`,
      });
      expect(ext.body).toMatchObject({ volume_type: 'EXTERNAL', storage_location: `file://${outside}` });
      expectUcError(
        await s.call('POST', `${UC}/volumes`, {
          catalog_name: 'vol',
          schema_name: 'raw',
          name: 'ext2',
          volume_type: 'EXTERNAL',
          storage_location: path.join(outside, 'missing'),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectUcError(
        await s.call('POST', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', name: 'ext3', volume_type: 'EXTERNAL', storage_location: s.dataDir }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      const list = await s.call('GET', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', max_results: 1 });
      expect(list.body.volumes.map((v: { name: string }) => v.name)).toEqual(['ext']);
      const next = await s.call('GET', `${UC}/volumes`, { catalog_name: 'vol', schema_name: 'raw', max_results: 1, page_token: list.body.next_page_token });
      expect(next.body.volumes.map((v: { name: string }) => v.name)).toEqual(['landing']);
      expect(next.body.next_page_token).toBeUndefined();
      const renamed = await s.call('PATCH', `${UC}/volumes/vol.raw.landing`, { new_name: 'landing2', comment: 'moved' });
      expect(renamed.body).toMatchObject({ name: 'landing2', full_name: 'vol.raw.landing2', comment: 'moved', volume_id: managed.body.volume_id });
      // deleting an external volume keeps its files
      fs.writeFileSync(path.join(outside, 'keep.txt'), 'x');
      expect((await s.call('DELETE', `${UC}/volumes/vol.raw.ext`)).status).toBe(200);
      expect(fs.existsSync(path.join(outside, 'keep.txt'))).toBe(true);
      expectUcError(await s.call('GET', `${UC}/volumes/vol.raw.ext`), 404, 'RESOURCE_DOES_NOT_EXIST');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('stores SQL functions and keeps one name per schema across volumes and functions', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'fn' });
    await s.call('POST', `${UC}/schemas`, { name: 'lib', catalog_name: 'fn' });
    const info = {
      name: 'add_tax',
      catalog_name: 'fn',
      schema_name: 'lib',
      input_params: {
        parameters: [
          {
            name: 'amount',
            type_text: 'double',
            type_name: 'DOUBLE',
            type_json: '{"name":"amount","type":"double","nullable":true,"metadata":{}}',
            position: 0,
          },
        ],
      },
      data_type: 'DOUBLE',
      full_data_type: 'double',
      routine_body: 'SQL',
      routine_definition: 'amount * 1.2',
      parameter_style: 'S',
      is_deterministic: true,
      sql_data_access: 'CONTAINS_SQL',
      is_null_call: false,
      security_type: 'DEFINER',
      specific_name: 'add_tax',
    };
    const created = await s.call('POST', `${UC}/functions`, { function_info: info });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ ...info, full_name: 'fn.lib.add_tax', owner: 'admin' });
    expect(typeof created.body.function_id).toBe('string');
    expect((await s.call('GET', `${UC}/functions/fn.lib.add_tax`)).body).toEqual(created.body);
    expect((await s.call('GET', `${UC}/functions`, { catalog_name: 'fn', schema_name: 'lib' })).body.functions).toHaveLength(1);
    expectUcError(await s.call('POST', `${UC}/functions`, { function_info: info }), 400, 'RESOURCE_ALREADY_EXISTS');
    expectUcError(
      await s.call('POST', `${UC}/volumes`, { catalog_name: 'fn', schema_name: 'lib', name: 'add_tax', volume_type: 'MANAGED' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    expectUcError(
      await s.call('POST', `${UC}/functions`, { function_info: { ...info, name: 'py', routine_body: 'EXTERNAL' } }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectUcError(await s.call('POST', `${UC}/functions`, { function_info: { ...info, name: 'bad.name' } }), 400, 'INVALID_PARAMETER_VALUE');
    expect((await s.call('DELETE', `${UC}/functions/fn.lib.add_tax`)).status).toBe(200);
    expectUcError(await s.call('GET', `${UC}/functions/fn.lib.add_tax`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('records the owner and lets only owners and admins change or delete', async () => {
    // Creating a catalog needs CREATE CATALOG on the metastore (admins hold it).
    expectUcError(await s.call('POST', `${UC}/catalogs`, { name: 'analyst_cat' }, userToken), 403, 'PERMISSION_DENIED');
    await s.call('PATCH', `${UC}/permissions/metastore/metastore`, { changes: [{ principal: 'analyst@example.com', add: ['CREATE_CATALOG'] }] });
    const mine = await s.call('POST', `${UC}/catalogs`, { name: 'analyst_cat' }, userToken);
    expect(mine.body.owner).toBe('analyst@example.com');
    expect((await s.call('POST', `${UC}/schemas`, { name: 'work', catalog_name: 'analyst_cat' }, userToken)).body.owner).toBe('analyst@example.com');
    expect((await s.call('PATCH', `${UC}/catalogs/analyst_cat`, { comment: 'mine' }, userToken)).status).toBe(200);
    await s.call('POST', `${UC}/catalogs`, { name: 'admin_cat' });
    await s.call('POST', `${UC}/schemas`, { name: 'locked', catalog_name: 'admin_cat' });
    expectUcError(await s.call('PATCH', `${UC}/catalogs/admin_cat`, { comment: 'hijack' }, userToken), 403, 'PERMISSION_DENIED');
    expectUcError(await s.call('DELETE', `${UC}/catalogs/admin_cat`, { force: true }, userToken), 403, 'PERMISSION_DENIED');
    expectUcError(await s.call('DELETE', `${UC}/schemas/admin_cat.locked`, undefined, userToken), 403, 'PERMISSION_DENIED');
    expect((await s.call('GET', `${UC}/catalogs/admin_cat`)).body.comment).toBeUndefined();
    // external locations expose server directories: admins only
    expectUcError(
      await s.call(
        'POST',
        `${UC}/volumes`,
        { catalog_name: 'analyst_cat', schema_name: 'work', name: 'ext', volume_type: 'EXTERNAL', storage_location: os.tmpdir() },
        userToken,
      ),
      403,
      'PERMISSION_DENIED',
    );
    // the admin may change anyone's object, including its owner
    const moved = await s.call('PATCH', `${UC}/catalogs/analyst_cat`, { owner: 'admin' });
    expect(moved.body.owner).toBe('admin');
    expectUcError(await s.call('PATCH', `${UC}/catalogs/analyst_cat`, { comment: 'again' }, userToken), 403, 'PERMISSION_DENIED');
    expect((await s.call('GET', `${UC}/catalogs`, undefined, null)).status).toBe(401);
  });

  it('exposes schemaExists, ownerOf and nameTaken to other domains', async () => {
    await s.call('POST', `${UC}/catalogs`, { name: 'api' });
    await s.call('POST', `${UC}/schemas`, { name: 'x', catalog_name: 'api' });
    await s.call('POST', `${UC}/volumes`, { catalog_name: 'api', schema_name: 'x', name: 'v', volume_type: 'MANAGED' });
    const { createCatalogService } = await import('./catalog.service.ts');
    const svc = createCatalogService({ db: s.weir.store.db, dialect: s.weir.store.dialect, dataDir: s.dataDir });
    expect(await svc.schemaExists('api', 'x')).toBe(true);
    expect(await svc.schemaExists('api', 'y')).toBe(false);
    expect(await svc.ownerOf('catalog', 'api')).toBe('admin');
    expect(await svc.ownerOf('volume', 'api.x.v')).toBe('admin');
    expect(await svc.ownerOf('schema', 'api.nope')).toBeUndefined();
    expect(await svc.nameTaken('api', 'x', 'v')).toBe(true);
    expect(await svc.nameTaken('api', 'x', 'w')).toBe(false);
    // registry models count as children and hold names once the registry hooks are given
    svc.setRegistryHooks({ countModelsInSchema: async (c, sc) => (c === 'api' && sc === 'x' ? 2 : 0), modelNameTaken: async (_c, _s, n) => n === 'fraud' });
    expect(await svc.nameTaken('api', 'x', 'fraud')).toBe(true);
    await svc.deleteVolume({ id: 1, userName: 'admin', kind: 'user', isAdmin: true }, 'api.x.v');
    await expect(svc.deleteSchema({ id: 1, userName: 'admin', kind: 'user', isAdmin: true }, 'api.x', false)).rejects.toThrow(/2 object/);
  });
});
