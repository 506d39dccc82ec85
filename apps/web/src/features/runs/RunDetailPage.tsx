import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { Link } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, formatTime, formatValue, Loading } from '../../shell/ui.tsx';
import { ChartsPanel } from '../charts/ChartsPanel.tsx';
import { LineageLink } from '../lineage/LineageLink.tsx';
import { ArtifactsBrowser } from './ArtifactsBrowser.tsx';
import type { Run } from './types.ts';

function KeyValueTable({ caption, rows, empty }: { caption: string; rows: { key: string; value: string }[]; empty: string }) {
  return (
    <section>
      <h2>{caption}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.key}</th>
                <td className="wrap">{r.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One run: overview, params, metrics with charts, tags, dataset inputs and artifacts. */
export function RunDetailPage({ experimentId, runId }: { experimentId: string; runId: string }) {
  const query = useQuery(queryKeys.run(runId), () => api().get<{ run: Run }>('/api/2.0/mlflow/runs/get', { run_id: runId }));
  if (query.error) return <ErrorBox error={query.error} title="Could not load the run" />;
  if (!query.data) return <Loading what="run" />;
  const run = query.data.run;
  const name = run.info.run_name || run.info.run_id;
  const tags = (run.data.tags ?? []).filter((t) => !t.key.startsWith('mlflow.') || t.key === 'mlflow.note.content');
  const metrics = run.data.metrics ?? [];
  const datasets = run.inputs?.dataset_inputs ?? [];
  return (
    <main>
      <p>
        <Link href={`/experiments/${experimentId}`}>← Back to runs</Link>
      </p>
      <h1>Run {name}</h1>
      <dl className="overview">
        <dt>Run ID</dt>
        <dd>{run.info.run_id}</dd>
        <dt>Status</dt>
        <dd>{run.info.status}</dd>
        <dt>Started</dt>
        <dd>{formatTime(run.info.start_time)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(run.info.end_time) || '—'}</dd>
        <dt>User</dt>
        <dd>{run.info.user_id || '—'}</dd>
      </dl>
      <p>
        <LineageLink entity={`run:${run.info.run_id}`} label="Lineage of this run" />
      </p>
      <KeyValueTable caption="Parameters" rows={run.data.params ?? []} empty="No parameters logged. Use mlflow.log_param." />
      <section>
        <h2>Metrics</h2>
        {metrics.length === 0 ? (
          <Empty title="No metrics logged">Use mlflow.log_metric("loss", 0.25, step=1).</Empty>
        ) : (
          <>
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Last value</th>
                  <th scope="col">Step</th>
                </tr>
              </thead>
              <tbody>
                {metrics.map((m) => (
                  <tr key={m.key}>
                    <th scope="row">{m.key}</th>
                    <td>{formatValue(m.value)}</td>
                    <td>{m.step}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ChartsPanel runs={[{ runId: run.info.run_id, label: name }]} metricKeys={metrics.map((m) => m.key)} />
          </>
        )}
      </section>
      <KeyValueTable caption="Tags" rows={tags} empty="No tags. Use mlflow.set_tag." />
      <section>
        <h2>Dataset inputs</h2>
        {datasets.length === 0 ? (
          <p className="muted">No datasets logged. Use mlflow.log_input(dataset).</p>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Digest</th>
                <th scope="col">Source</th>
                <th scope="col">Context</th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={`${d.dataset.name}:${d.dataset.digest}`}>
                  <th scope="row">{d.dataset.name}</th>
                  <td>{d.dataset.digest}</td>
                  <td className="wrap">
                    {d.dataset.source_type} {d.dataset.source}
                  </td>
                  <td>{d.tags?.find((t) => t.key === 'mlflow.data.context')?.value ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2>Artifacts</h2>
        <ArtifactsBrowser runId={run.info.run_id} />
      </section>
    </main>
  );
}
