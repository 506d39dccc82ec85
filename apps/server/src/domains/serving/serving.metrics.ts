/** Latency bucket bounds in seconds; scoring is in-process, so the low end is finer than the HTTP histogram's. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface EntityStats {
  requests: number;
  errors: number;
  inFlight: number;
  buckets: number[];
  sum: number;
}

/** Per endpoint and served entity: requests, errors, latency and in-flight, in the Prometheus text format. */
export interface ServingMetrics {
  /** Marks a request as started on an entity (`''` when it was refused before routing) and returns its finisher. */
  start(endpoint: string, entity: string): (ok: boolean) => void;
  /** Forgets an endpoint's series (when it is deleted). */
  drop(endpoint: string): void;
  render(): string;
}

/** Creates the serving metrics registry. */
export function createServingMetrics(): ServingMetrics {
  const stats = new Map<string, Map<string, EntityStats>>();
  const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return {
    start(endpoint, entity) {
      let byEntity = stats.get(endpoint);
      if (!byEntity) {
        byEntity = new Map();
        stats.set(endpoint, byEntity);
      }
      let s = byEntity.get(entity);
      if (!s) {
        s = { requests: 0, errors: 0, inFlight: 0, buckets: BUCKETS.map(() => 0), sum: 0 };
        byEntity.set(entity, s);
      }
      const entry = s;
      const began = performance.now();
      entry.requests++;
      entry.inFlight++;
      return (ok) => {
        const seconds = (performance.now() - began) / 1000;
        entry.inFlight--;
        if (!ok) entry.errors++;
        entry.sum += seconds;
        BUCKETS.forEach((b, i) => {
          if (seconds <= b) entry.buckets[i] = (entry.buckets[i] ?? 0) + 1;
        });
      };
    },
    drop(endpoint) {
      stats.delete(endpoint);
    },
    render() {
      const series: [string, string, EntityStats][] = [];
      for (const [endpoint, byEntity] of stats) for (const [entity, s] of byEntity) series.push([endpoint, entity, s]);
      if (series.length === 0) return '';
      const l = (e: string, x: string) => `endpoint="${label(e)}",served_entity="${label(x)}"`;
      const lines = ['# HELP weir_serving_requests_total Scoring requests by endpoint and served entity.', '# TYPE weir_serving_requests_total counter'];
      for (const [e, x, s] of series) lines.push(`weir_serving_requests_total{${l(e, x)}} ${s.requests}`);
      lines.push('# HELP weir_serving_errors_total Scoring requests that did not answer 200.', '# TYPE weir_serving_errors_total counter');
      for (const [e, x, s] of series) lines.push(`weir_serving_errors_total{${l(e, x)}} ${s.errors}`);
      lines.push('# HELP weir_serving_in_flight Scoring requests being answered now.', '# TYPE weir_serving_in_flight gauge');
      for (const [e, x, s] of series) lines.push(`weir_serving_in_flight{${l(e, x)}} ${s.inFlight}`);
      lines.push(
        '# HELP weir_serving_request_duration_seconds Scoring latency (routing and inference).',
        '# TYPE weir_serving_request_duration_seconds histogram',
      );
      for (const [e, x, s] of series) {
        const done = s.requests - s.inFlight;
        BUCKETS.forEach((b, i) => {
          lines.push(`weir_serving_request_duration_seconds_bucket{${l(e, x)},le="${b}"} ${s.buckets[i] ?? 0}`);
        });
        lines.push(`weir_serving_request_duration_seconds_bucket{${l(e, x)},le="+Inf"} ${done}`);
        lines.push(`weir_serving_request_duration_seconds_sum{${l(e, x)}} ${s.sum}`);
        lines.push(`weir_serving_request_duration_seconds_count{${l(e, x)}} ${done}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
