import type { DuckDBConnection } from '@duckdb/node-api';
import type { AddFile } from './actions.ts';
import { DeltaInvalidOperationError } from './errors.ts';
import { LosslessNumber, parseJsonLossless } from './json.ts';
import { type DeltaDataType, parseDecimal, type StructType } from './schema.ts';
import { compareDecimalText, parseDate, parseTimestamp } from './values.ts';

/** A literal from a predicate, as text, with what kind of SQL constant it was. */
interface Literal {
  kind: 'number' | 'string' | 'boolean' | 'null';
  text: string;
}

type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** The part of a SQL predicate that data skipping understands; everything else is `unknown` (may match). */
export type PredicateNode =
  | { kind: 'and' | 'or'; children: PredicateNode[] }
  | { kind: 'cmp'; op: CmpOp; column: string[]; literal: Literal }
  | { kind: 'null'; column: string[]; negated: boolean }
  | { kind: 'const'; value: boolean | null }
  | { kind: 'unknown' };

type Ast = Record<string, unknown>;

/** Parses a DuckDB SQL boolean expression (via json_serialize_sql) into a skipping tree; bad SQL is an error. */
export async function parsePredicate(con: DuckDBConnection, predicate: string): Promise<PredicateNode> {
  const stmt = await con.prepare(`SELECT json_serialize_sql('SELECT 1 WHERE ' || $1) AS j`);
  stmt.bindVarchar(1, predicate);
  const rows = (await stmt.runAndReadAll()).getRowObjectsJS() as Record<string, unknown>[];
  const json = parseJsonLossless(String(rows[0]?.j)) as Ast;
  if (json.error) throw new DeltaInvalidOperationError(`invalid predicate "${predicate}": ${String(json.error_message ?? 'parse error')}`);
  const statements = json.statements as Ast[];
  const where = (statements[0]?.node as Ast | undefined)?.where_clause as Ast | undefined;
  if (statements.length !== 1 || !where) throw new DeltaInvalidOperationError(`invalid predicate "${predicate}"`);
  return convert(where);
}

function convert(e: Ast): PredicateNode {
  const type = String(e.type);
  const children = (e.children as Ast[] | undefined) ?? [];
  switch (type) {
    case 'CONJUNCTION_AND':
      return { kind: 'and', children: children.map(convert) };
    case 'CONJUNCTION_OR':
      return { kind: 'or', children: children.map(convert) };
    case 'OPERATOR_NOT':
      return children[0] ? negate(convert(children[0])) : { kind: 'unknown' };
    case 'OPERATOR_IS_NULL':
    case 'OPERATOR_IS_NOT_NULL': {
      const col = columnOf(children[0]);
      return col ? { kind: 'null', column: col, negated: type === 'OPERATOR_IS_NOT_NULL' } : { kind: 'unknown' };
    }
    case 'COMPARE_BETWEEN': {
      const col = columnOf(e.input as Ast);
      const lo = literalOf(e.lower as Ast);
      const hi = literalOf(e.upper as Ast);
      if (!col || !lo || !hi) return { kind: 'unknown' };
      return { kind: 'and', children: [cmp('>=', col, lo), cmp('<=', col, hi)] };
    }
    case 'COMPARE_IN': {
      const col = columnOf(children[0]);
      const lits = children.slice(1).map(literalOf);
      if (!col || lits.some((l) => !l)) return { kind: 'unknown' };
      return { kind: 'or', children: lits.map((l) => cmp('=', col, l as Literal)) };
    }
    case 'COMPARE_NOT_IN': {
      const col = columnOf(children[0]);
      const lits = children.slice(1).map(literalOf);
      if (!col || lits.some((l) => !l)) return { kind: 'unknown' };
      return { kind: 'and', children: lits.map((l) => cmp('<>', col, l as Literal)) };
    }
    case 'VALUE_CONSTANT': {
      const lit = literalOf(e);
      if (lit?.kind === 'boolean') return { kind: 'const', value: lit.text === 'true' };
      if (lit?.kind === 'null') return { kind: 'const', value: null };
      return { kind: 'unknown' };
    }
  }
  const op = COMPARISONS[type];
  if (op) {
    const l = e.left as Ast;
    const r = e.right as Ast;
    const lc = columnOf(l);
    const rl = literalOf(r);
    if (lc && rl) return cmp(op, lc, rl);
    const rc = columnOf(r);
    const ll = literalOf(l);
    if (rc && ll) return cmp(FLIP[op], rc, ll);
  }
  return { kind: 'unknown' };
}

const COMPARISONS: Record<string, CmpOp> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const FLIP: Record<CmpOp, CmpOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const NEGATE: Record<CmpOp, CmpOp> = { '=': '<>', '<>': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

function cmp(op: CmpOp, column: string[], literal: Literal): PredicateNode {
  // `col = NULL` is never true.
  if (literal.kind === 'null') return { kind: 'const', value: null };
  return { kind: 'cmp', op, column, literal };
}

function negate(n: PredicateNode): PredicateNode {
  switch (n.kind) {
    case 'and':
      return { kind: 'or', children: n.children.map(negate) };
    case 'or':
      return { kind: 'and', children: n.children.map(negate) };
    case 'cmp':
      return { ...n, op: NEGATE[n.op] };
    case 'null':
      return { ...n, negated: !n.negated };
    case 'const':
      return { kind: 'const', value: n.value === null ? null : !n.value };
    default:
      return n;
  }
}

function columnOf(e: Ast | undefined): string[] | undefined {
  if (e?.type !== 'COLUMN_REF') return undefined;
  return (e.column_names as string[]).map(String);
}

function literalOf(e: Ast | undefined): Literal | undefined {
  if (!e) return undefined;
  if (e.type === 'OPERATOR_CAST') {
    const inner = literalOf(e.child as Ast);
    if (!inner || e.try_cast) return undefined;
    const target = String((e.cast_type as Ast | undefined)?.id);
    if (inner.kind === 'null') return inner;
    if (target === 'BOOLEAN') {
      const t = inner.text.toLowerCase();
      if (['t', 'true', '1'].includes(t)) return { kind: 'boolean', text: 'true' };
      if (['f', 'false', '0'].includes(t)) return { kind: 'boolean', text: 'false' };
      return undefined;
    }
    if (['DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_TZ', 'VARCHAR'].includes(target)) return { kind: 'string', text: inner.text };
    if (
      ['INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT', 'DECIMAL', 'HUGEINT'].includes(target) &&
      /^[+-]?\d+(\.\d+)?$/.test(inner.text.trim())
    ) {
      return { kind: 'number', text: inner.text.trim() };
    }
    return undefined;
  }
  if (e.type !== 'VALUE_CONSTANT') return undefined;
  const v = e.value as Ast;
  if (v.is_null) return { kind: 'null', text: '' };
  const typeId = String((v.type as Ast).id);
  const raw = v.value;
  switch (typeId) {
    case 'VARCHAR':
      return { kind: 'string', text: String(raw) };
    case 'BOOLEAN':
      return { kind: 'boolean', text: String(raw === true || (raw instanceof LosslessNumber && raw.text !== '0')) };
    case 'TINYINT':
    case 'SMALLINT':
    case 'INTEGER':
    case 'BIGINT':
    case 'UTINYINT':
    case 'USMALLINT':
    case 'UINTEGER':
    case 'UBIGINT':
      return raw instanceof LosslessNumber ? { kind: 'number', text: raw.text } : undefined;
    case 'DOUBLE':
    case 'FLOAT':
      return raw instanceof LosslessNumber ? { kind: 'number', text: raw.text } : undefined;
    case 'DECIMAL': {
      const rawScale = ((v.type as Ast).type_info as Ast | undefined)?.scale;
      const scale = rawScale instanceof LosslessNumber ? rawScale.toNumber() : 0;
      const digits = integerText(raw);
      return digits === undefined ? undefined : { kind: 'number', text: shiftDecimal(digits, scale) };
    }
    case 'HUGEINT': {
      const digits = integerText(raw);
      return digits === undefined ? undefined : { kind: 'number', text: digits };
    }
  }
  return undefined;
}

/** An integer constant as text: a plain number, or DuckDB's 128-bit `{upper, lower}` form (wide decimals, HUGEINT). */
function integerText(raw: unknown): string | undefined {
  if (raw instanceof LosslessNumber) return raw.text;
  const h = raw as { upper?: unknown; lower?: unknown } | null;
  if (h && h.upper instanceof LosslessNumber && h.lower instanceof LosslessNumber) return String(BigInt(h.upper.text) * 2n ** 64n + BigInt(h.lower.text));
  return undefined;
}

function shiftDecimal(intText: string, scale: number): string {
  if (scale === 0) return intText;
  const neg = intText.startsWith('-');
  const digits = (neg ? intText.slice(1) : intText).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Stats of one column in one file, as comparable values. */
interface ColumnStats {
  type: DeltaDataType;
  min?: unknown;
  max?: unknown;
  nullCount?: number;
  numRecords?: number;
  /** Max was truncated to milliseconds (JSON timestamp stats): the true max may be up to 999 µs above. */
  maxTruncatedMs?: boolean;
}

const statsCache = new WeakMap<AddFile, Record<string, unknown> | null>();

/** The file's stats object (from `stats` JSON, else the checkpoint's `stats_parsed`), parsed without precision loss. */
export function fileStats(file: AddFile): Record<string, unknown> | null {
  let s = statsCache.get(file);
  if (s !== undefined) return s;
  s = null;
  if (typeof file.stats === 'string' && file.stats !== '') {
    try {
      s = parseJsonLossless(file.stats) as Record<string, unknown>;
    } catch {
      s = null;
    }
  } else if (file.statsParsed && typeof file.statsParsed === 'object') s = file.statsParsed as Record<string, unknown>;
  statsCache.set(file, s);
  return s;
}

/** Row count from stats, if recorded. */
export function numRecordsOf(file: AddFile): number | undefined {
  const n = fileStats(file)?.numRecords;
  return n instanceof LosslessNumber ? n.toNumber() : typeof n === 'number' ? n : undefined;
}

/** Options for resolving column references in a predicate. */
export interface SkippingScope {
  schema: StructType;
  partitionColumns: string[];
  /** Alias of the table in the predicate (e.g. MERGE's target alias); references through it are table columns. */
  alias?: string;
  /** Other aliases (e.g. MERGE's source): references through them are unknown. */
  foreignAliases?: string[];
}

/** True unless stats and partition values prove that no row of `file` can satisfy the predicate. */
export function fileMayMatch(node: PredicateNode, file: AddFile, scope: SkippingScope): boolean {
  return evaluate(node, (col) => columnStats(col, file, scope));
}

function evaluate(node: PredicateNode, stats: (col: string[]) => ColumnStats | undefined): boolean {
  switch (node.kind) {
    case 'and':
      return node.children.every((c) => evaluate(c, stats));
    case 'or':
      return node.children.some((c) => evaluate(c, stats));
    case 'const':
      return node.value === true;
    case 'unknown':
      return true;
    case 'null': {
      const s = stats(node.column);
      if (!s || s.nullCount === undefined) return true;
      if (!node.negated) return s.nullCount > 0;
      return s.numRecords === undefined || s.nullCount < s.numRecords;
    }
    case 'cmp':
      return compareMayMatch(node.op, node.literal, stats(node.column));
  }
}

function compareMayMatch(op: CmpOp, literal: Literal, s: ColumnStats | undefined): boolean {
  if (!s) return true;
  if (s.nullCount !== undefined && s.numRecords !== undefined && s.numRecords > 0 && s.nullCount >= s.numRecords) return false;
  if (s.numRecords === 0) return false;
  const lit = literalRange(s.type, literal);
  if (!lit) return true;
  const cmpFn = comparatorFor(s.type);
  const min = s.min !== undefined ? toComparable(s.type, s.min) : undefined;
  let max = s.max !== undefined ? toComparable(s.type, s.max) : undefined;
  if (max !== undefined && s.maxTruncatedMs && typeof max === 'bigint') max += 999n;
  // DuckDB orders NaN above every number, and some writers leave NaN out of stats: never prune floats by max.
  const isFloat = s.type === 'float' || s.type === 'double';
  const hiBound = max !== undefined && !isFloat ? max : undefined;
  switch (op) {
    case '=':
      if (min !== undefined && cmpFn(lit.hi, min) < 0) return false;
      if (hiBound !== undefined && cmpFn(lit.lo, hiBound) > 0) return false;
      return true;
    case '<':
      return !(min !== undefined && cmpFn(min, lit.hi) >= 0);
    case '<=':
      return !(min !== undefined && cmpFn(min, lit.hi) > 0);
    case '>':
      return !(hiBound !== undefined && cmpFn(hiBound, lit.lo) <= 0);
    case '>=':
      return !(hiBound !== undefined && cmpFn(hiBound, lit.lo) < 0);
    case '<>':
      if (min !== undefined && hiBound !== undefined && cmpFn(min, hiBound) === 0 && cmpFn(lit.lo, lit.hi) === 0 && cmpFn(min, lit.lo) === 0) {
        // Every non-null value equals the literal, and a truncated max could hide others.
        return s.maxTruncatedMs === true;
      }
      return true;
  }
}

type Comparable = string | number | bigint;

function comparatorFor(t: DeltaDataType): (a: Comparable, b: Comparable) => number {
  if (t === 'byte' || t === 'short' || t === 'integer' || t === 'long' || parseDecimal(t)) return (a, b) => compareDecimalText(String(a), String(b));
  if (t === 'string' || t === 'binary') return (a, b) => compareCodePoints(String(a), String(b));
  return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
}

/** Compares strings by code point (the UTF-8 byte order Spark and DuckDB use), not UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

const ZONE_SLACK = 14n * 3600n * 1_000_000n;

function literalRange(t: DeltaDataType, lit: Literal): { lo: Comparable; hi: Comparable } | undefined {
  const one = (v: Comparable | undefined) => (v === undefined ? undefined : { lo: v, hi: v });
  if (t === 'string') return lit.kind === 'string' ? one(lit.text) : undefined;
  if (t === 'boolean') {
    if (lit.kind === 'boolean') return one(lit.text === 'true' ? 1 : 0);
    return undefined;
  }
  if (t === 'date') {
    if (lit.kind !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(lit.text.trim())) return undefined;
    return one(parseDate(lit.text));
  }
  if (t === 'timestamp' || t === 'timestamp_ntz') {
    if (lit.kind !== 'string') return undefined;
    const ts = parseTimestamp(lit.text);
    if (!ts) return undefined;
    // A zoneless literal compared with a zoned column is read in the session zone, which we do not know.
    if (t === 'timestamp' && !ts.zoned) return { lo: ts.micros - ZONE_SLACK, hi: ts.micros + ZONE_SLACK };
    return one(ts.micros);
  }
  if (t === 'float' || t === 'double') {
    if (lit.kind !== 'number' && lit.kind !== 'string') return undefined;
    const n = Number(lit.text);
    return Number.isNaN(n) ? undefined : one(n);
  }
  if (t === 'byte' || t === 'short' || t === 'integer' || t === 'long' || parseDecimal(t)) {
    if (lit.kind !== 'number' && lit.kind !== 'string') return undefined;
    return /^[+-]?\d+(\.\d+)?$/.test(lit.text.trim()) ? one(lit.text.trim()) : undefined;
  }
  return undefined;
}

function toComparable(t: DeltaDataType, raw: unknown): Comparable | undefined {
  if (raw === null || raw === undefined) return undefined;
  const text =
    raw instanceof LosslessNumber
      ? raw.text
      : typeof raw === 'string'
        ? raw
        : typeof raw === 'number' || typeof raw === 'bigint'
          ? String(raw)
          : typeof raw === 'boolean'
            ? String(raw)
            : undefined;
  if (text === undefined) return undefined;
  if (t === 'string' || t === 'binary') return typeof raw === 'string' ? raw : undefined;
  if (t === 'boolean') return text === 'true' ? 1 : text === 'false' ? 0 : undefined;
  if (t === 'date') return parseDate(text);
  if (t === 'timestamp' || t === 'timestamp_ntz') return parseTimestamp(text)?.micros;
  if (t === 'float' || t === 'double') {
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  if (t === 'byte' || t === 'short' || t === 'integer' || t === 'long' || parseDecimal(t)) {
    return /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ? (/[eE]/.test(text) ? String(Number(text)) : text) : undefined;
  }
  return undefined;
}

function resolve(scope: SkippingScope, column: string[]): { path: string[]; type: DeltaDataType; partition: string | undefined } | undefined {
  let path = column;
  const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (path.length > 1) {
    const head = path[0] as string;
    if (scope.foreignAliases?.some((a) => eq(a, head))) return undefined;
    if (scope.alias && eq(scope.alias, head)) path = path.slice(1);
  }
  let fields = scope.schema.fields;
  let type: DeltaDataType | undefined;
  const out: string[] = [];
  for (const part of path) {
    const f = fields.find((x) => x.name === part) ?? fields.find((x) => eq(x.name, part));
    if (!f) return undefined;
    out.push(f.name);
    type = f.type;
    fields = typeof f.type === 'object' && f.type.type === 'struct' ? f.type.fields : [];
  }
  if (type === undefined) return undefined;
  const partition = out.length === 1 ? scope.partitionColumns.find((p) => eq(p, out[0] as string)) : undefined;
  return { path: out, type, partition };
}

function columnStats(column: string[], file: AddFile, scope: SkippingScope): ColumnStats | undefined {
  const r = resolve(scope, column);
  if (!r || typeof r.type !== 'string') return undefined;
  const stats = fileStats(file);
  const numRecords = numRecordsOf(file);
  if (r.partition !== undefined) {
    const pv = file.partitionValues;
    const key = Object.keys(pv).find((k) => k === r.partition) ?? Object.keys(pv).find((k) => k.toLowerCase() === (r.partition as string).toLowerCase());
    const value = key === undefined ? null : (pv[key] ?? null);
    const isNull = value === null || value === '';
    let v: unknown = value;
    if (!isNull && r.type === 'timestamp') v = parseTimestamp(value as string) ? value : undefined;
    const out: ColumnStats = { type: r.type, nullCount: isNull ? Number.MAX_SAFE_INTEGER : 0 };
    if (numRecords !== undefined) out.nullCount = isNull ? numRecords : 0;
    out.numRecords = numRecords ?? (isNull ? Number.MAX_SAFE_INTEGER : undefined);
    if (!isNull && v !== undefined) {
      out.min = v;
      out.max = v;
    }
    return out;
  }
  if (!stats) return undefined;
  const dig = (obj: unknown): unknown => {
    let cur = obj;
    for (const p of r.path) {
      if (!cur || typeof cur !== 'object') return undefined;
      const o = cur as Record<string, unknown>;
      cur = p in o ? o[p] : o[Object.keys(o).find((k) => k.toLowerCase() === p.toLowerCase()) ?? ''];
    }
    return cur;
  };
  const nc = dig(stats.nullCount);
  const out: ColumnStats = { type: r.type };
  if (numRecords !== undefined) out.numRecords = numRecords;
  if (nc instanceof LosslessNumber) out.nullCount = nc.toNumber();
  else if (typeof nc === 'number') out.nullCount = nc;
  const min = dig(stats.minValues);
  const max = dig(stats.maxValues);
  if (min !== undefined && min !== null && typeof min !== 'object') out.min = min;
  else if (min instanceof LosslessNumber) out.min = min;
  if (max !== undefined && max !== null && typeof max !== 'object') out.max = max;
  else if (max instanceof LosslessNumber) out.max = max;
  if (r.type === 'timestamp' || r.type === 'timestamp_ntz') out.maxTruncatedMs = true;
  return out;
}

/** Files that may hold rows matching `predicate` (all files when it is undefined). */
export function pruneFiles(files: AddFile[], node: PredicateNode | undefined, scope: SkippingScope): AddFile[] {
  if (!node) return files;
  return files.filter((f) => fileMayMatch(node, f, scope));
}
