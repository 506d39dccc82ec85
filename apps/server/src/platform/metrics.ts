/** Bucket bounds, in seconds, for request latency. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface RouteStats {
  counts: Map<number, number>;
  buckets: number[];
  sum: number;
  count: number;
}

/** Request counts and latency per route, rendered in the Prometheus text format. */
export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
  render(): string;
  /** Adds a domain's own series (Prometheus text, one or more lines) to every render. */
  addCollector(collect: () => string): void;
}

/** Creates an in-process metrics registry. */
export function createHttpMetrics(): HttpMetrics {
  const stats = new Map<string, RouteStats>();
  const collectors: (() => string)[] = [];
  const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return {
    observe(method, route, status, seconds) {
      const key = `${method} ${route}`;
      let s = stats.get(key);
      if (!s) {
        s = { counts: new Map(), buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
        stats.set(key, s);
      }
      s.counts.set(status, (s.counts.get(status) ?? 0) + 1);
      s.sum += seconds;
      s.count += 1;
      BUCKETS.forEach((b, i) => {
        if (seconds <= b) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
      });
    },
    addCollector(collect) {
      collectors.push(collect);
    },
    render() {
      const lines: string[] = ['# HELP weir_http_requests_total HTTP requests by route and status.', '# TYPE weir_http_requests_total counter'];
      for (const [key, s] of stats) {
        const [method, route] = key.split(' ', 2) as [string, string];
        for (const [status, n] of s.counts) {
          lines.push(`weir_http_requests_total{method="${method}",route="${label(route)}",status="${status}"} ${n}`);
        }
      }
      lines.push('# HELP weir_http_request_duration_seconds HTTP request latency by route.', '# TYPE weir_http_request_duration_seconds histogram');
      for (const [key, s] of stats) {
        const [method, route] = key.split(' ', 2) as [string, string];
        const l = `method="${method}",route="${label(route)}"`;
        BUCKETS.forEach((b, i) => {
          lines.push(`weir_http_request_duration_seconds_bucket{${l},le="${b}"} ${s.buckets[i] ?? 0}`);
        });
        lines.push(`weir_http_request_duration_seconds_bucket{${l},le="+Inf"} ${s.count}`);
        lines.push(`weir_http_request_duration_seconds_sum{${l}} ${s.sum}`);
        lines.push(`weir_http_request_duration_seconds_count{${l}} ${s.count}`);
      }
      const mem = process.memoryUsage();
      lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
      for (const collect of collectors) {
        const text = collect().trimEnd();
        if (text) lines.push(text);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
