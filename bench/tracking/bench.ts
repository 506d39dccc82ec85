// Tracking-server benchmark: stock MLflow 3.x `mlflow server` vs Weir, one after the
// other on loopback, on SQLite and then on PostgreSQL. Run it through bench/tracking/run.sh,
// which prepares the MLflow virtualenv and the PostgreSQL server.
//
//   npx tsx bench/tracking/bench.ts [--backends sqlite,postgres] [--servers mlflow,weir]
//                                   [--scale full|quick] [--mlflow-seed db|api] [--out DIR]
//
// Environment: MLFLOW_BENCH_BIN (the venv's `mlflow`), MLFLOW_BENCH_PYTHON (the venv's python),
// WEIR_BENCH_PG_URL (postgres://postgres@127.0.0.1:PORT, needed for the postgres backend),
// WEIR_PG_BIN (directory with psql).
//
// Scenarios, each measured through the REST API on both servers:
//   a) log-batch throughput: C concurrent clients, each its own run, fixed number of calls of
//      1,000 metrics (10 keys x 100 steps) -> metrics/s
//   b) create-run latency: N sequential POST runs/create -> p50
//   c) search-runs over 10,000 runs (3 metrics, 3 params each): filter `metrics.acc > 0.5`,
//      order_by `metrics.loss ASC`, max_results 100, N sequential calls -> p50
//   d) get-history of one metric with 1,000,000 points: paged like the Python client
//      (max_results=25000 + page tokens) and as one unpaginated request; both must return
//      every point. Peak RSS (VmHWM of the server processes, reset just before) -> MB.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

// ------------------------------------------------------------------ options --
type Backend = 'sqlite' | 'postgres';
type ServerKind = 'mlflow' | 'weir';

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? fallback;
}

const scaleName = argValue('scale', 'full');
const SCALES = {
  full: { clients: 8, callsPerClient: 16, createN: 200, searchRuns: 10_000, searchN: 15, historyPoints: 1_000_000 },
  quick: { clients: 8, callsPerClient: 2, createN: 30, searchRuns: 1_000, searchN: 5, historyPoints: 100_000 },
} as const;
if (scaleName !== 'full' && scaleName !== 'quick') throw new Error(`--scale must be full or quick, got ${scaleName}`);
const SCALE = SCALES[scaleName];
const BACKENDS = argValue('backends', 'sqlite,postgres').split(',') as Backend[];
const SERVERS = argValue('servers', 'mlflow,weir').split(',') as ServerKind[];
const MLFLOW_SEED = argValue('mlflow-seed', 'db');
// One uvicorn worker by default: with several, uvicorn's supervisor kills a worker that misses its
// health-check ping while busy (seen on this 2-core machine under load), which drops requests.
const MLFLOW_WORKERS = argValue('mlflow-workers', '1');
const OUT_DIR = resolve(argValue('out', join(HERE, 'work')));
const MLFLOW_BIN = process.env.MLFLOW_BENCH_BIN ?? join(HERE, '.venv/bin/mlflow');
const MLFLOW_PY = process.env.MLFLOW_BENCH_PYTHON ?? join(HERE, '.venv/bin/python');
const PG_URL = (process.env.WEIR_BENCH_PG_URL ?? '').replace(/\/+$/, '');
const PSQL = process.env.WEIR_PG_BIN ? join(process.env.WEIR_PG_BIN, 'psql') : 'psql';
const REQUEST_TIMEOUT_MS = 600_000;
const HISTORY_PAGE = 25_000; // mlflow.store.tracking.GET_METRIC_HISTORY_MAX_RESULTS
const BASE_TS = 1_700_000_000_000;

for (const b of BACKENDS) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend ${b}`);
for (const s of SERVERS) if (s !== 'mlflow' && s !== 'weir') throw new Error(`unknown server ${s}`);
if (MLFLOW_SEED !== 'db' && MLFLOW_SEED !== 'api') throw new Error('--mlflow-seed must be db or api');

const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ------------------------------------------------- deterministic seed data --
// keep in sync with seed_mlflow.py
const LRS = ['0.1', '0.01', '0.001'];
const BATCH_SIZES = ['32', '64', '128', '256'];
const MODELS = ['mlp', 'cnn', 'gbdt', 'linear', 'rf'];
const runMetrics = (i: number) => ({
  acc: ((i * 7919) % 10007) / 10007,
  loss: ((i * 104729) % 10009) / 10009,
  f1: ((i * 1299709) % 10037) / 10037,
});
const runParams = (i: number) => ({ lr: LRS[i % 3] ?? '', batch_size: BATCH_SIZES[i % 4] ?? '', model: MODELS[i % 5] ?? '' });
const historyValue = (step: number) => 1.0 / (1.0 + step / 1000.0);

function expectedSearch(count: number): string[] {
  const rows: { name: string; loss: number }[] = [];
  for (let i = 0; i < count; i++) {
    const m = runMetrics(i);
    if (m.acc > 0.5) rows.push({ name: `r${i}`, loss: m.loss });
  }
  rows.sort((a, b) => a.loss - b.loss);
  return rows.slice(0, 100).map((r) => r.name);
}

// -------------------------------------------------------------- utilities --
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx] ?? Number.NaN;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item, w);
      }
    }),
  );
}

// ------------------------------------------------------ /proc memory stats --
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // process went away
    }
  }
  const out: number[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Reset the peak-RSS counter (VmHWM) of every process of the server (Linux: clear_refs 5). */
function resetPeak(rootPid: number): void {
  for (const pid of processTree(rootPid)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // not permitted or gone: the figure then includes earlier peaks
    }
  }
}

/** Peak RSS in MB: the largest single process (the one serving requests) and the sum over the tree. */
function peakRss(rootPid: number): { maxMB: number; sumMB: number; processes: number } {
  const vals = processTree(rootPid).map((pid) => statusKb(pid, 'VmHWM'));
  return { maxMB: Math.max(0, ...vals) / 1024, sumMB: vals.reduce((a, b) => a + b, 0) / 1024, processes: vals.length };
}

// -------------------------------------------------------------- HTTP client --
class Api {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (json) h['content-type'] = 'application/json';
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  async post<T = any>(path: string, body: unknown): Promise<T> {
    return this.send('POST', path, typeof body === 'string' ? body : JSON.stringify(body));
  }

  async get<T = any>(path: string, query: Record<string, string | number | undefined>): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    return this.send('GET', `${path}?${qs.toString()}`, undefined);
  }

  /** Requests retried after the server closed the connection without answering (counted, reported). */
  static retries = 0;

  private async send<T>(method: string, path: string, body: string | undefined): Promise<T> {
    const once = () =>
      fetch(this.base + path, {
        method,
        headers: this.headers(body !== undefined),
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    let res: Response;
    try {
      res = await once();
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : '';
      if (!/other side closed|ECONNRESET|socket hang up/i.test(cause)) throw e;
      Api.retries++;
      log(`  retrying ${method} ${path.split('?')[0]} after: ${cause}`);
      res = await once();
    }
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${path.split('?')[0]} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

// ----------------------------------------------------------------- servers --
interface Running {
  kind: ServerKind;
  api: Api;
  pid: number;
  dbUri: string; // MLflow's SQLAlchemy URI (for the seeder) or Weir's metadata URL
  stop(): Promise<void>;
}

function psql(db: string, sql: string): void {
  const r = spawnSync(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', `${PG_URL}/${db}`, '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error}`);
}

function freshPgDatabase(name: string): void {
  psql('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  psql('postgres', `CREATE DATABASE "${name}"`);
}

async function waitHealthy(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`server at ${url} not healthy within ${timeoutMs / 1000}s; see ${logFile}`);
}

async function startServer(kind: ServerKind, backend: Backend, work: string): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = join(work, `${kind}-${backend}`);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'server.log');
  const out = openSync(logFile, 'w');
  let child: ChildProcess;
  let dbUri: string;
  let token = '';
  if (kind === 'mlflow') {
    if (backend === 'postgres') {
      freshPgDatabase('mlflow_bench');
      dbUri = `${PG_URL.replace(/^postgres:/, 'postgresql+psycopg2:')}/mlflow_bench`;
    } else {
      dbUri = `sqlite:///${join(dir, 'mlflow.db')}`;
    }
    const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', dbUri, '--workers', MLFLOW_WORKERS];
    args.push('--artifacts-destination', join(dir, 'artifacts'));
    child = spawn(MLFLOW_BIN, args, {
      cwd: dir,
      env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
      stdio: ['ignore', out, out],
      detached: true,
    });
  } else {
    token = `bench-${randomBytes(16).toString('hex')}`;
    const args = [join(ROOT, 'apps/cli/bin/weir.js'), 'server', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir, 'data')];
    if (backend === 'postgres') {
      freshPgDatabase('weir_bench');
      dbUri = `${PG_URL}/weir_bench`;
      args.push('--metadata-url', dbUri);
    } else {
      dbUri = join(dir, 'data');
    }
    child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, WEIR_ADMIN_TOKEN: token },
      stdio: ['ignore', out, out],
      detached: true,
    });
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${kind}`);
  const stop = async () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-pid, 'SIGTERM'); // the process group this bench created
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
    if (child.exitCode === null) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  try {
    await waitHealthy(url, child, logFile, 240_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { kind, api: new Api(url, token), pid, dbUri, stop };
}

// --------------------------------------------------------------- scenarios --
async function createExperiment(api: Api, prefix: string): Promise<string> {
  const r = await api.post<{ experiment_id: string }>('/api/2.0/mlflow/experiments/create', {
    name: `${prefix}-${randomBytes(4).toString('hex')}`,
  });
  return r.experiment_id;
}

async function createRun(api: Api, experimentId: string, runName: string): Promise<string> {
  const r = await api.post<{ run: { info: { run_id: string } } }>('/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: runName,
    start_time: Date.now(),
    tags: [{ key: 'mlflow.user', value: 'bench' }],
  });
  return r.run.info.run_id;
}

async function benchCreateRun(api: Api) {
  const exp = await createExperiment(api, 'bench-create');
  for (let i = 0; i < 5; i++) await createRun(api, exp, `warm${i}`);
  const lat: number[] = [];
  for (let i = 0; i < SCALE.createN; i++) {
    const t = performance.now();
    await createRun(api, exp, `c${i}`);
    lat.push(performance.now() - t);
  }
  return { n: SCALE.createN, p50ms: percentile(lat, 50), p95ms: percentile(lat, 95) };
}

async function benchLogBatch(api: Api) {
  const exp = await createExperiment(api, 'bench-logbatch');
  const runs: string[] = [];
  for (let c = 0; c < SCALE.clients; c++) runs.push(await createRun(api, exp, `client${c}`));
  const now = Date.now();
  const body = (runId: string, call: number) =>
    JSON.stringify({
      run_id: runId,
      metrics: Array.from({ length: 1000 }, (_, j) => ({
        key: `m${j % 10}`,
        value: Math.sin(call * 100 + j),
        timestamp: now + call,
        step: call * 100 + Math.floor(j / 10),
      })),
    });
  // warm-up call per client (step range -1 block, not counted)
  await Promise.all(runs.map((r) => api.post('/api/2.0/mlflow/runs/log-batch', body(r, 10_000))));
  const bodies = runs.map((r) => Array.from({ length: SCALE.callsPerClient }, (_, call) => body(r, call)));
  const t = performance.now();
  await Promise.all(
    bodies.map(async (list) => {
      for (const b of list) await api.post('/api/2.0/mlflow/runs/log-batch', b);
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  const metrics = SCALE.clients * SCALE.callsPerClient * 1000;
  return { clients: SCALE.clients, calls: SCALE.clients * SCALE.callsPerClient, metrics, seconds, metricsPerSec: metrics / seconds };
}

async function seedRunsApi(api: Api, exp: string, count: number): Promise<void> {
  const idx = Array.from({ length: count }, (_, i) => i);
  await pool(idx, 8, async (i) => {
    const runId = await createRun(api, exp, `r${i}`);
    await api.post('/api/2.0/mlflow/runs/log-batch', {
      run_id: runId,
      metrics: Object.entries(runMetrics(i)).map(([key, value]) => ({ key, value, timestamp: BASE_TS + i, step: 0 })),
      params: Object.entries(runParams(i)).map(([key, value]) => ({ key, value })),
    });
  });
}

/** Runs seed_mlflow.py without blocking the event loop (a blocked loop leaves dead keep-alive sockets in fetch's pool). */
function runSeeder(args: string[]): Promise<{ rows: number; seconds: number }> {
  return new Promise((res, rej) => {
    const child = spawn(MLFLOW_PY, [join(HERE, 'seed_mlflow.py'), ...args], {
      env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) rej(new Error(`seed_mlflow.py ${args[0]} failed (${code}): ${err.slice(-2000)}`));
      else res(JSON.parse(out.trim().split('\n').pop() ?? '{}'));
    });
  });
}

async function benchSearch(srv: Running) {
  const { api } = srv;
  const exp = await createExperiment(api, 'bench-search');
  const t0 = performance.now();
  const viaDb = srv.kind === 'mlflow' && MLFLOW_SEED === 'db';
  if (viaDb) await runSeeder(['runs', '--db', srv.dbUri, '--experiment-id', exp, '--count', String(SCALE.searchRuns)]);
  else await seedRunsApi(api, exp, SCALE.searchRuns);
  const seedSeconds = (performance.now() - t0) / 1000;
  const req = { experiment_ids: [exp], filter: 'metrics.acc > 0.5', order_by: ['metrics.loss ASC'], max_results: 100 };
  const expected = expectedSearch(SCALE.searchRuns);
  const names = (r: any): string[] =>
    (r.runs ?? []).map((x: any) => x.info?.run_name ?? (x.data?.tags ?? []).find((t: any) => t.key === 'mlflow.runName')?.value);
  const first = await api.post('/api/2.0/mlflow/runs/search', req);
  const got = names(first);
  const correct = JSON.stringify(got) === JSON.stringify(expected);
  if (!correct) log(`WARNING ${srv.kind}: search returned ${got.length} runs, first ${got.slice(0, 5).join(',')}; expected ${expected.slice(0, 5).join(',')}`);
  await api.post('/api/2.0/mlflow/runs/search', req);
  const lat: number[] = [];
  for (let i = 0; i < SCALE.searchN; i++) {
    const t = performance.now();
    await api.post('/api/2.0/mlflow/runs/search', req);
    lat.push(performance.now() - t);
  }
  return { runs: SCALE.searchRuns, n: SCALE.searchN, p50ms: percentile(lat, 50), p95ms: percentile(lat, 95), seedSeconds, seed: viaDb ? 'db' : 'api', correct };
}

async function seedHistoryApi(api: Api, runId: string, points: number): Promise<void> {
  const calls = Array.from({ length: Math.ceil(points / 1000) }, (_, c) => c);
  await pool(calls, 8, async (c) => {
    const metrics = [];
    for (let s = c * 1000; s < Math.min(points, (c + 1) * 1000); s++) {
      metrics.push({ key: 'loss', value: historyValue(s), timestamp: BASE_TS + s, step: s });
    }
    await api.post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
  });
}

async function fetchHistory(api: Api, runId: string, pageSize: number | undefined) {
  let token: string | undefined;
  let points = 0;
  let pages = 0;
  let first: any;
  let last: any;
  const t = performance.now();
  do {
    const r = await api.get<{ metrics?: any[]; next_page_token?: string }>('/api/2.0/mlflow/metrics/get-history', {
      run_id: runId,
      run_uuid: runId,
      metric_key: 'loss',
      max_results: pageSize,
      page_token: token,
    });
    const ms = r.metrics ?? [];
    if (pages === 0) first = ms[0];
    if (ms.length) last = ms[ms.length - 1];
    points += ms.length;
    pages++;
    token = r.next_page_token || undefined;
    if (pages > 10_000) throw new Error('get-history: too many pages');
  } while (token);
  return { seconds: (performance.now() - t) / 1000, points, pages, first, last };
}

async function benchHistory(srv: Running) {
  const { api } = srv;
  const exp = await createExperiment(api, 'bench-history');
  const runId = await createRun(api, exp, 'history');
  const t0 = performance.now();
  const viaDb = srv.kind === 'mlflow' && MLFLOW_SEED === 'db';
  if (viaDb) await runSeeder(['history', '--db', srv.dbUri, '--run-id', runId, '--key', 'loss', '--points', String(SCALE.historyPoints)]);
  else await seedHistoryApi(api, runId, SCALE.historyPoints);
  const seedSeconds = (performance.now() - t0) / 1000;
  const before = peakRss(srv.pid);
  resetPeak(srv.pid);
  const paged = await fetchHistory(api, runId, HISTORY_PAGE);
  const single = await fetchHistory(api, runId, undefined);
  const peak = peakRss(srv.pid);
  const complete = paged.points === SCALE.historyPoints && single.points === SCALE.historyPoints;
  if (!complete) log(`WARNING ${srv.kind}: get-history returned ${paged.points} (paged) / ${single.points} (single) of ${SCALE.historyPoints} points`);
  return {
    points: SCALE.historyPoints,
    seedSeconds,
    seed: viaDb ? 'db' : 'api',
    paged: { seconds: paged.seconds, points: paged.points, pages: paged.pages },
    single: { seconds: single.seconds, points: single.points, pages: single.pages },
    complete,
    peakRssMB: peak.maxMB,
    peakRssTreeMB: peak.sumMB,
    processes: peak.processes,
    rssBeforeMB: before.maxMB,
  };
}

async function attempt<T>(label: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  log(`  ${label} ...`);
  const t = performance.now();
  try {
    const r = await fn();
    log(`  ${label} done in ${((performance.now() - t) / 1000).toFixed(1)}s: ${JSON.stringify(r)}`);
    return r;
  } catch (e) {
    const cause = e instanceof Error && e.cause ? ` (cause: ${e.cause instanceof Error ? e.cause.message : String(e.cause)})` : '';
    const error = (e instanceof Error ? e.message : String(e)) + cause;
    log(`  ${label} FAILED: ${error}`);
    return { error };
  }
}

type Result = Record<string, any>;

async function benchServer(kind: ServerKind, backend: Backend, work: string): Promise<Result> {
  log(`${kind} on ${backend}: starting`);
  const t = performance.now();
  let srv: Running;
  try {
    srv = await startServer(kind, backend, work);
  } catch (e) {
    const error = `start failed: ${e instanceof Error ? e.message : String(e)}`;
    log(`${kind} on ${backend}: ${error}`);
    return { error };
  }
  const startupSeconds = (performance.now() - t) / 1000;
  log(`${kind} on ${backend}: up after ${startupSeconds.toFixed(1)}s (pid ${srv.pid})`);
  try {
    const createRunR = await attempt('create-run', () => benchCreateRun(srv.api));
    const logBatchR = await attempt('log-batch', () => benchLogBatch(srv.api));
    const searchR = await attempt('search-runs', () => benchSearch(srv));
    const historyR = await attempt('get-history', () => benchHistory(srv));
    return { startupSeconds, createRun: createRunR, logBatch: logBatchR, search: searchR, history: historyR, peakRssWholeRunMB: peakRss(srv.pid).maxMB };
  } finally {
    await srv.stop();
  }
}

// ------------------------------------------------------------------ report --
function fmt(v: unknown, digits = 1): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(backend: Backend, res: Record<ServerKind, Result | undefined>): string {
  const m = res.mlflow ?? {};
  const w = res.weir ?? {};
  const rows: [string, unknown, unknown, string, (r: number, wv: number) => boolean][] = [
    ['log-batch throughput, metrics/s (higher is better)', m.logBatch?.metricsPerSec, w.logBatch?.metricsPerSec, '>= 20', (r) => r >= 20],
    ['create-run p50, ms', m.createRun?.p50ms, w.createRun?.p50ms, '<= 0.2', (r) => r <= 0.2],
    [`search-runs p50, ms (${SCALE.searchRuns.toLocaleString('en-US')} runs)`, m.search?.p50ms, w.search?.p50ms, '<= 0.1', (r) => r <= 0.1],
    [`get-history ${SCALE.historyPoints.toLocaleString('en-US')} pts, paged 25k, s`, m.history?.paged?.seconds, w.history?.paged?.seconds, '', () => true],
    [`get-history ${SCALE.historyPoints.toLocaleString('en-US')} pts, one request, s`, m.history?.single?.seconds, w.history?.single?.seconds, '', () => true],
    ['peak RSS during get-history, MB (largest process)', m.history?.peakRssMB, w.history?.peakRssMB, 'Weir < 300 MB', (_r, wv) => wv < 300],
    ['peak RSS over the whole run, MB (largest process)', m.peakRssWholeRunMB, w.peakRssWholeRunMB, '', () => true],
  ];
  const lines = [
    `### ${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} backend`,
    '',
    '| measure | MLflow | Weir | Weir/MLflow | target | met |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const [name, mv, wv, target, ok] of rows) {
    const ratio = typeof mv === 'number' && typeof wv === 'number' && mv > 0 ? wv / mv : Number.NaN;
    const absolute = target.startsWith('Weir'); // judged on Weir's figure alone
    const judgeable = target !== '' && typeof wv === 'number' && Number.isFinite(wv) && (absolute || Number.isFinite(ratio));
    const met = judgeable ? (ok(ratio, wv as number) ? 'yes' : 'NO') : '';
    lines.push(`| ${name} | ${fmt(mv)} | ${fmt(wv)} | ${fmt(ratio, 3)} | ${target} | ${met} |`);
  }
  const notes: string[] = [];
  for (const [kind, r] of Object.entries(res) as [ServerKind, Result | undefined][]) {
    if (!r) continue;
    if (r.error) notes.push(`${kind}: ${r.error}`);
    for (const k of ['createRun', 'logBatch', 'search', 'history']) if (r[k]?.error) notes.push(`${kind} ${k}: ${r[k].error}`);
    if (r.search && r.search.correct === false) notes.push(`${kind}: search-runs returned a different top-100 than expected`);
    if (r.history && r.history.complete === false) notes.push(`${kind}: get-history did not return every point`);
    if (r.search?.seed)
      notes.push(
        `${kind}: search seed via ${r.search.seed} in ${fmt(r.search.seedSeconds)}s; history seed via ${r.history?.seed} in ${fmt(r.history?.seedSeconds)}s`,
      );
  }
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (SERVERS.includes('mlflow') && !existsSync(MLFLOW_BIN)) throw new Error(`MLflow not found at ${MLFLOW_BIN} (run bench/tracking/run.sh)`);
  if (BACKENDS.includes('postgres') && !PG_URL) throw new Error('WEIR_BENCH_PG_URL is required for the postgres backend');
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  mkdirSync(OUT_DIR, { recursive: true });
  const mlflowVersion = SERVERS.includes('mlflow') ? spawnSync(MLFLOW_BIN, ['--version'], { encoding: 'utf8' }).stdout.trim() : 'n/a';
  log(`scale=${scaleName} ${JSON.stringify(SCALE)} backends=${BACKENDS.join(',')} servers=${SERVERS.join(',')} mlflow-seed=${MLFLOW_SEED}`);
  log(`${mlflowVersion}; node ${process.version}; work dir ${work}`);
  const started = Date.now();
  const all: Record<string, Record<ServerKind, Result | undefined>> = {};
  const stopping = () => {
    log('interrupted');
    process.exit(130);
  };
  process.on('SIGINT', stopping);
  process.on('SIGTERM', stopping);
  try {
    for (const backend of BACKENDS) {
      const res: Record<ServerKind, Result | undefined> = { mlflow: undefined, weir: undefined };
      for (const kind of SERVERS) res[kind] = await benchServer(kind, backend, work);
      all[backend] = res;
      console.log(`\n${table(backend, res)}\n`);
    }
  } finally {
    if (process.env.WEIR_BENCH_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  }
  if (Api.retries) log(`${Api.retries} request(s) were retried after the server closed the connection`);
  const header = `Weir vs ${mlflowVersion} (${MLFLOW_WORKERS} uvicorn worker${MLFLOW_WORKERS === '1' ? '' : 's'}), scale=${scaleName}, ${new Date().toISOString()}, ${((Date.now() - started) / 60000).toFixed(1)} min`;
  const md = [`## ${header}`, '', ...BACKENDS.map((b) => table(b, all[b] ?? { mlflow: undefined, weir: undefined })), ''].join('\n\n');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(OUT_DIR, `results-${stamp}.json`), JSON.stringify({ header, scale: SCALE, results: all }, null, 2));
  writeFileSync(join(OUT_DIR, `results-${stamp}.md`), md);
  console.log(`\n${header}\nresults written to ${join(OUT_DIR, `results-${stamp}.{json,md}`)}`);
}

await main();
