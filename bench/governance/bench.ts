// Governance benchmark: what authorization adds to a call, and how fast a filtered listing is.
//
// One Weir server (in this process, SQLite or PostgreSQL) holds 10,000 grants across 500 groups. A non-admin
// "analyst" (in 5 of those groups, one of them nested) and the admin make the same calls, interleaved:
//   - a point SELECT through POST /api/2.0/sql/statements,
//   - POST /api/2.0/mlflow/runs/log-metric,
// and the p50 difference (analyst - admin) is what authorization adds (admins skip every check).
// Then the analyst and the admin list a schema of 10,000 tables of which the analyst may see 100.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../apps/server/src/app.ts';
import { resolveConfig } from '../../apps/server/src/platform/config.ts';
import { createTestPostgresDatabase } from '../../apps/server/src/testing/test-server.ts';

const GROUPS = 500;
const GRANTS = 10_000;
const TABLES = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const LIST_ROUNDS = Number(process.env.BENCH_LIST_ROUNDS ?? 15);
const backend = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';

const p50 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bench-gov-'));
  const pg = backend === 'postgres' ? await createTestPostgresDatabase('weir_bench_gov') : undefined;
  const adminToken = `dapi${randomBytes(16).toString('hex')}`;
  const weir = await buildApp(resolveConfig({ port: 0, host: '127.0.0.1', dataDir, metadataUrl: pg?.url, adminToken, logLevel: 'warn' }, {}), {
    logStream: fs.createWriteStream(path.join(dataDir, 'server.log')),
    announce: () => {},
  });
  const url = await weir.app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, p: string, body: unknown, token: string) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  };
  const admin = (m: string, p: string, b?: unknown) => call(m, p, b, adminToken);
  try {
    // ---- principals: 500 groups; the analyst is in 4 directly and in a 5th through a nested group ----
    const password = 'bench-password-0123456789';
    const analyst = await admin('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'analyst@example.com', password });
    const tokenRes = await fetch(`${url}/api/2.0/token/create`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`analyst@example.com:${password}`).toString('base64')}` },
      body: '{}',
    });
    const analystToken = ((await tokenRes.json()) as { token_value: string }).token_value;
    const groups: string[] = [];
    for (let g = 0; g < GROUPS; g++) {
      const name = `g${String(g).padStart(3, '0')}`;
      const member = g < 4 ? [{ value: analyst.id }] : [];
      const created = await admin('POST', '/api/2.0/preview/scim/v2/Groups', { displayName: name, members: member });
      groups.push(name);
      if (g === 4)
        await admin('POST', '/api/2.0/preview/scim/v2/Groups', { displayName: 'g004-inner', members: [{ value: analyst.id }] }).then((inner) =>
          admin('PATCH', `/api/2.0/preview/scim/v2/Groups/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'add', path: 'members', value: [{ value: inner.id }] }],
          }),
        );
    }

    // ---- a real table with data for the point SELECT ----
    await admin('POST', '/api/2.1/unity-catalog/catalogs', { name: 'bench' });
    await admin('POST', '/api/2.1/unity-catalog/schemas', { name: 's', catalog_name: 'bench' });
    const sql = (statement: string, token: string) => call('POST', '/api/2.0/sql/statements', { statement, wait_timeout: '50s' }, token);
    for (const st of [
      'CREATE TABLE bench.s.points (id BIGINT, v DOUBLE)',
      'INSERT INTO bench.s.points SELECT range AS id, range * 0.5 AS v FROM range(1000)',
    ]) {
      const r = await sql(st, adminToken);
      if (r.status?.state !== 'SUCCEEDED') throw new Error(`${st}: ${JSON.stringify(r.status)}`);
    }

    // ---- 10,000 tables in bench.wide: catalog rows cloned from one real table (listing reads only the catalog) ----
    await admin('POST', '/api/2.1/unity-catalog/schemas', { name: 'wide', catalog_name: 'bench' });
    await admin('POST', '/api/2.1/unity-catalog/tables', {
      name: 't00000',
      catalog_name: 'bench',
      schema_name: 'wide',
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      columns: [{ name: 'id', type_text: 'bigint', type_name: 'LONG', position: 0 }],
    });
    const db = weir.store.db;
    const template = await db.selectFrom('uc_tables').selectAll().where('name', '=', 't00000').executeTakeFirstOrThrow();
    for (let start = 1; start < TABLES; start += 500) {
      const rows = [];
      for (let i = start; i < Math.min(TABLES, start + 500); i++) rows.push({ ...template, id: randomUUID(), name: `t${String(i).padStart(5, '0')}` });
      await db.insertInto('uc_tables').values(rows).execute();
    }

    // ---- 10,000 grants across the 500 groups: each group gets SELECT on 20 tables of bench.wide ----
    const tableNames = Array.from({ length: TABLES }, (_, i) => `bench.wide.t${String(i).padStart(5, '0')}`);
    let grants = 0;
    for (let g = 0; g < GROUPS; g++) {
      for (let k = 0; k < GRANTS / GROUPS; k++) {
        const table = tableNames[(g * 20 + k) % TABLES] as string;
        await admin('PATCH', `/api/2.1/unity-catalog/permissions/table/${table}`, { changes: [{ principal: groups[g], add: ['SELECT'] }] });
        grants++;
      }
    }
    // What the analyst's groups need on top: USE on the catalog and schemas, SELECT on the point table.
    await admin('PATCH', '/api/2.1/unity-catalog/permissions/catalog/bench', { changes: [{ principal: 'g000', add: ['USE_CATALOG'] }] });
    await admin('PATCH', '/api/2.1/unity-catalog/permissions/schema/bench.s', { changes: [{ principal: 'g001', add: ['USE_SCHEMA'] }] });
    await admin('PATCH', '/api/2.1/unity-catalog/permissions/schema/bench.wide', { changes: [{ principal: 'g002', add: ['USE_SCHEMA'] }] });
    await admin('PATCH', '/api/2.1/unity-catalog/permissions/table/bench.s.points', { changes: [{ principal: 'g004', add: ['SELECT'] }] });

    // ---- an experiment the analyst's group may edit, with one run each ----
    const exp = (await admin('POST', '/api/2.0/mlflow/experiments/create', { name: 'bench' })).experiment_id as string;
    await admin('PATCH', `/api/2.0/permissions/experiments/${exp}`, { access_control_list: [{ group_name: 'g003', permission_level: 'CAN_EDIT' }] });
    const runOf = async (token: string) => (await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp }, token)).run.info.run_id as string;
    const adminRun = await runOf(adminToken);
    const analystRun = await runOf(analystToken);

    // ---- interleaved timing ----
    const time = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const select = (token: string) => async () => {
      const r = await sql('SELECT v FROM bench.s.points WHERE id = 42', token);
      if (r.status?.state !== 'SUCCEEDED') throw new Error(`SELECT: ${JSON.stringify(r.status)}`);
    };
    const metric = (token: string, run: string) => () =>
      call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: run, key: 'loss', value: Math.random(), timestamp: Date.now(), step: 0 }, token);
    const samples = { selectAdmin: [] as number[], selectAnalyst: [] as number[], metricAdmin: [] as number[], metricAnalyst: [] as number[] };
    for (let i = 0; i < 20; i++) {
      await select(adminToken)();
      await select(analystToken)();
      await metric(adminToken, adminRun)();
      await metric(analystToken, analystRun)();
    }
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating which goes first keeps a slow moment from always landing on the same side.
      if (i % 2 === 0) {
        samples.selectAdmin.push(await time(select(adminToken)));
        samples.selectAnalyst.push(await time(select(analystToken)));
        samples.metricAdmin.push(await time(metric(adminToken, adminRun)));
        samples.metricAnalyst.push(await time(metric(analystToken, analystRun)));
      } else {
        samples.selectAnalyst.push(await time(select(analystToken)));
        samples.selectAdmin.push(await time(select(adminToken)));
        samples.metricAnalyst.push(await time(metric(analystToken, analystRun)));
        samples.metricAdmin.push(await time(metric(adminToken, adminRun)));
      }
    }

    // ---- listing 10,000 tables, 100 of them visible to the analyst ----
    const list = (token: string) => call('GET', '/api/2.1/unity-catalog/tables?catalog_name=bench&schema_name=wide', undefined, token);
    const visible = (await list(analystToken)).tables.length as number;
    const all = (await list(adminToken)).tables.length as number;
    const listAnalyst: number[] = [];
    const listAdmin: number[] = [];
    for (let i = 0; i < LIST_ROUNDS; i++) {
      listAnalyst.push(await time(() => list(analystToken)));
      listAdmin.push(await time(() => list(adminToken)));
    }
    // The same traversal in pages of 50, as UC clients page (p50 of a few walks; the admin's 200 pages once).
    const walk = async (token: string) => {
      let pageToken: string | undefined;
      let count = 0;
      do {
        const page = await call(
          'GET',
          `/api/2.1/unity-catalog/tables?catalog_name=bench&schema_name=wide&max_results=50${pageToken ? `&page_token=${pageToken}` : ''}`,
          undefined,
          token,
        );
        count += page.tables.length;
        pageToken = page.next_page_token;
      } while (pageToken);
      return count;
    };
    const walks: number[] = [];
    let pagedCount = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      pagedCount = await walk(analystToken);
      walks.push(performance.now() - t);
    }
    const pagedMs = p50(walks);
    const adminWalkStart = performance.now();
    const adminPagedCount = await walk(adminToken);
    const adminPagedMs = performance.now() - adminWalkStart;

    const f = (x: number) => x.toFixed(3);
    const selectAdded = p50(samples.selectAnalyst) - p50(samples.selectAdmin);
    const metricAdded = p50(samples.metricAnalyst) - p50(samples.metricAdmin);
    console.log(`\n== governance benchmark (${backend}) — ${grants} grants across ${GROUPS} groups, ${ROUNDS} rounds ==`);
    console.log(
      `point SELECT   p50 admin ${f(p50(samples.selectAdmin))} ms, analyst ${f(p50(samples.selectAnalyst))} ms, added ${f(selectAdded)} ms (target <= 0.2)`,
    );
    console.log(
      `log-metric     p50 admin ${f(p50(samples.metricAdmin))} ms, analyst ${f(p50(samples.metricAnalyst))} ms, added ${f(metricAdded)} ms (target <= 0.2)`,
    );
    console.log(
      `list tables    ${all} tables, analyst sees ${visible}: p50 analyst ${f(p50(listAnalyst))} ms, admin ${f(p50(listAdmin))} ms (ratio ${(p50(listAnalyst) / p50(listAdmin)).toFixed(2)}x; target <= 100 ms)`,
    );
    console.log(
      `               in pages of 50: analyst ${pagedCount} tables in ${pagedMs.toFixed(1)} ms (p50 of 5), admin ${adminPagedCount} in ${adminPagedMs.toFixed(1)} ms`,
    );
    console.log(`peer (quoted): Unity Catalog OSS lists 120 tables in ~10 s (unitycatalog#781) -> Weir lists ${all} in ${f(p50(listAnalyst))} ms`);
  } finally {
    await weir.close(1000);
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
