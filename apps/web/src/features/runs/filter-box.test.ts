import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FilterBox } from './FilterBox.tsx';
import { applySuggestion, keysOfRuns, suggest, wordAt } from './filter-suggest.ts';

const keys = { metrics: ['loss', 'val loss', 'accuracy'], params: ['lr', 'seed'], tags: ['team'] };

describe('filter autocomplete', () => {
  it('suggests prefixed keys for a prefix, and finds a bare key name under its prefix', () => {
    expect(suggest('metrics.lo', 10, keys).map((s) => s.label)).toEqual(['metrics.loss']);
    expect(suggest('se', 2, keys).map((s) => s.label)).toEqual(['params.seed']);
    expect(suggest('params.', 7, keys).map((s) => s.label)).toEqual(['params.lr', 'params.seed']);
    expect(suggest('attributes.st', 13, keys).map((s) => s.label)).toEqual(['attributes.status', 'attributes.start_time']);
  });

  it('quotes keys that are not identifiers with backticks, as MLflow requires', () => {
    expect(suggest('metrics.v', 9, keys).map((s) => s.label)).toEqual(['metrics.`val loss`']);
  });

  it('completes the word under the cursor only, after a comparison or "and"', () => {
    const text = "params.lr = '0.1' and acc";
    expect(wordAt(text, text.length)).toEqual({ start: 22, word: 'acc' });
    const [first] = suggest(text, text.length, keys);
    expect(first?.label).toBe('metrics.accuracy');
    expect(applySuggestion(text, text.length, first!)).toEqual({ text: "params.lr = '0.1' and metrics.accuracy ", cursor: 39 });
    expect(suggest(text, 0, keys)).toEqual([]);
  });

  it('gathers keys from a page of runs, leaving out mlflow.* system tags', () => {
    const runs = [
      { data: { metrics: [{ key: 'loss' }], params: [{ key: 'lr' }], tags: [{ key: 'mlflow.user' }, { key: 'team' }] } },
      { data: { metrics: [{ key: 'acc' }, { key: 'loss' }], params: [] } },
      {},
    ];
    expect(keysOfRuns(runs)).toEqual({ metrics: ['acc', 'loss'], params: ['lr'], tags: ['team'] });
  });

  it('renders a labelled combobox whose listbox shows the suggestions for the typed word', () => {
    const html = renderToString(createElement(FilterBox, { value: 'metrics.l', keys, onSubmit: () => {}, initialCursor: 9 }));
    expect(html).toMatch(/<label for="[^"]+-input">Filter runs<\/label>/);
    expect(html).toContain('role="combobox"');
    expect(html).toContain('aria-expanded="true"');
    expect(html).toMatch(/role="option" aria-selected="true"[^>]*>metrics\.loss<\/li>/);
    const listbox = /<ul[^>]*role="listbox"[^>]*>(.*?)<\/ul>/.exec(html)?.[1] ?? '';
    expect(listbox.match(/role="option"/g)).toHaveLength(1);
  });

  it('renders no listbox when nothing is being typed', () => {
    const html = renderToString(createElement(FilterBox, { value: '', keys, onSubmit: () => {} }));
    expect(html).toContain('aria-expanded="false"');
    expect(html).not.toContain('role="listbox"');
  });
});
