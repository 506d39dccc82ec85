// bench/sql/profile.ts: the statement API's fixed per-statement cost, for CPU profiles and A/B checks.
// Runs N point statements over a small managed table and prints the median wall time and the mean CPU time per
// statement (client and server share this process, so CPU covers both ends of HTTP).
//   npx tsx bench/sql/profile.ts [N]                                   # default 300
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/sql/profile.ts 300
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer } from '@weir/server/testing';

const N = Number(process.argv[2] ?? 300);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-sql-profile-'));
const server = await startTestServer({ name: 'sqlite' }, { dataDir });

async function statement(sql: string): Promise<unknown[][]> {
  const res = await fetch(`${server.url}/api/2.0/sql/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ statement: sql, warehouse_id: 'profile', wait_timeout: '50s' }),
  });
  const body = (await res.json()) as { status: { state: string; error?: { message: string } }; result?: { data_array?: unknown[][] } };
  if (body.status.state !== 'SUCCEEDED') throw new Error(`${sql}: ${body.status.error?.message ?? body.status.state}`);
  return body.result?.data_array ?? [];
}

try {
  await statement('CREATE SCHEMA main.profile');
  await statement('CREATE TABLE main.profile.t AS SELECT range AS id, range % 97 AS k, md5(range::VARCHAR) AS s FROM range(10000)');
  const point = 'SELECT * FROM main.profile.t WHERE id = 4242 LIMIT 5';
  const rows = await statement(point);
  if (rows.length !== 1 || rows[0]?.[0] !== '4242') throw new Error(`unexpected answer ${JSON.stringify(rows)}`);
  for (let i = 0; i < 30; i++) await statement(point);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await statement(point);
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  console.log(
    `${N} point statements: median ${median.toFixed(2)} ms wall, ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms CPU each (load ${os.loadavg()[0]?.toFixed(1)})`,
  );
} finally {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
