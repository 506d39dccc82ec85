import { useEffect, useId, useState } from 'react';
import { api } from '../../lib/api.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Empty, ErrorBox, Loading } from '../../shell/ui.tsx';
import { entityHref, type LineageGraph, layoutLineage, mergeGraphs, NODE_HEIGHT, NODE_WIDTH, splitEntity } from './layout.ts';

type Direction = 'upstream' | 'downstream' | 'both';

/** Fetches the lineage of `entity` in one or both directions and merges the answers. */
export async function fetchLineage(entity: string, direction: Direction, depth: number): Promise<LineageGraph> {
  const directions = direction === 'both' ? (['upstream', 'downstream'] as const) : [direction];
  const graphs = await Promise.all(directions.map((d) => api().get<LineageGraph>('/api/weir/v1/lineage', { entity, direction: d, depth })));
  return mergeGraphs(...graphs.map((g) => ({ nodes: g.nodes ?? [], edges: g.edges ?? [] })));
}

/** Draws a lineage graph as columns of nodes with arrows; nodes are buttons that expand their own neighbours. */
export function LineageGraphView({
  graph,
  rootId,
  onExpand,
  expanded,
}: {
  graph: LineageGraph;
  rootId: string;
  onExpand(id: string): void;
  expanded: ReadonlySet<string>;
}) {
  const laid = layoutLineage(graph, rootId);
  const at = new Map(laid.nodes.map((n) => [n.id, n]));
  return (
    <div className="lineage-scroll">
      <svg
        data-testid="lineage-graph"
        aria-label={`Lineage graph of ${rootId}: ${laid.nodes.length} nodes, ${graph.edges.length} edges`}
        width={laid.width}
        height={laid.height}
        viewBox={`0 0 ${laid.width} ${laid.height}`}
      >
        <defs>
          <marker id="lineage-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#4b5563" />
          </marker>
        </defs>
        {graph.edges.map((e) => {
          const a = at.get(e.source);
          const b = at.get(e.target);
          if (!a || !b) return null;
          const x1 = a.x + NODE_WIDTH;
          const y1 = a.y + NODE_HEIGHT / 2;
          const x2 = b.x;
          const y2 = b.y + NODE_HEIGHT / 2;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${e.source}>${e.target}>${e.kind}`}
              className="lineage-edge"
              data-source={e.source}
              data-target={e.target}
              d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
              fill="none"
              stroke="#4b5563"
              markerEnd="url(#lineage-arrow)"
            >
              <title>{`${e.source} → ${e.target} (${e.kind})`}</title>
            </path>
          );
        })}
        {laid.nodes.map((n) => {
          const isRoot = n.id === rootId;
          const label = n.name.length > 26 ? `…${n.name.slice(-25)}` : n.name;
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; role and keys make it one
            <g
              key={n.id}
              className={`lineage-node${isRoot ? ' root' : ''}`}
              data-node-id={n.id}
              transform={`translate(${n.x} ${n.y})`}
              role="button"
              tabIndex={0}
              aria-label={`${n.type} ${label}${expanded.has(n.id) ? ' (expanded)' : ', press Enter to expand'}`}
              onClick={() => onExpand(n.id)}
              onKeyDown={(ev) => {
                if (ev.key === 'Enter' || ev.key === ' ') {
                  ev.preventDefault();
                  onExpand(n.id);
                }
              }}
            >
              <title>{n.id}</title>
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx="6" />
              {/* One text with a space between the lines, so the visible text reads "table main.s.t" as the name does. */}
              <text>
                <tspan x="8" y="16" className="lineage-type">
                  {n.type}
                </tspan>{' '}
                <tspan x="8" y="34" className="lineage-name">
                  {label}
                </tspan>
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** The lineage page: pick an entity and direction, see the graph, expand nodes, follow them to their pages. */
export function LineagePage({ entity }: { entity: string }) {
  const id = useId();
  const [direction, setDirection] = useState<Direction>('both');
  const [depth, setDepth] = useState(3);
  const [text, setText] = useState(entity);
  const [graph, setGraph] = useState<LineageGraph | undefined>();
  const [error, setError] = useState<unknown>();
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    setText(entity);
    if (!entity) return;
    let live = true;
    setLoading(true);
    setError(undefined);
    fetchLineage(entity, direction, depth).then(
      (g) => {
        if (!live) return;
        setGraph(g);
        setExpanded(new Set([entity]));
        setLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setGraph(undefined);
        setError(err);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [entity, direction, depth]);

  async function expand(nodeId: string) {
    if (expanded.has(nodeId)) return;
    try {
      const more = await fetchLineage(nodeId, 'both', 1);
      setGraph((g) => mergeGraphs(g ?? { nodes: [], edges: [] }, more));
      setExpanded((s) => new Set([...s, nodeId]));
    } catch (err) {
      setError(err);
    }
  }

  const selectedHref = entity ? entityHref(entity) : null;
  return (
    <main>
      <h1>Lineage</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) navigate(`/lineage?${new URLSearchParams({ entity: text.trim() })}`);
        }}
      >
        <label htmlFor={`${id}-entity`}>Entity</label>
        <input id={`${id}-entity`} value={text} onChange={(e) => setText(e.target.value)} placeholder="table:main.default.orders" size={40} required />
        <label htmlFor={`${id}-dir`}>Direction</label>
        <select id={`${id}-dir`} value={direction} onChange={(e) => setDirection(e.target.value as Direction)}>
          <option value="both">Upstream and downstream</option>
          <option value="upstream">Upstream</option>
          <option value="downstream">Downstream</option>
        </select>
        <label htmlFor={`${id}-depth`}>Depth</label>
        <select id={`${id}-depth`} value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
          {[1, 2, 3, 5, 10].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <button type="submit" className="primary">
          Show
        </button>
      </form>
      {!entity ? (
        <Empty title="Choose what to trace">
          Enter an entity such as table:main.default.orders, run:&lt;run id&gt;, model_version:main.default.fraud/3 or endpoint:fraud, or open lineage from a
          table, run or model version page.
        </Empty>
      ) : null}
      {selectedHref ? (
        <p>
          <Link href={selectedHref}>
            Open {splitEntity(entity).type.replace('_', ' ')} {splitEntity(entity).name}
          </Link>
        </p>
      ) : null}
      <ErrorBox error={error} title="Could not load lineage" />
      {loading ? <Loading what="lineage" /> : null}
      {graph && !loading ? (
        graph.edges.length === 0 ? (
          <Empty title="No lineage recorded for this entity yet">
            Lineage is recorded when SQL writes a table from others, a run logs a table as a dataset input, a version is registered from a run, or an endpoint
            serves a version.
          </Empty>
        ) : (
          <>
            <p className="hint">Data flows left to right. Select a node (Enter) to add its neighbours; its page link is listed below.</p>
            <LineageGraphView graph={graph} rootId={entity} onExpand={(n) => void expand(n)} expanded={expanded} />
            <h2>Nodes</h2>
            <ul className="lineage-list">
              {graph.nodes.map((n) => {
                const href = entityHref(n.id);
                return <li key={n.id}>{href ? <Link href={href}>{n.id}</Link> : n.id}</li>;
              })}
            </ul>
          </>
        )
      ) : null}
    </main>
  );
}
