import { useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';
import { type ChartSeries, MetricChart, type MetricPoint, type Smoothing, type XAxis } from './MetricChart.tsx';

/** A run to chart: its id and the name shown in the legend. */
export interface ChartRun {
  runId: string;
  label: string;
}

type Mode = 'sampled' | 'full';

async function loadSeries(runs: readonly ChartRun[], key: string, mode: Mode): Promise<ChartSeries[]> {
  const client = api();
  if (mode === 'sampled') {
    // The server samples each run down to at most 2,500 evenly spaced steps, so huge histories stay cheap.
    const answer = await client.get<{ metrics?: (MetricPoint & { run_id: string })[] }>('/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval', {
      run_ids: runs.map((r) => r.runId),
      metric_key: key,
      max_results: 2500,
    });
    const byRun = new Map<string, MetricPoint[]>();
    for (const m of answer.metrics ?? []) {
      const list = byRun.get(m.run_id) ?? [];
      list.push({ step: m.step, timestamp: m.timestamp, value: Number(m.value) });
      byRun.set(m.run_id, list);
    }
    return runs.map((r) => ({ runId: r.runId, label: r.label, points: byRun.get(r.runId) ?? [] }));
  }
  return Promise.all(
    runs.map(async (r) => {
      const answer = await client.get<{ metrics?: MetricPoint[] }>('/api/2.0/mlflow/metrics/get-history', { run_id: r.runId, metric_key: key });
      return { runId: r.runId, label: r.label, points: (answer.metrics ?? []).map((m) => ({ step: m.step, timestamp: m.timestamp, value: Number(m.value) })) };
    }),
  );
}

/** Metric charts for a set of runs with axis, smoothing, log-scale and sampling controls. */
export function ChartsPanel({ runs, metricKeys, initialKey }: { runs: readonly ChartRun[]; metricKeys: readonly string[]; initialKey?: string | undefined }) {
  const id = useId();
  const [key, setKey] = useState(initialKey ?? metricKeys[0] ?? '');
  const [xAxis, setXAxis] = useState<XAxis>('step');
  const [smoothKind, setSmoothKind] = useState<Smoothing['kind']>('none');
  const [amount, setAmount] = useState(0.6);
  const [logScale, setLogScale] = useState(false);
  const [mode, setMode] = useState<Mode>('sampled');
  const activeKey = metricKeys.includes(key) ? key : (metricKeys[0] ?? '');
  const shown = runs.slice(0, 100);
  const query = useQuery(
    queryKeys.metricHistory(
      shown.map((r) => r.runId),
      activeKey,
      mode,
    ),
    () => loadSeries(shown, activeKey, mode),
    activeKey !== '' && shown.length > 0,
  );
  if (runs.length === 0) return <Empty title="No runs to chart">Select runs in the table (the checkboxes) to draw their metrics.</Empty>;
  if (metricKeys.length === 0) return <Empty title="These runs have no metrics yet">Log one with mlflow.log_metric("loss", 0.25, step=1) and reload.</Empty>;
  const smoothing: Smoothing =
    smoothKind === 'exponential'
      ? { kind: 'exponential', weight: amount }
      : smoothKind === 'running'
        ? { kind: 'running', window: Math.max(1, Math.round(amount * 100)) }
        : { kind: 'none' };
  return (
    <section className="charts" aria-label="Metric charts">
      <div className="toolbar">
        <label htmlFor={`${id}-key`}>Metric</label>
        <select id={`${id}-key`} value={activeKey} onChange={(e) => setKey(e.target.value)}>
          {metricKeys.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <label htmlFor={`${id}-x`}>X axis</label>
        <select id={`${id}-x`} value={xAxis} onChange={(e) => setXAxis(e.target.value as XAxis)}>
          <option value="step">Step</option>
          <option value="relative">Time (relative)</option>
          <option value="wall">Wall clock</option>
        </select>
        <label htmlFor={`${id}-smooth`}>Smoothing</label>
        <select id={`${id}-smooth`} value={smoothKind} onChange={(e) => setSmoothKind(e.target.value as Smoothing['kind'])}>
          <option value="none">None</option>
          <option value="exponential">Exponential</option>
          <option value="running">Running average</option>
        </select>
        {smoothKind !== 'none' ? (
          <>
            <label htmlFor={`${id}-amount`}>
              {smoothKind === 'exponential' ? `Weight ${amount.toFixed(2)}` : `Window ${Math.max(1, Math.round(amount * 100))}`}
            </label>
            <input id={`${id}-amount`} type="range" min={0} max={0.99} step={0.01} value={amount} onChange={(e) => setAmount(Number(e.target.value))} />
          </>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} /> Log scale
        </label>
        <label htmlFor={`${id}-mode`}>Data</label>
        <select id={`${id}-mode`} value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
          <option value="sampled">Sampled (fast)</option>
          <option value="full">Full history</option>
        </select>
      </div>
      {runs.length > shown.length ? <p className="muted">Showing the first 100 of {runs.length} selected runs.</p> : null}
      <ErrorBox error={query.error} title="Could not load the metric history" />
      {query.loading && !query.data ? <Loading what="metric history" /> : null}
      {query.data ? <MetricChart metricKey={activeKey} series={query.data} xAxis={xAxis} smoothing={smoothing} logScale={logScale} /> : null}
    </section>
  );
}
