import { formatValue } from '../../shell/ui.tsx';
import { SERIES_COLORS } from '../charts/MetricChart.tsx';
import type { DiffRow } from './diff.ts';

/** Parallel coordinates: one vertical axis per param or metric, one line per run; text values are spread evenly by category. */
export function ParallelCoordinates({ rows, labels }: { rows: readonly DiffRow[]; labels: readonly string[] }) {
  const axes = rows.slice(0, 12);
  if (axes.length < 2) return <p className="muted">Parallel coordinates need at least two params or metrics that differ between the runs.</p>;
  const width = Math.max(480, axes.length * 120);
  const height = 300;
  const top = 40;
  const bottom = height - 30;
  const x = (i: number) => 60 + (i * (width - 120)) / (axes.length - 1);
  const scales = axes.map((axis) => {
    const numeric = axis.values.every((v) => v === undefined || Number.isFinite(Number(v)));
    if (numeric) {
      const nums = axis.values.filter((v) => v !== undefined).map(Number);
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      return { y: (v: string | number) => (hi === lo ? (top + bottom) / 2 : bottom - ((Number(v) - lo) / (hi - lo)) * (bottom - top)), lo, hi, numeric };
    }
    const cats = [...new Set(axis.values.filter((v) => v !== undefined).map(String))].sort();
    return {
      y: (v: string | number) => (cats.length === 1 ? (top + bottom) / 2 : bottom - (cats.indexOf(String(v)) / (cats.length - 1)) * (bottom - top)),
      cats,
      numeric,
    };
  });
  return (
    <svg
      width={width}
      height={height}
      role="img"
      aria-label={`Parallel coordinates of ${labels.length} runs over ${axes.length} params and metrics`}
      data-testid="parallel-coordinates"
    >
      {axes.map((axis, i) => {
        const s = scales[i];
        return (
          <g key={`${axis.kind}:${axis.key}`}>
            <line x1={x(i)} x2={x(i)} y1={top} y2={bottom} stroke="#6b7280" />
            <text x={x(i)} y={top - 22} textAnchor="middle" fontSize="12" fill="#111827">
              {axis.key}
            </text>
            <text x={x(i)} y={top - 8} textAnchor="middle" fontSize="10" fill="#374151">
              {axis.kind}
            </text>
            {s && 'lo' in s && s.lo !== undefined ? (
              <>
                <text x={x(i) + 4} y={bottom + 14} fontSize="10" fill="#374151">
                  {formatValue(s.lo)}
                </text>
                <text x={x(i) + 4} y={top + 4} fontSize="10" fill="#374151">
                  {formatValue(s.hi)}
                </text>
              </>
            ) : null}
          </g>
        );
      })}
      {labels.map((label, r) => {
        const points = axes
          .map((axis, i) => {
            const v = axis.values[r];
            const s = scales[i];
            return v === undefined || !s ? null : `${x(i).toFixed(1)},${s.y(v).toFixed(1)}`;
          })
          .filter((p): p is string => p !== null);
        return (
          <polyline key={label} points={points.join(' ')} fill="none" stroke={SERIES_COLORS[r % SERIES_COLORS.length]} strokeWidth={2}>
            <title>{label}</title>
          </polyline>
        );
      })}
    </svg>
  );
}
