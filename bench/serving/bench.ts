// Serving benchmark: Weir (ONNX in process, inference-table capture on) against `mlflow models serve` of the same
// random forest (sklearn flavor and onnx flavor), against the floor (bare Fastify + bare onnxruntime), and beside
// http-only (bare node:http answering a fixed body: the ceiling of any Node server here), single-row requests on
// loopback, 1 and 16 concurrent clients, one run. Started by run.sh after train.py has saved the model.
//
//   npx tsx bench/serving/bench.ts --work DIR --python VENV_PYTHON [--seconds 8] [--rounds 4] [--warmup 2] [--concurrency 1,16]
//                                  [--client wrk|node]
//
// The load generator is wrk (default; C, so it leaves the cores to the servers) or Node's http client (--client node).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(String(process.argv[i]).replace(/^--/, ''), String(process.argv[i + 1]));
const work = path.resolve(args.get('work') ?? path.join(ROOT, 'bench/serving/work'));
const python = args.get('python') ?? path.join(ROOT, 'tests/interop/.venv/bin/python');
const seconds = Number(args.get('seconds') ?? 8);
const warmup = Number(args.get('warmup') ?? 2);
const concurrencies = (args.get('concurrency') ?? '1,16').split(',').map(Number);
const client = args.get('client') ?? 'wrk';
if (client !== 'wrk' && client !== 'node') throw new Error(`--client must be wrk or node, got ${client}`);

/** A server under test: where to send requests, with which headers, and its process group for CPU accounting. */
interface Target {
  url: string;
  headers: Record<string, string>;
  pgid: number;
}

const row = JSON.parse(fs.readFileSync(path.join(work, 'row.json'), 'utf8')) as { body: unknown; label: string };
const body = Buffer.from(JSON.stringify(row.body));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function start(name: string, cmd: string, argv: string[], env: Record<string, string> = {}): ChildProcess {
  const log = fs.openSync(path.join(work, `${name}.log`), 'w');
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', log, log], detached: true });
  children.push(child);
  return child;
}

async function waitFor(url: string, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 1800; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited; see ${path.join(work, `${name}.log`)}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not answer ${url}`);
}

const TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds used so far by every process in a server's process group (the server and the workers it forks).
 * Wall-clock latency on a loaded machine mostly measures the wait for a core; CPU per request does not.
 */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state, ppid, pgrp, ... utime (11), stime (12), cutime (13), cstime (14), counted from 0.
    if (Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

function stopAll(): void {
  for (const c of children) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

async function api(base: string, token: string, method: string, p: string, payload?: unknown): Promise<any> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Starts Weir, registers the ONNX model directory through the MLflow API, and deploys it with capture on. */
async function startWeir(): Promise<Target> {
  const port = await freePort();
  const token = `dapi${randomBytes(16).toString('hex')}`;
  const dataDir = path.join(work, 'weir-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  // Run as users run it, so the Node options of its shebang apply (`node weir.js` would skip them); the node running
  // this benchmark goes first on PATH so both are the same.
  const child = start('weir', path.join(ROOT, 'apps/cli/bin/weir.js'), ['server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    WEIR_ADMIN_TOKEN: token,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`, child, 'weir');
  const exp = await api(base, token, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'bench' });
  const run = (await api(base, token, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() })).run.info;
  const artifacts = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
  const dir = path.join(work, 'onnx_model');
  for (const file of fs.readdirSync(dir)) {
    const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${artifacts}/model/${file}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: fs.readFileSync(path.join(dir, file)),
    });
    if (!res.ok) throw new Error(`upload of ${file} answered ${res.status}`);
  }
  await api(base, token, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'bench_forest' });
  await api(base, token, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bench_forest', source: `runs:/${run.run_id}/model`, run_id: run.run_id });
  for (;;) {
    const v = await api(base, token, 'GET', '/api/2.0/mlflow/model-versions/get?name=bench_forest&version=1');
    if (v.model_version.status === 'READY') break;
    if (v.model_version.status !== 'PENDING_REGISTRATION') throw new Error(`model version is ${v.model_version.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await api(base, token, 'POST', '/api/2.0/serving-endpoints', {
    name: 'bench',
    config: {
      served_entities: [{ entity_name: 'bench_forest', entity_version: '1' }],
      auto_capture_config: { catalog_name: 'main', schema_name: 'default', table_name_prefix: 'bench', enabled: true },
    },
  });
  for (;;) {
    const ep = await api(base, token, 'GET', '/api/2.0/serving-endpoints/bench');
    if (ep.state.config_update !== 'IN_PROGRESS') {
      if (ep.state.ready !== 'READY') throw new Error(`endpoint is not ready: ${ep.state_message}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `${base}/serving-endpoints/bench/invocations`, headers: { authorization: `Bearer ${token}` }, pgid: child.pid as number };
}

async function startMlflow(name: string, modelDir: string): Promise<Target> {
  const port = await freePort();
  const child = start(
    name,
    python,
    ['-m', 'mlflow', 'models', 'serve', '-m', path.join(work, modelDir), '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)],
    {
      PATH: `${path.dirname(python)}${path.delimiter}${process.env.PATH ?? ''}`,
      MLFLOW_DISABLE_TELEMETRY: 'true',
      DO_NOT_TRACK: 'true',
    },
  );
  await waitFor(`http://127.0.0.1:${port}/ping`, child, name);
  return { url: `http://127.0.0.1:${port}/invocations`, headers: {}, pgid: child.pid as number };
}

/** Starts one of this directory's Node servers through tsx, with the arguments made for its port, once it answers /health. */
async function startNodeScript(name: string, script: string, argsFor: (port: number) => string[]): Promise<Target> {
  const port = await freePort();
  const child = start(name, process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'bench/serving', script), ...argsFor(port)]);
  await waitFor(`http://127.0.0.1:${port}/health`, child, name);
  return { url: `http://127.0.0.1:${port}/invocations`, headers: {}, pgid: child.pid as number };
}

const startFloor = () => startNodeScript('floor', 'floor.ts', (port) => [path.join(work, 'onnx_model/model.onnx'), String(port)]);

// An answer the size and shape of the model's, fixed: this server only measures what HTTP itself costs.
const startHttpOnly = () =>
  startNodeScript('http-only', 'http-only.ts', (port) => [
    String(port),
    JSON.stringify({ predictions: [{ label: row.label, probabilities: [0.98, 0.01, 0.01] }] }),
  ]);

/** One POST on a keep-alive agent; answers status and body text. */
function post(agent: http.Agent, target: Target): Promise<{ status: number; text: string }> {
  const u = new URL(target.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { ...target.headers, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Result {
  target: string;
  clients: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server-side CPU milliseconds per answered request. */
  cpuMs: number;
}

/** Latencies (ms) and elapsed seconds of `clients` loops sending one request after another for `secs` seconds. */
async function loadNode(target: Target, clients: number, secs: number): Promise<Turn> {
  const cpuBefore = groupCpuMs(target.pgid);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let errors = 0;
  const began = process.hrtime.bigint();
  const deadline = began + BigInt(Math.round(secs * 1e9));
  const loop = async () => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      try {
        const res = await post(agent, target);
        if (res.status === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsed = Number(process.hrtime.bigint() - began) / 1e9;
  agent.destroy();
  return { latencies, errors, elapsed, cpuMs: groupCpuMs(target.pgid) - cpuBefore };
}

/** What one timed turn of load gave: latencies (ms) of answered requests, or wrk's own percentiles of them. */
interface Turn {
  latencies: number[];
  /** wrk turns: answered requests and their p50/p99 (ms); `latencies` is empty then. */
  wrk?: { requests: number; p50: number; p99: number };
  errors: number;
  elapsed: number;
  cpuMs: number;
}

/** The Lua script wrk runs for a target: a POST of the row with the target's headers; prints its figures as JSON. */
function wrkScript(target: Target): string {
  const file = path.join(work, `wrk-${new URL(target.url).port}.lua`);
  const headers = { ...target.headers, 'content-type': 'application/json' };
  fs.writeFileSync(
    file,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(body.toString('utf8'))}`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
      'function done(summary, latency, requests)',
      '  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout',
      '  io.write(string.format(\'WRK {"requests":%d,"errors":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\\n\',',
      '    summary.requests, errors, summary.duration, latency:percentile(50), latency:percentile(99)))',
      'end',
      '',
    ].join('\n'),
  );
  return file;
}

/** One turn of wrk: `clients` connections on one thread (one core is plenty for it; the other stays the server's) for `secs` seconds (whole seconds: wrk's unit). */
function loadWrk(target: Target, clients: number, secs: number): Turn {
  const cpuBefore = groupCpuMs(target.pgid);
  const script = wrkScript(target);
  const out = execFileSync('wrk', ['-t', '1', '-c', String(clients), '-d', `${Math.max(1, Math.round(secs))}s`, '-s', script, target.url], {
    encoding: 'utf8',
  });
  const cpuMs = groupCpuMs(target.pgid) - cpuBefore;
  const line = out.split('\n').find((l) => l.startsWith('WRK '));
  if (!line) throw new Error(`wrk printed no figures:\n${out}`);
  const w = JSON.parse(line.slice(4)) as { requests: number; errors: number; duration_us: number; p50_us: number; p99_us: number };
  const answered = w.requests - w.errors;
  return { latencies: [], wrk: { requests: answered, p50: w.p50_us / 1000, p99: w.p99_us / 1000 }, errors: w.errors, elapsed: w.duration_us / 1e6, cpuMs };
}

/** The median of a list of numbers. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function summarize(target: string, clients: number, runs: Turn[]): Result {
  if (runs.every((r) => r.wrk)) {
    // wrk gives percentiles per turn, not its samples: the figures are the medians of the turns' percentiles.
    const requests = runs.reduce((a, r) => a + (r.wrk?.requests ?? 0), 0);
    return {
      target,
      clients,
      requests,
      errors: runs.reduce((a, r) => a + r.errors, 0),
      rps: requests / runs.reduce((a, r) => a + r.elapsed, 0),
      p50: median(runs.map((r) => r.wrk?.p50 ?? Number.NaN)),
      p99: median(runs.map((r) => r.wrk?.p99 ?? Number.NaN)),
      cpuMs: runs.reduce((a, r) => a + r.cpuMs, 0) / Math.max(1, requests),
    };
  }
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((a, r) => a + r.elapsed, 0);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const cpuMs = runs.reduce((a, r) => a + r.cpuMs, 0) / Math.max(1, latencies.length);
  return {
    target,
    clients,
    requests: latencies.length,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    rps: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    cpuMs,
  };
}

const targets: [string, () => Promise<Target>][] = [
  ['weir', startWeir],
  ['mlflow-sklearn', () => startMlflow('mlflow-sklearn', 'sklearn_model')],
  ['mlflow-onnx', () => startMlflow('mlflow-onnx', 'onnx_model')],
  ['floor', startFloor],
  ['http-only', startHttpOnly],
];
const only = args.get('targets')?.split(',');
const started: [string, Target][] = [];
for (const [name, startTarget] of targets.filter(([n]) => !only || only.includes(n))) {
  process.stdout.write(`[bench] starting ${name}\n`);
  const target = await startTarget();
  // Every server must give the label scikit-learn gives before it is timed.
  const first = await post(new http.Agent(), target);
  if (first.status !== 200 || !first.text.includes(row.label)) throw new Error(`${name} answered ${first.status} ${first.text.slice(0, 300)}`);
  started.push([name, target]);
}

if (args.has('hold')) {
  // Keeps the servers up for probing by hand: prints each target's URL and headers, then waits for Ctrl-C.
  for (const [name, target] of started) process.stdout.write(`[bench] ${name} ${target.url} ${JSON.stringify(target.headers)}\n`);
  await new Promise(() => {});
}

// The machine is shared: targets take turns in short rounds so a burst of someone else's load hits all of them alike.
const rounds = Number(args.get('rounds') ?? 4);
const results: Result[] = [];
for (const clients of concurrencies) {
  const runs = new Map<string, Turn[]>(started.map(([n]) => [n, []]));
  const load = (target: Target, clients: number, secs: number) =>
    client === 'wrk' ? Promise.resolve(loadWrk(target, clients, secs)) : loadNode(target, clients, secs);
  for (const [, target] of started) await load(target, clients, warmup);
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of started) runs.get(name)?.push(await load(target, clients, seconds / rounds));
  }
  for (const [name] of started) {
    const r = summarize(name, clients, runs.get(name) ?? []);
    results.push(r);
    process.stdout.write(
      `[bench] ${name.padEnd(15)} clients=${String(clients).padStart(2)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  cpu/req ${r.cpuMs.toFixed(2)} ms  errors ${r.errors}\n`,
    );
  }
}

const find = (t: string, c: number) => results.find((r) => r.target === t && r.clients === c);
const get = (t: string, c: number) => find(t, c) as Result;
const lines = [
  '',
  '| clients | target | req/s | p50 ms | p99 ms | server CPU ms/req | errors |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) => `| ${r.clients} | ${r.target} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuMs.toFixed(2)} | ${r.errors} |`,
  ),
  '',
  '| ratio | clients | value | target |',
  '| --- | ---: | ---: | --- |',
];
for (const c of only ? [] : concurrencies) {
  const weir = get('weir', c);
  for (const peer of ['mlflow-sklearn', 'mlflow-onnx']) {
    const p = get(peer, c);
    lines.push(`| ${peer} p50 / Weir p50 | ${c} | ${(p.p50 / weir.p50).toFixed(1)}x | >= 10x |`);
    lines.push(`| Weir req/s / ${peer} req/s | ${c} | ${(weir.rps / p.rps).toFixed(1)}x | >= 10x |`);
    lines.push(`| ${peer} CPU/req / Weir CPU/req | ${c} | ${(p.cpuMs / weir.cpuMs).toFixed(1)}x | (load-independent) |`);
  }
  const ceiling = find('http-only', c);
  if (ceiling) {
    const onnx = get('mlflow-onnx', c);
    lines.push(`| mlflow-onnx p50 / http-only p50 | ${c} | ${(onnx.p50 / ceiling.p50).toFixed(1)}x | (what no Node server can beat) |`);
    lines.push(`| http-only req/s / mlflow-onnx req/s | ${c} | ${(ceiling.rps / onnx.rps).toFixed(1)}x | (what no Node server can beat) |`);
  }
  lines.push(`| Weir p50 / floor p50 | ${c} | ${(weir.p50 / get('floor', c).p50).toFixed(2)}x | <= 1.5x |`);
  lines.push(`| Weir CPU/req / floor CPU/req | ${c} | ${(weir.cpuMs / get('floor', c).cpuMs).toFixed(2)}x | (load-independent) |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
fs.writeFileSync(path.join(work, 'results.json'), JSON.stringify(results, null, 2));
process.exit(0);
