import { invalidParameter } from '../../platform/errors.ts';

/** MLflow's limits (3.x `mlflow/utils/validation.py`). */
export const LIMITS = {
  keyLength: 250,
  paramValue: 6000,
  runTagValue: 8000,
  experimentTagValue: 5000,
  experimentName: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  batchBytes: 1_000_000,
  searchMax: 50_000,
  datasetName: 500,
  datasetDigest: 36,
  datasetSource: 65_535,
  datasetSchema: 1_048_575,
  datasetProfile: 16_777_215,
  inputTagKey: 255,
  inputTagValue: 500,
} as const;

const KEY_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;
const BAD_CHARACTERS = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/** What Python's posixpath.normpath makes of a name, for MLflow's "would resolve to" message. */
function normpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? '//' : '/') : '';
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !initial) out.push(seg);
  }
  return initial + out.join('/') || '.';
}

/** `Invalid value "v" for parameter 'p' supplied: reason` */
export function invalidValue(param: string, value: unknown, reason?: string) {
  const shown = JSON.stringify(value);
  return invalidParameter(
    reason ? `Invalid value ${shown} for parameter '${param}' supplied: ${reason}` : `Invalid value ${shown} for parameter '${param}' supplied.`,
  );
}

const validKeys = new Set<string>();

/** Checks a metric, param or tag key: allowed characters, path-stable, at most 250 characters. */
export function validateKey(key: string, param = 'key'): void {
  // Keys repeat across every batch of a run; remembering good ones keeps validation off the log-batch hot path.
  if (validKeys.has(key)) return;
  if (!KEY_CHARS.test(key)) throw invalidValue(param, key, BAD_CHARACTERS);
  const norm = normpath(key);
  if (norm !== key || key === '.' || key.startsWith('..') || key.startsWith('/')) {
    throw invalidValue(
      param,
      key,
      `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
    );
  }
  if (key.length > LIMITS.keyLength) throw invalidParameter(`'${param}' exceeds the maximum length of ${LIMITS.keyLength} characters`);
  if (validKeys.size > 100_000) validKeys.clear();
  validKeys.add(key);
}

/** MLflow truncates over-long param and tag values on the server instead of refusing them. */
export function truncate(value: string, limit: number): string {
  return value.length > limit ? value.slice(0, limit) : value;
}

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** Checks a run id's shape (log-batch validates it before touching the store). */
export function validateRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw invalidValue('run_id', runId, 'Invalid run ID');
}

/** Checks an experiment id's shape. */
export function validateExperimentId(id: string): void {
  if (!EXPERIMENT_ID.test(id)) throw invalidValue('experiment_id', id, 'Invalid experiment ID');
}

/** Checks max_results against MLflow's bounds. */
export function validateMaxResults(value: number | undefined, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (value < 1 || value > max) {
    throw invalidParameter(`Invalid value ${value} for parameter 'max_results' supplied. It must be at most ${max}, and at least 1.`);
  }
  return value;
}

/** Page tokens are base64 JSON `{"offset": N}` as in MLflow; anything else is refused. */
export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // fall through to the error below
  }
  throw invalidParameter(`Invalid page token, could not base64-decode or parse it: ${JSON.stringify(token.slice(0, 100))}`);
}

/** Encodes an offset as a page token. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

/** Stored form of a metric value: NaN becomes a flag (SQLite cannot hold NaN), infinities clamp to ±max double as in MLflow. */
export function storedMetricValue(value: number): { value: number; is_nan: number } {
  if (Number.isNaN(value)) return { value: 0, is_nan: 1 };
  if (value === Number.POSITIVE_INFINITY) return { value: Number.MAX_VALUE, is_nan: 0 };
  if (value === Number.NEGATIVE_INFINITY) return { value: -Number.MAX_VALUE, is_nan: 0 };
  return { value, is_nan: 0 };
}

/** Wire form of a stored metric value (NaN is the JSON string "NaN"). */
export function wireMetricValue(value: number, isNan: number): number | string {
  return isNan ? 'NaN' : value;
}

const ADJECTIVES = [
  'bold',
  'brave',
  'calm',
  'clever',
  'crisp',
  'eager',
  'gentle',
  'keen',
  'lucky',
  'merry',
  'nimble',
  'quiet',
  'rare',
  'sharp',
  'swift',
  'tidy',
  'vivid',
  'wise',
];
const ANIMALS = [
  'ant',
  'bass',
  'crab',
  'deer',
  'eel',
  'finch',
  'gnu',
  'hawk',
  'ibis',
  'jay',
  'koi',
  'lynx',
  'mole',
  'newt',
  'owl',
  'pug',
  'quail',
  'ram',
  'seal',
  'toad',
  'wolf',
  'yak',
];

/** A readable run name like MLflow's generated ones: `adjective-animal-123`. */
export function generateRunName(): string {
  const pick = <T>(a: readonly T[]) => a[Math.floor(Math.random() * a.length)] as T;
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}-${Math.floor(Math.random() * 1000)}`;
}
