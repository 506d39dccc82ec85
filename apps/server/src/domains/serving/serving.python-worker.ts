import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { AppError } from '../../platform/errors.ts';
import type { RawScoringBody } from './serving.runtime.ts';
import type { ScoringRequest } from './serving.scoring.ts';

/** How long a worker may take to answer its first health check (loading Python, MLflow and the model). */
const STARTUP_TIMEOUT_MS = 180_000;

/**
 * Runs `mlflow models serve` with a watchdog: when Weir's end of stdin closes (Weir exited, even by kill -9), the whole
 * process group goes too, so no worker outlives the server that started it.
 */
const WATCHDOG = [
  'import os, signal, subprocess, sys, threading',
  'p = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", *sys.argv[1:]], stdin=subprocess.DEVNULL)',
  'def watch():',
  '    sys.stdin.buffer.read()',
  '    os.killpg(0, signal.SIGKILL)',
  'threading.Thread(target=watch, daemon=True).start()',
  'sys.exit(p.wait())',
].join('\n');

/** A Python scoring worker serving one model directory on loopback. */
export interface PythonWorker {
  /**
   * Scores a request in the MLflow scoring protocol and answers the worker's `predictions`. The body is forwarded as the
   * client sent it when given (re-encoding would turn 181.0 into 181 and change the column's type for pandas).
   */
  predict(request: ScoringRequest, raw?: RawScoringBody): Promise<unknown>;
  /** Stops the worker and every process it started. */
  stop(): void;
}

/** A free loopback port (the OS picks it; a tiny race remains, so startup retries on a new port once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The decoded request back in the MLflow scoring protocol, so the worker sees exactly what Weir validated. */
function encode(request: ScoringRequest): string {
  const { input, params } = request;
  const body: Record<string, unknown> = input.kind === 'frame' ? { dataframe_split: { columns: input.columns, data: input.rows } } : { inputs: input.value };
  if (params) body.params = params;
  return JSON.stringify(body);
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // The worker runs in its own process group: MLflow's server may fork, and every fork must go with it.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Starts `python -m mlflow models serve` for a local model directory (`--env-manager local`: the configured Python
 * must already have the model's requirements) and resolves once it answers `/ping`.
 */
export async function startPythonWorker(python: string, modelDir: string, log: (line: string) => void = () => {}): Promise<PythonWorker> {
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = await freePort();
    const child = spawn(python, ['-c', WATCHDOG, '-m', modelDir, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        // MLflow starts its HTTP server as a separate `uvicorn` command, which lives next to the interpreter in a venv.
        ...(path.isAbsolute(python) ? { PATH: `${path.dirname(python)}${path.delimiter}${process.env.PATH ?? ''}` } : {}),
        MLFLOW_MODELS_WORKERS: '1',
        MLFLOW_DISABLE_TELEMETRY: 'true',
        DO_NOT_TRACK: 'true',
        PYTHONUNBUFFERED: '1',
      },
    });
    // Keeps the last lines of output so a failed start can say why.
    const tail: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log(line);
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    child.once('error', (err) => {
      exited = true;
      tail.push(err.message);
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      const ok = await fetch(`${base}/ping`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (ready) {
      const worker: PythonWorker = {
        async predict(request, raw) {
          let res: Response;
          try {
            res = await fetch(`${base}/invocations`, {
              method: 'POST',
              headers: { 'content-type': raw?.csv ? 'text/csv' : 'application/json' },
              body: raw ? raw.text : encode(request),
            });
          } catch (err) {
            throw new AppError('TEMPORARILY_UNAVAILABLE', `The Python worker did not answer: ${err instanceof Error ? err.message : String(err)}`);
          }
          const text = await res.text();
          let body: { predictions?: unknown; message?: unknown } | null = null;
          try {
            body = JSON.parse(text) as { predictions?: unknown; message?: unknown };
          } catch {
            body = null;
          }
          if (res.status === 200 && body && 'predictions' in body) return body.predictions;
          const message = typeof body?.message === 'string' ? body.message.split('\n')[0] : text.slice(0, 500);
          // The worker refuses bad input with 400; anything else is the worker failing, not the caller.
          if (res.status >= 400 && res.status < 500) throw new AppError('BAD_REQUEST', message ?? 'The model refused the input.');
          throw new AppError('TEMPORARILY_UNAVAILABLE', `The Python worker failed (HTTP ${res.status}): ${message}`);
        },
        stop() {
          killTree(child, 'SIGTERM');
          const force = setTimeout(() => killTree(child, 'SIGKILL'), 5000);
          force.unref();
          child.once('exit', () => clearTimeout(force));
        },
      };
      return worker;
    }
    killTree(child, 'SIGKILL');
    lastError = new Error(
      exited
        ? `the Python worker exited during startup: ${tail.slice(-5).join(' | ') || 'no output'}`
        : `the Python worker did not answer /ping within ${STARTUP_TIMEOUT_MS / 1000} s`,
    );
    // Only a lost port race is worth a second try; anything else fails the same way again.
    if (!tail.some((l) => /address already in use/i.test(l))) break;
  }
  throw lastError ?? new Error('the Python worker could not start');
}
