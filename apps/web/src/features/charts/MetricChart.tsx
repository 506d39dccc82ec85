import { useMemo } from 'react';
import { formatValue } from '../../shell/ui.tsx';
import { lttb, minMaxBuckets, type XY } from './downsample.ts';
import { exponentialSmoothing, runningAverage } from './smoothing.ts';

/** One logged point of a metric. */
export interface MetricPoint {
  step: number;
  timestamp: number;
  value: number;
}

/** One run's history of the charted metric. */
export interface ChartSeries {
  runId: string;
  label: string;
  points: readonly MetricPoint[];
}

/** What the x axis measures: step, seconds since the run's first point, or wall-clock time. */
export type XAxis = 'step' | 'relative' | 'wall';
/** How a curve is smoothed before drawing. */
export type Smoothing = { kind: 'none' } | { kind: 'exponential'; weight: number } | { kind: 'running'; window: number };

/** Colors with at least 3:1 contrast on white, distinguishable for common color-vision deficiencies. */
export const SERIES_COLORS = ['#0b5cad', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0f766e', '#a16207', '#be185d', '#4338ca', '#374151'];

/** Turns a series into x/y points on the chosen axis, smoothed and reduced to about two points per pixel. */
export function preparePoints(points: readonly MetricPoint[], xAxis: XAxis, smoothing: Smoothing, logScale: boolean, pixels: number): XY[] {
  const finite = points.filter((p) => Number.isFinite(p.value) && (!logScale || p.value > 0));
  const sorted =
    xAxis === 'step' ? [...finite].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp) : [...finite].sort((a, b) => a.timestamp - b.timestamp);
  const t0 = sorted[0]?.timestamp ?? 0;
  const xs = sorted.map((p) => (xAxis === 'step' ? p.step : xAxis === 'relative' ? (p.timestamp - t0) / 1000 : p.timestamp));
  const raw = sorted.map((p) => (logScale ? Math.log10(p.value) : p.value));
  const ys =
    smoothing.kind === 'exponential' ? exponentialSmoothing(raw, smoothing.weight) : smoothing.kind === 'running' ? runningAverage(raw, smoothing.window) : raw;
  const xy: XY[] = xs.map((x, i) => ({ x, y: ys[i] as number }));
  // Min-max first bounds the work for huge series; LTTB then picks the shape-preserving points.
  const bucketed = xy.length > pixels * 8 ? minMaxBuckets(xy, pixels * 2) : xy;
  return lttb(bucketed, pixels * 2);
}

/** Min, max and last value of a series (raw values, as logged). */
export function summary(points: readonly MetricPoint[]): { min: number; max: number; last: number } | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let last: MetricPoint | undefined;
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
    if (!last || p.step > last.step || (p.step === last.step && p.timestamp >= last.timestamp)) last = p;
  }
  return last ? { min, max, last: last.value } : undefined;
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
  return out;
}

/** Props of a metric chart. */
export interface MetricChartProps {
  metricKey: string;
  series: readonly ChartSeries[];
  xAxis: XAxis;
  smoothing: Smoothing;
  logScale: boolean;
  width?: number;
  height?: number;
}

/** An SVG line chart of one metric for many runs, downsampled to the pixels it has. */
export function MetricChart(props: MetricChartProps) {
  const width = props.width ?? 720;
  const height = props.height ?? 300;
  const pad = { left: 64, right: 16, top: 12, bottom: 36 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const prepared = useMemo(
    () => props.series.map((s) => ({ series: s, xy: preparePoints(s.points, props.xAxis, props.smoothing, props.logScale, innerW) })),
    [props.series, props.xAxis, props.smoothing, props.logScale, innerW],
  );
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (const { xy } of prepared) {
    for (const p of xy) {
      if (p.x < xMin) xMin = p.x;
      if (p.x > xMax) xMax = p.x;
      if (p.y < yMin) yMin = p.y;
      if (p.y > yMax) yMax = p.y;
    }
  }
  const hasData = Number.isFinite(xMin);
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMax = yMin + 1;
    yMin -= 1;
  }
  const sx = (x: number) => pad.left + ((x - xMin) / (xMax - xMin)) * innerW;
  const sy = (y: number) => pad.top + innerH - ((y - yMin) / (yMax - yMin)) * innerH;
  // On a log scale the y values are log10s: whole powers of ten read better than 10^0.5 steps.
  const decades: number[] = [];
  for (let e = Math.ceil(yMin); e <= Math.floor(yMax); e++) decades.push(e);
  const yTicks = props.logScale && decades.length >= 2 ? decades : niceTicks(yMin, yMax, 5);
  const xLabel = props.xAxis === 'step' ? 'Step' : props.xAxis === 'relative' ? 'Seconds since first point' : 'Time';
  const fmtX = (x: number) => (props.xAxis === 'wall' ? new Date(x).toLocaleTimeString() : formatValue(x));
  const fmtY = (y: number) => formatValue(props.logScale ? 10 ** y : y);
  return (
    <figure className="chart">
      <figcaption>{props.metricKey}</figcaption>
      {hasData ? (
        <svg width={width} height={height} role="img" aria-label={`Chart of ${props.metricKey} for ${props.series.length} run(s)`} data-testid="metric-chart">
          {yTicks.map((t) => (
            <g key={`y${t}`}>
              <line x1={pad.left} x2={width - pad.right} y1={sy(t)} y2={sy(t)} stroke="#e5e7eb" />
              <text x={pad.left - 6} y={sy(t) + 4} textAnchor="end" fontSize="11" fill="#374151">
                {fmtY(t)}
              </text>
            </g>
          ))}
          {niceTicks(xMin, xMax, 6).map((t) => (
            <text key={`x${t}`} x={sx(t)} y={height - pad.bottom + 16} textAnchor="middle" fontSize="11" fill="#374151">
              {fmtX(t)}
            </text>
          ))}
          <text x={pad.left + innerW / 2} y={height - 4} textAnchor="middle" fontSize="12" fill="#111827">
            {xLabel}
            {props.logScale ? ' (log y)' : ''}
          </text>
          <rect x={pad.left} y={pad.top} width={innerW} height={innerH} fill="none" stroke="#9ca3af" />
          {prepared.map(({ series, xy }, i) => (
            <path
              key={series.runId}
              data-run-id={series.runId}
              data-points={xy.length}
              className="series"
              d={xy.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('')}
              fill="none"
              stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
              strokeWidth={1.6}
            />
          ))}
        </svg>
      ) : (
        <p className="muted">No finite values to draw{props.logScale ? ' on a log scale (only values above 0 can be shown)' : ''}.</p>
      )}
      <table className="legend">
        <caption className="sr-only">Summary of {props.metricKey} per run</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Min</th>
            <th scope="col">Max</th>
            <th scope="col">Last</th>
            <th scope="col">Points</th>
          </tr>
        </thead>
        <tbody>
          {props.series.map((s, i) => {
            const sum = summary(s.points);
            return (
              <tr key={s.runId}>
                <th scope="row">
                  <span className="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} aria-hidden="true" /> {s.label}
                </th>
                <td>{sum ? formatValue(sum.min) : ''}</td>
                <td>{sum ? formatValue(sum.max) : ''}</td>
                <td>{sum ? formatValue(sum.last) : ''}</td>
                <td>{s.points.length.toLocaleString()}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
