// Model registry benchmark: stock MLflow 3.x `mlflow server` (SQLite) vs Weir (SQLite), one after the
// other on loopback, each measured through the REST API. Run it through bench/registry/run.sh, which
// prepares the MLflow virtualenv.
//
//   npx tsx bench/registry/bench.ts [--servers mlflow,weir] [--scale full|quick] [--out DIR] [--reuse]
//
// Both servers run at once; search calls alternate between them so machine load hits both alike.
// --reuse starts the servers on the stores seeded by a previous run in --out and skips seeding.
//
// Scenarios:
//   a) search-model-versions over M models x 10 versions (seeded through the REST API, 8 concurrent
//      clients): two filters, `name = '<one model>'` and `name LIKE 'bench-model-01%' AND version_number >= 5`,
//      N sequential calls each after 2 warm-ups; every answer is checked against the expected versions -> p50
//   b) registering a version of a 50 MB model: the model directory (MLmodel + a 50 MB file) is uploaded
//      into a run through the artifact proxy, then `POST model-versions/create` with `runs:/<run>/model`
//      is timed until `GET model-versions/get` reports READY -> wall time. Weir copies the files into its
//      registry at this point; MLflow records the source and keeps pointing at the run's artifacts.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const SCALES = {
  full: { models: 2_000, versionsPerModel: 10, searchN: 30, modelBytes: 50 * 1024 * 1024 },
  quick: { models: 100, versionsPerModel: 10, searchN: 5, modelBytes: 5 * 1024 * 1024 },
} as const;
const scaleName = argValue('scale', 'full');
if (scaleName !== 'full' && scaleName !== 'quick') throw new Error(`--scale must be full or quick, got ${scaleName}`);
const SCALE = SCALES[scaleName];
const SERVERS = argValue('servers', 'mlflow,weir').split(',') as ('mlflow' | 'weir')[];
const OUT_DIR = resolve(argValue('out', join(HERE, 'work')));
const MLFLOW_BIN = process.env.MLFLOW_BENCH_BIN ?? join(HERE, '.venv/bin/mlflow');
const CONCURRENCY = 8;
/** Reuse the seeded stores of a previous run in --out (skips seeding). */
const REUSE = process.argv.includes('--reuse');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

class Api {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}
  private headers(json: boolean): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) };
  }
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    let url = this.base + path;
    let payload: string | undefined;
    if (method === 'GET' && body) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (v !== undefined) qs.append(k, String(v));
      url += `?${qs}`;
    } else if (body !== undefined) payload = JSON.stringify(body);
    const res = await fetch(url, { method, headers: this.headers(payload !== undefined), body: payload, signal: AbortSignal.timeout(600_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${path} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
  async put(path: string, body: Buffer): Promise<void> {
    const res = await fetch(this.base + path, { method: 'PUT', headers: this.headers(false), body, signal: AbortSignal.timeout(600_000) });
    if (res.status !== 200) throw new Error(`PUT ${path} -> HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
}

interface Running {
  api: Api;
  stop(): Promise<void>;
}

async function startServer(kind: 'mlflow' | 'weir', work: string): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = join(work, kind);
  if (!REUSE) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'server.log');
  const out = openSync(logFile, 'w');
  let child: ChildProcess;
  let token = '';
  if (kind === 'mlflow') {
    // MLflow as shipped: default uvicorn workers, SQLite backend, artifact proxy on.
    const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`];
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
    child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, WEIR_ADMIN_TOKEN: token }, stdio: ['ignore', out, out], detached: true });
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
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} not healthy in time; see ${logFile}`);
    }
    await sleep(250);
  }
  return { api: new Api(url, token), stop };
}

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

const modelName = (i: number) => `bench-model-${String(i).padStart(4, '0')}`;

async function seed(api: Api): Promise<number> {
  const t0 = performance.now();
  const models = Array.from({ length: SCALE.models }, (_, i) => i);
  await pool(models, async (i) => {
    const name = modelName(i);
    await api.call('POST', '/api/2.0/mlflow/registered-models/create', { name });
    for (let v = 0; v < SCALE.versionsPerModel; v++) {
      await api.call('POST', '/api/2.0/mlflow/model-versions/create', {
        name,
        source: `s3://bench-bucket/models/${name}/${v}`,
        tags: [{ key: 'stage', value: v % 2 === 0 ? 'even' : 'odd' }],
      });
    }
  });
  return (performance.now() - t0) / 1000;
}

/** Times each filter on every server, alternating servers call by call so that load on the machine hits all alike. */
async function searchScenario(apis: Map<string, Api>) {
  const target = modelName(Math.floor(SCALE.models / 2));
  const likePrefix = 'bench-model-01';
  const filters = [
    { label: `name = '${target}'`, filter: `name = '${target}'`, expect: SCALE.versionsPerModel },
    {
      label: `name LIKE '${likePrefix}%' AND version_number >= 5`,
      filter: `name LIKE '${likePrefix}%' AND version_number >= 5`,
      expect: Math.min(100, Math.max(0, SCALE.models - 100)) * (SCALE.versionsPerModel - 4),
    },
  ];
  const out = new Map<string, { label: string; p50ms: number; results: number }[]>();
  for (const f of filters) {
    const samples = new Map<string, number[]>();
    for (let i = 0; i < SCALE.searchN + 2; i++) {
      for (const [kind, api] of apis) {
        const t0 = performance.now();
        const res = await api.call<{ model_versions?: unknown[] }>('GET', '/api/2.0/mlflow/model-versions/search', { filter: f.filter, max_results: 10_000 });
        const ms = performance.now() - t0;
        const results = (res.model_versions ?? []).length;
        if (results !== f.expect) throw new Error(`${kind} ${f.label}: expected ${f.expect} versions, got ${results}`);
        if (i >= 2) samples.set(kind, [...(samples.get(kind) ?? []), ms]);
      }
    }
    for (const [kind, list] of samples) out.set(kind, [...(out.get(kind) ?? []), { label: f.label, p50ms: p50(list), results: f.expect }]);
  }
  return out;
}

async function registerLargeModel(api: Api, work: string) {
  const exp = (
    await api.call<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { name: `bench-large-${randomBytes(4).toString('hex')}` })
  ).experiment_id;
  const run = (
    await api.call<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', '/api/2.0/mlflow/runs/create', {
      experiment_id: exp,
      start_time: Date.now(),
    })
  ).run.info;
  const base = run.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
  const weights = randomBytes(SCALE.modelBytes);
  writeFileSync(join(work, 'weights.bin'), weights.subarray(0, 16));
  await api.put(`/api/2.0/mlflow-artifacts/artifacts/${base}/model/MLmodel`, Buffer.from('flavors:\n  onnx:\n    data: model.onnx\n'));
  await api.put(`/api/2.0/mlflow-artifacts/artifacts/${base}/model/model.onnx`, weights);
  const largeName = `bench-large-${randomBytes(4).toString('hex')}`;
  await api.call('POST', '/api/2.0/mlflow/registered-models/create', { name: largeName });
  const t0 = performance.now();
  const created = await api.call<{ model_version: { version: string; status: string } }>('POST', '/api/2.0/mlflow/model-versions/create', {
    name: largeName,
    source: `runs:/${run.run_id}/model`,
    run_id: run.run_id,
  });
  let status = created.model_version.status;
  while (status === 'PENDING_REGISTRATION') {
    await sleep(5);
    status = (
      await api.call<{ model_version: { status: string } }>('GET', '/api/2.0/mlflow/model-versions/get', {
        name: 'bench-large',
        version: created.model_version.version,
      })
    ).model_version.status;
  }
  const ms = performance.now() - t0;
  if (status !== 'READY') throw new Error(`large model registration ended ${status}`);
  return { ms, bytes: SCALE.modelBytes };
}

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  const results: Record<string, unknown> = { scale: scaleName, ...SCALE, reuse: REUSE, date: new Date().toISOString() };
  const running = new Map<string, Running>();
  try {
    for (const kind of SERVERS) {
      log(`starting ${kind}`);
      const server = await startServer(kind, OUT_DIR);
      running.set(kind, server);
      if (!REUSE) {
        const seedSeconds = await seed(server.api);
        log(`${kind}: seeded ${SCALE.models} models x ${SCALE.versionsPerModel} versions in ${seedSeconds.toFixed(1)} s`);
        results[kind] = { seedSeconds };
      } else results[kind] = {};
    }
    const search = await searchScenario(new Map([...running].map(([k, r]) => [k, r.api])));
    for (const [kind, list] of search) {
      for (const s of list) log(`${kind}: search ${s.label} -> ${s.results} versions, p50 ${s.p50ms.toFixed(2)} ms`);
      Object.assign(results[kind] as object, { search: list });
    }
    for (const [kind, server] of running) {
      const large = await registerLargeModel(server.api, OUT_DIR);
      log(`${kind}: registering a ${(large.bytes / 1024 / 1024).toFixed(0)} MB model took ${large.ms.toFixed(0)} ms`);
      Object.assign(results[kind] as object, { registerLargeModelMs: large.ms });
    }
  } finally {
    for (const server of running.values()) await server.stop();
  }
  const m = results.mlflow as { search: { p50ms: number }[] } | undefined;
  const w = results.weir as { search: { p50ms: number }[] } | undefined;
  if (m?.search && w?.search) {
    results.ratios = m.search.map((s, i) => ({ mlflowOverWeir: s.p50ms / (w.search[i]?.p50ms ?? Number.NaN) }));
    for (const [i, r] of (results.ratios as { mlflowOverWeir: number }[]).entries())
      log(`search ${i + 1}: Weir p50 is 1/${r.mlflowOverWeir.toFixed(1)} of MLflow's`);
  }
  const file = join(OUT_DIR, `results-${scaleName}${REUSE ? '-reuse' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`results in ${file}`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
