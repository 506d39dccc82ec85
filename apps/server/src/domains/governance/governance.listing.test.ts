import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { makeGroup, makeUser, type TestUser } from './governance.test-helpers.ts';

// Table listings for callers who see part of a schema: the candidates are worked out from the grants before any row
// is read, so these tests pin down which tables each kind of grant or ownership shows, across pages, and that a
// change of grants shows in the very next listing.

const UC = '/api/2.1/unity-catalog';
const COLUMNS = [{ name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0 }];

describe.each(testBackends)('filtered table listing on $name', (backend) => {
  let s: TestServer;
  let admin: TestUser;
  let reader: TestUser;
  let other: TestUser;
  let browser: TestUser;

  async function as(user: TestUser, method: string, path: string, body?: unknown) {
    let url = `${s.url}${path}`;
    let payload: string | undefined;
    if (body !== undefined && method === 'GET') url += `?${new URLSearchParams(body as Record<string, string>)}`;
    else if (body !== undefined) payload = JSON.stringify(body);
    const res = await fetch(url, { method, headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }
  const change = async (type: string, name: string, principal: string, op: 'add' | 'remove', privileges: string[]) => {
    const res = await as(admin, 'PATCH', `${UC}/permissions/${type}/${name}`, { changes: [{ principal, [op]: privileges }] });
    expect(res.status).toBe(200);
  };
  const createTable = async (by: TestUser, name: string, schema = 'ls') => {
    const res = await as(by, 'POST', `${UC}/tables`, {
      name,
      catalog_name: 'lc',
      schema_name: schema,
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      columns: COLUMNS,
    });
    expect(res.status).toBe(200);
  };
  /** Every table name the user is shown, walking pages of `pageSize` (0 = one unpaged call), and how many pages it took. */
  async function walk(user: TestUser, pageSize: number, schema = 'ls'): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await as(user, 'GET', `${UC}/tables`, {
        catalog_name: 'lc',
        schema_name: schema,
        ...(pageSize > 0 ? { max_results: String(pageSize) } : {}),
        ...(token ? { page_token: token } : {}),
      });
      expect(res.status).toBe(200);
      names.push(...res.body.tables.map((t: { name: string }) => t.name));
      token = res.body.next_page_token;
      pages++;
    } while (token && pages < 5_000);
    return { names, pages };
  }

  beforeAll(async () => {
    s = await startTestServer(backend);
    admin = { id: 0, userName: 'admin', token: s.adminToken };
    reader = await makeUser(s, 'reader@example.com');
    other = await makeUser(s, 'other@example.com');
    browser = await makeUser(s, 'browser@example.com');
    await makeGroup(s, 'readers', [reader.id]);
    expect((await as(admin, 'POST', `${UC}/catalogs`, { name: 'lc' })).status).toBe(200);
    expect((await as(admin, 'POST', `${UC}/schemas`, { name: 'ls', catalog_name: 'lc' })).status).toBe(200);
    for (let i = 0; i < 8; i++) await createTable(admin, `t${i}`);
    // reader: through its group USE on the containers and MODIFY on t4; directly SELECT on t1; and a table of its own.
    await change('catalog', 'lc', 'readers', 'add', ['USE_CATALOG']);
    await change('schema', 'lc.ls', 'readers', 'add', ['USE_SCHEMA']);
    await change('table', 'lc.ls.t4', 'readers', 'add', ['MODIFY']);
    await change('table', 'lc.ls.t1', reader.userName, 'add', ['SELECT']);
    await change('schema', 'lc.ls', reader.userName, 'add', ['CREATE_TABLE']);
    await createTable(reader, 'r_own');
    await change('schema', 'lc.ls', reader.userName, 'remove', ['CREATE_TABLE']);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('shows a grantee exactly the tables granted to it or its groups and those it owns, in full pages', async () => {
    const expected = ['r_own', 't1', 't4'];
    expect((await walk(reader, 0)).names).toEqual(expected);
    expect(await walk(reader, 1)).toEqual({ names: expected, pages: 3 });
    expect(await walk(reader, 2)).toEqual({ names: expected, pages: 2 });
    // A page token from the middle continues after it.
    const rest = await as(reader, 'GET', `${UC}/tables`, { catalog_name: 'lc', schema_name: 'ls', page_token: 't1' });
    expect(rest.body.tables.map((t: { name: string }) => t.name)).toEqual(['t4']);
  });

  it('shows a table granted without USE SCHEMA only once USE SCHEMA is granted, and drops it as soon as the grant goes', async () => {
    await change('catalog', 'lc', other.userName, 'add', ['USE_CATALOG']);
    await change('table', 'lc.ls.t2', other.userName, 'add', ['SELECT']);
    expect((await walk(other, 0)).names).toEqual([]);
    await change('schema', 'lc.ls', other.userName, 'add', ['USE_SCHEMA']);
    expect((await walk(other, 0)).names).toEqual(['t2']);
    await change('table', 'lc.ls.t2', other.userName, 'remove', ['SELECT']);
    expect((await walk(other, 0)).names).toEqual([]);
    expect((await walk(other, 2)).names).toEqual([]);
  });

  it('shows every table to a holder of SELECT on the schema and of BROWSE on the catalog, paged in name order', async () => {
    const all = ['r_own', 't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7'];
    await change('schema', 'lc.ls', other.userName, 'add', ['USE_SCHEMA', 'SELECT']);
    expect((await walk(other, 0)).names).toEqual(all);
    expect(await walk(other, 4)).toEqual({ names: all, pages: 3 });
    await change('schema', 'lc.ls', other.userName, 'remove', ['SELECT']);
    expect((await walk(other, 0)).names).toEqual([]);

    expect((await walk(browser, 0)).names).toEqual([]);
    await change('catalog', 'lc', browser.userName, 'add', ['BROWSE']);
    expect((await walk(browser, 0)).names).toEqual(all);
    await change('catalog', 'lc', browser.userName, 'remove', ['BROWSE']);
    expect((await walk(browser, 0)).names).toEqual([]);
  });

  it('shows everything in a schema to its owner', async () => {
    await change('metastore', 'metastore', other.userName, 'add', ['CREATE_CATALOG']);
    expect((await as(other, 'POST', `${UC}/catalogs`, { name: 'lc2' })).status).toBe(200);
    expect((await as(other, 'POST', `${UC}/schemas`, { name: 'own', catalog_name: 'lc2' })).status).toBe(200);
    expect(
      (
        await as(admin, 'POST', `${UC}/tables`, {
          name: 'by_admin',
          catalog_name: 'lc2',
          schema_name: 'own',
          table_type: 'MANAGED',
          data_source_format: 'DELTA',
          columns: COLUMNS,
        })
      ).status,
    ).toBe(200);
    const res = await as(other, 'GET', `${UC}/tables`, { catalog_name: 'lc2', schema_name: 'own' });
    expect(res.body.tables.map((t: { name: string }) => t.name)).toEqual(['by_admin']);
    expect((await as(reader, 'GET', `${UC}/tables`, { catalog_name: 'lc2', schema_name: 'own' })).body.tables).toEqual([]);
  });

  it('lists correctly when the caller holds grants on more tables than one query binds', async () => {
    // 1,200 catalog rows cloned from a real table (a listing reads only the catalog), every other one granted: more
    // candidates than the tables service binds in one query (500), so it scans names and owners instead.
    expect((await as(admin, 'POST', `${UC}/schemas`, { name: 'big', catalog_name: 'lc' })).status).toBe(200);
    await createTable(admin, 'b0000', 'big');
    const db = s.weir.store.db;
    const template = await db.selectFrom('uc_tables').selectAll().where('name', '=', 'b0000').executeTakeFirstOrThrow();
    const rows = [];
    for (let i = 1; i < 1_200; i++) rows.push({ ...template, id: randomUUID(), name: `b${String(i).padStart(4, '0')}` });
    for (let i = 0; i < rows.length; i += 400)
      await db
        .insertInto('uc_tables')
        .values(rows.slice(i, i + 400))
        .execute();
    await change('schema', 'lc.big', 'readers', 'add', ['USE_SCHEMA']);
    const granted: string[] = [];
    for (let i = 0; i < 1_200; i += 2) {
      const name = `b${String(i).padStart(4, '0')}`;
      await change('table', `lc.big.${name}`, 'readers', 'add', ['SELECT']);
      granted.push(name);
    }
    expect((await walk(reader, 0, 'big')).names).toEqual(granted);
    expect(await walk(reader, 250, 'big')).toEqual({ names: granted, pages: 3 });
  });
});
