// Column lineage from DuckDB's serialized parse tree (json_serialize_sql): which source columns feed each output column.
import type { DuckDBConnection } from '@duckdb/node-api';

type Node = Record<string, unknown>;

/** A column of a catalog table, by the table's full name. */
export interface ColumnRef {
  table: string;
  column: string;
}

/** One output column of a query: its name and the table columns its value is computed from. */
export interface TracedColumn {
  name: string;
  sources: ColumnRef[];
}

/** Looks up a table's column names (null when the table or its columns are unknown, e.g. a view). */
export type ColumnLookup = (fullName: string) => string[] | null;

/** A relation visible in a FROM clause. */
interface Relation {
  /** Names a qualifier may use: the alias, or the table's own name. */
  names: string[];
  /** Output columns in order; null when not known (then any referenced column is taken as the table's own). */
  columns: TracedColumn[] | null;
  /** The catalog table behind a base-table relation. */
  table?: string;
}

/** Gives up tracing: the query uses a form whose column mapping cannot be read from the tree. */
class Untraceable extends Error {}

function* walk(value: unknown, depth = 0): Generator<Node> {
  if (depth > 2000 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) yield* walk(v, depth + 1);
    return;
  }
  yield value as Node;
  for (const v of Object.values(value)) yield* walk(v, depth + 1);
}

/** Blanks Databricks time travel (`VERSION AS OF 3`, `TIMESTAMP AS OF '...'`), which DuckDB's parser does not know. */
function withoutTimeTravel(sql: string): string {
  return sql.replace(/\b(VERSION|TIMESTAMP)\s+AS\s+OF\s+('(?:[^']|'')*'|\d+)/gi, (m) => ' '.repeat(m.length));
}

/** Parses one SELECT with DuckDB; null when DuckDB cannot serialize it. */
export async function parseSelect(con: DuckDBConnection, sql: string): Promise<Node | null> {
  const reader = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [withoutTimeTravel(sql)]);
  const parsed = JSON.parse(String(reader.getRowsJS()[0]?.[0])) as Node;
  const statements = parsed.statements as { node?: Node }[] | undefined;
  if (parsed.error || statements?.length !== 1) return null;
  return statements[0]?.node ?? null;
}

/** Applies the defaults to a one-, two- or three-part table name. */
function qualifyParts(parts: string[], defaults: { catalog: string; schema: string }): string | null {
  if (parts.length === 1) return `${defaults.catalog}.${defaults.schema}.${parts[0]}`;
  if (parts.length === 2) return `${defaults.catalog}.${parts[0]}.${parts[1]}`;
  if (parts.length === 3) return parts.join('.');
  return null;
}

function baseTableParts(node: Node): string[] {
  return [node.catalog_name, node.schema_name, node.table_name].filter((p): p is string => typeof p === 'string' && p !== '');
}

/** Catalog tables a query names directly (CTE names excluded), qualified with the defaults. */
export function referencedTables(tree: Node, defaults: { catalog: string; schema: string }): string[] {
  const ctes = new Set<string>();
  for (const n of walk(tree)) {
    for (const entry of (n.cte_map as { map?: { key: string }[] } | undefined)?.map ?? []) ctes.add(entry.key.toLowerCase());
  }
  const out = new Set<string>();
  for (const n of walk(tree)) {
    if (n.type !== 'BASE_TABLE') continue;
    const parts = baseTableParts(n);
    if (parts.length === 1 && ctes.has((parts[0] as string).toLowerCase())) continue;
    const full = qualifyParts(parts, defaults);
    if (full) out.add(full);
  }
  return [...out];
}

/** Whether tracing needs the tables' column lists: a `*` to expand, or a join whose unqualified names must be placed. */
export function needsColumnLists(tree: Node): boolean {
  for (const n of walk(tree)) if (n.class === 'STAR' || n.type === 'JOIN') return true;
  return false;
}

function dedupe(refs: ColumnRef[]): ColumnRef[] {
  const seen = new Map<string, ColumnRef>();
  for (const r of refs) seen.set(`${r.table}\u0000${r.column}`, r);
  return [...seen.values()];
}

/** Column references inside an expression; subqueries inside it are not followed (they filter, they do not feed). */
function columnRefs(expr: unknown, depth = 0): string[][] {
  if (depth > 500 || expr === null || typeof expr !== 'object') return [];
  if (Array.isArray(expr)) return expr.flatMap((e) => columnRefs(e, depth + 1));
  const node = expr as Node;
  if (node.class === 'SUBQUERY') return [];
  if (node.class === 'COLUMN_REF') return [node.column_names as string[]];
  if (node.class === 'STAR') throw new Untraceable('star inside an expression');
  return Object.values(node).flatMap((v) => columnRefs(v, depth + 1));
}

/** The tracer for one statement: the defaults and the column lookup stay the same throughout. */
class Tracer {
  constructor(
    private readonly defaults: { catalog: string; schema: string },
    private readonly lookup: ColumnLookup,
  ) {}

  query(node: Node, ctes: Map<string, TracedColumn[]>): TracedColumn[] {
    const scope = new Map(ctes);
    for (const entry of (node.cte_map as { map?: { key: string; value: { query: { node: Node }; aliases?: string[] } }[] } | undefined)?.map ?? []) {
      let cols = this.query(entry.value.query.node, scope);
      const aliases = entry.value.aliases ?? [];
      if (aliases.length) cols = cols.map((c, i) => ({ ...c, name: aliases[i] ?? c.name }));
      scope.set(entry.key.toLowerCase(), cols);
    }
    if (node.type === 'SET_OPERATION_NODE') {
      const left = this.query(node.left as Node, scope);
      const right = this.query(node.right as Node, scope);
      return left.map((c, i) => ({ name: c.name, sources: dedupe([...c.sources, ...(right[i]?.sources ?? [])]) }));
    }
    if (node.type !== 'SELECT_NODE') throw new Untraceable(String(node.type));
    const relations = this.relations(node.from_table as Node | undefined, scope);
    const out: TracedColumn[] = [];
    for (const item of (node.select_list as Node[] | undefined) ?? []) {
      if (item.class === 'STAR') {
        out.push(...this.star(item, relations));
        continue;
      }
      const refs = columnRefs(item);
      const sources = dedupe(refs.flatMap((parts) => this.resolve(parts, relations)));
      const parts = item.class === 'COLUMN_REF' ? (item.column_names as string[]) : [];
      const name = typeof item.alias === 'string' && item.alias !== '' ? item.alias : (parts[parts.length - 1] ?? '');
      out.push({ name, sources });
    }
    return out;
  }

  private star(item: Node, relations: Relation[]): TracedColumn[] {
    if (item.columns || item.expr) throw new Untraceable('COLUMNS(...)');
    const relationName = typeof item.relation_name === 'string' ? item.relation_name.toLowerCase() : '';
    const chosen = relationName ? relations.filter((r) => r.names.includes(relationName)) : relations;
    const excluded = new Set(((item.exclude_list as unknown[]) ?? []).map((e) => String(e).toLowerCase()));
    const qualified = (item.qualified_exclude_list as { table?: string; column: string }[] | undefined) ?? [];
    const replaced = new Map(((item.replace_list as { key: string; value: Node }[] | undefined) ?? []).map((r) => [r.key.toLowerCase(), r.value]));
    const renamed = new Map(
      ((item.rename_list as { key: { column: string }; value: string }[] | undefined) ?? []).map((r) => [r.key.column.toLowerCase(), r.value]),
    );
    const out: TracedColumn[] = [];
    for (const r of chosen) {
      if (!r.columns) throw new Untraceable('star over a relation of unknown columns');
      for (const c of r.columns) {
        const lower = c.name.toLowerCase();
        if (excluded.has(lower) || qualified.some((q) => q.column.toLowerCase() === lower && (!q.table || r.names.includes(q.table.toLowerCase())))) continue;
        const replacement = replaced.get(lower);
        const sources = replacement ? dedupe(columnRefs(replacement).flatMap((parts) => this.resolve(parts, relations))) : c.sources;
        out.push({ name: renamed.get(lower) ?? c.name, sources });
      }
    }
    return out;
  }

  private relations(from: Node | undefined, ctes: Map<string, TracedColumn[]>): Relation[] {
    if (!from || from.type === 'EMPTY') return [];
    const alias = typeof from.alias === 'string' && from.alias !== '' ? from.alias.toLowerCase() : undefined;
    const renamed = (cols: TracedColumn[] | null): TracedColumn[] | null => {
      const names = (from.column_name_alias as string[] | undefined) ?? [];
      return cols && names.length ? cols.map((c, i) => ({ ...c, name: names[i] ?? c.name })) : cols;
    };
    switch (from.type) {
      case 'JOIN':
        return [...this.relations(from.left as Node, ctes), ...this.relations(from.right as Node, ctes)];
      case 'SUBQUERY': {
        const cols = this.query((from.subquery as { node: Node }).node, ctes);
        return [{ names: alias ? [alias] : [], columns: renamed(cols) }];
      }
      case 'BASE_TABLE': {
        const parts = baseTableParts(from);
        const own = (parts[parts.length - 1] as string).toLowerCase();
        const cte = parts.length === 1 ? ctes.get(own) : undefined;
        if (cte) return [{ names: [alias ?? own], columns: renamed(cte) }];
        const table = qualifyParts(parts, this.defaults);
        if (!table) throw new Untraceable('name with too many parts');
        const known = this.lookup(table);
        const columns = known ? known.map((c) => ({ name: c, sources: [{ table, column: c }] })) : null;
        return [{ names: alias ? [alias] : [own], columns: renamed(columns), table }];
      }
      default:
        // Table functions and VALUES lists feed no catalog column.
        return [{ names: alias ? [alias] : [], columns: [] }];
    }
  }

  private resolve(parts: string[], relations: Relation[]): ColumnRef[] {
    const column = (parts[parts.length - 1] as string).toLowerCase();
    let candidates: Relation[];
    if (parts.length >= 2) {
      const qualifier = (parts[parts.length - 2] as string).toLowerCase();
      candidates = relations.filter((r) => r.names.includes(qualifier));
      // A struct field (col.field) rather than table.col: the first part names a column.
      if (candidates.length === 0 && parts.length === 2) return this.resolve([parts[0] as string], relations);
    } else {
      candidates = relations.filter((r) => r.columns === null || r.columns.some((c) => c.name.toLowerCase() === column));
      const known = candidates.filter((r) => r.columns !== null);
      // The statement ran, so a name found in several known relations is a USING/NATURAL join key: it comes from each.
      if (known.length > 1) return dedupe(known.flatMap((r) => r.columns?.find((c) => c.name.toLowerCase() === column)?.sources ?? []));
      if (known.length === 1) candidates = known;
    }
    if (candidates.length !== 1) return [];
    const r = candidates[0] as Relation;
    if (r.columns === null) return r.table ? [{ table: r.table, column: parts[parts.length - 1] as string }] : [];
    return r.columns.find((c) => c.name.toLowerCase() === column)?.sources ?? [];
  }

  /** Expressions evaluated over the given relations (MERGE/UPDATE assignments). */
  expressions(selectNode: Node, relations: Relation[]): ColumnRef[][] {
    return ((selectNode.select_list as Node[] | undefined) ?? []).map((item) => dedupe(columnRefs(item).flatMap((parts) => this.resolve(parts, relations))));
  }
}

/** The output columns of a SELECT and where each comes from; null when the form cannot be traced. */
export function traceQuery(tree: Node, defaults: { catalog: string; schema: string }, lookup: ColumnLookup): TracedColumn[] | null {
  try {
    return new Tracer(defaults, lookup).query(tree, new Map());
  } catch (err) {
    if (err instanceof Untraceable) return null;
    throw err;
  }
}

/** A relation an assignment may name: an alias over a traced query or a table. */
export interface AssignmentScope {
  alias: string;
  /** The relation's own table name (so `target.col` works without an alias). */
  table?: string;
  columns: TracedColumn[] | null;
}

/** Traces `SELECT e1, e2, ...` (assignment expressions) over the given relations; null when untraceable. */
export function traceExpressions(
  tree: Node,
  defaults: { catalog: string; schema: string },
  lookup: ColumnLookup,
  scopes: AssignmentScope[],
): ColumnRef[][] | null {
  try {
    const relations: Relation[] = scopes.map((s) => ({
      names: [s.alias.toLowerCase(), ...(s.table ? [(s.table.split('.').pop() as string).toLowerCase()] : [])],
      columns: s.columns,
      ...(s.table ? { table: s.table } : {}),
    }));
    return new Tracer(defaults, lookup).expressions(tree, relations);
  } catch (err) {
    if (err instanceof Untraceable) return null;
    throw err;
  }
}
