import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { LineageGraphView } from './LineagePage.tsx';
import { entityHref, type LineageGraph, layoutLineage, mergeGraphs, NODE_WIDTH } from './layout.ts';

const node = (id: string) => ({ id, type: id.slice(0, id.indexOf(':')), name: id.slice(id.indexOf(':') + 1) });

// raw.orders → clean.orders → run:r1 → model_version:main.s.fraud/3 → endpoint:fraud ; raw.customers → clean.orders
const graph: LineageGraph = {
  nodes: ['table:main.raw.orders', 'table:main.raw.customers', 'table:main.clean.orders', 'run:r1', 'model_version:main.s.fraud/3', 'endpoint:fraud'].map(node),
  edges: [
    { source: 'table:main.raw.orders', target: 'table:main.clean.orders', kind: 'table' },
    { source: 'table:main.raw.customers', target: 'table:main.clean.orders', kind: 'table' },
    { source: 'table:main.clean.orders', target: 'run:r1', kind: 'dataset' },
    { source: 'run:r1', target: 'model_version:main.s.fraud/3', kind: 'model' },
    { source: 'model_version:main.s.fraud/3', target: 'endpoint:fraud', kind: 'serving' },
  ],
};

describe('lineage layout', () => {
  it('puts upstream to the left and downstream to the right of the root, by distance', () => {
    const laid = layoutLineage(graph, 'run:r1');
    const layer = Object.fromEntries(laid.nodes.map((n) => [n.id, n.layer]));
    expect(layer).toEqual({
      'table:main.raw.orders': -2,
      'table:main.raw.customers': -2,
      'table:main.clean.orders': -1,
      'run:r1': 0,
      'model_version:main.s.fraud/3': 1,
      'endpoint:fraud': 2,
    });
    const x = Object.fromEntries(laid.nodes.map((n) => [n.id, n.x]));
    expect(x['table:main.raw.orders']).toBeLessThan(x['table:main.clean.orders'] as number);
    expect(x['endpoint:fraud']).toBeGreaterThan(x['model_version:main.s.fraud/3'] as number);
    // Two nodes in one column do not overlap.
    const raw = laid.nodes.filter((n) => n.layer === -2);
    expect(raw[0]?.x).toBe(raw[1]?.x);
    expect(raw[0]?.y).not.toBe(raw[1]?.y);
    expect(laid.width).toBeGreaterThanOrEqual(5 * NODE_WIDTH);
  });

  it('gives every node of a cycle one place and still draws nodes not connected to the root', () => {
    const laid = layoutLineage(
      {
        nodes: ['table:a', 'table:b', 'table:lonely'].map(node),
        edges: [
          { source: 'table:a', target: 'table:b', kind: 'x' },
          { source: 'table:b', target: 'table:a', kind: 'x' },
        ],
      },
      'table:a',
    );
    expect(laid.nodes.map((n) => n.id).sort()).toEqual(['table:a', 'table:b', 'table:lonely']);
    const layer = Object.fromEntries(laid.nodes.map((n) => [n.id, n.layer]));
    expect(layer['table:b']).toBe(1);
    expect(layer['table:lonely']).toBe(2);
  });

  it('adds the root when the answer does not list it, and merges expansions without duplicates', () => {
    expect(layoutLineage({ nodes: [], edges: [] }, 'table:main.s.t').nodes).toEqual([
      expect.objectContaining({ id: 'table:main.s.t', type: 'table', name: 'main.s.t', layer: 0 }),
    ]);
    const merged = mergeGraphs(graph, {
      nodes: [node('run:r1'), node('run:r2')],
      edges: [graph.edges[2] as LineageGraph['edges'][number], { source: 'table:main.clean.orders', target: 'run:r2', kind: 'dataset' }],
    });
    expect(merged.nodes).toHaveLength(7);
    expect(merged.edges).toHaveLength(6);
  });

  it('links entities to their pages', () => {
    expect(entityHref('table:main.raw.orders')).toBe('/catalog/main/raw/orders');
    expect(entityHref('model_version:main.s.fraud/3')).toBe('/models/main.s.fraud/versions/3');
    expect(entityHref('endpoint:fraud detector')).toBe('/endpoints/fraud%20detector');
    expect(entityHref('run:abc')).toBe('/runs/abc');
    expect(entityHref('path:/Volumes/main/raw/landing/2026/a.csv')).toBe('/catalog/main/raw/landing?kind=volume');
    expect(entityHref('notebook:x')).toBeNull();
  });

  it('draws one focusable node per entity and one arrow per edge', () => {
    const html = renderToString(createElement(LineageGraphView, { graph, rootId: 'run:r1', onExpand: () => {}, expanded: new Set(['run:r1']) }));
    expect([...html.matchAll(/data-node-id="/g)]).toHaveLength(6);
    expect([...html.matchAll(/class="lineage-edge"/g)]).toHaveLength(5);
    expect([...html.matchAll(/tabindex="0"/g)]).toHaveLength(6);
    expect(html).toContain('aria-label="run r1 (expanded)"');
  });
});
