import { type UIEvent, useState } from 'react';
import { visibleRange } from './sql-text.ts';
import type { ResultColumn } from './statement.ts';

/** Height of one result row in pixels. */
export const GRID_ROW_HEIGHT = 30;

/** Props of the result grid. */
export interface ResultGridProps {
  columns: readonly ResultColumn[];
  rows: readonly (readonly (string | null)[])[];
  /** Rows the statement produced in all (more than `rows` while chunks are still to load). */
  totalRows: number;
  label: string;
  /** Called when the user scrolls near the end of the loaded rows and more exist. */
  onNearEnd?(): void;
  height?: number;
  initialScrollTop?: number;
}

/** A virtualized grid of statement results: only the rows in view are in the DOM. */
export function ResultGrid(props: ResultGridProps) {
  const [scrollTop, setScrollTop] = useState(props.initialScrollTop ?? 0);
  const height = Math.min(props.height ?? 420, Math.max(props.rows.length, 1) * GRID_ROW_HEIGHT + 2);
  const { first, last } = visibleRange(scrollTop, height, GRID_ROW_HEIGHT, props.rows.length);
  const template = `4rem ${props.columns.map(() => 'minmax(8rem, 1fr)').join(' ')}`;
  const onScroll = (e: UIEvent<HTMLTableSectionElement>) => {
    const top = e.currentTarget.scrollTop;
    setScrollTop(top);
    if (props.onNearEnd && props.rows.length < props.totalRows && top + 2 * height > props.rows.length * GRID_ROW_HEIGHT) props.onNearEnd();
  };
  return (
    <table className="runs-table result-grid" aria-label={props.label} aria-rowcount={props.totalRows + 1}>
      <thead className="runs-head">
        <tr className="runs-row" style={{ gridTemplateColumns: template }}>
          <th scope="col" className="cell head">
            #
          </th>
          {props.columns.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: result columns may share a name; their position is their identity
            <th key={`${i}:${c.name}`} scope="col" className="cell head" title={c.type_text ?? c.type_name}>
              {c.name} <span className="muted">{(c.type_text ?? c.type_name).toLowerCase()}</span>
            </th>
          ))}
        </tr>
      </thead>
      {/* The body scrolls by keyboard too, so it takes focus (it holds no other focusable element). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable to scroll without a mouse */}
      <tbody className="runs-body" style={{ height, overflowY: 'auto', position: 'relative' }} onScroll={onScroll} tabIndex={0} data-testid="result-scroller">
        <tr className="spacer" style={{ height: props.rows.length * GRID_ROW_HEIGHT }} />
        {props.rows.slice(first, last).map((row, i) => {
          const index = first + i;
          return (
            <tr
              key={index}
              className="runs-row"
              aria-rowindex={index + 2}
              data-row-index={index}
              style={{ position: 'absolute', top: index * GRID_ROW_HEIGHT, height: GRID_ROW_HEIGHT, left: 0, right: 0, gridTemplateColumns: template }}
            >
              <th scope="row" className="cell muted">
                {index + 1}
              </th>
              {props.columns.map((c, j) => {
                const v = row[j];
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: result columns may share a name; their position is their identity
                  <td key={`${j}:${c.name}`} className={`cell${v === null ? ' null' : ''}`}>
                    {v === null || v === undefined ? 'NULL' : v}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
