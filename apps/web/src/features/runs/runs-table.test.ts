import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { groupItems, ROW_HEIGHT, RunsTable } from './RunsTable.tsx';
import { orderByClause, type Run, type RunColumn } from './types.ts';

function makeRuns(n: number): Run[] {
  return Array.from({ length: n }, (_, i) => ({
    info: { run_id: `id${i}`, run_name: `trial-${i}`, experiment_id: '7', status: 'FINISHED', start_time: 1_700_000_000_000 + i },
    data: { metrics: [{ key: 'loss', value: i / 4, timestamp: 0, step: 0 }], params: [{ key: 'opt', value: i % 3 === 0 ? 'sgd' : 'adam' }] },
  }));
}

const columns: RunColumn[] = [
  { kind: 'attribute', key: 'run_name' },
  { kind: 'metric', key: 'loss' },
  { kind: 'param', key: 'opt' },
];
const noop = () => {};
const bodyRows = (html: string) => [...html.matchAll(/data-run-id="(id\d+)"/g)].map((m) => m[1]);

describe('runs table', () => {
  it('puts only the rows in view (plus a small overscan) in the DOM, even with 100,000 runs', () => {
    const runs = makeRuns(100_000);
    const html = renderToString(
      createElement(RunsTable, {
        runs,
        columns,
        sort: { column: columns[1]!, ascending: true },
        onSort: noop,
        selected: new Set<string>(),
        onToggle: noop,
        height: 340,
      }),
    );
    const rows = bodyRows(html);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    expect(rows[0]).toBe('id0');
    // The scroll area is as tall as all the rows, so the scrollbar reflects 100,000 runs.
    expect(html).toContain(`height:${100_000 * ROW_HEIGHT}px`);
    expect(html).toContain('aria-rowcount="100001"');
  });

  it('renders the rows around the scroll position, at their absolute offsets', () => {
    const runs = makeRuns(100_000);
    const top = 50_000 * ROW_HEIGHT;
    const html = renderToString(
      createElement(RunsTable, {
        runs,
        columns,
        sort: { column: columns[0]!, ascending: false },
        onSort: noop,
        selected: new Set(['id50003']),
        onToggle: noop,
        height: 340,
        initialScrollTop: top,
      }),
    );
    const rows = bodyRows(html);
    expect(rows).toContain('id50000');
    expect(rows).toContain('id50009');
    expect(rows).not.toContain('id0');
    expect(rows).not.toContain('id49000');
    expect(html).toContain(`top:${top}px`);
    expect(html).toContain('>trial-50000</a>');
    expect(html).toMatch(/class="runs-row selected"[^>]*data-run-id="id50003"/);
    expect(html).toContain('>12500.25<');
  });

  it('marks the sorted column for screen readers and offers sort buttons', () => {
    const html = renderToString(
      createElement(RunsTable, {
        runs: makeRuns(3),
        columns,
        sort: { column: columns[1]!, ascending: false },
        onSort: noop,
        selected: new Set<string>(),
        onToggle: noop,
      }),
    );
    expect(html).toMatch(/aria-sort="descending"[^>]*><button[^>]*>loss(<!-- -->)? ▼<\/button>/);
    expect(html.match(/aria-sort=/g)).toHaveLength(1);
    expect(html).toContain('aria-label="Select run trial-1"');
  });

  it('groups loaded runs by a param with a header row per value', () => {
    const items = groupItems(makeRuns(6), 'opt');
    expect(items.map((it) => (it.type === 'group' ? `[${it.value}:${it.count}]` : it.run.info.run_id))).toEqual([
      '[sgd:2]',
      'id0',
      'id3',
      '[adam:4]',
      'id1',
      'id2',
      'id4',
      'id5',
    ]);
  });

  it('asks the server to sort with MLflow order_by clauses', () => {
    expect(orderByClause({ kind: 'metric', key: 'val loss' }, false)).toBe('metrics.`val loss` DESC');
    expect(orderByClause({ kind: 'param', key: 'lr' }, true)).toBe('params.`lr` ASC');
    expect(orderByClause({ kind: 'attribute', key: 'start_time' }, false)).toBe('attributes.start_time DESC');
  });
});
