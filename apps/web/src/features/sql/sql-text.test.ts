import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ResultGrid } from './ResultGrid.tsx';
import { completeName, nameAtCursor, tokenizeSql, visibleRange } from './sql-text.ts';

describe('SQL editor text', () => {
  it('tokenizes without losing a character, and classes keywords, strings, numbers and comments', () => {
    const texts = [
      "SELECT a, 'it''s', 1.5e3 FROM main.s.t -- done\nWHERE x >= 2 /* c */",
      'select `odd name`, "q" from t where a-1 > 0',
      "unterminated 'string",
      '1abc + 2x /* open comment',
      '',
    ];
    for (const t of texts)
      expect(
        tokenizeSql(t)
          .map((x) => x.text)
          .join(''),
      ).toBe(t);
    const kinds = tokenizeSql("SELECT 'x' , 42 -- c")
      .filter((t) => t.kind !== 'other')
      .map((t) => [t.text, t.kind]);
    expect(kinds).toEqual([
      ['SELECT', 'keyword'],
      ["'x'", 'string'],
      ['42', 'number'],
      ['-- c', 'comment'],
    ]);
  });

  it('finds the dotted name being typed, and nothing inside strings', () => {
    expect(nameAtCursor('SELECT * FROM ma', 16)).toEqual({ parents: [], partial: 'ma', start: 14 });
    expect(nameAtCursor('SELECT * FROM main.sa', 21)).toEqual({ parents: ['main'], partial: 'sa', start: 19 });
    expect(nameAtCursor('SELECT * FROM main.sales.', 25)).toEqual({ parents: ['main', 'sales'], partial: '', start: 25 });
    expect(nameAtCursor("SELECT 'main.sa", 15)).toBeNull();
    expect(nameAtCursor('SELECT ', 7)).toBeNull();
  });

  it('completes case-insensitively, shortest first, leaving out an exact match', () => {
    expect(completeName(['orders', 'Orders_2024', 'customers', 'ord'], 'ord')).toEqual(['orders', 'Orders_2024']);
    expect(completeName(['a', 'b'], '')).toEqual(['a', 'b']);
  });

  it('computes the rows in view with overscan, clamped to the result', () => {
    expect(visibleRange(0, 300, 30, 1_000_000)).toEqual({ first: 0, last: 18 });
    expect(visibleRange(30_000, 300, 30, 1_000_000)).toEqual({ first: 992, last: 1018 });
    expect(visibleRange(30_000, 300, 30, 1000)).toEqual({ first: 992, last: 1000 });
  });

  it('renders only the rows in view of a 200,000-row result, NULLs marked', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [String(i), i % 2 ? null : `v${i}`]);
    const html = renderToString(
      createElement(ResultGrid, {
        columns: [
          { name: 'id', type_name: 'LONG' },
          { name: 'label', type_name: 'STRING' },
        ],
        rows,
        totalRows: 250_000,
        label: 'r',
        height: 300,
        initialScrollTop: 30 * 100_000,
      }),
    );
    const indexes = [...html.matchAll(/data-row-index="(\d+)"/g)].map((m) => Number(m[1]));
    expect(indexes.length).toBeGreaterThan(5);
    expect(indexes.length).toBeLessThan(40);
    expect(indexes).toContain(100_000);
    expect(indexes).not.toContain(0);
    expect(html).toContain('aria-rowcount="250001"');
    expect(html).toContain('>NULL<');
  });
});
