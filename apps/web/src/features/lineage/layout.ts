/** A lineage node as GET /api/weir/v1/lineage returns it. */
export interface LineageNode {
  id: string;
  type: string;
  name: string;
}

/** A lineage edge: data flows from `source` to `target`. */
export interface LineageEdge {
  source: string;
  target: string;
  kind: string;
}

/** A lineage graph (the API's answer, or several merged). */
export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/** A node placed on the canvas. */
export interface PlacedNode extends LineageNode {
  layer: number;
  x: number;
  y: number;
}

/** Sizes of the layered drawing, in SVG units. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 44;
const COLUMN_GAP = 80;
const ROW_GAP = 24;
const MARGIN = 16;

/** Merges graphs, keeping one copy of each node and edge (expanding a node re-fetches neighbours already shown). */
export function mergeGraphs(...graphs: LineageGraph[]): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  for (const g of graphs) {
    for (const n of g.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
    for (const e of g.edges) edges.set(`${e.source}\u0000${e.target}\u0000${e.kind}`, e);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/**
 * Places nodes in columns by their signed distance from `rootId` along the data flow: upstream to the left,
 * downstream to the right. A breadth-first walk over edges in both directions assigns each node the layer it is
 * first reached at, so cycles and diamonds still get one place. Nodes not connected to the root go in a last column.
 */
export function layoutLineage(graph: LineageGraph, rootId: string): { nodes: PlacedNode[]; width: number; height: number } {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  if (!byId.has(rootId)) byId.set(rootId, { id: rootId, ...splitEntity(rootId) });
  const neighbours = new Map<string, { id: string; delta: number }[]>();
  const link = (a: string, b: string, delta: number) => {
    const list = neighbours.get(a) ?? [];
    list.push({ id: b, delta });
    neighbours.set(a, list);
  };
  for (const e of graph.edges) {
    if (!byId.has(e.source) || !byId.has(e.target) || e.source === e.target) continue;
    link(e.source, e.target, 1);
    link(e.target, e.source, -1);
  }
  const layer = new Map<string, number>([[rootId, 0]]);
  const queue = [rootId];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] as string;
    const here = layer.get(id) as number;
    for (const n of neighbours.get(id) ?? []) {
      if (layer.has(n.id)) continue;
      layer.set(n.id, here + n.delta);
      queue.push(n.id);
    }
  }
  const reached = [...layer.values()];
  const maxLayer = Math.max(...reached);
  for (const id of byId.keys()) if (!layer.has(id)) layer.set(id, maxLayer + 1);
  const minLayer = Math.min(...layer.values());
  const columns = new Map<number, LineageNode[]>();
  for (const [id, l] of layer) {
    const list = columns.get(l) ?? [];
    list.push(byId.get(id) as LineageNode);
    columns.set(l, list);
  }
  const placed: PlacedNode[] = [];
  let tallest = 0;
  for (const [l, list] of columns) {
    // A stable order inside a column (type, then name) keeps the picture from jumping when a node is expanded.
    list.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    tallest = Math.max(tallest, list.length);
    list.forEach((n, row) => {
      placed.push({ ...n, layer: l, x: MARGIN + (l - minLayer) * (NODE_WIDTH + COLUMN_GAP), y: MARGIN + row * (NODE_HEIGHT + ROW_GAP) });
    });
  }
  const columnsCount = Math.max(...layer.values()) - minLayer + 1;
  return {
    nodes: placed,
    width: 2 * MARGIN + columnsCount * NODE_WIDTH + (columnsCount - 1) * COLUMN_GAP,
    height: 2 * MARGIN + tallest * NODE_HEIGHT + Math.max(0, tallest - 1) * ROW_GAP,
  };
}

/** Splits an entity id like `table:main.s.t` into its type and name. */
export function splitEntity(id: string): { type: string; name: string } {
  const colon = id.indexOf(':');
  return colon < 0 ? { type: 'unknown', name: id } : { type: id.slice(0, colon), name: id.slice(colon + 1) };
}

/** The UI page of a lineage entity, when Weir has one. */
export function entityHref(id: string): string | null {
  const { type, name } = splitEntity(id);
  if (type === 'table') return `/catalog/${name.split('.').map(encodeURIComponent).join('/')}`;
  if (type === 'endpoint') return `/endpoints/${encodeURIComponent(name)}`;
  if (type === 'model_version') {
    const slash = name.lastIndexOf('/');
    if (slash > 0) return `/models/${encodeURIComponent(name.slice(0, slash))}/versions/${encodeURIComponent(name.slice(slash + 1))}`;
  }
  if (type === 'run') return `/runs/${encodeURIComponent(name)}`;
  if (type === 'path' && name.startsWith('/Volumes/')) {
    const [c, s, v] = name.split('/').slice(2);
    if (c && s && v) return `/catalog/${[c, s, v].map(encodeURIComponent).join('/')}?kind=volume`;
  }
  return null;
}
