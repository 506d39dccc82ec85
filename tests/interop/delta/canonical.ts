// Canonical text form of a row value, shared with canonical.py: the two sides of the interop suite
// compare rows as lists of these strings, so no client's own number or time formatting is trusted.
import type { DeltaDataType, StructType } from '@weir/delta';

/** How a column's values are compared across Weir, delta-rs and Spark. */
export type ValueKind = 'int' | 'string' | 'decimal' | 'double' | 'timestamp' | 'date' | 'boolean';

/** One column of an expected-rows file. */
export interface ColumnKind {
  name: string;
  kind: ValueKind;
}

/** Rows a reader must return, with the column kinds that say how to compare them. */
export interface ExpectedRows {
  columns: ColumnKind[];
  rows: (string | null)[][];
}

/** Maps a Delta primitive type to the comparison kind (nested types are not used by the suite). */
export function kindOf(type: DeltaDataType): ValueKind {
  if (typeof type !== 'string') throw new Error(`interop suite compares primitive columns only, got ${JSON.stringify(type)}`);
  if (['byte', 'short', 'integer', 'long'].includes(type)) return 'int';
  if (type.startsWith('decimal')) return 'decimal';
  if (type === 'double' || type === 'float') return 'double';
  if (type === 'timestamp' || type === 'timestamp_ntz') return 'timestamp';
  if (type === 'date' || type === 'string' || type === 'boolean') return type;
  throw new Error(`no comparison kind for Delta type ${type}`);
}

/** Column kinds of a Delta schema. */
export function columnsOf(schema: StructType): ColumnKind[] {
  return schema.fields.map((f) => ({ name: f.name, kind: kindOf(f.type) }));
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** DuckDB expression giving the canonical text of a column (NULL stays NULL). */
export function canonicalSql(column: ColumnKind): string {
  const c = quote(column.name);
  switch (column.kind) {
    case 'timestamp':
      // Microseconds since the epoch: free of time zones and of each client's print format.
      return `CAST(epoch_us(${c}) AS VARCHAR)`;
    case 'date':
      return `strftime(${c}, '%Y-%m-%d')`;
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
    default:
      return `CAST(${c} AS VARCHAR)`;
  }
}

/** A SELECT turning `relation`'s rows into canonical text columns. */
export function canonicalSelect(relation: string, columns: ColumnKind[]): string {
  return `SELECT ${columns.map((c) => `${canonicalSql(c)} AS ${quote(c.name)}`).join(', ')} FROM (${relation})`;
}

/** Normalizes one canonical value for comparison (doubles compare by numeric value, NaN equal to NaN). */
export function normalizeValue(kind: ValueKind, value: string | null): string | null {
  if (value === null) return null;
  if (kind === 'double') {
    const n = Number(value.toLowerCase() === 'nan' ? Number.NaN : value.replace(/^inf/i, 'Infinity').replace(/^-inf/i, '-Infinity'));
    return Number.isNaN(n) ? 'NaN' : String(n);
  }
  // Compare decimal values, not scales (as canonical.py does): 1.00E-10 and 0.0000000001 are equal.
  if (kind === 'decimal' && value.includes('.')) return value.replace(/\.?0+$/, '') || '0';
  return value;
}

/** Rows normalized and sorted, so two readers' outputs compare as multisets. */
export function sortedRows(columns: ColumnKind[], rows: (string | null)[][]): string[] {
  return rows.map((r) => JSON.stringify(r.map((v, i) => normalizeValue((columns[i] as ColumnKind).kind, v)))).sort();
}
