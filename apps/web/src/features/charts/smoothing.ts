/** Exponential moving average with bias correction (as TensorBoard draws it); weight 0 leaves values unchanged. */
export function exponentialSmoothing(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  const out: number[] = [];
  let last = 0;
  let debias = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    out.push(last / debias);
  }
  return out;
}

/** Trailing running average over `window` points; window 1 leaves values unchanged. */
export function runningAverage(values: readonly number[], window: number): number[] {
  const w = Math.max(1, Math.floor(window));
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] as number;
    if (i >= w) sum -= values[i - w] as number;
    out.push(sum / Math.min(i + 1, w));
  }
  return out;
}
