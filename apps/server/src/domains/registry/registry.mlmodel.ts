import fsp from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

/** What Weir learns from a version's `MLmodel` file. */
export interface ModelFacts {
  flavors: string[];
  /** Each flavor's own settings as written in MLmodel (e.g. onnx: {data, onnx_version}). */
  flavorConfig: Record<string, unknown>;
  signature: { inputs?: unknown; outputs?: unknown; params?: unknown } | null;
  inputExample: Record<string, unknown> | null;
  requirementsFile: string | null;
  mlflowVersion: string | null;
  servable: boolean;
  notServableReason: string | null;
}

/** Signature parts are JSON inside YAML strings; they are kept parsed when they parse. */
function jsonOrText(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? undefined;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Reads `<dir>/MLmodel`; a version without one keeps its files and says why it is not servable. */
export async function readModelFacts(dir: string): Promise<ModelFacts> {
  const text = await fsp.readFile(path.join(dir, 'MLmodel'), 'utf8').catch(() => null);
  if (text === null) {
    return {
      flavors: [],
      flavorConfig: {},
      signature: null,
      inputExample: null,
      requirementsFile: null,
      mlflowVersion: null,
      servable: false,
      notServableReason: 'The model directory has no MLmodel file.',
    };
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    return {
      flavors: [],
      flavorConfig: {},
      signature: null,
      inputExample: null,
      requirementsFile: null,
      mlflowVersion: null,
      servable: false,
      notServableReason: `The MLmodel file is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`,
    };
  }
  const m = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const flavorConfig = (m.flavors && typeof m.flavors === 'object' ? m.flavors : {}) as Record<string, unknown>;
  const flavors = Object.keys(flavorConfig).sort();
  const sig = m.signature && typeof m.signature === 'object' ? (m.signature as Record<string, unknown>) : null;
  const requirements = await fsp
    .stat(path.join(dir, 'requirements.txt'))
    .then(() => 'requirements.txt')
    .catch(() => null);
  const onnx = flavors.includes('onnx');
  return {
    flavors,
    flavorConfig,
    signature: sig ? { inputs: jsonOrText(sig.inputs), outputs: jsonOrText(sig.outputs), params: jsonOrText(sig.params) } : null,
    inputExample: m.saved_input_example_info && typeof m.saved_input_example_info === 'object' ? (m.saved_input_example_info as Record<string, unknown>) : null,
    requirementsFile: requirements,
    mlflowVersion: typeof m.mlflow_version === 'string' ? m.mlflow_version : null,
    servable: onnx,
    notServableReason: onnx
      ? null
      : `Weir serves ONNX models natively; this model's flavors are ${flavors.length ? flavors.join(', ') : 'none'}. Its files and metadata are kept.`,
  };
}
