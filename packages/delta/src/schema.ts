import type { DuckDBType } from '@duckdb/node-api';
// The enum alone, from its own module: the package's index loads the native library (about 27 MB resident),
// which a process that only reads Delta metadata never needs.
import { DuckDBTypeId } from '@duckdb/node-api/lib/DuckDBTypeId.js';
import { DeltaSchemaError } from './errors.ts';

/** A Delta (Spark) data type as it appears in `schemaString`. */
export type DeltaDataType = string | StructType | ArrayType | MapType;

/** A field of a Spark StructType. */
export interface StructField {
  name: string;
  type: DeltaDataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

/** Spark StructType JSON: the table schema. */
export interface StructType {
  type: 'struct';
  fields: StructField[];
}

/** Spark ArrayType JSON. */
export interface ArrayType {
  type: 'array';
  elementType: DeltaDataType;
  containsNull: boolean;
}

/** Spark MapType JSON. */
export interface MapType {
  type: 'map';
  keyType: DeltaDataType;
  valueType: DeltaDataType;
  valueContainsNull: boolean;
}

const PRIMITIVES = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
  'void',
]);

/** Parses and validates `metaData.schemaString`. */
export function parseSchemaString(schemaString: string): StructType {
  if (typeof schemaString !== 'string') throw new DeltaSchemaError('metaData has no schemaString');
  let parsed: unknown;
  try {
    parsed = JSON.parse(schemaString);
  } catch (e) {
    throw new DeltaSchemaError(`schemaString is not JSON: ${(e as Error).message}`);
  }
  const t = parsed as StructType;
  if (t?.type !== 'struct' || !Array.isArray(t.fields)) throw new DeltaSchemaError('schemaString is not a struct type');
  return t;
}

/** True for a `decimal(p,s)` type name. */
export function parseDecimal(t: DeltaDataType): { precision: number; scale: number } | undefined {
  if (typeof t !== 'string') return undefined;
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (m) return { precision: Number(m[1]), scale: Number(m[2]) };
  if (t === 'decimal') return { precision: 10, scale: 0 };
  return undefined;
}

/** Double-quotes an SQL identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Single-quotes an SQL string literal for DuckDB. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The DuckDB type a Delta type is read as and written from (timestamp is TIMESTAMPTZ: DuckDB TIMESTAMP is NTZ in Parquet). */
export function duckTypeOf(t: DeltaDataType): string {
  if (typeof t === 'string') {
    const dec = parseDecimal(t);
    if (dec) return `DECIMAL(${dec.precision},${dec.scale})`;
    switch (t) {
      case 'string':
        return 'VARCHAR';
      case 'long':
        return 'BIGINT';
      case 'integer':
        return 'INTEGER';
      case 'short':
        return 'SMALLINT';
      case 'byte':
        return 'TINYINT';
      case 'float':
        return 'FLOAT';
      case 'double':
        return 'DOUBLE';
      case 'boolean':
        return 'BOOLEAN';
      case 'binary':
        return 'BLOB';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'TIMESTAMPTZ';
      case 'timestamp_ntz':
        return 'TIMESTAMP';
      // A void column is never materialised; any nullable type works for its all-null values.
      case 'void':
        return 'INTEGER';
      default:
        throw new DeltaSchemaError(`unsupported Delta type: ${t}`);
    }
  }
  if (t.type === 'struct') return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckTypeOf(f.type)}`).join(', ')})`;
  if (t.type === 'array') return `${duckTypeOf(t.elementType)}[]`;
  if (t.type === 'map') return `MAP(${duckTypeOf(t.keyType)}, ${duckTypeOf(t.valueType)})`;
  throw new DeltaSchemaError(`unsupported Delta type: ${JSON.stringify(t)}`);
}

/** Maps a DuckDB result type to the Delta type it is stored as; refuses types Delta has no home for. */
export function deltaTypeFromDuck(t: DuckDBType, column: string): DeltaDataType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.TINYINT:
      return 'byte';
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return 'short';
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return 'integer';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return 'long';
    case DuckDBTypeId.UBIGINT:
      return 'decimal(20,0)';
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.INTEGER_LITERAL:
      return 'decimal(38,0)';
    case DuckDBTypeId.FLOAT:
      return 'float';
    case DuckDBTypeId.DOUBLE:
      return 'double';
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return `decimal(${d.width},${d.scale})`;
    }
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.STRING_LITERAL:
      return 'string';
    case DuckDBTypeId.BLOB:
      return 'binary';
    case DuckDBTypeId.DATE:
      return 'date';
    // Naive DuckDB timestamps are taken as UTC wall clock and stored as Delta `timestamp` (reader 1);
    // creating a timestamp_ntz column would silently force protocol (3,7).
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamp';
    case DuckDBTypeId.SQLNULL:
      return 'string';
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const l = t as unknown as { valueType: DuckDBType };
      return { type: 'array', elementType: deltaTypeFromDuck(l.valueType, `${column}.element`), containsNull: true };
    }
    case DuckDBTypeId.MAP: {
      const m = t as unknown as { keyType: DuckDBType; valueType: DuckDBType };
      return {
        type: 'map',
        keyType: deltaTypeFromDuck(m.keyType, `${column}.key`),
        valueType: deltaTypeFromDuck(m.valueType, `${column}.value`),
        valueContainsNull: true,
      };
    }
    case DuckDBTypeId.STRUCT: {
      const s = t as unknown as { entryNames: readonly string[]; entryTypes: readonly DuckDBType[] };
      return {
        type: 'struct',
        fields: s.entryNames.map((name, i) => ({
          name,
          type: deltaTypeFromDuck(s.entryTypes[i] as DuckDBType, `${column}.${name}`),
          nullable: true,
          metadata: {},
        })),
      };
    }
    default:
      throw new DeltaSchemaError(`column ${column}: DuckDB type ${t.toString()} has no Delta equivalent`);
  }
}

const INTEGRAL = ['byte', 'short', 'integer', 'long'];
const isNumeric = (t: DeltaDataType) => typeof t === 'string' && (INTEGRAL.includes(t) || t === 'float' || t === 'double' || parseDecimal(t) !== undefined);
const isTimestamp = (t: DeltaDataType) => t === 'timestamp' || t === 'timestamp_ntz';

/**
 * Whether input of type `from` may be stored in a column of type `to` (DuckDB casts it, and raises on overflow).
 * Numbers go into numbers and timestamps into timestamps, as Spark's store assignment allows; nothing else converts.
 */
export function canStore(from: DeltaDataType, to: DeltaDataType): boolean {
  if (typeof from === 'string' && typeof to === 'string') {
    if (from === to) return true;
    if (isNumeric(from) && isNumeric(to)) return true;
    if (isTimestamp(from) && isTimestamp(to)) return true;
    return false;
  }
  if (typeof from === 'string' || typeof to === 'string') return false;
  if (from.type === 'array' && to.type === 'array') return canStore(from.elementType, to.elementType);
  if (from.type === 'map' && to.type === 'map') return canStore(from.keyType, to.keyType) && canStore(from.valueType, to.valueType);
  if (from.type === 'struct' && to.type === 'struct') {
    return from.fields.every((f) => {
      const target = to.fields.find((g) => g.name.toLowerCase() === f.name.toLowerCase());
      return target !== undefined && canStore(f.type, target.type);
    });
  }
  return false;
}

/** Human-readable type name for error messages. */
export function typeName(t: DeltaDataType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'array') return `array<${typeName(t.elementType)}>`;
  if (t.type === 'map') return `map<${typeName(t.keyType)},${typeName(t.valueType)}>`;
  return `struct<${t.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',')}>`;
}

/** Checks a new table schema: known types, unique names (case-insensitively), names Spark accepts without column mapping. */
export function validateSchema(schema: StructType, where = ''): void {
  const seen = new Set<string>();
  for (const f of schema.fields) {
    const full = where ? `${where}.${f.name}` : f.name;
    if (!f.name) throw new DeltaSchemaError('empty column name');
    if (/[ ,;{}()\n\t=]/.test(f.name))
      throw new DeltaSchemaError(`column name "${full}" has a character Spark refuses without column mapping (one of " ,;{}()\\n\\t=")`);
    if (seen.has(f.name.toLowerCase())) throw new DeltaSchemaError(`duplicate column name "${full}"`);
    seen.add(f.name.toLowerCase());
    validateType(f.type, full);
  }
}

function validateType(t: DeltaDataType, where: string): void {
  if (typeof t === 'string') {
    if (!PRIMITIVES.has(t) && !parseDecimal(t)) throw new DeltaSchemaError(`column ${where}: unsupported type "${t}"`);
    const dec = parseDecimal(t);
    if (dec && (dec.precision < 1 || dec.precision > 38 || dec.scale > dec.precision)) throw new DeltaSchemaError(`column ${where}: invalid ${t}`);
    return;
  }
  if (t.type === 'struct') validateSchema(t, where);
  else if (t.type === 'array') validateType(t.elementType, `${where}.element`);
  else if (t.type === 'map') {
    validateType(t.keyType, `${where}.key`);
    validateType(t.valueType, `${where}.value`);
  } else throw new DeltaSchemaError(`column ${where}: unsupported type ${JSON.stringify(t)}`);
}

/** Adds the fields of `incoming` that `current` lacks (mergeSchema); existing fields keep their type. */
export function mergeSchemas(current: StructType, incoming: StructType): StructType {
  const fields = current.fields.map((f) => ({ ...f }));
  for (const inc of incoming.fields) {
    const i = fields.findIndex((f) => f.name.toLowerCase() === inc.name.toLowerCase());
    const existing = fields[i];
    if (!existing) {
      fields.push({ ...inc, nullable: true });
      continue;
    }
    if (typeof existing.type === 'object' && existing.type.type === 'struct' && typeof inc.type === 'object' && inc.type.type === 'struct') {
      fields[i] = { ...existing, type: mergeSchemas(existing.type, inc.type) };
    }
  }
  return { type: 'struct', fields };
}

/** Finds a top-level field by name, case-insensitively as Spark does. */
export function findField(schema: StructType, name: string): StructField | undefined {
  return schema.fields.find((f) => f.name === name) ?? schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
}
