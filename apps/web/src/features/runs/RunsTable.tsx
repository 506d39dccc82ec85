import { type UIEvent, useMemo, useState } from 'react';
import { Link } from '../../lib/router.tsx';
import { formatTime, formatValue } from '../../shell/ui.tsx';
import { cellValue, columnId, columnLabel, type Run, type RunColumn } from './types.ts';

/** Height of one row in pixels; fixed so the visible slice is a simple division. */
export const ROW_HEIGHT = 34;
const OVERSCAN = 8;

/** A row of the virtual list: a group header (when grouping by a param) or a run. */
type Item = { type: 'group'; value: string; count: number } | { type: 'run'; run: Run };

/** Flattens runs into list items, inserting a header before each group of the `groupBy` param's value. */
export function groupItems(runs: readonly Run[], groupBy: string | undefined): Item[] {
  if (!groupBy) return runs.map((run) => ({ type: 'run', run }));
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const value = run.data.params?.find((p) => p.key === groupBy)?.value ?? '(not set)';
    const list = groups.get(value) ?? [];
    list.push(run);
    groups.set(value, list);
  }
  const items: Item[] = [];
  for (const [value, list] of groups) {
    items.push({ type: 'group', value, count: list.length });
    for (const run of list) items.push({ type: 'run', run });
  }
  return items;
}

/** Props of the runs table. */
export interface RunsTableProps {
  runs: readonly Run[];
  columns: readonly RunColumn[];
  sort: { column: RunColumn; ascending: boolean };
  onSort(column: RunColumn): void;
  selected: ReadonlySet<string>;
  onToggle(runId: string): void;
  groupBy?: string | undefined;
  /** Called when the user scrolls near the end of the loaded rows (to fetch the next page). */
  onNearEnd?(): void;
  /** Whether more rows exist on the server. */
  hasMore?: boolean;
  height?: number;
  /** Initial scroll offset (tests start in the middle of a long list). */
  initialScrollTop?: number;
}

function display(run: Run, column: RunColumn): string {
  const value = cellValue(run, column);
  if (column.kind === 'attribute' && column.key === 'start_time') return formatTime(value as number | undefined);
  if (column.kind === 'attribute' && column.key === 'duration') return value === undefined ? '' : `${((value as number) / 1000).toFixed(1)} s`;
  return formatValue(value);
}

/** A virtualized runs table: only the rows in view are in the DOM, so 100,000 loaded runs scroll smoothly. */
export function RunsTable(props: RunsTableProps) {
  const [scrollTop, setScrollTop] = useState(props.initialScrollTop ?? 0);
  const items = useMemo(() => groupItems(props.runs, props.groupBy), [props.runs, props.groupBy]);
  // A short list gets a short table; a long one scrolls inside a fixed-height body.
  const height = Math.min(props.height ?? 520, Math.max(items.length, 1) * ROW_HEIGHT + 2);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const template = `2.5rem ${props.columns.map((c) => (c.kind === 'attribute' && c.key === 'run_name' ? 'minmax(12rem, 2fr)' : c.kind === 'attribute' && c.key === 'start_time' ? 'minmax(12rem, 1fr)' : 'minmax(7rem, 1fr)')).join(' ')}`;
  const onScroll = (e: UIEvent<HTMLTableSectionElement>) => {
    const top = e.currentTarget.scrollTop;
    setScrollTop(top);
    if (props.hasMore && props.onNearEnd && top + height > items.length * ROW_HEIGHT - height) props.onNearEnd();
  };
  const sortId = columnId(props.sort.column);
  return (
    <table className="runs-table" aria-label="Runs" aria-rowcount={props.runs.length + 1}>
      <thead className="runs-head">
        <tr className="runs-row" style={{ gridTemplateColumns: template }}>
          <th scope="col" className="cell">
            <span className="sr-only">Select</span>
          </th>
          {props.columns.map((c) => {
            const id = columnId(c);
            const sortable = !(c.kind === 'attribute' && (c.key === 'duration' || c.key === 'user_id'));
            const active = id === sortId;
            return (
              <th key={id} scope="col" className={`cell head ${c.kind}`} aria-sort={active ? (props.sort.ascending ? 'ascending' : 'descending') : undefined}>
                {sortable ? (
                  <button type="button" className="sort" onClick={() => props.onSort(c)} title={`Sort by ${columnLabel(c)}`}>
                    {columnLabel(c)}
                    {active ? (props.sort.ascending ? ' ▲' : ' ▼') : ''}
                  </button>
                ) : (
                  columnLabel(c)
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody className="runs-body" style={{ height, overflowY: 'auto', position: 'relative' }} onScroll={onScroll} data-testid="runs-scroller">
        {/* An empty spacer row gives the scroll area the height of every row, so the scrollbar reflects all loaded runs. */}
        <tr className="spacer" style={{ height: items.length * ROW_HEIGHT }} />
        {items.slice(first, last).map((item, i) => {
          const index = first + i;
          const style = { position: 'absolute' as const, top: index * ROW_HEIGHT, height: ROW_HEIGHT, left: 0, right: 0, gridTemplateColumns: template };
          if (item.type === 'group') {
            return (
              <tr key={`g:${item.value}`} className="runs-row group-row" style={style}>
                <th scope="rowgroup" colSpan={props.columns.length + 1} className="cell group-cell">
                  {props.groupBy} = {item.value} <span className="muted">({item.count} runs)</span>
                </th>
              </tr>
            );
          }
          const run = item.run;
          const id = run.info.run_id;
          const name = run.info.run_name || id;
          return (
            <tr key={id} className={`runs-row${props.selected.has(id) ? ' selected' : ''}`} style={style} data-run-id={id}>
              <td className="cell">
                <input type="checkbox" aria-label={`Select run ${name}`} checked={props.selected.has(id)} onChange={() => props.onToggle(id)} />
              </td>
              {props.columns.map((c) => (
                <td key={columnId(c)} className={`cell ${c.kind}`}>
                  {c.kind === 'attribute' && c.key === 'run_name' ? (
                    <Link href={`/experiments/${run.info.experiment_id}/runs/${id}`}>{name}</Link>
                  ) : (
                    display(run, c)
                  )}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
