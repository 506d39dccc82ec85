import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDeltaTable, type Snapshot } from '@weir/delta';
import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { type CatalogService, isWithin, parseVolumePath, safeJoin } from '../catalog/index.ts';
import { duckTypeOfDelta, parseTypeText, type ResolvedTable, type TablesService } from '../tables/index.ts';
import { requireExecute, requireRead, requireVolumeRead, type SqlAccess, viewRunner, visibleNames } from './sql.authorize.ts';
import { informationSchemaSql } from './sql.information-schema.ts';
import { type RowSecurityStore, secureView } from './sql.row-security.ts';
import { maskSql, SqlError, sqlIdent, sqlInvalid, sqlString } from './sql.text.ts';

/** The default namespace of one- and two-part names (the Databricks convention). */
export const DEFAULT_CATALOG = 'main';
/** The default schema of one-part names. */
export const DEFAULT_SCHEMA = 'default';

const FILE_READERS = new Set([
  'read_parquet',
  'parquet_scan',
  'read_csv',
  'read_csv_auto',
  'read_json',
  'read_json_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_json_objects',
  'read_ndjson_objects',
]);
const SAFE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

/** What name resolution needs from the rest of Weir, and what it records. */
export interface ResolveContext {
  con: DuckDBConnection;
  principal: Principal;
  catalog: CatalogService;
  tables: TablesService;
  /** Lets the engine reach an external table's or volume's directory. */
  allow(dir: string): Promise<void>;
  /** Tables the statement reads (for lineage and authorization later). */
  reads: ResolvedTable[];
  /** The tables and views the statement names itself (not those reached inside a view's body), for lineage. */
  directReads?: ResolvedTable[];
  /** Numbers every temp view and macro a statement creates; still 0 at the end means the connection holds nothing of the caller's. */
  counter: { n: number };
  /** Where one- and two-part names resolve (the request's `catalog` and `schema`, else main.default). */
  defaults: { catalog: string; schema: string };
  /** Who may read what: every table, view, volume path and function reached is checked for `principal`. */
  access: SqlAccess;
  /** Row filters and column masks, applied to every read of a table. */
  rowSecurity: RowSecurityStore;
  /** Defines current_user() and is_account_group_member() for the caller on this connection (once; only when used). */
  principalMacros(): Promise<void>;
}

/** A Databricks time-travel clause found after a table name. */
interface TimeTravel {
  start: number;
  kind: 'VERSION' | 'TIMESTAMP';
  value: string;
}

/** A three-part name, with defaults applied. */
export interface QualifiedName {
  catalog: string;
  schema: string;
  name: string;
}

/** Applies the defaults to a one-, two- or three-part name. */
export function qualify(parts: string[], defaults: { catalog: string; schema: string } = { catalog: DEFAULT_CATALOG, schema: DEFAULT_SCHEMA }): QualifiedName {
  if (parts.length === 1) return { catalog: defaults.catalog, schema: defaults.schema, name: parts[0] as string };
  if (parts.length === 2) return { catalog: defaults.catalog, schema: parts[0] as string, name: parts[1] as string };
  if (parts.length === 3) return { catalog: parts[0] as string, schema: parts[1] as string, name: parts[2] as string };
  throw sqlInvalid(`Invalid object name '${parts.join('.')}'.`);
}

/** Blanks out `VERSION AS OF n` / `TIMESTAMP AS OF '...'` (same length, so parser positions stay valid) and returns where each was. */
function extractTimeTravel(sql: string): { sql: string; clauses: TimeTravel[] } {
  const masked = maskSql(sql);
  const clauses: TimeTravel[] = [];
  let out = sql;
  const re = /\b(VERSION|TIMESTAMP)\s+AS\s+OF\s+/gi;
  for (let m = re.exec(masked); m; m = re.exec(masked)) {
    const kind = (m[1] as string).toUpperCase() as TimeTravel['kind'];
    const valueStart = m.index + m[0].length;
    let valueEnd: number;
    let value: string;
    if (kind === 'VERSION') {
      const v = /^\d+/.exec(masked.slice(valueStart));
      if (!v) throw sqlInvalid('VERSION AS OF needs a version number.');
      valueEnd = valueStart + v[0].length;
      value = v[0];
    } else {
      if (masked[valueStart] !== "'") throw sqlInvalid("TIMESTAMP AS OF needs a quoted timestamp, e.g. TIMESTAMP AS OF '2024-01-01 00:00:00'.");
      const close = masked.indexOf("'", valueStart + 1);
      valueEnd = close + 1;
      value = sql.slice(valueStart + 1, close).replaceAll("''", "'");
    }
    clauses.push({ start: m.index, kind, value });
    out = out.slice(0, m.index) + ' '.repeat(valueEnd - m.index) + out.slice(valueEnd);
    re.lastIndex = valueEnd;
  }
  return { sql: out, clauses };
}

/** Byte offsets (what DuckDB reports) to string indexes. */
function byteToCharMap(sql: string): (byte: number) => number {
  if (Buffer.byteLength(sql) === sql.length) return (b) => b;
  const map: number[] = [];
  let byte = 0;
  for (let i = 0; i < sql.length; i++) {
    const cp = sql.codePointAt(i) as number;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < len; k++) map[byte + k] = i;
    byte += len;
    if (cp >= 0x10000) i++;
  }
  map[byte] = sql.length;
  return (b) => map[b] ?? sql.length;
}

/** End of the (possibly quoted, dotted) identifier chain starting at `start`. */
function identifierEnd(sql: string, start: number): number {
  let i = start;
  for (;;) {
    if (sql[i] === '"') {
      i++;
      while (i < sql.length) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') break;
        else i++;
      }
      i++;
    } else {
      const m = /^[^\s.,()";]+/.exec(sql.slice(i));
      if (!m) break;
      i += m[0].length;
    }
    let j = i;
    while (sql[j] === ' ') j++;
    if (sql[j] !== '.') break;
    i = j + 1;
    while (sql[i] === ' ') i++;
  }
  return i;
}

/** End of the string literal starting at `start` (which must be a quote). */
function literalEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
    else if (sql[i] === "'") return i + 1;
    else i++;
  }
  return sql.length;
}

type Node = Record<string, unknown>;

/** Every object in the serialized tree, depth first. */
function* walk(value: unknown, depth = 0): Generator<Node> {
  if (depth > 2000 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) yield* walk(v, depth + 1);
    return;
  }
  yield value as Node;
  for (const v of Object.values(value)) yield* walk(v, depth + 1);
}

const PARSE_CACHE_SIZE = 256;
/** Statements longer than this are parsed every time: the cache is for the short queries dashboards and jobs repeat. */
const PARSE_CACHE_MAX_CHARS = 16 * 1024;
/** Parsed trees by statement text, least recently used first. The parser reads no catalog, so a text's tree never changes. */
const parseCache = new Map<string, Node>();

/** Parses one statement with DuckDB's serializer; a parse failure is the parser's own message. The tree is shared: read it, never change it. */
export async function serialize(con: DuckDBConnection, sql: string): Promise<Node> {
  const hit = parseCache.get(sql);
  if (hit) {
    parseCache.delete(sql);
    parseCache.set(sql, hit);
    return hit;
  }
  // The text goes in as a literal rather than a bound parameter: one call into DuckDB instead of prepare, bind, run
  // and fetch, each a hop through libuv's thread pool that a new statement waited for.
  const result = await con.run(`SELECT json_serialize_sql(${sqlString(sql)}) AS j`);
  const parsed = JSON.parse(String(result.getChunk(0).getColumnVector(0).getItem(0))) as Node;
  if (parsed.error) {
    const type = String(parsed.error_type ?? '');
    if (type === 'parser') throw new SqlError('BAD_REQUEST', `[PARSE_SYNTAX_ERROR] ${String(parsed.error_message)}`);
    throw sqlInvalid(`Statement not supported here: ${String(parsed.error_message)}`);
  }
  const statements = parsed.statements as unknown[] | undefined;
  if (statements?.length !== 1) throw sqlInvalid('Expected exactly one query.');
  if (sql.length <= PARSE_CACHE_MAX_CHARS) {
    parseCache.set(sql, parsed);
    if (parseCache.size > PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value as string);
  }
  return parsed;
}

/** Wraps an expression in a cast to a Spark SQL type, or leaves it alone when the type is unknown. */
function castTo(expr: string, typeText: string | undefined): string {
  if (!typeText) return expr;
  try {
    return `CAST(${expr} AS ${duckTypeOfDelta(parseTypeText(typeText, 'function'))})`;
  } catch {
    return expr;
  }
}

/** Whether SQL text may call the caller-identity functions (DuckDB's own would answer for the engine, not the caller). */
export function mentionsPrincipal(sql: string): boolean {
  return /\b(current_user|session_user|user|is_member|is_account_group_member)\b/i.test(sql);
}

/** Defines a catalog SQL function as temp macros on the statement's connection and returns the macro's name. */
export async function defineFunctionMacro(ctx: Pick<ResolveContext, 'con' | 'catalog' | 'counter' | 'principalMacros'>, key: string): Promise<string> {
  const info = (await ctx.catalog.getFunction(key).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST')
      throw new SqlError('NOT_FOUND', `[ROUTINE_NOT_FOUND] Function '${key}' does not exist.`);
    throw err;
  })) as { input_params?: { parameters?: { name: string; type_text?: string }[] }; routine_definition?: string; full_data_type?: string };
  const macro = `__weir_f${ctx.counter.n++}`;
  const body = `${macro}_body`;
  const params = info.input_params?.parameters ?? [];
  const names = params.map((p) => sqlIdent(p.name)).join(', ');
  // DuckDB macros are untyped: an outer macro casts the arguments and the result to the declared types.
  const casts = params.map((p) => castTo(sqlIdent(p.name), p.type_text)).join(', ');
  if (mentionsPrincipal(info.routine_definition ?? '')) await ctx.principalMacros();
  // A macro body is not name-resolved, so it must not read anything: a subquery over a path or table would bypass every check.
  const bodyTree = await serialize(ctx.con, `SELECT (${info.routine_definition ?? 'NULL'})`).catch(() => undefined);
  if (!bodyTree || [...walk(bodyTree)].some((n) => n.type === 'BASE_TABLE' || n.type === 'TABLE_FUNCTION'))
    throw sqlInvalid(`Function '${key}' cannot be used: a SQL function body may compute on its arguments but not read tables or files.`);
  try {
    await ctx.con.run(`CREATE TEMP MACRO ${sqlIdent(body)}(${names}) AS (${info.routine_definition ?? 'NULL'})`);
    await ctx.con.run(`CREATE TEMP MACRO ${sqlIdent(macro)}(${names}) AS ${castTo(`${sqlIdent(body)}(${casts})`, info.full_data_type)}`);
  } catch (err) {
    throw sqlInvalid(`Function '${key}' cannot be used: ${(err as Error).message}`);
  }
  return macro;
}

interface Replacement {
  start: number;
  end: number;
  text: string;
}

/** Turns a missing catalog object into the statement error clients expect. */
function tableMissing(err: unknown, name: string): never {
  if (err instanceof AppError && (err.code === 'RESOURCE_DOES_NOT_EXIST' || err.code === 'INVALID_PARAMETER_VALUE')) {
    throw new SqlError('NOT_FOUND', `[TABLE_DOES_NOT_EXIST] Table or view '${name}' does not exist (${err.message})`);
  }
  throw err;
}

/** Resolves a `/Volumes/...` path to its directory on disk, letting the engine reach it. */
export async function volumeFile(ctx: Pick<ResolveContext, 'catalog' | 'tables' | 'allow' | 'access' | 'principal'>, virtualPath: string): Promise<string> {
  const vp = parseVolumePath(virtualPath);
  await requireVolumeRead(ctx.access, ctx.principal, { catalog: vp.catalog, schema: vp.schema, name: vp.volume });
  const loc = await ctx.catalog.volumeLocation(vp.catalog, vp.schema, vp.volume).catch((err: unknown) => {
    if (err instanceof AppError) throw sqlInvalid(`Volume path '${virtualPath}': ${err.message}`);
    throw err;
  });
  await ctx.allow(loc.directory);
  // Glob characters stay as they are; the fixed part of the path is what must not escape.
  const real = safeJoin(loc.directory, vp.relative);
  // Managed volumes and tables live in separate trees of the data directory; only an external volume can overlap a table.
  if (!ctx.principal.isAdmin && loc.type === 'EXTERNAL') await refuseTableFiles(ctx, real, virtualPath);
  return real;
}

/**
 * An external volume may lie over an external table's directory; reading the table's files through it would skip the
 * table's grants, row filter and masks, so only admins may. The fixed part of the path (before any glob) decides.
 */
async function refuseTableFiles(ctx: Pick<ResolveContext, 'tables'>, real: string, virtualPath: string): Promise<void> {
  const glob = real.search(/[*?[{]/);
  const fixed = glob < 0 ? real : path.dirname(real.slice(0, glob + 1));
  for (const t of await ctx.tables.inventory()) {
    const loc = t.row.storage_location;
    if (t.row.table_type === 'EXTERNAL' && loc && (isWithin(loc, fixed) || isWithin(fixed, loc)))
      throw new SqlError(
        'PERMISSION_DENIED',
        `[INSUFFICIENT_PERMISSIONS] '${virtualPath}' reaches the files of table '${t.row.name}'; read the table by its name instead.`,
      );
  }
}

/** A timestamp without a zone means UTC (the session zone Databricks defaults to), whatever the server's zone. */
function utcTimestamp(text: string): number {
  const naive = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?$/.exec(text.trim());
  const ms = naive ? Date.parse(`${naive[1]}T${naive[2] ?? '00:00:00'}Z`) : Date.parse(text);
  if (Number.isNaN(ms)) throw sqlInvalid(`TIMESTAMP AS OF: cannot read '${text}' as a timestamp.`);
  return ms;
}

const SNAPSHOT_CACHE_SIZE = 128;
/** Replayed snapshots by table id and version, least recently used first. */
const snapshotCache = new Map<string, { snapshot: Snapshot; scanSql: string }>();

/**
 * What a reference to a catalog table becomes in the rewritten query: a table without a row filter or masks is its
 * snapshot's scan inlined as a subquery (no temp view to create and look up); anything else is a temp view.
 */
async function tableView(ctx: ResolveContext, table: ResolvedTable, travel: TimeTravel | undefined, depth: number): Promise<string> {
  if (table.type === 'VIEW') return sqlIdent(await viewOverBody(ctx, table, travel, depth));
  // Independent lookups: the row-security row and the snapshot are fetched side by side.
  const [scan, security] = await Promise.all([snapshotScan(ctx, table, travel), ctx.rowSecurity.get(table.id)]);
  if (!security) return `(${scan})`;
  const view = `__weir_t${ctx.counter.n++}`;
  await ctx.con.run(`CREATE TEMP VIEW ${sqlIdent(view)} AS ${scan}`);
  return sqlIdent(await secureView(ctx, table, view, security));
}

/** A temp view over a view's resolved body, which reads with the view owner's rights. */
async function viewOverBody(ctx: ResolveContext, table: ResolvedTable, travel: TimeTravel | undefined, depth: number): Promise<string> {
  if (travel) throw sqlInvalid('Time travel applies to tables, not views.');
  const view = `__weir_t${ctx.counter.n++}`;
  const runner = await viewRunner(ctx.access, table);
  const body = await resolveQuery({ ...ctx, principal: runner }, table.viewDefinition ?? 'SELECT 1 WHERE false', depth + 1);
  await ctx.con.run(`CREATE TEMP VIEW ${sqlIdent(view)} AS ${body}`);
  return view;
}

/** The SELECT that scans a table's snapshot (at a version or time). */
async function snapshotScan(ctx: ResolveContext, table: ResolvedTable, travel: TimeTravel | undefined): Promise<string> {
  if (!table.location) throw sqlInvalid(`Table ${table.catalog}.${table.schema}.${table.name} has no storage location.`);
  await ctx.allow(table.location);
  const delta = openDeltaTable(table.location);
  try {
    if (travel?.kind === 'TIMESTAMP') {
      const snapshot = await delta.snapshot({ timestamp: utcTimestamp(travel.value), connection: ctx.con });
      return await snapshot.scanSql({ connection: ctx.con });
    }
    // Versions are immutable, so a replayed log is reused until the table moves on (listing the log is cheap, replaying it is not).
    const version = travel?.kind === 'VERSION' ? Number(travel.value) : await delta.version();
    const key = `${table.id}@${version}`;
    let cached = snapshotCache.get(key);
    if (cached) snapshotCache.delete(key);
    else {
      const snap = await delta.snapshot({ version, connection: ctx.con });
      // The scan SQL is built once too: building it reads every data file's footer.
      cached = { snapshot: snap, scanSql: await snap.scanSql({ connection: ctx.con }) };
    }
    snapshotCache.set(key, cached);
    if (snapshotCache.size > SNAPSHOT_CACHE_SIZE) snapshotCache.delete(snapshotCache.keys().next().value as string);
    return cached.scanSql;
  } catch (err) {
    throw sqlInvalid(`Cannot read ${table.catalog}.${table.schema}.${table.name}: ${(err as Error).message}`);
  }
}

/** A name after FROM or JOIN, outside strings, quoted names and comments (which `maskSql` blanks). */
const NAME_AFTER_FROM = /\b(?:FROM|JOIN)\s+([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*){0,2})/gi;

/**
 * While DuckDB parses a statement it has not seen, the names that look like tables (after FROM or JOIN) are looked up
 * in the catalog, so their rows are at hand when the parse tree names them. Only the tree decides what is read: an
 * early lookup that the tree does not confirm is never used, and a failed one is simply made again (for its error).
 * System tables are left out: resolving one may bring it up to date first.
 */
function lookUpEarly(ctx: ResolveContext, masked: string): Map<string, Promise<ResolvedTable | undefined>> {
  const early = new Map<string, Promise<ResolvedTable | undefined>>();
  for (const m of masked.matchAll(NAME_AFTER_FROM)) {
    const parts = (m[1] as string).split('.').map((p) => p.trim());
    const q = qualify(parts, ctx.defaults);
    const key = `${q.catalog}.${q.schema}.${q.name}`;
    if (early.has(key) || q.catalog.toLowerCase() === 'system' || q.schema.toLowerCase() === 'information_schema') continue;
    early.set(
      key,
      ctx.tables.resolveTable(q.catalog, q.schema, q.name).then(
        (t) => t,
        () => undefined,
      ),
    );
  }
  return early;
}

/**
 * Rewrites a query so it only touches catalog objects: every table reference found anywhere in DuckDB's
 * serialized tree becomes a temp view over the table's snapshot, UC functions become temp macros, and file
 * readers may only read `/Volumes/...` paths. Returns the SQL to run on `ctx.con`.
 */
export async function resolveQuery(ctx: ResolveContext, input: string, depth = 0): Promise<string> {
  if (depth > 16) throw sqlInvalid('Views nest too deeply.');
  if (mentionsPrincipal(input)) await ctx.principalMacros();
  const { sql, clauses } = extractTimeTravel(input);
  const masked = maskSql(sql);
  const early = parseCache.has(sql) ? undefined : lookUpEarly(ctx, masked);
  const tree = await serialize(ctx.con, sql);
  const toChar = byteToCharMap(sql);
  const cteNames = new Set<string>();
  for (const node of walk(tree)) {
    const cte = node.cte_map as { map?: { key: string }[] } | undefined;
    for (const entry of cte?.map ?? []) cteNames.add(entry.key.toLowerCase());
  }
  // CTE names are told apart from tables without regard to scope, so a CTE named like one of the temp views this
  // statement creates (some over tables only a view's owner may read) could let a bare reference reach that view.
  for (const name of cteNames) if (name.startsWith('__weir')) throw sqlInvalid(`The name '${name}' is reserved; choose another CTE name.`);
  const replacements: Replacement[] = [];
  const usedClauses = new Set<TimeTravel>();
  const macros = new Map<string, string>();
  for (const node of walk(tree)) {
    if (node.type === 'BASE_TABLE') {
      const parts = [node.catalog_name, node.schema_name, node.table_name].filter((p): p is string => typeof p === 'string' && p !== '');
      if (parts.length === 1 && cteNames.has((parts[0] as string).toLowerCase())) continue;
      const start = toChar(Number(node.query_location));
      const end = identifierEnd(sql, start);
      const travel = clauses.find((c) => c.start >= end && masked.slice(end, c.start).trim() === '');
      if (travel) usedClauses.add(travel);
      if (node.at_clause) throw sqlInvalid("Use VERSION AS OF n or TIMESTAMP AS OF '...' for time travel.");
      const q = qualify(parts, ctx.defaults);
      let text: string;
      if (q.schema.toLowerCase() === 'information_schema') {
        if (travel) throw sqlInvalid('Time travel applies to tables, not information_schema.');
        const view = `__weir_t${ctx.counter.n++}`;
        await ctx.con.run(
          `CREATE TEMP VIEW ${sqlIdent(view)} AS ${await informationSchemaSql(ctx, q.catalog, q.name, (type, names) => visibleNames(ctx.access, ctx.principal, type, names))}`,
        );
        text = sqlIdent(view);
      } else {
        let table: ResolvedTable;
        try {
          table = (await early?.get(`${q.catalog}.${q.schema}.${q.name}`)) ?? (await ctx.tables.resolveTable(q.catalog, q.schema, q.name));
        } catch (err) {
          tableMissing(err, parts.join('.'));
        }
        await requireRead(ctx.access, ctx.principal, table);
        ctx.reads.push(table);
        if (depth === 0) ctx.directReads?.push(table);
        text = await tableView(ctx, table, travel, depth);
      }
      // Keep the table's own name usable as a qualifier (orders.id) when the query gave no alias.
      replacements.push({ start, end, text: node.alias ? text : `${text} AS ${sqlIdent(q.name)}` });
    } else if (node.type === 'TABLE_FUNCTION') {
      const fn = node.function as Node;
      const name = String(fn.function_name ?? '').toLowerCase();
      if (SAFE_TABLE_FUNCTIONS.has(name)) continue;
      if (!FILE_READERS.has(name) || fn.schema || fn.catalog)
        throw sqlInvalid(`Table function '${name}' is not allowed; read files with read_parquet/read_csv/read_json on /Volumes paths.`);
      const first = (fn.children as Node[] | undefined)?.[0];
      const constants: Node[] = [];
      if (first?.class === 'CONSTANT') constants.push(first);
      else if (first?.class === 'FUNCTION' && first.function_name === 'list_value') {
        for (const c of (first.children as Node[]) ?? []) {
          if (c.class !== 'CONSTANT') throw sqlInvalid(`${name} needs literal /Volumes paths.`);
          constants.push(c);
        }
      } else throw sqlInvalid(`${name} needs a literal /Volumes path.`);
      for (const c of constants) {
        const value = (c.value as { value?: unknown })?.value;
        if (typeof value !== 'string') throw sqlInvalid(`${name} needs literal /Volumes paths.`);
        const real = await volumeFile(ctx, value);
        const start = toChar(Number(c.query_location));
        if (sql[start] !== "'") throw sqlInvalid(`${name} needs a plain quoted path.`);
        replacements.push({ start, end: literalEnd(sql, start), text: sqlString(real) });
      }
    } else if (node.class === 'FUNCTION' && typeof node.schema === 'string' && node.schema !== '' && node.schema !== 'main' && !node.is_operator) {
      const parts = [node.catalog, node.schema, node.function_name].filter((p): p is string => typeof p === 'string' && p !== '');
      const q = qualify(parts, ctx.defaults);
      const key = `${q.catalog}.${q.schema}.${q.name}`;
      let macro = macros.get(key);
      if (!macro) {
        await requireExecute(ctx.access, ctx.principal, q);
        macro = await defineFunctionMacro(ctx, key);
        macros.set(key, macro);
      }
      const start = toChar(Number(node.query_location));
      replacements.push({ start, end: identifierEnd(sql, start), text: sqlIdent(macro) });
    }
  }
  for (const c of clauses) if (!usedClauses.has(c)) throw sqlInvalid(`${c.kind} AS OF must follow a table name.`);
  replacements.sort((a, b) => b.start - a.start);
  let out = sql;
  for (const r of replacements) out = out.slice(0, r.start) + r.text + out.slice(r.end);
  return out;
}
