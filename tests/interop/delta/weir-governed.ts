// Spark reads through Weir's grants, the way the Unity Catalog Spark connector does it: a Weir server holds two
// tables, a user is granted SELECT on one; governed_spark.py (run here, while the server is up) asks, as that user,
// for GET .../tables/{name} and POST .../temporary-table-credentials (the connector's two calls before a read),
// reads the granted table with Spark at the location vended to it, and is refused both calls for the other table.
// The connector jar itself (io.unitycatalog:unitycatalog-spark) is not used: it is not served by the registry this
// suite resolves from, so the calls it makes are made by the script instead.
// Usage: npx tsx tests/interop/delta/weir-governed.ts <work-dir> <python>
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer } from '@weir/server/testing';

const [work, python] = process.argv.slice(2);
if (!work || !python) throw new Error('usage: weir-governed.ts <work-dir> <python>');
fs.mkdirSync(work, { recursive: true });

const server = await startTestServer({ name: 'sqlite' }, { dataDir: path.join(work, 'server-data') });
let status = 1;
try {
  const sql = async (statement: string, token?: string) => {
    const res = await server.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'weir', wait_timeout: '30s' }, token);
    if (res.status !== 200 || res.body.status?.state !== 'SUCCEEDED') throw new Error(`${statement}: ${res.text}`);
    return res.body;
  };
  const created = await server.call('POST', '/api/2.0/preview/scim/v2/Users', { userName: 'spark-reader@example.com', password: 'correct horse battery' });
  if (created.status !== 201) throw new Error(`create user: ${created.text}`);
  const basic = Buffer.from('spark-reader@example.com:correct horse battery').toString('base64');
  const tokenRes = await fetch(`${server.url}/api/2.0/token/create`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: '{}' });
  const userToken = ((await tokenRes.json()) as { token_value: string }).token_value;

  await sql('CREATE CATALOG gov');
  await sql('CREATE SCHEMA gov.s');
  await sql('CREATE TABLE gov.s.granted AS SELECT range AS id, range * 2 AS doubled FROM range(100)');
  await sql("CREATE TABLE gov.s.closed AS SELECT range AS id, 'secret-' || range AS pii FROM range(10)");
  await sql('GRANT USE CATALOG ON CATALOG gov TO `spark-reader@example.com`');
  await sql('GRANT USE SCHEMA ON SCHEMA gov.s TO `spark-reader@example.com`');
  await sql('GRANT SELECT ON TABLE gov.s.granted TO `spark-reader@example.com`');
  // The user's own SQL sees the same: one table, not the other.
  await sql('SELECT count(*) FROM gov.s.granted', userToken);

  const closedTableId = (await server.call('GET', '/api/2.1/unity-catalog/tables/gov.s.closed')).body.table_id as string;
  const spec = { url: server.url, token: userToken, granted: 'gov.s.granted', closed: 'gov.s.closed', closedTableId, expectedRows: 100, expectedSum: 9900 };
  const specFile = path.join(work, 'governed.json');
  fs.writeFileSync(specFile, JSON.stringify(spec));
  // Not spawnSync: the server answers the script's calls from this process's event loop.
  const child = spawn(python, [path.join(import.meta.dirname, 'governed_spark.py'), specFile, work], { stdio: 'inherit', env: process.env });
  status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
} finally {
  await server.close();
}
process.exit(status);
