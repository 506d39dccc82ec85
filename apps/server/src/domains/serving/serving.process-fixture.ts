// Test helpers that run Weir as real processes (`weir server`, `weir serve`) and register ONNX models through its API.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { linearOnnxModel } from './serving.onnx-fixture.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const weirBin = path.join(repoRoot, 'apps/cli/bin/weir.js');

/** An MLmodel with an onnx flavor, a column signature a, b, c (doubles) and a split-orient input example. */
export const LINEAR_MLMODEL = `artifact_path: model
flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
mlflow_version: 3.1.0
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
  params: null
`;

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A `weir` child process and its URL once it answers `healthPath`. */
export interface WeirProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Ends the process with the signal and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs `weir <args>` with `env` added and waits until `GET url + healthPath` answers 200. */
export async function startWeirProcess(args: string[], port: number, env: Record<string, string>, healthPath = '/health'): Promise<WeirProcess> {
  const child = spawn(process.execPath, [weirBin, ...args], { env: { ...process.env, WEIR_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const proc: WeirProcess = {
    child,
    url,
    output: () => out,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`weir ${args[0]} exited: ${out}`);
    const ok = await fetch(`${url}${healthPath}`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.kill('SIGKILL');
  throw new Error(`weir ${args[0]} did not start: ${out}`);
}

/** Runs `weir server` on a data dir (and an optional PostgreSQL metadata URL). */
export async function startServerProcess(dataDir: string, token: string, metadataUrl?: string, env: Record<string, string> = {}): Promise<WeirProcess> {
  const port = await freePort();
  const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  if (metadataUrl) args.push('--metadata-url', metadataUrl);
  return startWeirProcess(args, port, { WEIR_ADMIN_TOKEN: token, ...env });
}

/** JSON call with a bearer token; answers status and parsed body. */
export async function callJson(url: string, token: string, method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** Logs a linear ONNX model `y = X·w + b` to a new run and registers it as the next version of `name`; answers the version. */
export async function registerLinearVersion(url: string, token: string, name: string, w: number[], b: number): Promise<number> {
  const API = '/api/2.0/mlflow';
  const exp = await callJson(url, token, 'POST', `${API}/experiments/create`, { name: `${name}-${Date.now()}-${Math.random()}` });
  const run = (await callJson(url, token, 'POST', `${API}/runs/create`, { experiment_id: exp.body.experiment_id, start_time: Date.now() })).body.run.info;
  const base = String(run.artifact_uri).replace('mlflow-artifacts:/', '');
  const files: Record<string, Buffer | string> = {
    MLmodel: LINEAR_MLMODEL,
    'model.onnx': linearOnnxModel(w, b),
    'input_example.json': JSON.stringify({ columns: ['a', 'b', 'c'], data: [[1, 2, 3]] }),
  };
  for (const [file, body] of Object.entries(files)) {
    const res = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${base}/model/${file}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: typeof body === 'string' ? Buffer.from(body) : body,
    });
    if (res.status !== 200) throw new Error(`artifact upload answered ${res.status}`);
  }
  if ((await callJson(url, token, 'GET', `${API}/registered-models/get?name=${encodeURIComponent(name)}`)).status === 404) {
    await callJson(url, token, 'POST', `${API}/registered-models/create`, { name });
  }
  const created = await callJson(url, token, 'POST', `${API}/model-versions/create`, { name, source: `runs:/${run.run_id}/model`, run_id: run.run_id });
  if (created.status !== 200) throw new Error(`model-versions/create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const version = Number(created.body.model_version.version);
  for (;;) {
    const got = await callJson(url, token, 'GET', `${API}/model-versions/get?name=${encodeURIComponent(name)}&version=${version}`);
    if (got.body.model_version.status !== 'PENDING_REGISTRATION') {
      if (got.body.model_version.status !== 'READY') throw new Error(`version ${version} is ${got.body.model_version.status}`);
      return version;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What a linear model with these weights must answer, computed here and not by the server. */
export const linearExpected = (w: number[], b: number, rows: number[][]) => rows.map((r) => r.reduce((acc, x, i) => acc + x * (w[i] as number), b));
