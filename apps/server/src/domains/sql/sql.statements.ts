import type { DuckDBType, DuckDBValueConverter, Json } from '@duckdb/node-api';
import { DeltaError, openDeltaTable, type StructField } from '@weir/delta';
import { AppError } from '../../platform/errors.ts';
import type { SqlTableWritten } from '../../platform/events.ts';
import { duckTypeOfDelta, parseTypeText, type ResolvedTable, typeText } from '../tables/index.ts';
import { requireCreate, requireWrite, visibleNames, type WritePurpose } from './sql.authorize.ts';
import { runCopyInto } from './sql.copy-into.ts';
import { SqlCursor, splitTopLevel } from './sql.cursor.ts';
import { governanceStatement } from './sql.grants.ts';
import { qualify, type ResolveContext, resolveQuery, serialize } from './sql.resolve.ts';
import { refuseFilteredRewrite } from './sql.row-security.ts';
import { resolveAndRun, type SpeculationContext } from './sql.speculate.ts';
import { maskSql, SqlError, sqlIdent, sqlInvalid } from './sql.text.ts';

/** A result column as the Statement Execution manifest shows it. */
export interface ResultColumn {
  name: string;
  type_name: string;
  type_text: string;
  position: number;
  type_precision?: number;
  type_scale?: number;
}

/** What one statement produced: columns and rows of JSON_ARRAY cells (strings or null). */
export interface Outcome {
  columns: ResultColumn[];
  rows: (string | null)[][];
}

/** Everything a statement runs with (the resolver's context plus copy-into bookkeeping). */
export interface ExecContext extends ResolveContext {
  /** Throws when the statement was canceled (checked before and while a query streams). */
  checkCanceled(): void;
  copyLoads: {
    loaded(tableId: string, files: string[]): Promise<Set<string>>;
    record(tableId: string, files: { path: string; size: number; modified: number }[]): Promise<void>;
  };
  /** A second clean connection, for resolving a repeated query while it already runs (sql.speculate.ts). */
  spare?: SpeculationContext['spare'];
  /** Tables this statement wrote and what fed them; the service publishes them for lineage once the statement ran. */
  lineage?: TableWrite[];
}

/** One table write as lineage sees it (the service adds the statement, the caller and the tables read). */
export type TableWrite = Omit<SqlTableWritten, 'statementId' | 'userName' | 'reads' | 'defaults'>;

/** The three-part name of a resolved table. */
const nameOf = (t: ResolvedTable) => ({ catalog: t.catalog, schema: t.schema, name: t.name });

const REFUSED_HEADS: Record<string, string> = {
  ATTACH: 'ATTACH is not allowed: Weir resolves every table through its catalog.',
  DETACH: 'DETACH is not allowed.',
  INSTALL: 'Installing DuckDB extensions is not allowed.',
  LOAD: 'Loading DuckDB extensions is not allowed.',
  FORCE: 'Installing DuckDB extensions is not allowed.',
  SET: 'SET is not allowed: the SQL engine settings are fixed.',
  RESET: 'RESET is not allowed: the SQL engine settings are fixed.',
  PRAGMA: 'PRAGMA is not allowed.',
  EXPORT: 'EXPORT DATABASE is not allowed.',
  IMPORT: 'IMPORT DATABASE is not allowed.',
  CALL: 'CALL is not allowed.',
  CHECKPOINT: 'CHECKPOINT is not allowed.',
  USE: 'USE is not supported: write three-part names (catalog.schema.table); one- and two-part names resolve in main.default.',
  BEGIN: 'Transactions are not supported: each statement commits on its own.',
  COMMIT: 'Transactions are not supported: each statement commits on its own.',
  ROLLBACK: 'Transactions are not supported: each statement commits on its own.',
  VACUUM_ANALYZE: 'ANALYZE is not supported.',
  ANALYZE: 'ANALYZE is not supported.',
  DETACH_DATABASE: 'DETACH is not allowed.',
};

const empty = (): Outcome => ({ columns: [], rows: [] });

/** Maps a DuckDB result type to the manifest's type_name / type_text. */
export function wireType(t: DuckDBType): { type_name: string; type_text: string; type_precision?: number; type_scale?: number } {
  const text = t.toString();
  const upper = text.toUpperCase();
  const dec = /^DECIMAL\((\d+),(\d+)\)$/.exec(upper);
  if (dec) return { type_name: 'DECIMAL', type_text: `decimal(${dec[1]},${dec[2]})`, type_precision: Number(dec[1]), type_scale: Number(dec[2]) };
  if (upper.endsWith('[]')) return { type_name: 'ARRAY', type_text: text.toLowerCase() };
  if (upper.startsWith('STRUCT')) return { type_name: 'STRUCT', type_text: text.toLowerCase() };
  if (upper.startsWith('MAP')) return { type_name: 'MAP', type_text: text.toLowerCase() };
  const simple: Record<string, [string, string]> = {
    BIGINT: ['LONG', 'bigint'],
    INTEGER: ['INT', 'int'],
    SMALLINT: ['SHORT', 'smallint'],
    TINYINT: ['BYTE', 'tinyint'],
    HUGEINT: ['DECIMAL', 'decimal(38,0)'],
    UBIGINT: ['DECIMAL', 'decimal(20,0)'],
    UINTEGER: ['LONG', 'bigint'],
    USMALLINT: ['INT', 'int'],
    UTINYINT: ['SHORT', 'smallint'],
    DOUBLE: ['DOUBLE', 'double'],
    FLOAT: ['FLOAT', 'float'],
    BOOLEAN: ['BOOLEAN', 'boolean'],
    VARCHAR: ['STRING', 'string'],
    DATE: ['DATE', 'date'],
    TIMESTAMP: ['TIMESTAMP', 'timestamp_ntz'],
    'TIMESTAMP WITH TIME ZONE': ['TIMESTAMP', 'timestamp'],
    BLOB: ['BINARY', 'binary'],
    INTERVAL: ['INTERVAL', 'interval'],
    '"NULL"': ['NULL', 'void'],
  };
  const hit = simple[upper];
  return hit ? { type_name: hit[0], type_text: hit[1] } : { type_name: 'STRING', type_text: text.toLowerCase() };
}

/** A cell as JSON_ARRAY sends it: every value as a string, nested values as JSON text. */
function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function literalOutcome(columns: [string, string][], rows: unknown[][]): Outcome {
  return {
    columns: columns.map(([name, type], position) => ({ name, type_name: type, type_text: type.toLowerCase(), position })),
    rows: rows.map((r) => r.map(cell)),
  };
}

/** DuckDB's value-to-JSON converter, taken from the module once it is loaded (DuckDB loads on first use, see sql.engine.ts). */
let jsonConverter: DuckDBValueConverter<Json> | undefined;

/** Runs a SELECT (after name resolution) and collects its rows. */
async function runQuery(ctx: ExecContext, sql: string): Promise<Outcome> {
  // A materialized result lets DuckDB run the whole plan on all its threads before the rows are read (a streamed one
  // is pulled through chunk by chunk): about 1 ms less per statement. The rows are all kept for chunking anyway, and
  // a cancel interrupts the connection while it runs.
  const result = await resolveAndRun(ctx, sql);
  ctx.checkCanceled();
  const columns: ResultColumn[] = result.deduplicatedColumnNames().map((name, position) => ({ name, position, ...wireType(result.columnType(position)) }));
  const rows: (string | null)[][] = [];
  // Databricks prints whole doubles with a trailing .0 (Java's rendering); DuckDB's JSON gives plain integers.
  const floating = columns.map((c) => c.type_name === 'DOUBLE' || c.type_name === 'FLOAT');
  // The materialized chunks are read in place: the result's async iterator fetched each one through libuv's thread
  // pool, a thread hop per chunk that a short query's answer waited for.
  jsonConverter ??= (await import('@duckdb/node-api')).JsonDuckDBValueConverter;
  for (let c = 0; c < result.chunkCount; c++) {
    // A large result still lets other requests in: the loop gives way every 16 chunks (32,768 rows).
    if (c > 0 && c % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    ctx.checkCanceled();
    for (const r of result.getChunk(c).convertRows(jsonConverter))
      rows.push(r.map((v, i) => (floating[i] && typeof v === 'number' && Number.isInteger(v) ? `${v}.0` : cell(v))));
  }
  return { columns, rows };
}

/** An expression (possibly with subqueries over catalog tables) rewritten like a query. */
async function resolveExpression(ctx: ExecContext, expr: string): Promise<string> {
  const prefix = 'SELECT ';
  const out = await resolveQuery(ctx, `${prefix}${expr}`);
  return out.slice(prefix.length);
}

async function resolveTableName(ctx: ExecContext, parts: string[]): Promise<ResolvedTable> {
  const q = qualify(parts, ctx.defaults);
  try {
    return await ctx.tables.resolveTable(q.catalog, q.schema, q.name);
  } catch (err) {
    if (err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST')
      throw new SqlError('NOT_FOUND', `[TABLE_DOES_NOT_EXIST] Table or view '${parts.join('.')}' does not exist (${err.message})`);
    throw err;
  }
}

/** A table the caller may write: a Delta table (not a view) on which they hold what `purpose` needs (see requireWrite). */
async function writeTarget(ctx: ExecContext, parts: string[], purpose: WritePurpose = 'append') {
  const table = await resolveTableName(ctx, parts);
  if (table.type === 'VIEW' || !table.location) throw sqlInvalid(`'${parts.join('.')}' is a view; only tables can be written.`);
  await requireWrite(ctx.access, ctx.principal, table, purpose);
  if (purpose === 'rewrite') await refuseFilteredRewrite(ctx, table);
  await ctx.allow(table.location);
  return { table, delta: openDeltaTable(table.location) };
}

function deltaFailure(err: unknown): never {
  if (err instanceof DeltaError) throw sqlInvalid(err.message);
  throw err;
}

/** Parses `name type [NOT NULL] [COMMENT '...']` column definitions. */
function columnDefinitions(text: string): StructField[] {
  return splitTopLevel(text, { angles: true }).map((def) => {
    const c = new SqlCursor(def);
    const [name] = c.name();
    if (!name || (!/^[A-Za-z0-9_@-]+$/.test(name) && /[ ,;{}()\n\t=]/.test(name))) throw sqlInvalid(`Invalid column name '${name}'.`);
    c.skip();
    let rest = def.slice(c.pos);
    let restMasked = maskSql(rest);
    let comment: string | undefined;
    const commentAt = /\bCOMMENT\s+'/i.exec(restMasked);
    if (commentAt) {
      const cc = new SqlCursor(rest);
      cc.pos = commentAt.index + commentAt[0].length - 1;
      comment = cc.string();
      rest = rest.slice(0, commentAt.index);
      restMasked = restMasked.slice(0, commentAt.index);
    }
    let nullable = true;
    const notNull = /\bNOT\s+NULL\b/i.exec(restMasked);
    if (notNull) {
      nullable = false;
      rest = rest.slice(0, notNull.index) + rest.slice(notNull.index + notNull[0].length);
    }
    return { name: name as string, type: parseTypeText(rest.trim(), name as string), nullable, metadata: comment ? { comment } : {} };
  });
}

/** Parses `('k' = 'v', ...)`. */
function propertyList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitTopLevel(text)) {
    const c = new SqlCursor(item);
    c.skip();
    const key = c.sql[c.pos] === "'" ? c.string() : c.name().join('.');
    if (!c.punct('=')) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected '=' in property '${item}'.`);
    c.skip();
    const value = c.sql[c.pos] === "'" ? c.string() : c.rest();
    c.end();
    out[key] = value;
  }
  return out;
}

/** Assignments `a = expr, b = expr` (as UPDATE SET and MERGE UPDATE SET write them). */
async function assignments(ctx: ExecContext, text: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of splitTopLevel(text)) {
    const c = new SqlCursor(item);
    const parts = c.name();
    if (!c.punct('=')) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected 'column = expression' in '${item}'.`);
    out[parts[parts.length - 1] as string] = await resolveExpression(ctx, c.rest());
  }
  return out;
}

async function insertInto(ctx: ExecContext, c: SqlCursor, overwrite: boolean): Promise<Outcome> {
  c.keyword('TABLE');
  const parts = c.name();
  let columnList: string[] | undefined;
  c.skip();
  // A column list comes before the query; a parenthesized query starts with a keyword.
  if (c.masked[c.pos] === '(' && !/^\(\s*(SELECT|WITH|VALUES|FROM)\b/i.test(c.masked.slice(c.pos))) {
    columnList = splitTopLevel(c.group()).map((n) => new SqlCursor(n).name().join('.'));
  }
  const query = c.rest();
  if (!query) throw sqlInvalid('[PARSE_SYNTAX_ERROR] INSERT needs a query or VALUES.');
  // Overwriting drops rows the writer may not be able to see, so it needs what a rewrite needs.
  const { table, delta } = await writeTarget(ctx, parts, overwrite ? 'rewrite' : 'append');
  const rewritten = await resolveQuery(ctx, query);
  const snap = await delta.snapshot({ connection: ctx.con }).catch(deltaFailure);
  const fields = snap.schema.fields;
  const probe = await ctx.con.runAndReadAll(`SELECT * FROM (${rewritten}) LIMIT 0`);
  const queryWidth = probe.columnCount;
  const targets = columnList ?? fields.map((f) => f.name);
  const mapped = targets.map((name) => {
    const f = fields.find((x) => x.name === name) ?? fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f)
      throw sqlInvalid(
        `[UNRESOLVED_COLUMN] Column '${name}' is not a column of ${table.catalog}.${table.schema}.${table.name} (columns: ${fields.map((x) => x.name).join(', ')}).`,
      );
    return f;
  });
  if (mapped.length !== queryWidth) {
    const missing = mapped.length > queryWidth ? mapped.slice(queryWidth).map((f) => f.name) : [];
    throw sqlInvalid(
      `[INSERT_COLUMN_ARITY_MISMATCH] Cannot write to ${table.catalog}.${table.schema}.${table.name}: the query gives ${queryWidth} column(s) but ${mapped.length} are expected${missing.length ? ` (no value for ${missing.join(', ')})` : ' (too many values)'}.`,
    );
  }
  const position = new Map(mapped.map((f, i) => [f.name, i + 1]));
  const checks = mapped.map(
    (f, i) => `count(*) FILTER (WHERE #${i + 1} IS NOT NULL AND TRY_CAST(#${i + 1} AS ${duckTypeOfDelta(f.type)}) IS NULL) AS ${sqlIdent(`bad_${i}`)}`,
  );
  const checked = await ctx.con.runAndReadAll(`SELECT count(*) AS total${checks.length ? `, ${checks.join(', ')}` : ''} FROM (${rewritten})`);
  const counts = checked.getRowsJS()[0] ?? [];
  for (let i = 0; i < mapped.length; i++) {
    if (Number(counts[i + 1]) > 0) {
      const f = mapped[i] as StructField;
      throw sqlInvalid(
        `[CAST_INVALID_INPUT] Column '${f.name}' (${duckTypeOfDelta(f.type)}): ${Number(counts[i + 1])} value(s) of the query cannot be stored in it.`,
      );
    }
  }
  const select = fields.map((f) => {
    const p = position.get(f.name);
    const type = duckTypeOfDelta(f.type);
    return p === undefined ? `NULL::${type} AS ${sqlIdent(f.name)}` : `CAST(#${p} AS ${type}) AS ${sqlIdent(f.name)}`;
  });
  await delta.write(`SELECT ${select.join(', ')} FROM (${rewritten})`, { mode: overwrite ? 'overwrite' : 'append', connection: ctx.con }).catch(deltaFailure);
  ctx.lineage?.push({ operation: overwrite ? 'INSERT_OVERWRITE' : 'INSERT', target: nameOf(table), query, targetColumns: mapped.map((f) => f.name) });
  const total = Number(counts[0] ?? 0);
  return literalOutcome(
    [
      ['num_affected_rows', 'LONG'],
      ['num_inserted_rows', 'LONG'],
    ],
    [[total, total]],
  );
}

async function createTable(ctx: ExecContext, c: SqlCursor, orReplace: boolean): Promise<Outcome> {
  const ifNotExists = c.keyword('IF', 'NOT', 'EXISTS');
  const parts = c.name();
  const q = qualify(parts, ctx.defaults);
  await requireCreate(ctx.access, ctx.principal, 'table', q);
  let fields: StructField[] | undefined;
  c.skip();
  if (c.masked[c.pos] === '(') fields = columnDefinitions(c.group());
  let partitionBy: string[] = [];
  let location: string | undefined;
  let comment: string | undefined;
  let properties: Record<string, string> = {};
  let query: string | undefined;
  while (!c.atEnd()) {
    if (c.keyword('USING')) {
      const format = c.name().join('.').toUpperCase();
      if (format !== 'DELTA') throw sqlInvalid(`Only USING DELTA is supported, not ${format}.`);
    } else if (c.keyword('PARTITIONED', 'BY')) partitionBy = splitTopLevel(c.group()).map((n) => new SqlCursor(n).name().join('.'));
    else if (c.keyword('LOCATION')) location = c.string();
    else if (c.keyword('COMMENT')) comment = c.string();
    else if (c.keyword('TBLPROPERTIES')) properties = propertyList(c.group());
    else if (c.keyword('AS')) query = c.rest();
    else throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Unexpected '${c.sql.slice(c.pos, c.pos + 40).trim()}' in CREATE TABLE.`);
  }
  const exists = await ctx.tables.resolveTable(q.catalog, q.schema, q.name).then(
    (t) => t,
    () => undefined,
  );
  if (exists) {
    if (ifNotExists) return empty();
    if (!orReplace) throw new SqlError('ALREADY_EXISTS', `[TABLE_OR_VIEW_ALREADY_EXISTS] Table ${q.catalog}.${q.schema}.${q.name} already exists.`);
    await ctx.tables.deleteTable(ctx.principal, `${q.catalog}.${q.schema}.${q.name}`);
  }
  if (location !== undefined) {
    if (query) throw sqlInvalid('CREATE TABLE ... LOCATION registers an existing Delta table; AS SELECT cannot be combined with it.');
    await ctx.tables.registerExternal(ctx.principal, {
      catalog: q.catalog,
      schema: q.schema,
      name: q.name,
      location,
      comment,
      properties,
      columns: fields?.map((f, position) => ({ name: f.name, type_json: JSON.stringify(f), position })),
    });
    return empty();
  }
  if (query) {
    if (fields) throw sqlInvalid('CREATE TABLE AS SELECT takes its columns from the query; leave out the column list.');
    const rewritten = await resolveQuery(ctx, query);
    await ctx.tables.createManagedFrom(ctx.principal, { catalog: q.catalog, schema: q.schema, name: q.name, comment, properties }, async (dir) => {
      await ctx.allow(dir);
      await openDeltaTable(dir).write(rewritten, { mode: 'errorIfExists', partitionBy, configuration: properties, connection: ctx.con });
    });
    ctx.lineage?.push({ operation: 'CREATE_TABLE_AS_SELECT', target: { catalog: q.catalog, schema: q.schema, name: q.name }, query });
    return empty();
  }
  if (!fields || fields.length === 0) throw sqlInvalid('CREATE TABLE needs a column list, AS SELECT, or LOCATION.');
  await ctx.tables.createManaged(ctx.principal, {
    catalog: q.catalog,
    schema: q.schema,
    name: q.name,
    deltaSchema: { type: 'struct', fields },
    partitionColumns: partitionBy,
    properties,
    ...(comment ? { comment } : {}),
  });
  return empty();
}

async function merge(ctx: ExecContext, c: SqlCursor): Promise<Outcome> {
  const targetParts = c.name();
  c.keyword('AS');
  let targetAlias = 't';
  if (c.peekWord() !== 'USING') targetAlias = c.name()[0] as string;
  c.expect('USING');
  c.skip();
  let source: string;
  let sourceText: string;
  if (c.masked[c.pos] === '(') {
    sourceText = c.group();
    source = await resolveQuery(ctx, sourceText);
  } else {
    const start = c.pos;
    c.name();
    const after = c.pos;
    // A time-travel clause on the source stays with its name.
    if (c.keyword('VERSION', 'AS', 'OF')) c.number();
    else if (c.keyword('TIMESTAMP', 'AS', 'OF')) c.string();
    else c.pos = after;
    sourceText = `SELECT * FROM ${c.sql.slice(start, c.pos)}`;
    source = await resolveQuery(ctx, sourceText);
  }
  c.keyword('AS');
  let sourceAlias = 's';
  if (c.peekWord() !== 'ON') sourceAlias = c.name()[0] as string;
  c.expect('ON');
  const firstWhen = c.findTopLevel(c.pos, /^WHEN\b/i);
  if (!firstWhen) throw sqlInvalid('[PARSE_SYNTAX_ERROR] MERGE needs at least one WHEN clause.');
  const on = await resolveExpression(ctx, c.sql.slice(c.pos, firstWhen.index).trim());
  const matched: ({ condition?: string; update: Record<string, string> | '*' } | { condition?: string; delete: true })[] = [];
  const bySource: ({ condition?: string; update: Record<string, string> | '*' } | { condition?: string; delete: true })[] = [];
  const notMatched: { condition?: string; insert: Record<string, string> | '*' }[] = [];
  let at: { index: number; length: number } | undefined = firstWhen;
  while (at) {
    const next = c.findTopLevel(at.index + at.length, /^WHEN\b/i);
    const clause = new SqlCursor(c.sql.slice(at.index + at.length, next ? next.index : c.sql.length));
    let kind: 'matched' | 'notMatched' | 'bySource';
    if (clause.keyword('MATCHED')) kind = 'matched';
    else if (clause.keyword('NOT', 'MATCHED', 'BY', 'SOURCE')) kind = 'bySource';
    else if (clause.keyword('NOT', 'MATCHED')) {
      clause.keyword('BY', 'TARGET');
      kind = 'notMatched';
    } else throw sqlInvalid('[PARSE_SYNTAX_ERROR] Expected MATCHED or NOT MATCHED after WHEN.');
    let condition: string | undefined;
    if (clause.keyword('AND')) {
      const then = clause.findTopLevel(clause.pos, /^THEN\b/i);
      if (!then) throw sqlInvalid('[PARSE_SYNTAX_ERROR] Expected THEN in a WHEN clause.');
      condition = await resolveExpression(ctx, clause.sql.slice(clause.pos, then.index).trim());
      clause.pos = then.index;
    }
    clause.expect('THEN');
    const cond = condition === undefined ? {} : { condition };
    if (kind === 'notMatched') {
      clause.expect('INSERT');
      if (clause.punct('*')) notMatched.push({ ...cond, insert: '*' });
      else {
        const cols = splitTopLevel(clause.group()).map((n) => new SqlCursor(n).name().join('.'));
        clause.expect('VALUES');
        const values = splitTopLevel(clause.group());
        if (cols.length !== values.length) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] INSERT lists ${cols.length} column(s) but ${values.length} value(s).`);
        const insert: Record<string, string> = {};
        for (let i = 0; i < cols.length; i++) insert[cols[i] as string] = await resolveExpression(ctx, values[i] as string);
        notMatched.push({ ...cond, insert });
      }
    } else {
      const list = kind === 'matched' ? matched : bySource;
      if (clause.keyword('DELETE')) list.push({ ...cond, delete: true });
      else {
        clause.expect('UPDATE', 'SET');
        if (clause.punct('*')) {
          if (kind === 'bySource') throw sqlInvalid('UPDATE SET * needs a source row; it cannot be used WHEN NOT MATCHED BY SOURCE.');
          list.push({ ...cond, update: '*' });
        } else list.push({ ...cond, update: await assignments(ctx, clause.rest()) });
      }
    }
    clause.end();
    at = next;
  }
  const { table, delta } = await writeTarget(ctx, targetParts, 'rewrite');
  const result = await delta
    .merge({ source, on, targetAlias, sourceAlias, whenMatched: matched, whenNotMatched: notMatched, whenNotMatchedBySource: bySource, connection: ctx.con })
    .catch(deltaFailure);
  const assigned = [...matched, ...bySource].flatMap((m) => ('update' in m && m.update !== '*' ? Object.entries(m.update) : []));
  for (const n of notMatched) if (n.insert !== '*') assigned.push(...Object.entries(n.insert));
  ctx.lineage?.push({
    operation: 'MERGE',
    target: nameOf(table),
    query: sourceText,
    mergeSource: {
      alias: sourceAlias,
      targetAlias,
      star: [...matched, ...notMatched].some((m) => ('update' in m && m.update === '*') || ('insert' in m && m.insert === '*')),
    },
    assignments: assigned.map(([column, expression]) => ({ column, expression })),
  });
  return literalOutcome([['num_affected_rows', 'LONG']], [[result.numAffectedRows]]);
}

async function describe(ctx: ExecContext, c: SqlCursor): Promise<Outcome> {
  const mode = c.keyword('DETAIL') ? 'detail' : c.keyword('HISTORY') ? 'history' : 'table';
  c.keyword('TABLE');
  c.keyword('EXTENDED');
  const parts = c.name();
  c.end();
  const table = await resolveTableName(ctx, parts);
  const full = `${table.catalog}.${table.schema}.${table.name}`;
  if (!(await visibleNames(ctx.access, ctx.principal, 'table', [full])).has(full))
    throw new SqlError('PERMISSION_DENIED', `[INSUFFICIENT_PERMISSIONS] User '${ctx.principal.userName}' may not see table '${full}'.`);
  if (table.type === 'VIEW' || !table.location) {
    if (mode !== 'table') throw sqlInvalid(`DESCRIBE ${mode.toUpperCase()} applies to tables, not views.`);
    const rewritten = await resolveQuery(ctx, `SELECT * FROM ${parts.map(sqlIdent).join('.')}`);
    const probe = await ctx.con.runAndReadAll(`SELECT * FROM (${rewritten}) LIMIT 0`);
    return literalOutcome(
      [
        ['col_name', 'STRING'],
        ['data_type', 'STRING'],
        ['comment', 'STRING'],
      ],
      probe.columnNames().map((n, i) => [n, wireType(probe.columnType(i)).type_text, null]),
    );
  }
  await ctx.allow(table.location);
  const delta = openDeltaTable(table.location);
  if (mode === 'history') {
    const history = await delta.history().catch(deltaFailure);
    return literalOutcome(
      [
        ['version', 'LONG'],
        ['timestamp', 'TIMESTAMP'],
        ['operation', 'STRING'],
        ['operationParameters', 'MAP'],
        ['operationMetrics', 'MAP'],
        ['engineInfo', 'STRING'],
      ],
      history.map((h) => {
        const info = h.commitInfo as Record<string, unknown>;
        return [
          h.version,
          new Date(h.timestamp).toISOString(),
          h.operation ?? null,
          h.operationParameters ?? {},
          info.operationMetrics ?? {},
          info.engineInfo ?? null,
        ];
      }),
    );
  }
  const snap = await delta.snapshot({ connection: ctx.con }).catch(deltaFailure);
  if (mode === 'detail') {
    return literalOutcome(
      [
        ['format', 'STRING'],
        ['id', 'STRING'],
        ['name', 'STRING'],
        ['description', 'STRING'],
        ['location', 'STRING'],
        ['createdAt', 'TIMESTAMP'],
        ['lastModified', 'TIMESTAMP'],
        ['partitionColumns', 'ARRAY'],
        ['numFiles', 'LONG'],
        ['sizeInBytes', 'LONG'],
        ['properties', 'MAP'],
        ['minReaderVersion', 'INT'],
        ['minWriterVersion', 'INT'],
      ],
      [
        [
          'delta',
          snap.metadata.id,
          full,
          snap.metadata.description ?? null,
          `file://${table.location}`,
          snap.metadata.createdTime ? new Date(snap.metadata.createdTime).toISOString() : null,
          snap.timestamp ? new Date(snap.timestamp).toISOString() : null,
          snap.partitionColumns,
          snap.files.length,
          snap.files.reduce((n, f) => n + f.size, 0),
          snap.configuration,
          snap.protocol.minReaderVersion,
          snap.protocol.minWriterVersion,
        ],
      ],
    );
  }
  const rows: unknown[][] = snap.schema.fields.map((f) => [f.name, typeTextOf(f), typeof f.metadata?.comment === 'string' ? f.metadata.comment : null]);
  if (snap.partitionColumns.length > 0) {
    rows.push(['# Partition Information', '', null], ['# col_name', 'data_type', 'comment']);
    for (const p of snap.partitionColumns) {
      const f = snap.schema.fields.find((x) => x.name === p);
      rows.push([p, f ? typeTextOf(f) : '', null]);
    }
  }
  return literalOutcome(
    [
      ['col_name', 'STRING'],
      ['data_type', 'STRING'],
      ['comment', 'STRING'],
    ],
    rows,
  );
}

function typeTextOf(f: StructField): string {
  return typeText(f.type);
}

async function show(ctx: ExecContext, c: SqlCursor): Promise<Outcome> {
  const what = c.peekWord();
  c.keyword(what);
  const inv = await ctx.catalog.inventory();
  const scope = (): string[] | undefined => (c.keyword('IN') || c.keyword('FROM') ? c.name() : undefined);
  const seen = (type: 'catalog' | 'schema' | 'table' | 'volume', names: string[]) => visibleNames(ctx.access, ctx.principal, type, names);
  if (what === 'CATALOGS') {
    c.end();
    const shown = await seen(
      'catalog',
      inv.catalogs.map((x) => x.name),
    );
    return literalOutcome(
      [['catalog', 'STRING']],
      inv.catalogs.filter((x) => shown.has(x.name)).map((x) => [x.name]),
    );
  }
  if (what === 'SCHEMAS' || what === 'DATABASES') {
    const cat = scope()?.[0] ?? ctx.defaults.catalog;
    c.end();
    const shown = await seen(
      'schema',
      inv.schemas.filter((s) => s.catalog_name === cat).map((s) => `${cat}.${s.name}`),
    );
    return literalOutcome(
      [['databaseName', 'STRING']],
      inv.schemas
        .filter((s) => s.catalog_name === cat && shown.has(`${cat}.${s.name}`))
        .map((s) => [s.name])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  }
  if (what === 'TABLES' || what === 'VOLUMES') {
    const parts = scope();
    c.end();
    const cat = parts && parts.length === 2 ? (parts[0] as string) : ctx.defaults.catalog;
    const sch = parts ? (parts[parts.length - 1] as string) : ctx.defaults.schema;
    await ctx.catalog.resolveSchema(cat, sch).catch((err: unknown) => {
      if (err instanceof AppError) throw new SqlError('NOT_FOUND', `[SCHEMA_NOT_FOUND] ${err.message}`);
      throw err;
    });
    if (what === 'VOLUMES') {
      const here = inv.volumes.filter((v) => v.catalog_name === cat && v.schema_name === sch);
      const shown = await seen(
        'volume',
        here.map((v) => `${cat}.${sch}.${v.name}`),
      );
      return literalOutcome(
        [
          ['database', 'STRING'],
          ['volume_name', 'STRING'],
        ],
        here.filter((v) => shown.has(`${cat}.${sch}.${v.name}`)).map((v) => [sch, v.name]),
      );
    }
    const all = await ctx.tables.listTables({ catalog_name: cat, schema_name: sch });
    const shownTables = await seen(
      'table',
      all.tables.map((t) => t.full_name),
    );
    const listed = { tables: all.tables.filter((t) => shownTables.has(t.full_name)) };
    return literalOutcome(
      [
        ['database', 'STRING'],
        ['tableName', 'STRING'],
        ['isTemporary', 'BOOLEAN'],
      ],
      listed.tables.map((t) => [sch, t.name, false]),
    );
  }
  throw sqlInvalid(`SHOW ${what} is not supported (SHOW CATALOGS, SCHEMAS, TABLES or VOLUMES).`);
}

async function drop(ctx: ExecContext, c: SqlCursor): Promise<Outcome> {
  const what = c.peekWord();
  c.keyword(what);
  const ifExists = c.keyword('IF', 'EXISTS');
  const parts = c.name();
  const cascade = c.keyword('CASCADE');
  c.keyword('RESTRICT');
  c.end();
  const ignoreMissing = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (ifExists && err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST') return;
      if (err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST') throw new SqlError('NOT_FOUND', err.message);
      throw err;
    }
  };
  if (what === 'TABLE' || what === 'VIEW') {
    const q = qualify(parts, ctx.defaults);
    await ignoreMissing(async () => {
      const t = await ctx.tables.resolveTable(q.catalog, q.schema, q.name);
      if (what === 'VIEW' && t.type !== 'VIEW') throw sqlInvalid(`${parts.join('.')} is a table; use DROP TABLE.`);
      if (what === 'TABLE' && t.type === 'VIEW') throw sqlInvalid(`${parts.join('.')} is a view; use DROP VIEW.`);
      await ctx.tables.deleteTable(ctx.principal, `${q.catalog}.${q.schema}.${q.name}`);
    });
  } else if (what === 'SCHEMA' || what === 'DATABASE') {
    const full = parts.length === 1 ? `${ctx.defaults.catalog}.${parts[0]}` : parts.join('.');
    await ignoreMissing(() => ctx.catalog.deleteSchema(ctx.principal, full, cascade));
  } else if (what === 'CATALOG') {
    await ignoreMissing(() => ctx.catalog.deleteCatalog(ctx.principal, parts.join('.'), cascade));
  } else if (what === 'VOLUME') {
    const q = qualify(parts, ctx.defaults);
    await ignoreMissing(() => ctx.catalog.deleteVolume(ctx.principal, `${q.catalog}.${q.schema}.${q.name}`));
  } else if (what === 'FUNCTION') {
    const q = qualify(parts, ctx.defaults);
    await ignoreMissing(() => ctx.catalog.deleteFunction(ctx.principal, `${q.catalog}.${q.schema}.${q.name}`));
  } else throw sqlInvalid(`DROP ${what} is not supported.`);
  return empty();
}

async function create(ctx: ExecContext, c: SqlCursor): Promise<Outcome> {
  const orReplace = c.keyword('OR', 'REPLACE');
  if (c.keyword('CATALOG')) {
    const ifNotExists = c.keyword('IF', 'NOT', 'EXISTS');
    const [name] = c.name();
    const comment = c.keyword('COMMENT') ? c.string() : undefined;
    c.end();
    await requireCreate(ctx.access, ctx.principal, 'catalog', { catalog: name as string });
    try {
      await ctx.catalog.createCatalog(ctx.principal, { name: name as string, ...(comment ? { comment } : {}) });
    } catch (err) {
      if (!(ifNotExists && err instanceof AppError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    return empty();
  }
  if (c.keyword('SCHEMA') || c.keyword('DATABASE')) {
    const ifNotExists = c.keyword('IF', 'NOT', 'EXISTS');
    const parts = c.name();
    const comment = c.keyword('COMMENT') ? c.string() : undefined;
    c.end();
    const [cat, sch] = parts.length === 1 ? [ctx.defaults.catalog, parts[0]] : parts;
    await requireCreate(ctx.access, ctx.principal, 'schema', { catalog: cat as string });
    try {
      await ctx.catalog.createSchema(ctx.principal, { catalog_name: cat as string, name: sch as string, ...(comment ? { comment } : {}) });
    } catch (err) {
      if (!(ifNotExists && err instanceof AppError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    return empty();
  }
  if (c.keyword('TABLE')) return createTable(ctx, c, orReplace);
  if (c.peekWord() === 'VIEW' || c.peekWord() === 'TEMP' || c.peekWord() === 'TEMPORARY') {
    const save = c.pos;
    c.keyword('TEMP');
    c.keyword('TEMPORARY');
    c.keyword('VIEW');
    c.keyword('IF', 'NOT', 'EXISTS');
    const q = qualify(c.name(), ctx.defaults);
    c.pos = save;
    await requireCreate(ctx.access, ctx.principal, 'table', q);
  }
  if (c.keyword('VIEW') || c.keyword('TEMP', 'VIEW') || c.keyword('TEMPORARY', 'VIEW')) {
    const ifNotExists = c.keyword('IF', 'NOT', 'EXISTS');
    const q = qualify(c.name(), ctx.defaults);
    c.expect('AS');
    const definition = c.rest();
    // Resolving now proves the view reads only catalog objects; the text is kept so it re-resolves when queried.
    await resolveQuery(ctx, definition);
    try {
      await ctx.tables.createView(ctx.principal, { catalog: q.catalog, schema: q.schema, name: q.name, definition, orReplace });
    } catch (err) {
      if (!(ifNotExists && err instanceof AppError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    return empty();
  }
  const external = c.keyword('EXTERNAL');
  c.keyword('MANAGED');
  if (c.keyword('VOLUME')) {
    const ifNotExists = c.keyword('IF', 'NOT', 'EXISTS');
    const q = qualify(c.name(), ctx.defaults);
    const location = c.keyword('LOCATION') ? c.string() : undefined;
    const comment = c.keyword('COMMENT') ? c.string() : undefined;
    c.end();
    await requireCreate(ctx.access, ctx.principal, 'volume', q);
    if (external !== (location !== undefined)) throw sqlInvalid('An EXTERNAL VOLUME needs LOCATION, and only an external one takes it.');
    try {
      await ctx.catalog.createVolume(ctx.principal, {
        catalog_name: q.catalog,
        schema_name: q.schema,
        name: q.name,
        volume_type: external ? 'EXTERNAL' : 'MANAGED',
        ...(location ? { storage_location: location } : {}),
        ...(comment ? { comment } : {}),
      });
    } catch (err) {
      if (!(ifNotExists && err instanceof AppError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    return empty();
  }
  if (c.keyword('FUNCTION')) {
    const q = qualify(c.name(), ctx.defaults);
    await requireCreate(ctx.access, ctx.principal, 'function', q);
    const params = splitTopLevel(c.group(), { angles: true }).map((p, position) => {
      const pc = new SqlCursor(p);
      const [name] = pc.name();
      const typeText = pc.rest();
      parseTypeText(typeText, name as string);
      return { name: name as string, type_text: typeText.toLowerCase(), type_name: typeText.toUpperCase().replace(/\(.*$/, ''), position };
    });
    c.expect('RETURNS');
    const returnsStart = c.pos;
    const ret = c.findTopLevel(c.pos, /^RETURN\b/i);
    if (!ret) throw sqlInvalid('[PARSE_SYNTAX_ERROR] CREATE FUNCTION needs RETURNS type RETURN expression.');
    const returns = c.sql.slice(returnsStart, ret.index).trim();
    c.pos = ret.index + ret.length;
    const body = c.rest();
    if (orReplace) await ctx.catalog.deleteFunction(ctx.principal, `${q.catalog}.${q.schema}.${q.name}`).catch(() => undefined);
    await ctx.catalog.createFunction(ctx.principal, {
      function_info: {
        name: q.name,
        catalog_name: q.catalog,
        schema_name: q.schema,
        input_params: { parameters: params },
        data_type: returns.toUpperCase().replace(/\(.*$/, ''),
        full_data_type: returns.toLowerCase(),
        routine_body: 'SQL',
        routine_definition: body,
      },
    });
    return empty();
  }
  throw sqlInvalid(`[UNSUPPORTED_STATEMENT] CREATE ${c.peekWord()} is not supported.`);
}

const QUERY_HEADS = new Set(['SELECT', 'WITH', 'VALUES', 'FROM', 'TABLE']);

/** Whether the statement is a query (it runs through name resolution and creates nothing but numbered temp objects). */
export function isQuery(sql: string): boolean {
  const c = new SqlCursor(sql);
  c.skip();
  return c.masked[c.pos] === '(' || QUERY_HEADS.has(c.peekWord());
}

/** Runs one statement; the head decides the form, queries go through name resolution. */
export async function executeStatement(ctx: ExecContext, sql: string): Promise<Outcome> {
  if (isQuery(sql)) return runQuery(ctx, sql);
  const c = new SqlCursor(sql);
  c.skip();
  const head = c.peekWord();
  const refused = REFUSED_HEADS[head];
  if (refused) throw new SqlError('PERMISSION_DENIED', refused);
  if (head === 'GRANT' || head === 'REVOKE' || head === 'SHOW' || head === 'ALTER') {
    const governed = await governanceStatement(ctx, sql);
    if (governed) return governed;
  }
  c.keyword(head);
  switch (head) {
    case 'CREATE':
      return create(ctx, c);
    case 'INSERT': {
      if (c.keyword('OVERWRITE')) return insertInto(ctx, c, true);
      c.expect('INTO');
      return insertInto(ctx, c, false);
    }
    case 'UPDATE': {
      const parts = c.name();
      if (c.peekWord() !== 'SET') throw sqlInvalid('UPDATE takes no alias here: refer to columns by name.');
      c.expect('SET');
      const where = c.findTopLevel(c.pos, /^WHERE\b/i);
      const setText = c.sql.slice(c.pos, where ? where.index : c.sql.length);
      const set = await assignments(ctx, setText);
      const cond = where ? await resolveExpression(ctx, c.sql.slice(where.index + where.length).trim()) : undefined;
      const { table, delta } = await writeTarget(ctx, parts, 'rewrite');
      const r = await delta.update({ set, ...(cond !== undefined ? { where: cond } : {}), connection: ctx.con }).catch(deltaFailure);
      ctx.lineage?.push({
        operation: 'UPDATE',
        target: nameOf(table),
        assignments: Object.entries(set).map(([column, expression]) => ({ column, expression })),
      });
      return literalOutcome([['num_affected_rows', 'LONG']], [[r.numAffectedRows]]);
    }
    case 'DELETE': {
      c.expect('FROM');
      const parts = c.name();
      let cond: string | undefined;
      if (c.keyword('WHERE')) cond = await resolveExpression(ctx, c.rest());
      c.end();
      const { table, delta } = await writeTarget(ctx, parts, 'rewrite');
      const r = await delta.delete(cond, { connection: ctx.con }).catch(deltaFailure);
      ctx.lineage?.push({ operation: 'DELETE', target: nameOf(table) });
      return literalOutcome([['num_affected_rows', 'LONG']], [[r.numAffectedRows]]);
    }
    case 'MERGE':
      c.expect('INTO');
      return merge(ctx, c);
    case 'ALTER': {
      c.expect('TABLE');
      const parts = c.name();
      if (!c.keyword('ADD', 'COLUMNS')) c.expect('ADD', 'COLUMN');
      c.skip();
      const defs = c.masked[c.pos] === '(' ? c.group() : c.rest();
      c.end();
      const added = columnDefinitions(defs);
      const { table, delta } = await writeTarget(ctx, parts, 'manage');
      const snap = await delta.snapshot({ connection: ctx.con }).catch(deltaFailure);
      for (const f of added) {
        if (snap.schema.fields.some((x) => x.name.toLowerCase() === f.name.toLowerCase()))
          throw sqlInvalid(`[FIELDS_ALREADY_EXISTS] Column '${f.name}' already exists.`);
        if (!f.nullable) throw sqlInvalid(`Column '${f.name}': added columns must be nullable (existing rows have no value).`);
      }
      const cols = [...snap.schema.fields, ...added].map((f) => `NULL::${duckTypeOfDelta(f.type)} AS ${sqlIdent(f.name)}`);
      await delta.write(`SELECT ${cols.join(', ')} WHERE false`, { mode: 'append', mergeSchema: true, connection: ctx.con }).catch(deltaFailure);
      await ctx.tables.refreshSchema(table.id);
      return empty();
    }
    case 'DESCRIBE':
    case 'DESC':
      return describe(ctx, c);
    case 'SHOW':
      return show(ctx, c);
    case 'DROP':
      return drop(ctx, c);
    case 'OPTIMIZE': {
      const parts = c.name();
      let where: string | undefined;
      if (c.keyword('WHERE')) {
        const z = c.findTopLevel(c.pos, /^ZORDER\b/i);
        if (z) throw sqlInvalid('ZORDER BY is not supported.');
        where = c.rest();
      }
      if (c.keyword('ZORDER')) throw sqlInvalid('ZORDER BY is not supported.');
      c.end();
      const { table, delta } = await writeTarget(ctx, parts, 'maintain');
      const r = await delta.optimize({ ...(where ? { where } : {}), connection: ctx.con }).catch(deltaFailure);
      return literalOutcome(
        [
          ['path', 'STRING'],
          ['numFilesAdded', 'LONG'],
          ['numFilesRemoved', 'LONG'],
        ],
        [[`file://${table.location}`, r.numAddedFiles, r.numRemovedFiles]],
      );
    }
    case 'VACUUM': {
      const parts = c.name();
      let retentionHours: number | undefined;
      if (c.keyword('RETAIN')) {
        retentionHours = c.number();
        c.expect('HOURS');
      }
      const dryRun = c.keyword('DRY', 'RUN');
      c.end();
      const { table, delta } = await writeTarget(ctx, parts, 'maintain');
      const r = await delta.vacuum({ ...(retentionHours !== undefined ? { retentionHours } : {}), dryRun }).catch(deltaFailure);
      return literalOutcome(
        [['path', 'STRING']],
        r.files.map((f) => [`file://${table.location}/${f}`]),
      );
    }
    case 'COPY': {
      if (!c.keyword('INTO')) throw new SqlError('PERMISSION_DENIED', "COPY ... TO is not allowed; use COPY INTO <table> FROM '/Volumes/...' to load files.");
      const parts = c.name();
      const target = await writeTarget(ctx, parts);
      return runCopyInto(ctx, c, target);
    }
    default:
      // Let DuckDB's parser word a syntax error; a statement it parses but Weir does not run is refused by name.
      await serialize(ctx.con, sql);
      throw sqlInvalid(`[UNSUPPORTED_STATEMENT] Statements starting with '${head || c.sql.slice(c.pos, c.pos + 20)}' are not supported.`);
  }
}
