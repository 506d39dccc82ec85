/** One point of a metric series on a chart's x/y axes. */
export interface XY {
  x: number;
  y: number;
}

/**
 * Largest-Triangle-Three-Buckets: keeps `threshold` points that preserve the visual shape of the series.
 * Points must be sorted by x. Series at or below the threshold come back unchanged.
 */
export function lttb(points: readonly XY[], threshold: number): XY[] {
  const n = points.length;
  if (threshold >= n || threshold < 3) return points.slice();
  const out: XY[] = [points[0] as XY];
  const bucketSize = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const nextStart = Math.floor((i + 1) * bucketSize) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * bucketSize) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += (points[j] as XY).x;
      avgY += (points[j] as XY).y;
    }
    const span = Math.max(nextEnd - nextStart, 1);
    avgX /= span;
    avgY /= span;
    const start = Math.floor(i * bucketSize) + 1;
    const end = Math.floor((i + 1) * bucketSize) + 1;
    const pa = points[a] as XY;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const p = points[j] as XY;
      const area = Math.abs((pa.x - avgX) * (p.y - pa.y) - (pa.x - p.x) * (avgY - pa.y));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(points[best] as XY);
    a = best;
  }
  out.push(points[n - 1] as XY);
  return out;
}

/**
 * Min-max per pixel bucket: for each of `buckets` equal x ranges keeps the lowest and highest point, in x order,
 * so spikes survive however many points share a pixel.
 */
export function minMaxBuckets(points: readonly XY[], buckets: number): XY[] {
  const n = points.length;
  if (n <= buckets * 2 || buckets < 1) return points.slice();
  const first = points[0] as XY;
  const last = points[n - 1] as XY;
  const width = (last.x - first.x) / buckets || 1;
  const out: XY[] = [];
  let i = 0;
  for (let b = 0; b < buckets && i < n; b++) {
    const limit = b === buckets - 1 ? Number.POSITIVE_INFINITY : first.x + (b + 1) * width;
    let lo: XY | undefined;
    let hi: XY | undefined;
    let loIndex = 0;
    let hiIndex = 0;
    for (; i < n && (points[i] as XY).x < limit; i++) {
      const p = points[i] as XY;
      if (!lo || p.y < lo.y) {
        lo = p;
        loIndex = i;
      }
      if (!hi || p.y > hi.y) {
        hi = p;
        hiIndex = i;
      }
    }
    if (!lo || !hi) continue;
    if (lo === hi) out.push(lo);
    else if (loIndex < hiIndex) out.push(lo, hi);
    else out.push(hi, lo);
  }
  return out;
}
