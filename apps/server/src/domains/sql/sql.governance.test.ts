import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, statementRunner, type TestServer, testBackends } from '../../testing/test-server.ts';

const UC = '/api/2.1/unity-catalog';
const SCIM = '/api/2.0/preview/scim/v2';

type Cells = (string | null)[][];

describe.each(testBackends)('SQL governance on $name', (backend) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function user(name: string) {
    const created = await s.createUser(name);
    ids[name] = created.id;
    tokens[name] = created.token;
  }

  /** Runs as the given user (admin when omitted); answers the response body. */
  const run = (statement: string, as?: string) => statementRunner(s).run(statement, as ? tokens[as] : undefined);
  /** Runs as the given user (admin when omitted) and expects success; returns the rows. */
  const ok = (statement: string, as?: string): Promise<Cells> => statementRunner(s).ok(statement, as ? tokens[as] : undefined);
  /** Expects the statement to be refused with PERMISSION_DENIED. */
  async function refused(statement: string, as: string) {
    const body = await run(statement, as);
    expect(body.status.state, `${as}: ${statement}`).toBe('FAILED');
    expect(body.status.error?.error_code, `${as}: ${statement}: ${body.status.error?.message}`).toBe('PERMISSION_DENIED');
    return body.status.error?.message ?? '';
  }

  beforeAll(async () => {
    s = await startTestServer(backend);
    for (const name of ['alice', 'bob', 'carol', 'mallory']) await user(name);
    const group = await s.call('POST', `${SCIM}/Groups`, { displayName: 'analysts', members: [{ value: ids.carol }] });
    expect(group.status, group.text).toBe(201);
    await ok('CREATE CATALOG lab');
    await ok('CREATE SCHEMA lab.s');
    await ok('CREATE TABLE lab.s.open AS SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) t(id, v)');
    await ok("CREATE TABLE lab.s.secret AS SELECT * FROM (VALUES (1, 'alpha'), (2, 'bravo'), (3, 'charlie')) t(id, pii)");
    await ok(
      "CREATE TABLE lab.s.people AS SELECT * FROM (VALUES (1, 'eu', 'ann@example.com', 100), (2, 'us', 'bo@example.com', 200), (3, 'eu', 'cy@example.com', 300), (4, 'us', 'di@example.com', 400)) t(id, region, email, salary)",
    );
    await ok('CREATE VOLUME lab.s.landing');
    const put = await fetch(`${s.url}/api/2.0/fs/files/Volumes/lab/s/landing/in.csv`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' },
      body: 'id,v\n1,one\n',
    });
    expect(put.status).toBeLessThan(300);
    for (const who of ['alice', 'bob', 'carol']) {
      await ok(`GRANT USE CATALOG ON CATALOG lab TO \`${who}\``);
      await ok(`GRANT USE_SCHEMA ON SCHEMA lab.s TO \`${who}\``);
    }
    await ok('GRANT SELECT ON TABLE lab.s.open TO `alice`');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('GRANT, REVOKE and SHOW GRANTS go through the grants store the permissions API reads', async () => {
    await ok('GRANT SELECT, MODIFY ON TABLE lab.s.open TO `bob`');
    const perms = await s.call('GET', `${UC}/permissions/table/lab.s.open`);
    expect(perms.status).toBe(200);
    const bob = (perms.body.privilege_assignments as { principal: string; privileges: string[] }[]).find((a) => a.principal === 'bob');
    expect(bob?.privileges.sort()).toEqual(['MODIFY', 'SELECT']);
    const shown = await ok('SHOW GRANTS `bob` ON TABLE lab.s.open');
    expect(shown.sort()).toEqual([
      ['bob', 'MODIFY', 'TABLE', 'lab.s.open'],
      ['bob', 'SELECT', 'TABLE', 'lab.s.open'],
      ['bob', 'USE CATALOG', 'CATALOG', 'lab'],
      ['bob', 'USE SCHEMA', 'SCHEMA', 'lab.s'],
    ]);
    await ok('REVOKE MODIFY ON TABLE lab.s.open FROM `bob`');
    const after = await ok('SHOW GRANTS `bob` ON TABLE lab.s.open');
    expect(after.filter((r) => r[2] === 'TABLE')).toEqual([['bob', 'SELECT', 'TABLE', 'lab.s.open']]);
    // through the REST API, the SQL grant is visible the same way; revoking there is seen by SQL
    await s.call('PATCH', `${UC}/permissions/table/lab.s.open`, { changes: [{ principal: 'bob', remove: ['SELECT'] }] });
    expect((await ok('SHOW GRANTS `bob` ON TABLE lab.s.open')).filter((r) => r[2] === 'TABLE')).toEqual([]);
  });

  it('refuses bad GRANTs the way the permissions API does: unknown principal, inapplicable privilege, no MANAGE', async () => {
    const unknown = await run('GRANT SELECT ON TABLE lab.s.open TO `nobody`');
    expect(unknown.status.error?.error_code).toBe('NOT_FOUND');
    const wrong = await run('GRANT READ VOLUME ON TABLE lab.s.open TO `bob`');
    expect(wrong.status.error?.error_code).toBe('INVALID_PARAMETER_VALUE');
    const bogus = await run('GRANT FLY ON TABLE lab.s.open TO `bob`');
    expect(bogus.status.error?.error_code).toBe('INVALID_PARAMETER_VALUE');
    await refused('GRANT SELECT ON TABLE lab.s.secret TO `alice`', 'alice');
    await refused('GRANT SELECT ON TABLE lab.s.open TO `mallory`', 'alice');
    expect((await ok('SHOW GRANTS `mallory` ON TABLE lab.s.open')).length).toBe(0);
  });

  it('a user with SELECT on one table cannot read another through a join, CTE, subquery, UPDATE...FROM, MERGE or DELETE...IN', async () => {
    expect(await ok('SELECT count(*) FROM lab.s.open', 'alice')).toEqual([['3']]);
    await refused('SELECT * FROM lab.s.secret', 'alice');
    await refused('SELECT o.id, x.pii FROM lab.s.open o JOIN lab.s.secret x USING (id)', 'alice');
    await refused('SELECT * FROM lab.s.open o, lab.s.secret x WHERE o.id = x.id', 'alice');
    await refused('WITH c AS (SELECT * FROM lab.s.secret) SELECT * FROM lab.s.open JOIN c USING (id)', 'alice');
    await refused('SELECT * FROM lab.s.open WHERE id IN (SELECT id FROM lab.s.secret)', 'alice');
    await refused('SELECT (SELECT max(pii) FROM lab.s.secret) FROM lab.s.open', 'alice');
    await refused('SELECT * FROM lab.s.open WHERE EXISTS (SELECT 1 FROM lab.s.secret s WHERE s.id = open.id)', 'alice');
    await refused('SELECT * FROM lab.s.open UNION ALL SELECT id, length(pii) FROM lab.s.secret', 'alice');
    await refused('SELECT * FROM lab.s.secret VERSION AS OF 0', 'alice');
    await refused('DESCRIBE TABLE lab.s.secret', 'alice');
    // writes that read another table: alice gets MODIFY on open, but the sources stay closed to her
    await ok('GRANT MODIFY ON TABLE lab.s.open TO `alice`');
    await refused('UPDATE lab.s.open SET v = (SELECT count(*) FROM lab.s.secret)', 'alice');
    await refused('UPDATE lab.s.open SET v = length(x.pii) FROM lab.s.secret x WHERE open.id = x.id', 'alice');
    await refused("UPDATE lab.s.open SET v = 0 WHERE id IN (SELECT id FROM lab.s.secret WHERE pii LIKE 'a%')", 'alice');
    await refused('DELETE FROM lab.s.open WHERE id IN (SELECT id FROM lab.s.secret)', 'alice');
    await refused('MERGE INTO lab.s.open t USING lab.s.secret x ON t.id = x.id WHEN MATCHED THEN UPDATE SET v = length(x.pii)', 'alice');
    await refused('MERGE INTO lab.s.open t USING (SELECT * FROM lab.s.secret) x ON t.id = x.id WHEN MATCHED THEN DELETE', 'alice');
    await refused('INSERT INTO lab.s.open SELECT id, length(pii) FROM lab.s.secret', 'alice');
    await refused('CREATE TABLE lab.s.copy AS SELECT * FROM lab.s.secret', 'alice');
    // and nothing changed
    expect(await ok('SELECT id, v FROM lab.s.open ORDER BY id')).toEqual([
      ['1', '10'],
      ['2', '20'],
      ['3', '30'],
    ]);
    // a table alice may write but not read cannot be probed through UPDATE/DELETE's row counts
    await ok('GRANT MODIFY ON TABLE lab.s.secret TO `alice`');
    await refused("DELETE FROM lab.s.secret WHERE pii = 'alpha'", 'alice');
    await refused("UPDATE lab.s.secret SET pii = pii WHERE pii LIKE 'b%'", 'alice');
    await ok('REVOKE MODIFY ON TABLE lab.s.secret FROM `alice`');
    expect(await ok('SELECT count(*) FROM lab.s.secret')).toEqual([['3']]);
  });

  it('MODIFY lets a grantee write; without it the write is refused and nothing changes', async () => {
    await refused('INSERT INTO lab.s.open VALUES (9, 90)', 'bob');
    await ok('GRANT MODIFY ON TABLE lab.s.open TO `bob`');
    await ok('INSERT INTO lab.s.open VALUES (9, 90)', 'bob');
    // overwriting drops rows, so it needs SELECT as well
    await refused('INSERT OVERWRITE lab.s.open VALUES (0, 0)', 'bob');
    // bob may append without SELECT, but not rewrite rows he cannot read
    await refused('DELETE FROM lab.s.open WHERE id = 9', 'bob');
    await ok('DELETE FROM lab.s.open WHERE id = 9', 'alice');
    await ok('REVOKE MODIFY ON TABLE lab.s.open FROM `bob`');
    expect(await ok('SELECT count(*) FROM lab.s.open')).toEqual([['3']]);
  });

  it('creating needs CREATE CATALOG, CREATE SCHEMA or CREATE TABLE on the container', async () => {
    await refused('CREATE CATALOG bobs', 'bob');
    await refused('CREATE SCHEMA lab.bobs', 'bob');
    await refused('CREATE TABLE lab.s.bobs (id INT)', 'bob');
    await refused('CREATE VIEW lab.s.bobsview AS SELECT * FROM lab.s.open', 'bob');
    await ok('GRANT CREATE TABLE ON SCHEMA lab.s TO `bob`');
    await ok('CREATE TABLE lab.s.bobs (id INT)', 'bob');
    await ok('INSERT INTO lab.s.bobs VALUES (1)', 'bob');
    expect(await ok('SELECT count(*) FROM lab.s.bobs', 'bob')).toEqual([['1']]);
    // the owner may hand it over; then the new owner reads it and bob (no grant left) does not
    await ok('ALTER TABLE lab.s.bobs OWNER TO `carol`', 'bob');
    expect((await s.call('GET', `${UC}/tables/lab.s.bobs`)).body.owner).toBe('carol');
    expect(await ok('SELECT count(*) FROM lab.s.bobs', 'carol')).toEqual([['1']]);
    await refused('SELECT count(*) FROM lab.s.bobs', 'bob');
    await refused('ALTER TABLE lab.s.bobs OWNER TO `bob`', 'bob');
    await ok('REVOKE CREATE TABLE ON SCHEMA lab.s FROM `bob`');
    expect(await ok('SHOW GRANTS ON METASTORE')).toEqual([]);
    await ok('GRANT CREATE CATALOG ON METASTORE TO `bob`');
    expect(await ok('SHOW GRANTS ON METASTORE')).toEqual([['bob', 'CREATE CATALOG', 'METASTORE', 'metastore']]);
    await ok('CREATE CATALOG bobs', 'bob');
    expect(await ok('SHOW CATALOGS', 'bob')).toEqual([['bobs'], ['lab']]);
    // schema and catalog owners change the same way (and only their owner or an admin may)
    await refused('ALTER SCHEMA lab.s OWNER TO `bob`', 'bob');
    await ok('CREATE SCHEMA bobs.mine', 'bob');
    await ok('ALTER SCHEMA bobs.mine OWNER TO `carol`', 'bob');
    expect((await s.call('GET', `${UC}/schemas/bobs.mine`)).body.owner).toBe('carol');
    await ok('ALTER CATALOG bobs OWNER TO `carol`', 'bob');
    expect((await s.call('GET', `${UC}/catalogs/bobs`)).body.owner).toBe('carol');
  });

  it('a view reads with its owner’s rights: it works for grantees while its owner has access, and leaks nothing when the owner does not', async () => {
    // carol (through her group) may read secret and create views; she shares a view, not the table
    await ok('GRANT SELECT ON TABLE lab.s.secret TO `analysts`');
    await ok('GRANT CREATE TABLE ON SCHEMA lab.s TO `analysts`');
    await ok('CREATE VIEW lab.s.secret_ids AS SELECT id FROM lab.s.secret', 'carol');
    await ok('GRANT SELECT ON TABLE lab.s.secret_ids TO `alice`', 'carol');
    expect(await ok('SELECT count(*) FROM lab.s.secret_ids', 'alice')).toEqual([['3']]);
    await refused('SELECT * FROM lab.s.secret', 'alice');
    // bob has no access to secret: he cannot create a view over it ...
    await ok('GRANT CREATE TABLE ON SCHEMA lab.s TO `bob`');
    await refused('CREATE VIEW lab.s.bob_peek AS SELECT * FROM lab.s.secret', 'bob');
    // ... and a view whose owner lost access stops working for everyone it was shared with
    await ok('CREATE VIEW lab.s.carol_all AS SELECT * FROM lab.s.secret', 'carol');
    await ok('GRANT SELECT ON TABLE lab.s.carol_all TO `alice`', 'carol');
    expect((await ok('SELECT * FROM lab.s.carol_all', 'alice')).length).toBe(3);
    await ok('REVOKE SELECT ON TABLE lab.s.secret FROM `analysts`');
    await refused('SELECT * FROM lab.s.carol_all', 'alice');
    await refused('SELECT * FROM lab.s.open JOIN lab.s.carol_all USING (id)', 'alice');
    // a view handed to an owner without access leaks nothing either
    await ok('GRANT SELECT ON TABLE lab.s.secret TO `analysts`');
    await ok('ALTER VIEW lab.s.carol_all OWNER TO `bob`', 'carol');
    await refused('SELECT * FROM lab.s.carol_all', 'alice');
    await refused('SELECT * FROM lab.s.carol_all', 'bob');
    // the temp views a statement builds (one over secret, for the view) cannot be named from the statement itself
    await ok('GRANT SELECT ON TABLE lab.s.secret_ids TO `bob`');
    for (let n = 0; n < 4; n++) {
      const body = await run(`SELECT * FROM lab.s.secret_ids, (SELECT * FROM __weir_t${n}) UNION ALL (WITH __weir_t${n} AS (SELECT 1) SELECT 1, 1, 1)`, 'bob');
      expect(body.status.state).toBe('FAILED');
      expect(JSON.stringify(body)).not.toContain('alpha');
    }
    await ok('REVOKE CREATE TABLE ON SCHEMA lab.s FROM `bob`');
  });

  it('volume paths need READ VOLUME; a path onto a table’s files is refused', async () => {
    await refused("SELECT * FROM read_csv('/Volumes/lab/s/landing/in.csv')", 'alice');
    await refused("COPY INTO lab.s.open FROM '/Volumes/lab/s/landing/' FILEFORMAT = CSV", 'alice');
    await refused("SELECT * FROM lab.s.open WHERE id IN (SELECT id FROM read_csv('/Volumes/lab/s/landing/*.csv'))", 'alice');
    await ok('GRANT READ VOLUME ON VOLUME lab.s.landing TO `alice`');
    expect(await ok("SELECT id FROM read_csv('/Volumes/lab/s/landing/in.csv')", 'alice')).toEqual([['1']]);
    // the table's storage path, as a path or through any file reader, is not a way in
    const info = await s.call('GET', `${UC}/tables/lab.s.secret`);
    const location = new URL(info.body.storage_location).pathname;
    const files = fs.readdirSync(location).filter((f) => f.endsWith('.parquet'));
    expect(files.length).toBeGreaterThan(0);
    for (const statement of [
      `SELECT * FROM read_parquet('${location}/*.parquet')`,
      `SELECT * FROM read_parquet('${path.join(location, files[0] as string)}')`,
      `SELECT * FROM '${location}/${files[0]}'`,
      `SELECT * FROM parquet_scan(['${location}/${files[0]}'])`,
      `SELECT * FROM read_parquet('/Volumes/lab/s/landing/../../../../warehouse/lab/s/secret/*.parquet')`,
    ]) {
      const body = await run(statement, 'alice');
      expect(body.status.state, statement).toBe('FAILED');
      expect(JSON.stringify(body.result ?? {})).not.toContain('alpha');
    }
    // an external volume laid over an external table's directory does not open the table's files
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-sqlgov-ext-'));
    try {
      await openDeltaTable(path.join(outside, 'hidden')).write("SELECT 1::BIGINT AS id, 'zulu' AS pii");
      await ok(`CREATE TABLE lab.s.hidden USING DELTA LOCATION '${path.join(outside, 'hidden')}'`);
      await ok(`CREATE EXTERNAL VOLUME lab.s.wide LOCATION '${outside}'`);
      await ok('GRANT READ VOLUME ON VOLUME lab.s.wide TO `alice`');
      for (const p of ['/Volumes/lab/s/wide/hidden/*.parquet', '/Volumes/lab/s/wide/*/*.parquet', '/Volumes/lab/s/wide/**/*.parquet']) {
        const msg = await refused(`SELECT * FROM read_parquet('${p}')`, 'alice');
        expect(msg).toMatch(/files of table/);
      }
      // the admin may (admins read everything anyway)
      expect(await ok("SELECT pii FROM read_parquet('/Volumes/lab/s/wide/hidden/*.parquet')")).toEqual([['zulu']]);
      await ok('DROP VOLUME lab.s.wide');
      await ok('DROP TABLE lab.s.hidden');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    // a function body cannot read files or tables either (it is not name-resolved)
    await ok('GRANT CREATE FUNCTION ON SCHEMA lab.s TO `alice`');
    await ok(`CREATE FUNCTION lab.s.sneaky(x INT) RETURNS BIGINT RETURN (SELECT count(*) FROM read_parquet('${location}/*.parquet'))`, 'alice');
    const sneaky = await run('SELECT lab.s.sneaky(1)', 'alice');
    expect(sneaky.status.state).toBe('FAILED');
  });

  it('SHOW and information_schema list only what the caller may see', async () => {
    expect(await ok('SHOW CATALOGS', 'mallory')).toEqual([]);
    expect(await ok('SHOW TABLES IN lab.s', 'mallory')).toEqual([]);
    expect(await ok("SELECT table_name FROM lab.information_schema.tables WHERE table_schema = 's'", 'mallory')).toEqual([]);
    const aliceTables = (await ok('SHOW TABLES IN lab.s', 'alice')).map((r) => r[1]);
    expect(aliceTables).toContain('open');
    expect(aliceTables).not.toContain('secret');
    const info = (await ok("SELECT table_name FROM lab.information_schema.tables WHERE table_schema = 's' ORDER BY 1", 'alice')).map((r) => r[0]);
    expect(info).toContain('open');
    expect(info).not.toContain('secret');
    const cols = (await ok("SELECT DISTINCT table_name FROM lab.information_schema.columns WHERE table_schema = 's'", 'alice')).map((r) => r[0]);
    expect(cols).not.toContain('secret');
    // the admin sees everything
    expect((await ok('SHOW TABLES IN lab.s')).map((r) => r[1])).toContain('secret');
  });

  it('row filters and column masks apply to every read, inside joins and aggregates, exempting whom the function says', async () => {
    await ok("CREATE FUNCTION lab.s.eu_only(region STRING) RETURNS BOOLEAN RETURN is_account_group_member('admins') OR region = 'eu'");
    await ok("CREATE FUNCTION lab.s.hide_email(email STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('analysts') THEN email ELSE '***' END");
    await ok(
      "CREATE FUNCTION lab.s.own_salary(salary INT, email STRING) RETURNS INT RETURN CASE WHEN email = current_user() || '@example.com' THEN salary ELSE NULL END",
    );
    await ok('ALTER TABLE lab.s.people SET ROW FILTER lab.s.eu_only ON (region)');
    await ok('ALTER TABLE lab.s.people ALTER COLUMN email SET MASK lab.s.hide_email');
    for (const who of ['alice', 'carol']) await ok(`GRANT SELECT ON TABLE lab.s.people TO \`${who}\``);
    // GET table shows both, as UC's TableInfo fields
    const info = await s.call('GET', `${UC}/tables/lab.s.people`);
    expect(info.body.row_filter).toEqual({ function_name: 'lab.s.eu_only', input_column_names: ['region'] });
    expect(info.body.columns.find((c: { name: string }) => c.name === 'email').mask).toEqual({ function_name: 'lab.s.hide_email', using_column_names: [] });
    // alice: EU rows only, masked emails — in a plain read, an aggregate, a join, a CTE and a subquery
    expect(await ok('SELECT id, region, email FROM lab.s.people ORDER BY id', 'alice')).toEqual([
      ['1', 'eu', '***'],
      ['3', 'eu', '***'],
    ]);
    expect(await ok('SELECT count(*), sum(salary) FROM lab.s.people', 'alice')).toEqual([['2', '400']]);
    expect(await ok('SELECT region, count(*) FROM lab.s.people GROUP BY region', 'alice')).toEqual([['eu', '2']]);
    expect(await ok('SELECT o.id, p.email FROM lab.s.open o JOIN lab.s.people p ON o.id = p.id ORDER BY o.id', 'alice')).toEqual([
      ['1', '***'],
      ['3', '***'],
    ]);
    expect(await ok("WITH x AS (SELECT * FROM lab.s.people) SELECT count(*) FROM x WHERE email LIKE '%@%'", 'alice')).toEqual([['0']]);
    expect(await ok('SELECT count(*) FROM lab.s.open WHERE id IN (SELECT id FROM lab.s.people)', 'alice')).toEqual([['2']]);
    // carol is in analysts: still filtered, but the mask shows her the emails
    expect(await ok('SELECT email FROM lab.s.people ORDER BY id', 'carol')).toEqual([['ann@example.com'], ['cy@example.com']]);
    // admins are exempt only because the filter says so; the mask (no admin clause) applies to them too
    expect(await ok('SELECT count(*) FROM lab.s.people')).toEqual([['4']]);
    expect(await ok('SELECT DISTINCT email FROM lab.s.people')).toEqual([['***']]);
    // a view over the table is filtered for its reader too
    await ok('CREATE VIEW lab.s.people_v AS SELECT * FROM lab.s.people');
    await ok('GRANT SELECT ON TABLE lab.s.people_v TO `alice`');
    expect(await ok('SELECT count(*) FROM lab.s.people_v', 'alice')).toEqual([['2']]);
    // UPDATE/DELETE/MERGE would read the raw rows: refused for a writer without MANAGE
    await ok('GRANT MODIFY ON TABLE lab.s.people TO `alice`');
    await refused("DELETE FROM lab.s.people WHERE region = 'us'", 'alice');
    expect(await ok('SELECT count(*) FROM lab.s.people')).toEqual([['4']]);
    // only an owner or MANAGE may change the filter
    await refused('ALTER TABLE lab.s.people DROP ROW FILTER', 'alice');
    // a mask with USING COLUMNS, and current_user()
    await ok('ALTER TABLE lab.s.people ALTER COLUMN salary SET MASK lab.s.own_salary USING COLUMNS (email)');
    await ok('ALTER TABLE lab.s.people DROP ROW FILTER');
    await ok('ALTER TABLE lab.s.people ALTER COLUMN email DROP MASK');
    await ok("INSERT INTO lab.s.people VALUES (5, 'us', 'alice@example.com', 500)");
    expect(await ok('SELECT id, salary FROM lab.s.people ORDER BY id', 'alice')).toEqual([
      ['1', null],
      ['2', null],
      ['3', null],
      ['4', null],
      ['5', '500'],
    ]);
    const after = await s.call('GET', `${UC}/tables/lab.s.people`);
    expect(after.body.row_filter).toBeUndefined();
    expect(after.body.columns.find((c: { name: string }) => c.name === 'email').mask).toBeUndefined();
    expect(after.body.columns.find((c: { name: string }) => c.name === 'salary').mask).toEqual({
      function_name: 'lab.s.own_salary',
      using_column_names: ['email'],
    });
    // bad forms are refused and change nothing
    expect((await run('ALTER TABLE lab.s.people SET ROW FILTER lab.s.eu_only ON (nope)')).status.error?.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await run('ALTER TABLE lab.s.people SET ROW FILTER lab.s.eu_only ON (region, id)')).status.error?.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await run('ALTER TABLE lab.s.people SET ROW FILTER lab.s.missing ON (region)')).status.error?.error_code).toBe('NOT_FOUND');
    expect((await s.call('GET', `${UC}/tables/lab.s.people`)).body.row_filter).toBeUndefined();
  });

  it('vends temporary table, volume and path credentials only to those holding SELECT, MODIFY or READ VOLUME', async () => {
    const call = (p: string, body: unknown, as?: string | null) =>
      s.call('POST', `${UC}/${p}`, body, as === undefined ? undefined : as === null ? null : tokens[as]);
    const open = (await s.call('GET', `${UC}/tables/lab.s.open`)).body;
    const secret = (await s.call('GET', `${UC}/tables/lab.s.secret`)).body;
    const people = (await s.call('GET', `${UC}/tables/lab.s.people`)).body;
    const landing = (await s.call('GET', `${UC}/volumes/lab.s.landing`)).body;
    // alice holds SELECT on open (and MODIFY from an earlier test), nothing on secret
    const read = await call('temporary-table-credentials', { table_id: open.table_id, operation: 'READ' }, 'alice');
    expect(read.status, read.text).toBe(200);
    expect(read.body.url).toBe(open.storage_location);
    expect(read.body.expiration_time).toBeGreaterThan(Date.now());
    expect(read.body.aws_temp_credentials).toBeUndefined();
    expect((await call('temporary-table-credentials', { table_id: secret.table_id, operation: 'READ' }, 'alice')).status).toBe(403);
    expect((await call('temporary-table-credentials', { table_id: open.table_id, operation: 'READ_WRITE' }, 'mallory')).status).toBe(403);
    expect((await call('temporary-table-credentials', { table_id: open.table_id, operation: 'READ' }, null)).status).toBe(401);
    // bob: SELECT without MODIFY reads but may not write
    await ok('GRANT SELECT ON TABLE lab.s.open TO `bob`');
    expect((await call('temporary-table-credentials', { table_id: open.table_id, operation: 'READ' }, 'bob')).status).toBe(200);
    expect((await call('temporary-table-credentials', { table_id: open.table_id, operation: 'READ_WRITE' }, 'bob')).status).toBe(403);
    // path credentials are checked as the table or volume that owns the path
    expect((await call('temporary-path-credentials', { url: secret.storage_location, operation: 'PATH_READ' }, 'alice')).status).toBe(403);
    expect((await call('temporary-path-credentials', { url: `${secret.storage_location}/_delta_log`, operation: 'PATH_READ' }, 'alice')).status).toBe(403);
    expect((await call('temporary-path-credentials', { url: open.storage_location, operation: 'PATH_READ' }, 'alice')).status).toBe(200);
    expect((await call('temporary-path-credentials', { url: 'file:///etc', operation: 'PATH_READ' }, 'alice')).status).toBe(403);
    expect((await call('temporary-path-credentials', { url: 'file:///etc', operation: 'PATH_READ' })).status).toBe(200);
    // a table with a row filter or mask never hands out its raw files to a reader
    await ok('GRANT SELECT ON TABLE lab.s.people TO `alice`');
    const masked = await call('temporary-table-credentials', { table_id: people.table_id, operation: 'READ' }, 'alice');
    expect(masked.status).toBe(403);
    expect(masked.body.message).toMatch(/row filter or column mask/);
    // volumes: READ VOLUME for reading, WRITE VOLUME for writing
    expect((await call('temporary-volume-credentials', { volume_id: landing.volume_id, operation: 'READ_VOLUME' }, 'alice')).status).toBe(200);
    expect((await call('temporary-volume-credentials', { volume_id: landing.volume_id, operation: 'WRITE_VOLUME' }, 'alice')).status).toBe(403);
    expect((await call('temporary-volume-credentials', { volume_id: landing.volume_id, operation: 'READ_VOLUME' }, 'bob')).status).toBe(403);
    // bad input
    expect((await call('temporary-table-credentials', { table_id: 'no-such-id', operation: 'READ' })).status).toBe(404);
    const badOp = await call('temporary-table-credentials', { table_id: open.table_id, operation: 'DESTROY' });
    expect(badOp.status).toBe(400);
    expect(badOp.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('temporary-path-credentials', { url: 's3://bucket/x', operation: 'PATH_READ' })).status).toBe(400);
  });

  it('current_user() and is_account_group_member() answer for the statement’s caller', async () => {
    expect(await ok("SELECT current_user(), is_account_group_member('analysts'), is_member('admins')", 'carol')).toEqual([['carol', 'true', 'false']]);
    expect(await ok("SELECT current_user(), is_account_group_member('analysts')", 'alice')).toEqual([['alice', 'false']]);
    expect(await ok('SELECT session_user(), current_user', 'alice')).toEqual([['alice', 'alice']]);
    // a view that keys rows on current_user() answers for whoever reads it, not for the engine
    await ok("CREATE TABLE lab.s.owned AS SELECT * FROM (VALUES ('alice', 1), ('carol', 2), ('carol', 3)) t(who, n)");
    await ok('CREATE VIEW lab.s.mine AS SELECT n FROM lab.s.owned WHERE who = current_user()');
    for (const who of ['alice', 'carol']) await ok(`GRANT SELECT ON TABLE lab.s.mine TO \`${who}\``);
    expect(await ok('SELECT n FROM lab.s.mine ORDER BY n', 'alice')).toEqual([['1']]);
    expect(await ok('SELECT n FROM lab.s.mine ORDER BY n', 'carol')).toEqual([['2'], ['3']]);
  });

  it('engine connections kept between statements carry nothing of one caller into the next one’s statement', async () => {
    await ok("CREATE TABLE lab.s.pooled AS SELECT * FROM (VALUES (1, 'alice'), (2, 'carol'), (3, 'carol')) t(id, who)");
    await ok("CREATE FUNCTION lab.s.mine_only(who STRING) RETURNS BOOLEAN RETURN who = current_user() OR is_account_group_member('admins')");
    await ok('CREATE TABLE lab.s.plain AS SELECT * FROM range(5) t(n)');
    await ok('ALTER TABLE lab.s.pooled SET ROW FILTER lab.s.mine_only ON (who)');
    for (const who of ['alice', 'carol']) {
      await ok(`GRANT USE CATALOG ON CATALOG lab TO \`${who}\``);
      await ok(`GRANT USE SCHEMA ON SCHEMA lab.s TO \`${who}\``);
      await ok(`GRANT SELECT ON TABLE lab.s.pooled TO \`${who}\``);
      await ok(`GRANT SELECT ON TABLE lab.s.plain TO \`${who}\``);
    }
    // Plain reads (whose connections go back to the pool) interleaved with filtered reads and identity macros
    // (whose temp views and macros, if a connection kept them, would clash with or answer for the next caller).
    for (let round = 0; round < 4; round++) {
      for (const who of ['alice', 'carol', undefined]) {
        expect(await ok('SELECT count(*) FROM lab.s.plain', who)).toEqual([['5']]);
        expect(await ok('SELECT current_user()', who)).toEqual([[who ?? 'admin']]);
        expect(await ok('SELECT count(*) FROM lab.s.plain', who)).toEqual([['5']]);
        const seen = await ok('SELECT id FROM lab.s.pooled ORDER BY id', who);
        expect(seen).toEqual(who === 'alice' ? [['1']] : who === 'carol' ? [['2'], ['3']] : [['1'], ['2'], ['3']]);
      }
    }
  });
});
