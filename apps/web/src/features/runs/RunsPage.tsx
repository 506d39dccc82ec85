import { useId, useMemo, useState } from 'react';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { navigate } from '../../lib/router.tsx';
import { useQuery } from '../../lib/use-query.ts';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';
import { ChartsPanel } from '../charts/ChartsPanel.tsx';
import type { Experiment } from '../experiments/ExperimentsPage.tsx';
import { FilterBox } from './FilterBox.tsx';
import { keysOfRuns } from './filter-suggest.ts';
import { RunsTable } from './RunsTable.tsx';
import { columnId, columnLabel, orderByClause, type RunColumn } from './types.ts';
import { useRuns } from './use-runs.ts';

const BASE_COLUMNS: RunColumn[] = [
  { kind: 'attribute', key: 'run_name' },
  { kind: 'attribute', key: 'start_time' },
  { kind: 'attribute', key: 'status' },
  { kind: 'attribute', key: 'duration' },
];
const DEFAULT_SORT: RunColumn = { kind: 'attribute', key: 'start_time' };

/** One experiment's runs: filter, sort, choose columns, group by a param, select runs to chart or compare. */
export function RunsPage({ experimentId, initialFilter }: { experimentId: string; initialFilter: string }) {
  const id = useId();
  const experiment = useQuery(queryKeys.experiment(experimentId), () =>
    api().get<{ experiment: Experiment }>('/api/2.0/mlflow/experiments/get', { experiment_id: experimentId }),
  );
  const [filter, setFilter] = useState(initialFilter);
  const [sort, setSort] = useState<{ column: RunColumn; ascending: boolean }>({ column: DEFAULT_SORT, ascending: false });
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [extraColumns, setExtraColumns] = useState<Set<string> | null>(null);
  const [groupBy, setGroupBy] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [view, setView] = useState<'table' | 'charts'>('table');
  const { runs, hasMore, loadMore, completeFirstPage, loading, error } = useRuns(experimentId, filter, orderByClause(sort.column, sort.ascending));
  const keys = useMemo(() => keysOfRuns(runs), [runs]);
  const allColumns: RunColumn[] = useMemo(
    () => [
      ...BASE_COLUMNS,
      ...keys.metrics.map((key): RunColumn => ({ kind: 'metric', key })),
      ...keys.params.map((key): RunColumn => ({ kind: 'param', key })),
      ...keys.tags.map((key): RunColumn => ({ kind: 'tag', key })),
    ],
    [keys],
  );
  // By default the first few metrics and params are shown; once the user picks columns, their choice stands.
  const defaultExtra = new Set([...keys.metrics.slice(0, 6).map((k) => `metric:${k}`), ...keys.params.slice(0, 4).map((k) => `param:${k}`)]);
  const visibleColumns = allColumns.filter((c) => {
    const cid = columnId(c);
    if (c.kind === 'attribute') return !hidden.has(cid);
    return (extraColumns ?? defaultExtra).has(cid);
  });
  const selectedRuns = runs.filter((r) => selected.has(r.info.run_id));

  function toggleColumn(c: RunColumn) {
    const cid = columnId(c);
    if (c.kind === 'attribute') {
      const next = new Set(hidden);
      if (next.has(cid)) next.delete(cid);
      else next.add(cid);
      setHidden(next);
      return;
    }
    const next = new Set(extraColumns ?? defaultExtra);
    if (next.has(cid)) next.delete(cid);
    else next.add(cid);
    setExtraColumns(next);
  }

  return (
    <main>
      <h1>{experiment.data?.experiment.name ?? `Experiment ${experimentId}`}</h1>
      <ErrorBox error={experiment.error} title="Could not load the experiment" />
      <FilterBox
        value={filter}
        keys={keys}
        onSubmit={(f) => {
          setFilter(f);
          navigate(`/experiments/${experimentId}${f ? `?filter=${encodeURIComponent(f)}` : ''}`, true);
        }}
      />
      <div className="toolbar">
        <details className="column-chooser">
          <summary>Columns ({visibleColumns.length})</summary>
          <fieldset>
            <legend>Shown columns</legend>
            {allColumns.map((c) => (
              <label key={columnId(c)} className="check">
                <input type="checkbox" checked={visibleColumns.some((v) => columnId(v) === columnId(c))} onChange={() => toggleColumn(c)} />
                {c.kind === 'attribute' ? columnLabel(c) : `${c.kind}s.${c.key}`}
              </label>
            ))}
          </fieldset>
        </details>
        <label htmlFor={`${id}-group`}>Group by param</label>
        <select
          id={`${id}-group`}
          value={groupBy}
          onChange={(e) => {
            setGroupBy(e.target.value);
            // Groups count the loaded runs: load the whole first page for them now.
            if (e.target.value) completeFirstPage();
          }}
        >
          <option value="">No grouping</option>
          {keys.params.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <fieldset className="tabs">
          <legend className="sr-only">View</legend>
          <button type="button" aria-pressed={view === 'table'} onClick={() => setView('table')}>
            Table
          </button>
          <button type="button" aria-pressed={view === 'charts'} onClick={() => setView('charts')}>
            Charts
          </button>
        </fieldset>
        <button
          type="button"
          className="primary"
          disabled={selected.size < 2}
          onClick={() => navigate(`/compare?experiment=${experimentId}&runs=${[...selected].join(',')}`)}
        >
          Compare {selected.size > 0 ? `${selected.size} runs` : 'runs'}
        </button>
        <span className="muted" aria-live="polite">
          {runs.length.toLocaleString()} {runs.length === 1 ? 'run' : 'runs'} loaded{hasMore ? ' (scroll for more)' : ''}
        </span>
      </div>
      <ErrorBox error={error} title="Could not load runs" />
      {loading && runs.length === 0 ? <Loading what="runs" /> : null}
      {!loading && !error && runs.length === 0 ? (
        filter ? (
          <Empty title="No run matches this filter">Loosen the filter, or clear it to see every run.</Empty>
        ) : (
          <Empty title="This experiment has no runs yet">
            Start one from Python: mlflow.set_experiment("{experiment.data?.experiment.name ?? 'name'}") then mlflow.start_run().
          </Empty>
        )
      ) : null}
      {runs.length > 0 && view === 'table' ? (
        <RunsTable
          runs={runs}
          columns={visibleColumns}
          sort={sort}
          onSort={(column) => setSort((s) => ({ column, ascending: columnId(s.column) === columnId(column) ? !s.ascending : column.kind === 'attribute' }))}
          selected={selected}
          onToggle={(runId) =>
            setSelected((s) => {
              const next = new Set(s);
              if (next.has(runId)) next.delete(runId);
              else next.add(runId);
              return next;
            })
          }
          groupBy={groupBy || undefined}
          hasMore={hasMore}
          onNearEnd={loadMore}
        />
      ) : null}
      {runs.length > 0 && view === 'charts' ? (
        <ChartsPanel
          runs={(selectedRuns.length > 0 ? selectedRuns : runs.slice(0, 10)).map((r) => ({ runId: r.info.run_id, label: r.info.run_name || r.info.run_id }))}
          metricKeys={keys.metrics}
        />
      ) : null}
    </main>
  );
}
