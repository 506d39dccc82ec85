import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './duck.ts';
import { LosslessNumber, stringifyJson } from './json.ts';
import { type DeltaDataType, parseDecimal, quoteIdent, quoteLiteral, type StructField } from './schema.ts';

/** A leaf column that gets stats: its path and type. */
interface Leaf {
  path: string[];
  type: DeltaDataType;
}

const MIN_MAX_TYPES = new Set(['byte', 'short', 'integer', 'long', 'float', 'double', 'string', 'date', 'timestamp', 'timestamp_ntz']);
const STRING_PREFIX = 32;

/** The leaf columns Spark collects stats for: the first `delta.dataSkippingNumIndexedCols` (default 32) leaves, or `delta.dataSkippingStatsColumns`. */
export function statsLeaves(dataFields: StructField[], configuration: Record<string, string>): Leaf[] {
  const all: Leaf[] = [];
  const walk = (fields: StructField[], prefix: string[]) => {
    for (const f of fields) {
      if (typeof f.type === 'object' && f.type.type === 'struct') walk(f.type.fields, [...prefix, f.name]);
      else all.push({ path: [...prefix, f.name], type: f.type });
    }
  };
  walk(dataFields, []);
  const explicit = configuration['delta.dataSkippingStatsColumns'];
  if (explicit !== undefined && explicit.trim() !== '') {
    const wanted = explicit.split(',').map((c) => c.trim().replaceAll('`', '').toLowerCase());
    return all.filter((l) => wanted.some((w) => l.path.join('.').toLowerCase() === w || l.path.join('.').toLowerCase().startsWith(`${w}.`)));
  }
  const n = Number(configuration['delta.dataSkippingNumIndexedCols'] ?? '32');
  if (!Number.isFinite(n) || n < 0) return all;
  return all.slice(0, n);
}

/** Spark's min-string truncation: a 32-char prefix that does not split a surrogate pair. */
export function truncateMinString(s: string, prefix = STRING_PREFIX): string {
  if (s.length <= prefix) return s;
  const hi = s.charCodeAt(prefix - 1);
  const lo = s.charCodeAt(prefix);
  if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) return s.slice(0, prefix + 1);
  return s.slice(0, prefix);
}

const UTF8_MAX = String.fromCodePoint(0x10ffff);

/**
 * Spark's max-string truncation: a prefix plus a tie-breaker (U+007F when the next char is below it,
 * else U+10FFFF) so the stored max stays >= every value; undefined when no short-enough bound exists.
 */
export function truncateMaxString(s: string, prefix = STRING_PREFIX): string | undefined {
  if (s.length <= prefix) return s;
  const limit = 2 * prefix;
  let len = truncateMinString(s, prefix).length;
  while (len <= limit) {
    if (len >= s.length) return s;
    if (len + 1 < s.length && s.slice(len, len + 2) === UTF8_MAX) {
      len += 2;
      continue;
    }
    return s.slice(0, len) + (s.charCodeAt(len) < 0x7f ? '\u007f' : UTF8_MAX);
  }
  return undefined;
}

function sqlPath(path: string[]): string {
  let e = quoteIdent(path[0] as string);
  for (const p of path.slice(1)) e = `struct_extract(${e}, ${quoteLiteral(p)})`;
  return e;
}

/** The SQL that renders min or max of a column in Delta's stats format (as VARCHAR), or undefined when the type has none. */
function minMaxSql(agg: 'min' | 'max', expr: string, type: DeltaDataType): string | undefined {
  if (typeof type !== 'string' || !(MIN_MAX_TYPES.has(type) || parseDecimal(type))) return undefined;
  const v = `${agg}(${expr})`;
  if (type === 'date') return `strftime(${v}, '%Y-%m-%d')`;
  // Spark truncates timestamp stats to milliseconds; %g truncates rather than rounds.
  if (type === 'timestamp') return `strftime(timezone('UTC', ${v}), '%Y-%m-%dT%H:%M:%S.%g') || 'Z'`;
  if (type === 'timestamp_ntz') return `strftime(${v}, '%Y-%m-%dT%H:%M:%S.%g')`;
  if (type === 'float' || type === 'double')
    return `CASE WHEN count(*) FILTER (WHERE isnan(${expr})) > 0 OR isinf(${v}) THEN NULL ELSE CAST(${v} AS VARCHAR) END`;
  return `CAST(${v} AS VARCHAR)`;
}

/** What DuckDB's `COPY ... RETURN_STATS` reported for one written file: its row count and per-column statistics. */
export interface CopyStats {
  count: number;
  /** Keyed by the quoted column name, as DuckDB reports it; values are min, max, null_count, ... as text. */
  columns: Map<string, Map<string, string>>;
}

/** Reads the `column_statistics` MAP of a RETURN_STATS row (in DuckDB's JSON row form). */
export function parseCopyStats(count: number, raw: unknown): CopyStats {
  const columns = new Map<string, Map<string, string>>();
  if (Array.isArray(raw)) {
    for (const entry of raw as { key?: unknown; value?: unknown }[]) {
      if (typeof entry?.key !== 'string' || !Array.isArray(entry.value)) continue;
      const values = new Map<string, string>();
      for (const kv of entry.value as { key?: unknown; value?: unknown }[]) {
        if (typeof kv?.key === 'string' && typeof kv.value === 'string') values.set(kv.key, kv.value);
      }
      columns.set(entry.key, values);
    }
  }
  return { count, columns };
}

const COPY_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([+-])(\d{2})(?::?(\d{2}))?$/;

/** A zoned timestamp as DuckDB prints it, in Delta's stats form (UTC, truncated to ms); undefined when unusual. */
function copyTimestamp(text: string): string | undefined {
  const m = COPY_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, sign, oh, om] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number((frac ?? '').padEnd(3, '0').slice(0, 3)));
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0)) * 60_000;
  const iso = new Date(local - offset).toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

/**
 * The stats of one top-level leaf taken from the COPY's own statistics, where they are exact in Delta's
 * terms: integers, dates, zoned timestamps, and strings short enough that no writer truncated them.
 * Undefined sends the leaf to the SQL pass (floats for NaN, decimals, nested and everything else).
 */
function leafFromCopy(leaf: Leaf, copy: CopyStats): { nc: string; mn?: string; mx?: string } | undefined {
  if (leaf.path.length !== 1 || typeof leaf.type !== 'string') return undefined;
  const col = copy.columns.get(quoteIdent(leaf.path[0] as string));
  const nc = col?.get('null_count');
  if (!col || nc === undefined || !/^\d+$/.test(nc)) return undefined;
  const type = leaf.type;
  const hasMinMax = MIN_MAX_TYPES.has(type) || parseDecimal(type) !== undefined;
  if (!hasMinMax) return type === 'boolean' || type === 'binary' ? { nc } : undefined;
  const mn = col.get('min');
  const mx = col.get('max');
  if (mn === undefined || mx === undefined) return Number(nc) === copy.count ? { nc } : undefined;
  if (['byte', 'short', 'integer', 'long'].includes(type)) return /^-?\d+$/.test(mn) && /^-?\d+$/.test(mx) ? { nc, mn, mx } : undefined;
  if (type === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(mn) && /^\d{4}-\d{2}-\d{2}$/.test(mx) ? { nc, mn, mx } : undefined;
  if (type === 'timestamp') {
    const a = copyTimestamp(mn);
    const b = copyTimestamp(mx);
    return a !== undefined && b !== undefined ? { nc, mn: a, mx: b } : undefined;
  }
  if (type === 'string') return mn.length <= STRING_PREFIX && mx.length <= STRING_PREFIX ? { nc, mn, mx } : undefined;
  return undefined;
}

/**
 * Computes Spark-format `add.stats` (numRecords, minValues, maxValues, nullCount) for one Parquet file we
 * wrote. With the statistics its COPY returned, only the leaves those cannot answer exactly are read back.
 */
export async function computeFileStats(
  con: DuckDBConnection,
  localFile: string,
  dataFields: StructField[],
  configuration: Record<string, string>,
  copy?: CopyStats,
): Promise<{ numRecords: number; stats: string }> {
  const leaves = statsLeaves(dataFields, configuration);
  const row: Record<string, unknown> = {};
  const select: string[] = copy ? [] : ['count(*) AS n'];
  leaves.forEach((leaf, i) => {
    const fast = copy ? leafFromCopy(leaf, copy) : undefined;
    if (fast) {
      row[`nc_${i}`] = fast.nc;
      if (fast.mn !== undefined) row[`mn_${i}`] = fast.mn;
      if (fast.mx !== undefined) row[`mx_${i}`] = fast.mx;
      return;
    }
    const e = sqlPath(leaf.path);
    select.push(`count(*) - count(${e}) AS nc_${i}`);
    const mn = minMaxSql('min', e, leaf.type);
    const mx = minMaxSql('max', e, leaf.type);
    if (mn && mx) select.push(`${mn} AS mn_${i}`, `${mx} AS mx_${i}`);
  });
  if (select.length > 0) Object.assign(row, (await queryRows(con, `SELECT ${select.join(', ')} FROM read_parquet(${quoteLiteral(localFile)})`))[0] ?? {});
  const numRecords = copy ? copy.count : Number(row.n);
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, unknown> = {};
  const setPath = (obj: Record<string, unknown>, path: string[], value: unknown) => {
    let cur = obj;
    for (const p of path.slice(0, -1)) {
      cur[p] ??= {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[path[path.length - 1] as string] = value;
  };
  leaves.forEach((leaf, i) => {
    setPath(nullCount, leaf.path, new LosslessNumber(String(row[`nc_${i}`])));
    const mn = row[`mn_${i}`];
    const mx = row[`mx_${i}`];
    if (mn === null || mn === undefined || mx === null || mx === undefined) return;
    const render = (text: string, which: 'min' | 'max'): unknown => {
      const t = leaf.type;
      if (t === 'string') return which === 'min' ? truncateMinString(text) : truncateMaxString(text);
      if (t === 'date' || t === 'timestamp' || t === 'timestamp_ntz') return text;
      if (t === 'float' || t === 'double') return new LosslessNumber(/^-?\d+$/.test(text) ? `${text}.0` : text);
      return new LosslessNumber(text);
    };
    const a = render(String(mn), 'min');
    const b = render(String(mx), 'max');
    if (a !== undefined) setPath(minValues, leaf.path, a);
    if (b !== undefined) setPath(maxValues, leaf.path, b);
  });
  return { numRecords, stats: stringifyJson({ numRecords, minValues, maxValues, nullCount }) };
}
