// bench/sql: the Statement Execution API beside raw DuckDB over the same files, on flights-3m.parquet.
// Usage: npx tsx bench/sql/bench.ts <work-dir>   (bench/sql/run.sh passes bench/sql/work)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDeltaTable } from '@weir/delta';
import { startTestServer } from '@weir/server/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const [workArg] = process.argv.slice(2);
if (!workArg) throw new Error('usage: bench.ts <work-dir>');
const work = path.resolve(workArg);
const source = path.join(root, 'node_modules/vega-datasets/data/flights-3m.parquet');
if (!fs.existsSync(source)) throw new Error(`${source} is missing: run npm install at the repository root (vega-datasets is a devDependency)`);
const REPEATS = Number(process.env.WEIR_BENCH_REPEATS ?? 21);

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function median(fn: () => Promise<unknown>, prepare?: () => Promise<void> | void, repeats = REPEATS): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await prepare?.();
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/**
 * Runs the two sides alternately (A B, then B A, ...) so that on a shared, loaded machine both see the same
 * background load, and returns each side's median and the median of the per-pair difference and ratio.
 */
async function paired(a: () => Promise<unknown>, b: () => Promise<unknown>, repeats = REPEATS) {
  const ta: number[] = [];
  const tb: number[] = [];
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  for (let i = 0; i < repeats; i++) {
    if (i % 2 === 0) {
      ta.push(await time(a));
      tb.push(await time(b));
    } else {
      tb.push(await time(b));
      ta.push(await time(a));
    }
  }
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  return { a: mid(ta), b: mid(tb), added: mid(ta.map((x, i) => x - (tb[i] as number))), ratio: mid(ta.map((x, i) => x / (tb[i] as number))) };
}

const server = await startTestServer({ name: 'sqlite' }, { dataDir: path.join(work, 'weir') });
// A keep-alive `node:http` client: `fetch` (undici) in the same process costs 1.3–2 ms a request on its own, which
// is the client's time, not the statement API's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const serverUrl = new URL(server.url);
function post(pathname: string, payload: unknown): Promise<string> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: serverUrl.hostname,
        port: serverUrl.port,
        path: pathname,
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
async function statement(sql: string): Promise<{ rows: unknown[][]; state: string; message?: string }> {
  const text = await post('/api/2.0/sql/statements', { statement: sql, warehouse_id: 'bench', wait_timeout: '50s' });
  const body = JSON.parse(text) as { status: { state: string; error?: { message: string } }; result?: { data_array?: unknown[][] } };
  if (body.status.state !== 'SUCCEEDED') throw new Error(`${sql}: ${body.status.error?.message ?? body.status.state}`);
  return { rows: body.result?.data_array ?? [], state: body.status.state };
}

// Load flights-3m into a managed table through a volume, as a user would.
await statement('CREATE SCHEMA main.bench');
await statement('CREATE VOLUME main.bench.landing');
const volumeDir = path.join(work, 'weir', 'volumes', 'main', 'bench', 'landing');
fs.copyFileSync(source, path.join(volumeDir, 'flights-3m.parquet'));
const tLoad = performance.now();
await statement(`CREATE TABLE main.bench.flights AS SELECT * FROM read_parquet('/Volumes/main/bench/landing/flights-3m.parquet')`);
console.log(`loaded flights-3m into main.bench.flights in ${((performance.now() - tLoad) / 1000).toFixed(2)} s`);
const tableDir = path.join(work, 'weir', 'warehouse', 'main', 'bench', 'flights');
const files = (await openDeltaTable(tableDir).snapshot()).files.map((f) => path.join(tableDir, decodeURIComponent(f.path)));

// Raw DuckDB, same thread count as Weir's SQL engine, reading the table's own Parquet files.
const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await instance.connect();
await con.run(`CREATE VIEW flights AS SELECT * FROM read_parquet([${files.map(lit).join(', ')}])`);
const raw = async (sql: string) => (await con.runAndReadAll(sql)).getRowsJson();

const point = {
  weir: "SELECT * FROM main.bench.flights WHERE distance = 1235 AND origin = 'SEA' LIMIT 5",
  duck: "SELECT * FROM flights WHERE distance = 1235 AND origin = 'SEA' LIMIT 5",
};
const groupBy = {
  weir: 'SELECT origin, count(*) AS n, avg(delay) AS d FROM main.bench.flights GROUP BY origin ORDER BY n DESC LIMIT 20',
  duck: 'SELECT origin, count(*) AS n, avg(delay) AS d FROM flights GROUP BY origin ORDER BY n DESC LIMIT 20',
};
// Same answers first, then timings (one warm-up each).
for (const q of [point, groupBy]) {
  const a = JSON.stringify((await statement(q.weir)).rows);
  const b = JSON.stringify((await raw(q.duck)).map((r) => r.map((v) => (v === null ? null : String(v)))));
  if (a !== b) throw new Error(`answers differ for ${q.weir}\n${a}\n${b}`);
}
const results: string[] = [];
const p = await paired(
  () => statement(point.weir),
  () => raw(point.duck),
);
results.push(
  `point query: statement API ${p.a.toFixed(1)} ms, raw DuckDB ${p.b.toFixed(1)} ms (medians of ${REPEATS}), added ${p.added.toFixed(1)} ms (median of paired differences; goal <= 5 ms)`,
);
const g = await paired(
  () => statement(groupBy.weir),
  () => raw(groupBy.duck),
);
results.push(
  `group-by: statement API ${g.a.toFixed(1)} ms, raw DuckDB ${g.b.toFixed(1)} ms (medians of ${REPEATS}), ratio ${g.ratio.toFixed(2)}x (median of paired ratios; goal <= 1.2x)`,
);

// The same group-by with a text never seen before on every run (a different constant column each time, on both sides):
// a repeated text starts on its last rewrite while it is resolved again (docs/adr/0005-speculative-queries.md), a new
// one is resolved first. This is the figure for ad-hoc queries.
let fresh = 0;
const freshText = (from: string) => `SELECT origin, count(*) AS n, avg(delay) AS d, ${fresh} AS k FROM ${from} GROUP BY origin ORDER BY n DESC LIMIT 20`;
const gNew = await paired(
  () => statement(freshText('main.bench.flights')).finally(() => fresh++),
  () => raw(freshText('flights')),
);
results.push(
  `group-by, new text each run: statement API ${gNew.a.toFixed(1)} ms, raw DuckDB ${gNew.b.toFixed(1)} ms (medians of ${REPEATS}), ratio ${gNew.ratio.toFixed(2)}x (median of paired ratios; no speculation)`,
);

// COPY INTO from the CSV export vs DuckDB read_csv into Parquet.
const csv = path.join(volumeDir, 'csv', 'flights-3m.csv');
fs.mkdirSync(path.dirname(csv));
await con.run(`COPY (SELECT * FROM read_parquet(${lit(source)})) TO ${lit(csv)} (HEADER, DELIMITER ',')`);
const columns = (await statement('DESCRIBE main.bench.flights')).rows.map((r) => `${String(r[0])} ${String(r[1])}`);
let round = 0;
const copyWeir = await median(
  () => statement(`COPY INTO main.bench.flights_csv_${round} FROM '/Volumes/main/bench/landing/csv' FILEFORMAT = CSV`),
  async () => {
    round++;
    await statement(`CREATE TABLE main.bench.flights_csv_${round} (${columns.join(', ')})`);
  },
  3,
);
const out = path.join(work, 'duck-out');
fs.mkdirSync(out);
let n = 0;
const copyDuck = await median(
  () => con.run(`COPY (SELECT * FROM read_csv(${lit(csv)})) TO ${lit(path.join(out, `f${n++}.parquet`))} (FORMAT parquet)`),
  undefined,
  3,
);
const loaded = (await statement(`SELECT count(*) FROM main.bench.flights_csv_${round}`)).rows[0]?.[0];
results.push(
  `COPY INTO (CSV, ${loaded} rows): Weir ${(copyWeir / 1000).toFixed(2)} s, DuckDB read_csv -> Parquet ${(copyDuck / 1000).toFixed(2)} s, ratio ${(copyWeir / copyDuck).toFixed(2)}x`,
);

results.push(
  `load average at the end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${os.cpus().length} CPUs`,
);
for (const line of results) console.log(line);
con.closeSync();
instance.closeSync();
agent.destroy();
await server.close();
