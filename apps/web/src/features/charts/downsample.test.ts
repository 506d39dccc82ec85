import { describe, expect, it } from 'vitest';
import { lttb, minMaxBuckets, type XY } from './downsample.ts';
import { type MetricPoint, preparePoints, summary } from './MetricChart.tsx';
import { exponentialSmoothing, runningAverage } from './smoothing.ts';

const line = (n: number, f: (i: number) => number): XY[] => Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }));

describe('chart downsampling', () => {
  it('LTTB keeps the requested number of points, the first and last, in x order', () => {
    const pts = line(10_000, (i) => Math.sin(i / 50));
    const out = lttb(pts, 500);
    expect(out).toHaveLength(500);
    expect(out[0]).toEqual({ x: 0, y: 0 });
    expect(out[499]).toEqual(pts[9999]);
    for (let i = 1; i < out.length; i++) expect((out[i] as XY).x).toBeGreaterThan((out[i - 1] as XY).x);
  });

  it('LTTB keeps a single spike that a naive every-nth sample would drop', () => {
    const pts = line(100_000, () => 1);
    pts[54_321] = { x: 54_321, y: 1000 };
    const out = lttb(pts, 200);
    expect(out.some((p) => p.y === 1000)).toBe(true);
    const everyNth = pts.filter((_, i) => i % 500 === 0);
    expect(everyNth.some((p) => p.y === 1000)).toBe(false);
  });

  it('LTTB leaves short series untouched', () => {
    const pts = line(10, (i) => i * i);
    expect(lttb(pts, 100)).toEqual(pts);
  });

  it('min-max buckets keep the global extremes and at most two points per bucket', () => {
    const pts = line(1_000_000, (i) => (i === 777_777 ? -5 : i === 123_456 ? 9 : Math.cos(i / 1000)));
    const out = minMaxBuckets(pts, 400);
    expect(out.length).toBeLessThanOrEqual(800);
    expect(Math.min(...out.map((p) => p.y))).toBe(-5);
    expect(Math.max(...out.map((p) => p.y))).toBe(9);
    for (let i = 1; i < out.length; i++) expect((out[i] as XY).x).toBeGreaterThan((out[i - 1] as XY).x);
  });

  it('reduces a 1,000,000-point metric to about two points per pixel, keeping its extremes', () => {
    const points: MetricPoint[] = Array.from({ length: 1_000_000 }, (_, step) => ({
      step,
      timestamp: 1_000 + step,
      value: step === 500_000 ? 42 : 1 / (1 + step),
    }));
    const out = preparePoints(points, 'step', { kind: 'none' }, false, 600);
    expect(out.length).toBeLessThanOrEqual(1200);
    expect(out.length).toBeGreaterThan(100);
    expect(out.some((p) => p.y === 42)).toBe(true);
    expect(out[0]).toEqual({ x: 0, y: 1 });
    expect(out[out.length - 1]?.x).toBe(999_999);
  });

  it('uses seconds since the first point on the relative time axis and log10 values on a log scale', () => {
    const points: MetricPoint[] = [
      { step: 0, timestamp: 10_000, value: 100 },
      { step: 1, timestamp: 12_000, value: 10 },
      { step: 2, timestamp: 15_000, value: 0 },
    ];
    // The zero cannot be drawn on a log scale and is left out.
    expect(preparePoints(points, 'relative', { kind: 'none' }, true, 100)).toEqual([
      { x: 0, y: 2 },
      { x: 2, y: 1 },
    ]);
  });

  it('summarizes min, max and the last value by step', () => {
    expect(
      summary([
        { step: 2, timestamp: 5, value: 0.5 },
        { step: 0, timestamp: 9, value: 3 },
        { step: 1, timestamp: 7, value: Number.NaN },
        { step: 1, timestamp: 8, value: -1 },
      ]),
    ).toEqual({ min: -1, max: 3, last: 0.5 });
  });
});

describe('smoothing', () => {
  it('running average over a window of two', () => {
    expect(runningAverage([1, 2, 3, 4], 2)).toEqual([1, 1.5, 2.5, 3.5]);
    expect(runningAverage([1, 2, 3], 1)).toEqual([1, 2, 3]);
  });

  it('exponential smoothing is debiased: a constant stays constant, weight 0 changes nothing', () => {
    for (const v of exponentialSmoothing([5, 5, 5, 5], 0.9)) expect(v).toBeCloseTo(5, 12);
    expect(exponentialSmoothing([1, 2, 3], 0)).toEqual([1, 2, 3]);
    // weight 0.5: 1 → 1; (0.25 + 1.5) / 0.75 = 2.333…
    const out = exponentialSmoothing([1, 3], 0.5);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeCloseTo(7 / 3, 12);
  });
});
