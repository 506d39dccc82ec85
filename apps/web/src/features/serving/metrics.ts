/** One endpoint's counters read from the Prometheus text at /metrics, summed over its served entities. */
export interface EndpointCounters {
  requests: number;
  errors: number;
  inFlight: number;
  latencySum: number;
  latencyCount: number;
  /** Per served entity: requests so far (shows how traffic actually split). */
  byEntity: Record<string, number>;
}

/** A point of the live chart: rates between two reads of the counters. */
export interface RatePoint {
  at: number;
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Mean latency of the requests finished in the interval, in milliseconds (undefined when none finished). */
  meanLatencyMs: number | undefined;
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses `name{labels} value` lines; answers label maps and values (comments and other series skipped). */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close > 0 ? line.slice(name.length + 1, close) : '';
    const value = Number(
      line
        .slice(close > 0 ? close + 1 : name.length)
        .trim()
        .split(/\s+/)[0],
    );
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = unescapeLabel(m[2] as string);
    if (Number.isFinite(value)) out.push({ labels, value });
  }
  return out;
}

/** Reads one endpoint's serving counters from Prometheus text (Weir's `weir_serving_*` series). */
export function endpointCounters(text: string, endpoint: string): EndpointCounters {
  const mine = (name: string) => samples(text, name).filter((s) => s.labels.endpoint === endpoint);
  const sum = (name: string) => mine(name).reduce((n, s) => n + s.value, 0);
  const byEntity: Record<string, number> = {};
  for (const s of mine('weir_serving_requests_total')) {
    const entity = s.labels.served_entity ?? '';
    if (entity) byEntity[entity] = (byEntity[entity] ?? 0) + s.value;
  }
  return {
    requests: sum('weir_serving_requests_total'),
    errors: sum('weir_serving_errors_total'),
    inFlight: sum('weir_serving_in_flight'),
    latencySum: sum('weir_serving_request_duration_seconds_sum'),
    latencyCount: sum('weir_serving_request_duration_seconds_count'),
    byEntity,
  };
}

/** The rates between two reads; counters that went down (a restart) count from zero. */
export function ratePoint(before: EndpointCounters, after: EndpointCounters, seconds: number, at: number): RatePoint {
  const delta = (a: number, b: number) => (b >= a ? b - a : b);
  const finished = delta(before.latencyCount, after.latencyCount);
  const latency = delta(before.latencySum, after.latencySum);
  return {
    at,
    requestsPerSecond: seconds > 0 ? delta(before.requests, after.requests) / seconds : 0,
    errorsPerSecond: seconds > 0 ? delta(before.errors, after.errors) / seconds : 0,
    meanLatencyMs: finished > 0 ? (latency / finished) * 1000 : undefined,
  };
}

/** Builds a scoring request from a model's saved input example (pandas split or records) or its column signature. */
export function exampleRequest(example: unknown, signatureInputs: unknown): string {
  if (example && typeof example === 'object') {
    const e = example as Record<string, unknown>;
    if (Array.isArray(e.columns) && Array.isArray(e.data)) return JSON.stringify({ dataframe_split: { columns: e.columns, data: e.data } }, null, 2);
    if ('dataframe_split' in e || 'dataframe_records' in e || 'inputs' in e || 'instances' in e) return JSON.stringify(e, null, 2);
    if (Array.isArray(example)) return JSON.stringify({ dataframe_records: example }, null, 2);
  }
  let inputs = signatureInputs;
  if (typeof inputs === 'string') {
    try {
      inputs = JSON.parse(inputs);
    } catch {
      inputs = undefined;
    }
  }
  if (Array.isArray(inputs) && inputs.every((c) => c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string')) {
    const cols = inputs as { name: string; type?: string }[];
    const zero = (t?: string) => (t === 'string' ? '' : t === 'boolean' ? false : 0);
    return JSON.stringify({ dataframe_split: { columns: cols.map((c) => c.name), data: [cols.map((c) => zero(c.type))] } }, null, 2);
  }
  return JSON.stringify({ dataframe_split: { columns: ['x'], data: [[0]] } }, null, 2);
}
