import type { Kysely } from 'kysely';
import { reusableQuery } from '../../platform/db.ts';
import type { Principal, RouteContext, RouteSpec } from '../../platform/http.ts';
import type { ResolvedTable } from '../tables/index.ts';
import { requireAll, requireExecute, type SqlAccess } from './sql.authorize.ts';
import type { SqlCursor } from './sql.cursor.ts';
import { splitTopLevel } from './sql.cursor.ts';
import { defineFunctionMacro, qualify, type ResolveContext } from './sql.resolve.ts';
import type { SqlTables } from './sql.tables.ts';
import { SqlError, sqlIdent, sqlInvalid } from './sql.text.ts';

/** A row filter: a boolean function called with these columns; rows where it is not true are hidden. */
export interface RowFilterSpec {
  functionName: string;
  columns: string[];
}

/** A column mask: a function called with the column (and the USING columns) whose result replaces the column. */
export interface ColumnMaskSpec {
  functionName: string;
  usingColumns: string[];
}

/** A table's row filter and column masks (column names as the ALTER statement gave them). */
export interface TableSecurity {
  rowFilter?: RowFilterSpec;
  masks: Map<string, ColumnMaskSpec>;
}

/** Where row filters and column masks are kept: one row per filter or mask, so concurrent ALTERs never overwrite each other. */
export interface RowSecurityStore {
  get(tableId: string): Promise<TableSecurity | undefined>;
  setRowFilter(tableId: string, spec: RowFilterSpec | null): Promise<void>;
  setMask(tableId: string, column: string, spec: ColumnMaskSpec | null): Promise<void>;
}

const FILTER_KEY = '';

/** The row filter and masks of one table (read for every statement that reads the table). */
const securityOfTableQuery = reusableQuery(['tableId'], (db, v) =>
  (db as Kysely<SqlTables>).selectFrom('sql_row_security').selectAll().where('table_id', '=', v.tableId),
);

/** Creates the store over the SQL domain's `sql_row_security` table. */
export function createRowSecurityStore(db: Kysely<SqlTables>): RowSecurityStore {
  async function put(tableId: string, kind: 'filter' | 'mask', column: string, functionName: string, columns: string[]) {
    await db
      .insertInto('sql_row_security')
      .values({ table_id: tableId, kind, column_name: column, function_name: functionName, columns_json: JSON.stringify(columns) })
      .onConflict((oc) => oc.columns(['table_id', 'kind', 'column_name']).doUpdateSet({ function_name: functionName, columns_json: JSON.stringify(columns) }))
      .execute();
  }
  async function remove(tableId: string, kind: 'filter' | 'mask', column: string) {
    await db.deleteFrom('sql_row_security').where('table_id', '=', tableId).where('kind', '=', kind).where('column_name', '=', column).execute();
  }
  return {
    async get(tableId) {
      const rows = await securityOfTableQuery(db, { tableId });
      if (rows.length === 0) return undefined;
      const out: TableSecurity = { masks: new Map() };
      for (const r of rows) {
        const columns = JSON.parse(r.columns_json) as string[];
        if (r.kind === 'filter') out.rowFilter = { functionName: r.function_name, columns };
        else out.masks.set(r.column_name, { functionName: r.function_name, usingColumns: columns });
      }
      return out;
    },
    async setRowFilter(tableId, spec) {
      if (spec) await put(tableId, 'filter', FILTER_KEY, spec.functionName, spec.columns);
      else await remove(tableId, 'filter', FILTER_KEY);
    },
    async setMask(tableId, column, spec) {
      if (spec) await put(tableId, 'mask', column, spec.functionName, spec.usingColumns);
      else await remove(tableId, 'mask', column);
    },
  };
}

/**
 * Wraps a table's snapshot view in its row filter and column masks (`security`, as the store holds them for the table):
 * `SELECT <masked columns> FROM view WHERE f(cols)`.
 * Every read of the table goes through this view (joins, subqueries, aggregates, CTEs, views over it), so nothing
 * reaches the raw rows. The filter sees the raw values; the masks replace what is returned.
 */
export async function secureView(ctx: ResolveContext, table: ResolvedTable, view: string, security: TableSecurity): Promise<string> {
  const probe = await ctx.con.runAndReadAll(`SELECT * FROM ${sqlIdent(view)} LIMIT 0`);
  const columns = probe.columnNames();
  const full = `${table.catalog}.${table.schema}.${table.name}`;
  const column = (name: string): string => {
    const hit = columns.find((c) => c === name) ?? columns.find((c) => c.toLowerCase() === name.toLowerCase());
    // A column the filter or mask needs is gone: refuse rather than show unfiltered rows.
    if (!hit)
      throw new SqlError('PERMISSION_DENIED', `Table '${full}' cannot be read: its row filter or a column mask uses column '${name}', which it no longer has.`);
    return sqlIdent(hit);
  };
  const masks = new Map([...security.masks].map(([c, spec]) => [c.toLowerCase(), spec]));
  const select: string[] = [];
  for (const c of columns) {
    const mask = masks.get(c.toLowerCase());
    if (!mask) {
      select.push(sqlIdent(c));
      continue;
    }
    const macro = await defineFunctionMacro(ctx, mask.functionName);
    select.push(`${sqlIdent(macro)}(${[sqlIdent(c), ...mask.usingColumns.map(column)].join(', ')}) AS ${sqlIdent(c)}`);
  }
  for (const c of masks.keys()) column(c);
  let where = '';
  if (security.rowFilter) {
    const macro = await defineFunctionMacro(ctx, security.rowFilter.functionName);
    where = ` WHERE coalesce(CAST(${sqlIdent(macro)}(${security.rowFilter.columns.map(column).join(', ')}) AS BOOLEAN), false)`;
  }
  const secured = `__weir_t${ctx.counter.n++}`;
  await ctx.con.run(`CREATE TEMP VIEW ${sqlIdent(secured)} AS SELECT ${select.join(', ')} FROM ${sqlIdent(view)}${where}`);
  return secured;
}

/** The `row_filter` and column `mask` fields of a UC TableInfo, as Databricks shows them. */
export function securityWire(security: TableSecurity | undefined) {
  return {
    rowFilter: security?.rowFilter ? { function_name: security.rowFilter.functionName, input_column_names: security.rowFilter.columns } : undefined,
    maskOf(column: string) {
      const spec = [...(security?.masks ?? [])].find(([c]) => c.toLowerCase() === column.toLowerCase())?.[1];
      return spec ? { function_name: spec.functionName, using_column_names: spec.usingColumns } : undefined;
    },
  };
}

async function functionArity(ctx: ResolveContext, fullName: string): Promise<number> {
  const info = (await ctx.catalog.getFunction(fullName).catch(() => {
    throw new SqlError('NOT_FOUND', `[ROUTINE_NOT_FOUND] Function '${fullName}' does not exist.`);
  })) as { input_params?: { parameters?: unknown[] } };
  return info.input_params?.parameters?.length ?? 0;
}

function columnList(text: string): string[] {
  return splitTopLevel(text)
    .map((c) => c.trim().replace(/^"(.*)"$/s, '$1'))
    .filter((c) => c !== '');
}

async function tableColumns(ctx: ResolveContext, table: ResolvedTable): Promise<string[]> {
  const info = (await ctx.tables.getTable(`${table.catalog}.${table.schema}.${table.name}`)) as { columns: { name: string }[] };
  return info.columns.map((c) => c.name);
}

/** Changing a table's row filter or masks takes MANAGE on it (owners and admins hold it) and EXECUTE on the function. */
async function requireManage(access: SqlAccess, principal: Principal, table: ResolvedTable): Promise<void> {
  await requireAll(access, principal, [
    ['USE_CATALOG', 'catalog', table.catalog],
    ['USE_SCHEMA', 'schema', `${table.catalog}.${table.schema}`],
    ['MANAGE', 'table', `${table.catalog}.${table.schema}.${table.name}`],
  ]);
}

/**
 * `ALTER TABLE t SET ROW FILTER f ON (c, ...)`, `ALTER TABLE t DROP ROW FILTER`,
 * `ALTER TABLE t ALTER COLUMN c SET MASK f [USING COLUMNS (a, ...)]`, `ALTER TABLE t ALTER COLUMN c DROP MASK`.
 * The cursor stands after the table name; answers false (cursor untouched) for other ALTER TABLE forms.
 */
export async function alterRowSecurity(ctx: ResolveContext, c: SqlCursor, table: ResolvedTable): Promise<boolean> {
  const start = c.pos;
  const full = `${table.catalog}.${table.schema}.${table.name}`;
  const known = (cols: string[], all: string[]) => {
    for (const col of cols)
      if (!all.some((a) => a.toLowerCase() === col.toLowerCase()))
        throw sqlInvalid(`[UNRESOLVED_COLUMN] Column '${col}' is not a column of ${full} (columns: ${all.join(', ')}).`);
  };
  if (c.keyword('SET', 'ROW', 'FILTER')) {
    const fn = qualify(c.name(), ctx.defaults);
    const fnName = `${fn.catalog}.${fn.schema}.${fn.name}`;
    c.expect('ON');
    c.skip();
    const columns = c.masked[c.pos] === '(' ? columnList(c.group()) : [];
    c.end();
    if (table.type === 'VIEW') throw sqlInvalid('Row filters apply to tables, not views.');
    await requireManage(ctx.access, ctx.principal, table);
    await requireExecute(ctx.access, ctx.principal, fn);
    known(columns, await tableColumns(ctx, table));
    const arity = await functionArity(ctx, fnName);
    if (arity !== columns.length) throw sqlInvalid(`Function '${fnName}' takes ${arity} argument(s) but the row filter passes ${columns.length} column(s).`);
    await ctx.rowSecurity.setRowFilter(table.id, { functionName: fnName, columns });
    return true;
  }
  if (c.keyword('DROP', 'ROW', 'FILTER')) {
    c.end();
    await requireManage(ctx.access, ctx.principal, table);
    await ctx.rowSecurity.setRowFilter(table.id, null);
    return true;
  }
  if (c.keyword('ALTER', 'COLUMN') || c.keyword('CHANGE', 'COLUMN') || c.keyword('ALTER') || c.keyword('CHANGE')) {
    const [column] = c.name();
    if (c.keyword('SET', 'MASK')) {
      const fn = qualify(c.name(), ctx.defaults);
      const fnName = `${fn.catalog}.${fn.schema}.${fn.name}`;
      let using: string[] = [];
      if (c.keyword('USING', 'COLUMNS')) using = columnList(c.group());
      c.end();
      if (table.type === 'VIEW') throw sqlInvalid('Column masks apply to tables, not views.');
      await requireManage(ctx.access, ctx.principal, table);
      await requireExecute(ctx.access, ctx.principal, fn);
      const all = await tableColumns(ctx, table);
      known([column as string, ...using], all);
      const arity = await functionArity(ctx, fnName);
      if (arity !== 1 + using.length)
        throw sqlInvalid(`Function '${fnName}' takes ${arity} argument(s) but the mask passes ${1 + using.length} (the column and its USING COLUMNS).`);
      const stored = all.find((a) => a.toLowerCase() === (column as string).toLowerCase()) as string;
      await ctx.rowSecurity.setMask(table.id, stored, { functionName: fnName, usingColumns: using });
      return true;
    }
    if (c.keyword('DROP', 'MASK')) {
      c.end();
      await requireManage(ctx.access, ctx.principal, table);
      const security = await ctx.rowSecurity.get(table.id);
      const stored = [...(security?.masks.keys() ?? [])].find((k) => k.toLowerCase() === (column as string).toLowerCase());
      if (stored !== undefined) await ctx.rowSecurity.setMask(table.id, stored, null);
      return true;
    }
  }
  c.pos = start;
  return false;
}

/**
 * UPDATE, DELETE and MERGE read the target's raw rows inside the Delta engine (not through the filtered view), so on a
 * table with a row filter or column mask only those who may change the filter (owners, MANAGE, admins) may run them.
 */
export async function refuseFilteredRewrite(ctx: ResolveContext, table: ResolvedTable): Promise<void> {
  if (!(await ctx.rowSecurity.get(table.id))) return;
  const full = `${table.catalog}.${table.schema}.${table.name}`;
  if (await ctx.access.authorizer.authorize(ctx.principal, 'MANAGE', { type: 'table', fullName: full })) return;
  throw new SqlError(
    'PERMISSION_DENIED',
    `[INSUFFICIENT_PERMISSIONS] '${full}' has a row filter or column mask; UPDATE, DELETE and MERGE on it need MANAGE on the table (use INSERT to add rows).`,
  );
}

/** Adds `row_filter` and each column's `mask` (UC TableInfo fields) to a table as the tables API answers it. */
export async function withRowSecurityInfo(store: RowSecurityStore, info: unknown): Promise<unknown> {
  const t = info as { table_id?: unknown; columns?: { name: string }[] } | null;
  if (!t || typeof t.table_id !== 'string') return info;
  const security = await store.get(t.table_id);
  if (!security) return info;
  const wire = securityWire(security);
  return {
    ...t,
    ...(wire.rowFilter ? { row_filter: wire.rowFilter } : {}),
    ...(t.columns
      ? {
          columns: t.columns.map((c) => {
            const mask = wire.maskOf(c.name);
            return mask ? { ...c, mask } : c;
          }),
        }
      : {}),
  };
}

/** Wraps GET .../tables/{full_name} so the answer shows the table's row filter and column masks. */
export function showRowSecurity(routes: RouteSpec[], store: RowSecurityStore, tablePath: string): RouteSpec[] {
  return routes.map((r) =>
    r.method === 'GET' && r.paths[0] === tablePath
      ? { ...r, handler: async (input: never, ctx: RouteContext) => withRowSecurityInfo(store, await r.handler(input, ctx)) }
      : r,
  );
}
