// What one audit event holds and how it is derived from a request: the service and action names, and the request
// parameters with every secret replaced. Pure functions, so the rules can be read (and tested) in one place.

/** The row of the staging table `audit_events` (and, once compacted, of `system.access.audit`). */
export interface AuditEvent {
  event_id: string;
  /** Milliseconds since the epoch. */
  event_time: number;
  request_id: string;
  source_ip_address: string | null;
  user_agent: string | null;
  /** The principal's name (a user's e-mail, a service principal's application id); null when unauthenticated. */
  user_name: string | null;
  service_name: string;
  action_name: string;
  /** JSON object of string → string, secrets already redacted. */
  request_params: string;
  status_code: number;
  error_message: string | null;
}

/** What replaces a secret's value. */
export const REDACTED = '[REDACTED]';

/** Longest value kept per request parameter; longer ones are cut (bodies such as log-batch can be megabytes). */
export const MAX_PARAM_CHARS = 1024;
/** Most request parameters kept per event. */
export const MAX_PARAMS = 64;
const MAX_HEADER_CHARS = 512;

/** Names whose values are secrets wherever they appear (a key of a body, query or nested object). */
const SECRET_NAME = /token|password|passwd|secret|authorization|credential|api[_-]?key|private[_-]?key|cookie/i;

/** Databricks service names by route tag; a tag not listed becomes its own camelCased name (see {@link serviceNameOf}). */
const SERVICE_BY_TAG: Record<string, string> = {
  'mlflow-tracking': 'mlflowExperiment',
  'mlflow-registry': 'mlflowModelRegistry',
  models: 'mlflowModelRegistry',
  'model-files': 'mlflowModelRegistry',
  'unity-catalog': 'unityCatalog',
  lineage: 'unityCatalog',
  permissions: 'permissions',
  sql: 'databrickssql',
  serving: 'serving',
  scim: 'accounts',
  tokens: 'accounts',
  web: 'accounts',
  files: 'filesystem',
  system: 'weir',
};

/** Service names of paths no route matched, by prefix (first match wins). */
const SERVICE_BY_PREFIX: [string, string][] = [
  ['/api/2.1/unity-catalog/', 'unityCatalog'],
  ['/api/2.0/lineage-tracking/', 'unityCatalog'],
  ['/api/2.0/mlflow/registered-models', 'mlflowModelRegistry'],
  ['/api/2.0/mlflow/model-versions', 'mlflowModelRegistry'],
  ['/api/2.0/mlflow', 'mlflowExperiment'],
  ['/ajax-api/2.0/mlflow', 'mlflowExperiment'],
  ['/api/2.0/sql/', 'databrickssql'],
  ['/api/2.0/serving-endpoints', 'serving'],
  ['/serving-endpoints', 'serving'],
  ['/api/2.0/preview/scim/', 'accounts'],
  ['/api/2.0/token', 'accounts'],
  ['/api/2.0/fs/', 'filesystem'],
  ['/api/2.0/permissions/', 'permissions'],
];

function camel(words: string[]): string {
  return words
    .filter((w) => w !== '')
    .map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');
}

function wordsOf(segment: string): string[] {
  return segment.split(/[-_.]/).filter((w) => w !== '');
}

function singular(word: string): string {
  if (/ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|us)$/.test(word)) return word;
  if (/(sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word)) return word.slice(0, -1);
  return word;
}

/** The Databricks-style service name of a route's tag, or of an unmatched path. */
export function serviceNameOf(tag: string | undefined, path: string): string {
  if (tag !== undefined) return SERVICE_BY_TAG[tag] ?? camel(wordsOf(tag));
  for (const [prefix, service] of SERVICE_BY_PREFIX) if (path.startsWith(prefix)) return service;
  return 'weir';
}

const API_PREFIX = /^\/(?:ajax-api|api)\/(?:\d+\.\d+|weir\/v\d+)\/(?:preview\/scim\/v2\/|unity-catalog\/|mlflow\/|mlflow-artifacts\/)?/;
const ONE_WORD_VERBS = new Set(['create', 'get', 'delete', 'update', 'search', 'list', 'restore', 'rename', 'set', 'query', 'cancel', 'invocations']);

/**
 * The action name of a route: stable, derived from its method and canonical (first) path only.
 * - RPC-style paths (a literal verb after the resource, as MLflow's `runs/create`, `runs/log-batch`): a one-word verb
 *   gets the resource appended (`createRun`, `searchRuns`, `getRegisteredModel`); a longer one is used as it is
 *   (`logBatch`, `setExperimentTag`, `getHistory`).
 * - REST-style paths: the method gives the verb (GET on an id → get, GET on a collection → list, POST → create,
 *   PATCH/PUT → update, DELETE → delete) and the last resource word the noun (`getTable`, `listTables`, `createCatalog`);
 *   a literal after an id is an action on it (`cancelStatement`).
 */
export function actionNameOf(method: string, canonicalPath: string): string {
  const rest = canonicalPath.replace(API_PREFIX, '/');
  const segments = rest.split('/').filter((s) => s !== '');
  const isParam = (s: string) => s.startsWith(':') || s === '*';
  const literal = segments.filter((s) => !isParam(s));
  const last = segments[segments.length - 1];
  if (literal.length === 0) return camel([method.toLowerCase(), 'root']);
  const lastLiteral = literal[literal.length - 1] as string;
  const before = literal[literal.length - 2];
  const m = method.toUpperCase();
  // A literal directly after a parameter (statements/:id/cancel) is an action on that resource.
  const lastIdx = segments.lastIndexOf(lastLiteral);
  const afterParam = lastIdx > 0 && isParam(segments[lastIdx - 1] as string) && last === lastLiteral;
  if (afterParam && before !== undefined) {
    const resource = wordsOf(singular(before));
    return camel([...wordsOf(lastLiteral), ...resource]);
  }
  const verbWords = wordsOf(lastLiteral);
  const rpc = before !== undefined && last === lastLiteral && (verbWords.length > 1 || ONE_WORD_VERBS.has(lastLiteral));
  if (rpc) {
    if (verbWords.length > 1) return camel(verbWords);
    const noun = lastLiteral === 'search' || lastLiteral === 'list' ? wordsOf(before) : wordsOf(singular(before));
    return camel([lastLiteral, ...noun]);
  }
  const onItem = last !== undefined && isParam(last);
  const verb = m === 'GET' ? (onItem ? 'get' : 'list') : m === 'POST' ? 'create' : m === 'DELETE' ? 'delete' : 'update';
  const noun = verb === 'list' ? wordsOf(lastLiteral) : wordsOf(singular(lastLiteral));
  return camel([verb, ...noun]);
}

function cut(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}…[truncated ${text.length - limit} chars]` : text;
}

/** Strips NUL characters (PostgreSQL cannot store them) and bounds the length. */
export function cleanText(value: string | undefined | null, limit = MAX_HEADER_CHARS): string | null {
  if (value === undefined || value === null) return null;
  return cut(value.replaceAll('\0', ''), limit);
}

/** Values of secret-named fields (and SCIM `{path: "password", value}` pairs) anywhere in the parameters. */
export function secretValuesOf(value: unknown, into: Set<string> = new Set(), depth = 0): Set<string> {
  if (depth > 16 || value === null || typeof value !== 'object') return into;
  if (Array.isArray(value)) {
    // Only the start of a long array can reach the (truncated) event, so only its secrets need scrubbing.
    for (const v of value.slice(0, 1000)) secretValuesOf(v, into, depth + 1);
    return into;
  }
  const obj = value as Record<string, unknown>;
  const secretPath = typeof obj.path === 'string' && SECRET_NAME.test(obj.path);
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_NAME.test(k) || (secretPath && k === 'value')) {
      if (typeof v === 'string' && v.length >= 4) into.add(v);
      else if (v !== null && typeof v === 'object') for (const s of Object.values(v)) if (typeof s === 'string' && s.length >= 4) into.add(s);
    } else secretValuesOf(v, into, depth + 1);
  }
  return into;
}

/** Replaces every occurrence of a known secret in a text (an error message may quote the value it refused). */
export function scrub(text: string, secrets: Set<string>): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.replaceAll(s, REDACTED);
  return out;
}

/**
 * JSON text of a value with secrets redacted, built only up to `limit` characters: a 50,000-element array costs no more
 * than a short one (the text is cut there anyway).
 */
export function boundedJson(value: unknown, limit: number): { text: string; complete: boolean } {
  let out = '';
  const push = (piece: string): boolean => {
    out += piece;
    return out.length <= limit;
  };
  const walk = (v: unknown, depth: number, secretValue: boolean): boolean => {
    if (secretValue) return push(JSON.stringify(REDACTED));
    if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') return push('null');
    if (typeof v === 'string') return push(JSON.stringify(v.length > limit ? v.slice(0, limit + 1) : v));
    if (typeof v !== 'object') return push(typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? 'null'));
    if (depth > 16) return push('"[…]"');
    if (Array.isArray(v)) {
      if (!push('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if (i > 0 && !push(',')) return false;
        if (!walk(v[i], depth + 1, false)) return false;
      }
      return push(']');
    }
    const obj = v as Record<string, unknown>;
    const secretPath = typeof obj.path === 'string' && SECRET_NAME.test(obj.path);
    if (!push('{')) return false;
    let first = true;
    for (const [k, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      if (!first && !push(',')) return false;
      first = false;
      if (!push(`${JSON.stringify(k)}:`)) return false;
      if (!walk(item, depth + 1, SECRET_NAME.test(k) || (secretPath && k === 'value'))) return false;
    }
    return push('}');
  };
  const complete = walk(value, 0, false);
  return { text: out, complete };
}

/** Request parameters as the `request_params` map: top-level keys, values as strings, secrets redacted, long values cut. */
export function requestParamsOf(params: Record<string, unknown> | undefined, secrets: Set<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  if (!params) return out;
  let n = 0;
  for (const [key, raw] of Object.entries(params)) {
    if (raw === undefined) continue;
    if (n++ >= MAX_PARAMS) {
      out['…'] = `[${Object.keys(params).length - MAX_PARAMS} more parameters not kept]`;
      break;
    }
    const name = cut(key.replaceAll('\0', ''), 128);
    if (SECRET_NAME.test(key)) {
      out[name] = REDACTED;
      continue;
    }
    let text: string;
    let complete = true;
    if (typeof raw === 'string') text = raw;
    else ({ text, complete } = boundedJson(raw, MAX_PARAM_CHARS));
    text = scrub(text.replaceAll('\0', ''), secrets);
    out[name] = complete ? cut(text, MAX_PARAM_CHARS) : `${text.slice(0, MAX_PARAM_CHARS)}…[truncated]`;
  }
  return out;
}

/** The `error_code` of an error body, or null. */
export function errorCodeOf(statusCode: number, payload: unknown): string | null {
  if (statusCode < 400 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return null;
  const text = String(payload);
  if (text.length > 64 * 1024) return null;
  try {
    const code = (JSON.parse(text) as { error_code?: unknown }).error_code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/** The `message` of an error body (MLflow/Databricks or SCIM shape), or null for a success or an unreadable body. */
export function errorMessageOf(statusCode: number, payload: unknown): string | null {
  if (statusCode < 400) return null;
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return null;
  const text = String(payload);
  if (text.length > 64 * 1024) return null;
  try {
    const body = JSON.parse(text) as { message?: unknown; detail?: unknown };
    const message = typeof body.message === 'string' ? body.message : typeof body.detail === 'string' ? body.detail : null;
    return message === null ? null : cleanText(message, MAX_PARAM_CHARS);
  } catch {
    return null;
  }
}
