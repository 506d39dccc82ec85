import fsp from 'node:fs/promises';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { AppError } from '../../platform/errors.ts';
import type { ModelFacts } from '../registry/index.ts';
import { startPythonWorker } from './serving.python-worker.ts';
import {
  type ColumnSpec,
  columnSignature,
  enforceColumns,
  flattenTensor,
  parseJsonScoringBody,
  type ScoringInput,
  type ScoringRequest,
} from './serving.scoring.ts';

// onnxruntime's native library is loaded with the first model, so a server that serves nothing does not carry it.
let ortLib: typeof Ort | undefined;
async function loadOrt(): Promise<typeof Ort> {
  ortLib ??= await import('onnxruntime-node');
  return ortLib;
}
function ort(): typeof Ort {
  if (!ortLib) throw new Error('onnxruntime is not loaded yet');
  return ortLib;
}

/** A model loaded into onnxruntime, ready to score requests. */
export interface LoadedModel {
  /** The session cache key: the model file's absolute path (version directories never change once registered). */
  key: string;
  /** What runs the model: onnxruntime in this process, or a Python worker process. */
  engine: 'onnxruntime' | 'python';
  /** Scores a decoded request; `raw` is the body as it came, which a Python worker is handed unchanged. */
  predict(request: ScoringRequest, raw?: RawScoringBody): Promise<unknown>;
}

/** A scoring body as the client sent it. */
export interface RawScoringBody {
  text: string;
  csv: boolean;
}

/** Shared onnxruntime sessions: one per model file however many endpoints serve it, unloaded when the last one lets go. */
export interface ModelRuntime {
  /** Loads (or reuses) the session of a version and warms it with its input example; throws with a reason on failure. */
  acquire(dir: string, facts: ModelFacts): Promise<LoadedModel>;
  /** Why a version cannot be served by this runtime, or null when it can (checked at config time). */
  unservableReason(facts: ModelFacts | null): string | null;
  /** Gives back one reference taken by `acquire`. */
  release(key: string): void;
  /** How many sessions are loaded now. */
  size(): number;
}

type TensorType = Ort.Tensor.Type;

function toTensor(type: TensorType, data: unknown[] | number[], shape: number[], what: string): Ort.Tensor {
  switch (type) {
    case 'float32':
      return new (ort().Tensor)('float32', Float32Array.from(data as number[]), shape);
    case 'float64':
      return new (ort().Tensor)('float64', Float64Array.from(data as number[]), shape);
    case 'int64':
      return new (ort().Tensor)('int64', BigInt64Array.from((data as number[]).map((v) => BigInt(Math.trunc(v)))), shape);
    case 'int32':
      return new (ort().Tensor)('int32', Int32Array.from(data as number[]), shape);
    case 'bool':
      return new (ort().Tensor)('bool', Uint8Array.from((data as number[]).map((v) => (v ? 1 : 0))), shape);
    case 'string':
      return new (ort().Tensor)('string', (data as unknown[]).map(String), shape);
    default:
      throw new AppError('BAD_REQUEST', `The model's input ${what} has type ${type}, which Weir cannot fill from JSON.`);
  }
}

/** One JSON value of a tensor element: int64 outputs arrive as bigints, which JSON cannot carry. */
function jsonValue(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** The elements `[offset, offset + size)` of `dims[depth..]` as nested lists (no closures: this runs on every request). */
function nestFrom(values: ArrayLike<unknown>, dims: readonly number[], depth: number, offset: number): unknown[] {
  const n = dims[depth] as number;
  const out = new Array<unknown>(n);
  if (depth === dims.length - 1) {
    for (let i = 0; i < n; i++) out[i] = jsonValue(values[offset + i]);
    return out;
  }
  let stride = 1;
  for (let d = depth + 1; d < dims.length; d++) stride *= dims[d] as number;
  for (let i = 0; i < n; i++) out[i] = nestFrom(values, dims, depth + 1, offset + i * stride);
  return out;
}

/** Turns a flat typed array and its dims back into nested JSON lists. */
function nest(values: ArrayLike<unknown>, dims: readonly number[]): unknown {
  if (dims.length <= 1) return nestFrom(values, [values.length], 0, 0);
  return nestFrom(values, dims, 0, 0);
}

/** An output as MLflow's scoring server shows it: one value per row when the model returns a single column. */
function outputJson(t: Ort.Tensor): unknown[] {
  const dims = [...t.dims];
  if (dims.length === 2 && dims[1] === 1) dims.pop();
  return nest(t.data as ArrayLike<unknown>, dims) as unknown[];
}

function tensorMeta(session: Ort.InferenceSession, i: number): { type: TensorType; rank: number } {
  const meta = session.inputMetadata[i];
  if (!meta?.isTensor) return { type: 'float32', rank: 2 };
  return { type: meta.type, rank: meta.shape.length || 2 };
}

/** Builds the feeds of a session from a decoded request, after checking it against the signature. */
function buildFeeds(session: Ort.InferenceSession, columns: ColumnSpec[] | null, input: ScoringInput): Record<string, Ort.Tensor> {
  const names = session.inputNames;
  const feeds: Record<string, Ort.Tensor> = {};
  if (input.kind === 'tensor' && !columns) {
    if (names.length !== 1)
      throw new AppError('BAD_REQUEST', `The model has ${names.length} inputs (${names.join(', ')}): send 'inputs' as an object keyed by input name.`);
    const { data, shape } = flattenTensor(input.value, `'${names[0]}'`);
    feeds[names[0] as string] = toTensor(tensorMeta(session, 0).type, data, shape, `'${names[0]}'`);
    return feeds;
  }
  if (input.kind === 'tensors' && !columns && names.every((n) => n in input.value)) {
    names.forEach((n, i) => {
      const { data, shape } = flattenTensor(input.value[n], `'${n}'`);
      feeds[n] = toTensor(tensorMeta(session, i).type, data, shape, `'${n}'`);
    });
    return feeds;
  }
  const frame = columns
    ? enforceColumns(input, columns)
    : enforceColumns(
        input,
        (input.kind === 'frame' ? input.columns : input.kind === 'tensors' ? Object.keys(input.value) : []).map((name) => ({
          name,
          type: 'any',
          required: true,
        })),
      );
  const n = frame.rows.length;
  if (names.length === 1) {
    // One input tensor: the columns, in signature order, are its features.
    const meta = tensorMeta(session, 0);
    const check = flattenTensor(frame.rows, 'the input columns');
    // The checked values are the features themselves (booleans as 0/1, as the typed arrays store them); strings are not numbers.
    const data = meta.type === 'string' ? frame.rows.flat() : check.data;
    feeds[names[0] as string] = toTensor(meta.type, data, meta.rank === 1 ? [n] : check.shape, `'${names[0]}'`);
    return feeds;
  }
  // Several inputs: each is one column of the same name.
  names.forEach((name, i) => {
    const at = frame.columns.indexOf(name);
    if (at < 0) throw new AppError('BAD_REQUEST', `Failed to enforce schema: Model is missing inputs ['${name}'].`);
    const meta = tensorMeta(session, i);
    feeds[name] = toTensor(
      meta.type,
      frame.rows.map((r) => r[at] as number),
      meta.rank === 1 ? [n] : [n, 1],
      `'${name}'`,
    );
  });
  return feeds;
}

/** Reads the version's saved input example into a scoring request, or null when it has none. */
async function inputExample(dir: string, facts: ModelFacts): Promise<ScoringRequest | null> {
  const info = facts.inputExample;
  const file = info && typeof info.artifact_path === 'string' ? info.artifact_path : null;
  if (!file) return null;
  const resolved = path.resolve(dir, file);
  if (!resolved.startsWith(path.resolve(dir) + path.sep)) return null;
  const text = await fsp.readFile(resolved, 'utf8');
  const parsed = JSON.parse(text) as unknown;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    if ('dataframe_split' in o || 'dataframe_records' in o || 'instances' in o || 'inputs' in o) return parseJsonScoringBody(text);
    if ('data' in o) return parseJsonScoringBody(JSON.stringify({ dataframe_split: o }));
  }
  return parseJsonScoringBody(JSON.stringify(Array.isArray(parsed) ? { inputs: parsed } : { inputs: parsed }));
}

/**
 * Session options. Each run uses `threads` threads (WEIR_ONNX_THREADS, default 1): a server's parallelism comes from
 * its concurrent requests, and handing a one-row run to a pool thread cost more CPU (a second thread woken for every
 * request) than it saved; large batch requests gain from more. onnxruntime's pool threads, when there are any, sleep
 * between runs instead of spinning: between requests that arrive a millisecond apart spinning burned several times the
 * inference's own CPU and took a core from the request path.
 */
function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** Threads per ONNX run from WEIR_ONNX_THREADS (a whole number from 1 to 64); 1 when unset or invalid. */
export function onnxThreadsFromEnv(env: NodeJS.ProcessEnv): number {
  const n = Number(env.WEIR_ONNX_THREADS);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : 1;
}

/** Creates the process-wide runtime; with `python` (a Python that has `mlflow`), versions without an onnx flavor are served by a worker. */
export function createModelRuntime(
  options: { python?: string | undefined; log?: (line: string) => void /** Threads per ONNX run (default 1). */; onnxThreads?: number } = {},
): ModelRuntime {
  const onnxSessionOptions = sessionOptions(options.onnxThreads ?? 1);
  const sessions = new Map<string, { loading: Promise<LoadedModel>; refs: number; session?: Ort.InferenceSession; stop?: () => void }>();
  const python = options.python || undefined;

  async function loadPython(key: string, dir: string, facts: ModelFacts): Promise<LoadedModel> {
    const worker = await startPythonWorker(python as string, dir, (line) => options.log?.(`python worker ${dir}: ${line}`));
    const entry = sessions.get(key);
    if (entry) entry.stop = () => worker.stop();
    else worker.stop();
    const columns = columnSignature(facts.signature?.inputs);
    return {
      key,
      engine: 'python',
      predict(request, raw) {
        // Weir checks the columns itself so a bad request is refused in the same words whatever runs the model.
        if (columns && request.input.kind !== 'tensor') enforceColumns(request.input, columns);
        return worker.predict(request, raw);
      },
    };
  }

  async function load(key: string, dir: string, facts: ModelFacts): Promise<LoadedModel> {
    const session = await (await loadOrt()).InferenceSession.create(key, onnxSessionOptions);
    const entry = sessions.get(key);
    if (entry) entry.session = session;
    const columns = columnSignature(facts.signature?.inputs);
    const outputNames = session.outputNames.filter((_, i) => session.outputMetadata[i]?.isTensor !== false);
    const model: LoadedModel = {
      key,
      engine: 'onnxruntime',
      async predict(request) {
        const feeds = buildFeeds(session, columns, request.input);
        let out: Ort.InferenceSession.OnnxValueMapType;
        try {
          out = await session.run(feeds, outputNames);
        } catch (err) {
          throw new AppError('BAD_REQUEST', `Failed to predict data: ${err instanceof Error ? err.message.split('\n')[0] : 'the model refused the input'}`);
        }
        if (outputNames.length === 1) return outputJson(out[outputNames[0] as string] as Ort.Tensor);
        const outputs = outputNames.map((n) => outputJson(out[n] as Ort.Tensor));
        // Several outputs: one record per row, keyed by output name, like MLflow's DataFrame answer.
        const rows = outputs[0]?.length ?? 0;
        // Object.fromEntries defines the keys, so an output named `__proto__` stays a key.
        const records = new Array<Record<string, unknown>>(rows);
        for (let i = 0; i < rows; i++) records[i] = Object.fromEntries(outputNames.map((n, j) => [n, outputs[j]?.[i]]));
        return records;
      },
    };
    const example = await inputExample(dir, facts).catch((err: unknown) => {
      throw new Error(`the input example could not be read: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (example) {
      try {
        await model.predict(example);
      } catch (err) {
        throw new Error(`warming with the input example failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return model;
  }

  function unservableReason(facts: ModelFacts | null): string | null {
    if (!facts) return 'it has no MLmodel facts.';
    if (facts.flavors.includes('onnx')) return null;
    if (!facts.flavors.includes('python_function')) {
      return `${facts.notServableReason ?? 'it has no onnx flavor.'} It has no python_function flavor either, so no Python worker can serve it.`;
    }
    if (!python) {
      return `${facts.notServableReason ?? 'it has no onnx flavor.'} Versions without an onnx flavor are served by a Python worker; start the server with --python /path/to/python (a Python with mlflow and the model's requirements) to serve it.`;
    }
    return null;
  }

  return {
    unservableReason,
    async acquire(dir, facts) {
      if (!facts.flavors.includes('onnx')) {
        const reason = unservableReason(facts);
        if (reason) throw new Error(reason);
        const key = `python:${path.resolve(dir)}`;
        let entry = sessions.get(key);
        if (!entry) {
          const created: { loading: Promise<LoadedModel>; refs: number; stop?: () => void } = { loading: Promise.resolve(null as never), refs: 0 };
          sessions.set(key, created);
          created.loading = loadPython(key, dir, facts);
          created.loading.catch(() => {
            if (sessions.get(key) === created) sessions.delete(key);
          });
          entry = created;
        }
        entry.refs++;
        try {
          return await entry.loading;
        } catch (err) {
          entry.refs--;
          throw err;
        }
      }
      const onnx = facts.flavorConfig.onnx as { data?: unknown } | undefined;
      const file = typeof onnx?.data === 'string' ? onnx.data : 'model.onnx';
      const key = path.resolve(dir, file);
      if (!key.startsWith(path.resolve(dir) + path.sep)) throw new Error(`the onnx flavor names a file outside the model directory: ${file}`);
      let entry = sessions.get(key);
      if (!entry) {
        const created: { loading: Promise<LoadedModel>; refs: number; session?: Ort.InferenceSession } = { loading: Promise.resolve(null as never), refs: 0 };
        sessions.set(key, created);
        created.loading = load(key, dir, facts);
        // A failed load is forgotten so a later config can try again.
        created.loading.catch(() => {
          if (sessions.get(key) === created) sessions.delete(key);
          void created.session?.release();
        });
        entry = created;
      }
      entry.refs++;
      try {
        return await entry.loading;
      } catch (err) {
        entry.refs--;
        throw err;
      }
    },
    release(key) {
      const entry = sessions.get(key);
      if (!entry) return;
      entry.refs--;
      if (entry.refs <= 0) {
        sessions.delete(key);
        void entry.session?.release();
        entry.stop?.();
      }
    },
    size: () => sessions.size,
  };
}
