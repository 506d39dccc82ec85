import { useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatValue, Loading } from '../../shell/ui.tsx';
import { ChartsPanel } from '../charts/ChartsPanel.tsx';
import { SERIES_COLORS } from '../charts/MetricChart.tsx';
import type { Run } from '../runs/types.ts';
import { diffRuns } from './diff.ts';
import { ParallelCoordinates } from './ParallelCoordinates.tsx';

/** Compares runs side by side: metric curves on one chart, parallel coordinates and a params/metrics diff. */
export function ComparePage({ runIds, experimentId }: { runIds: string[]; experimentId: string | null }) {
  const [hideIdentical, setHideIdentical] = useState(true);
  const query = useQuery(
    ['compare', ...runIds],
    () => Promise.all(runIds.map((id) => api().get<{ run: Run }>('/api/2.0/mlflow/runs/get', { run_id: id }))),
    runIds.length > 0,
  );
  if (runIds.length === 0) return <Empty title="No runs chosen">Select two or more runs in an experiment's table and press Compare.</Empty>;
  if (query.error) return <ErrorBox error={query.error} title="Could not load the runs" />;
  if (!query.data) return <Loading what="runs" />;
  const runs = query.data.map((d) => d.run);
  const labels = runs.map((r) => r.info.run_name || r.info.run_id);
  const rows = diffRuns(runs);
  const shownRows = hideIdentical ? rows.filter((r) => !r.identical) : rows;
  const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  return (
    <main>
      {experimentId ? (
        <p>
          <Link href={`/experiments/${experimentId}`}>← Back to runs</Link>
        </p>
      ) : null}
      <h1>Compare {runs.length} runs</h1>
      <h2>Metric curves</h2>
      <ChartsPanel runs={runs.map((r, i) => ({ runId: r.info.run_id, label: labels[i] as string }))} metricKeys={metricKeys} />
      <h2>Parallel coordinates</h2>
      <ParallelCoordinates rows={rows.filter((r) => !r.identical)} labels={labels} />
      <h2>Params and metrics</h2>
      <label className="check">
        <input type="checkbox" checked={hideIdentical} onChange={(e) => setHideIdentical(e.target.checked)} /> Hide rows where every run has the same value
      </label>
      {shownRows.length === 0 ? (
        <p className="muted">Every param and metric is identical across these runs.</p>
      ) : (
        <table className="data diff">
          <thead>
            <tr>
              <th scope="col">Key</th>
              {labels.map((l, i) => (
                <th scope="col" key={runs[i]?.info.run_id}>
                  <span className="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} aria-hidden="true" /> {l}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shownRows.map((row) => (
              <tr key={`${row.kind}:${row.key}`} className={row.identical ? 'same' : 'differs'}>
                <th scope="row">
                  {row.kind}s.{row.key}
                </th>
                {row.values.map((v, i) => (
                  <td key={runs[i]?.info.run_id}>{formatValue(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
