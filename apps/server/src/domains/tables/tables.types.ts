import type { DeltaDataType, StructField, StructType } from '@weir/delta';
import { ucInvalid } from '../catalog/index.ts';

const PRIMITIVE_NAMES: Record<string, [typeName: string, typeText: string]> = {
  string: ['STRING', 'string'],
  long: ['LONG', 'bigint'],
  integer: ['INT', 'int'],
  short: ['SHORT', 'smallint'],
  byte: ['BYTE', 'tinyint'],
  float: ['FLOAT', 'float'],
  double: ['DOUBLE', 'double'],
  boolean: ['BOOLEAN', 'boolean'],
  binary: ['BINARY', 'binary'],
  date: ['DATE', 'date'],
  timestamp: ['TIMESTAMP', 'timestamp'],
  timestamp_ntz: ['TIMESTAMP_NTZ', 'timestamp_ntz'],
  void: ['NULL', 'void'],
};

// Spark SQL spellings (and UC type_name values) of each Delta primitive.
const TEXT_TO_DELTA: Record<string, string> = {
  string: 'string',
  varchar: 'string',
  text: 'string',
  bigint: 'long',
  long: 'long',
  int: 'integer',
  integer: 'integer',
  smallint: 'short',
  short: 'short',
  tinyint: 'byte',
  byte: 'byte',
  float: 'float',
  real: 'float',
  double: 'double',
  boolean: 'boolean',
  bool: 'boolean',
  binary: 'binary',
  date: 'date',
  timestamp: 'timestamp',
  timestamp_ntz: 'timestamp_ntz',
  timestamp_ltz: 'timestamp',
};

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** Spark SQL text of a Delta type (`bigint`, `array<int>`, `struct<a:int>`). */
export function typeText(t: DeltaDataType): string {
  if (typeof t === 'string') {
    if (DECIMAL.test(t)) return t.replace(/\s+/g, '');
    return PRIMITIVE_NAMES[t]?.[1] ?? t;
  }
  if (t.type === 'array') return `array<${typeText(t.elementType)}>`;
  if (t.type === 'map') return `map<${typeText(t.keyType)},${typeText(t.valueType)}>`;
  return `struct<${t.fields.map((f) => `${f.name}:${typeText(f.type)}`).join(',')}>`;
}

/** UC ColumnTypeName of a Delta type. */
export function typeNameOf(t: DeltaDataType): string {
  if (typeof t === 'string') return DECIMAL.test(t) || t === 'decimal' ? 'DECIMAL' : (PRIMITIVE_NAMES[t]?.[0] ?? 'USER_DEFINED_TYPE');
  return t.type === 'array' ? 'ARRAY' : t.type === 'map' ? 'MAP' : 'STRUCT';
}

/** The UC ColumnInfo list of a Delta schema (positions from 0, partition indexes as given). */
export function columnsOf(schema: StructType, partitionColumns: string[]) {
  return schema.fields.map((f, position) => {
    const dec = typeof f.type === 'string' ? DECIMAL.exec(f.type) : null;
    const comment = typeof f.metadata?.comment === 'string' ? f.metadata.comment : undefined;
    const partitionIndex = partitionColumns.indexOf(f.name);
    return {
      name: f.name,
      type_text: typeText(f.type),
      type_json: JSON.stringify({ name: f.name, type: f.type, nullable: f.nullable, metadata: f.metadata ?? {} }),
      type_name: typeNameOf(f.type),
      ...(dec ? { type_precision: Number(dec[1]), type_scale: Number(dec[2]) } : { type_precision: 0, type_scale: 0 }),
      position,
      nullable: f.nullable,
      ...(comment !== undefined ? { comment } : {}),
      ...(partitionIndex >= 0 ? { partition_index: partitionIndex } : {}),
    };
  });
}

/** Parses Spark SQL type text (`decimal(10,2)`, `array<struct<a:int>>`, `map<string,bigint>`) into a Delta type. */
export function parseTypeText(text: string, column: string): DeltaDataType {
  let pos = 0;
  const src = text.trim();
  const fail = (): never => {
    throw ucInvalid(`Column '${column}': unsupported type '${text.slice(0, 200)}'.`);
  };
  const skip = () => {
    while (src[pos] === ' ') pos++;
  };
  const word = () => {
    skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos));
    if (!m) return fail();
    pos += m[0].length;
    return m[0];
  };
  const expect = (ch: string) => {
    skip();
    if (src[pos] !== ch) fail();
    pos++;
  };
  const parse = (depth: number): DeltaDataType => {
    if (depth > 20) return fail();
    const w = word().toLowerCase();
    skip();
    if (w === 'decimal' || w === 'numeric' || w === 'dec') {
      if (src[pos] !== '(') return 'decimal(10,0)';
      const m = /^\(\s*(\d{1,2})\s*(?:,\s*(\d{1,2})\s*)?\)/.exec(src.slice(pos));
      if (!m) return fail();
      pos += m[0].length;
      return `decimal(${m[1]},${m[2] ?? '0'})`;
    }
    if (w === 'array') {
      expect('<');
      const elementType = parse(depth + 1);
      expect('>');
      return { type: 'array', elementType, containsNull: true };
    }
    if (w === 'map') {
      expect('<');
      const keyType = parse(depth + 1);
      expect(',');
      const valueType = parse(depth + 1);
      expect('>');
      return { type: 'map', keyType, valueType, valueContainsNull: true };
    }
    if (w === 'struct') {
      expect('<');
      const fields: StructField[] = [];
      skip();
      while (src[pos] !== '>') {
        const name = word();
        expect(':');
        fields.push({ name, type: parse(depth + 1), nullable: true, metadata: {} });
        skip();
        if (src[pos] === ',') pos++;
        else if (src[pos] !== '>') fail();
        skip();
      }
      pos++;
      return { type: 'struct', fields };
    }
    const primitive = TEXT_TO_DELTA[w];
    return primitive ?? fail();
  };
  const out = parse(0);
  skip();
  if (pos !== src.length) fail();
  return out;
}

/** A UC column as POST /tables sends it. */
export interface ColumnInput {
  name: string;
  type_text?: string | undefined;
  type_json?: string | undefined;
  type_name?: string | undefined;
  type_precision?: number | undefined;
  type_scale?: number | undefined;
  nullable?: boolean | undefined;
  comment?: string | undefined;
  position?: number | undefined;
  partition_index?: number | undefined;
}

/** Builds the Delta schema (and partition columns) from UC columns: `type_json` when it parses, else `type_text`, else `type_name`. */
export function schemaFromColumns(columns: ColumnInput[]): { schema: StructType; partitionColumns: string[] } {
  const ordered = [...columns].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const fields: StructField[] = ordered.map((c) => {
    let type: DeltaDataType | undefined;
    if (c.type_json) {
      try {
        const parsed = JSON.parse(c.type_json) as { type?: DeltaDataType };
        if (parsed && typeof parsed === 'object' && parsed.type !== undefined) type = parsed.type;
      } catch {
        // fall through to the text forms
      }
    }
    if (type === undefined && c.type_text) type = parseTypeText(c.type_text, c.name);
    if (type === undefined && c.type_name) {
      type =
        c.type_name.toUpperCase() === 'DECIMAL'
          ? `decimal(${c.type_precision ?? 10},${c.type_scale ?? 0})`
          : parseTypeText(c.type_name === 'INT' ? 'int' : c.type_name, c.name);
    }
    if (type === undefined) throw ucInvalid(`Column '${c.name}' needs type_text, type_json or type_name.`);
    return { name: c.name, type, nullable: c.nullable ?? true, metadata: c.comment ? { comment: c.comment } : {} };
  });
  const partitionColumns = ordered
    .filter((c) => c.partition_index !== undefined && c.partition_index !== null)
    .sort((a, b) => (a.partition_index ?? 0) - (b.partition_index ?? 0))
    .map((c) => c.name);
  return { schema: { type: 'struct', fields }, partitionColumns };
}

/** The DuckDB type a Delta type is read as (timestamp is TIMESTAMPTZ, timestamp_ntz is TIMESTAMP). */
export function duckTypeOfDelta(t: DeltaDataType): string {
  if (typeof t === 'string') {
    const dec = DECIMAL.exec(t);
    if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
    const map: Record<string, string> = {
      string: 'VARCHAR',
      long: 'BIGINT',
      integer: 'INTEGER',
      short: 'SMALLINT',
      byte: 'TINYINT',
      float: 'FLOAT',
      double: 'DOUBLE',
      boolean: 'BOOLEAN',
      binary: 'BLOB',
      date: 'DATE',
      timestamp: 'TIMESTAMPTZ',
      timestamp_ntz: 'TIMESTAMP',
      void: 'INTEGER',
    };
    return map[t] ?? 'VARCHAR';
  }
  if (t.type === 'struct') return `STRUCT(${t.fields.map((f) => `"${f.name.replaceAll('"', '""')}" ${duckTypeOfDelta(f.type)}`).join(', ')})`;
  if (t.type === 'array') return `${duckTypeOfDelta(t.elementType)}[]`;
  return `MAP(${duckTypeOfDelta(t.keyType)}, ${duckTypeOfDelta(t.valueType)})`;
}
