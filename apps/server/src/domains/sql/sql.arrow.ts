import type { DataType } from 'apache-arrow';
import type { ResultColumn } from './sql.statements.ts';
import { SqlError } from './sql.text.ts';

type ArrowModule = typeof import('apache-arrow');
let arrowModule: Promise<ArrowModule> | undefined;

/** apache-arrow is loaded on the first ARROW_STREAM result: most servers never need it, and it costs ~18 MB resident. */
function loadArrow(): Promise<ArrowModule> {
  arrowModule ??= import('apache-arrow');
  return arrowModule;
}

/**
 * How one result column travels in an Arrow IPC stream. Scalars get their native Arrow type; nested values,
 * intervals and binaries travel as the same text JSON_ARRAY shows (DuckDB's text of a BLOB is not reversible).
 */
type Encoding =
  | { kind: 'int'; bits: 8 | 16 | 32 }
  | { kind: 'long' }
  | { kind: 'float'; bits: 32 | 64 }
  | { kind: 'bool' }
  | { kind: 'date' }
  | { kind: 'timestamp'; zoned: boolean }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'text' };

function encodingOf(c: ResultColumn): Encoding {
  switch (c.type_name) {
    case 'BYTE':
      return { kind: 'int', bits: 8 };
    case 'SHORT':
      return { kind: 'int', bits: 16 };
    case 'INT':
      return { kind: 'int', bits: 32 };
    case 'LONG':
      return { kind: 'long' };
    case 'FLOAT':
      return { kind: 'float', bits: 32 };
    case 'DOUBLE':
      return { kind: 'float', bits: 64 };
    case 'BOOLEAN':
      return { kind: 'bool' };
    case 'DATE':
      return { kind: 'date' };
    case 'TIMESTAMP':
      return { kind: 'timestamp', zoned: c.type_text !== 'timestamp_ntz' };
    case 'DECIMAL': {
      const m = /^decimal\((\d+),(\d+)\)$/.exec(c.type_text);
      const precision = c.type_precision ?? (m ? Number(m[1]) : undefined);
      const scale = c.type_scale ?? (m ? Number(m[2]) : undefined);
      if (precision !== undefined && scale !== undefined && precision <= 38) return { kind: 'decimal', precision, scale };
      return { kind: 'text' };
    }
    default:
      return { kind: 'text' };
  }
}

function arrowType(A: ArrowModule, e: Encoding): DataType {
  switch (e.kind) {
    case 'int':
      return e.bits === 8 ? new A.Int8() : e.bits === 16 ? new A.Int16() : new A.Int32();
    case 'long':
      return new A.Int64();
    case 'float':
      return e.bits === 32 ? new A.Float32() : new A.Float64();
    case 'bool':
      return new A.Bool();
    case 'date':
      return new A.DateDay();
    case 'timestamp':
      // Databricks sends zoned timestamps in UTC; the engine's session zone is UTC as well.
      return new A.TimestampMicrosecond(e.zoned ? 'UTC' : null);
    case 'decimal':
      return new A.Decimal(e.scale, e.precision, 128);
    case 'text':
      return new A.Utf8();
  }
}

/** Days since 1970-01-01 of a proleptic Gregorian date (integer arithmetic, so any year DuckDB can hold works). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

const DATE_TEXT = /^(-?\d+)-(\d\d)-(\d\d)( \(BC\))?$/;
const TIMESTAMP_TEXT = /^(-?\d+)-(\d\d)-(\d\d)(?: \(BC\))?[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([+-])(\d\d)(?::?(\d\d))?)?( \(BC\))?$/;
const MAX_INT64 = 9223372036854775807n;

function unreadable(column: ResultColumn, text: string): SqlError {
  return new SqlError('INTERNAL_ERROR', `Column '${column.name}' value '${text.slice(0, 60)}' could not be encoded as Arrow ${column.type_text}.`);
}

function dateDays(text: string, column: ResultColumn): number {
  const m = DATE_TEXT.exec(text);
  if (!m) throw unreadable(column, text);
  const year = Number(m[1]);
  return daysFromCivil(m[4] ? 1 - year : year, Number(m[2]), Number(m[3]));
}

function timestampMicros(text: string, column: ResultColumn): bigint {
  if (text === 'infinity') return MAX_INT64;
  if (text === '-infinity') return -MAX_INT64;
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) throw unreadable(column, text);
  const bc = text.includes('(BC)');
  const year = Number(m[1]);
  const days = daysFromCivil(bc ? 1 - year : year, Number(m[2]), Number(m[3]));
  const seconds = days * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  let micros = BigInt(seconds) * 1_000_000n + fraction;
  if (m[8]) {
    const offsetSeconds = (Number(m[9]) * 3600 + Number(m[10] ?? '0') * 60) * (m[8] === '-' ? -1 : 1);
    micros -= BigInt(offsetSeconds) * 1_000_000n;
  }
  return micros;
}

/** A decimal's text as its unscaled integer (e.g. `-1.50` at scale 2 is -150). */
function unscaled(text: string, scale: number, column: ResultColumn): bigint {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw unreadable(column, text);
  const fraction = m[3] ?? '';
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) throw unreadable(column, text);
  const digits = `${m[2] || '0'}${fraction.slice(0, scale).padEnd(scale, '0')}`;
  const value = BigInt(digits);
  return m[1] === '-' ? -value : value;
}

function validity(cells: (string | null)[]): { nullCount: number; nullBitmap: Uint8Array } {
  const nullBitmap = new Uint8Array(Math.ceil(cells.length / 8) || 1);
  let nullCount = 0;
  cells.forEach((v, i) => {
    if (v === null) nullCount++;
    else nullBitmap[i >> 3] = (nullBitmap[i >> 3] as number) | (1 << (i & 7));
  });
  return { nullCount, nullBitmap };
}

function columnData(A: ArrowModule, column: ResultColumn, e: Encoding, type: DataType, cells: (string | null)[]) {
  const length = cells.length;
  const { nullCount, nullBitmap } = validity(cells);
  const base = { type, length, nullCount, nullBitmap };
  switch (e.kind) {
    case 'int': {
      const data = e.bits === 8 ? new Int8Array(length) : e.bits === 16 ? new Int16Array(length) : new Int32Array(length);
      cells.forEach((v, i) => {
        if (v !== null) data[i] = Number(v);
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'long': {
      const data = new BigInt64Array(length);
      cells.forEach((v, i) => {
        if (v !== null) data[i] = BigInt(v);
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'float': {
      const data = e.bits === 32 ? new Float32Array(length) : new Float64Array(length);
      cells.forEach((v, i) => {
        if (v !== null) data[i] = Number(v);
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'bool': {
      const data = new Uint8Array(Math.ceil(length / 8) || 1);
      cells.forEach((v, i) => {
        if (v === 'true') data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'date': {
      const data = new Int32Array(length);
      cells.forEach((v, i) => {
        if (v !== null) data[i] = dateDays(v, column);
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'timestamp': {
      const data = new BigInt64Array(length);
      cells.forEach((v, i) => {
        if (v !== null) data[i] = timestampMicros(v, column);
      });
      return A.makeData({ ...base, data } as never);
    }
    case 'decimal': {
      // 128-bit little-endian two's complement: low word then high word.
      const data = new BigInt64Array(length * 2);
      cells.forEach((v, i) => {
        if (v === null) return;
        const n = unscaled(v, e.scale, column);
        data[2 * i] = BigInt.asIntN(64, n);
        data[2 * i + 1] = BigInt.asIntN(64, n >> 64n);
      });
      return A.makeData({ ...base, data: new Uint32Array(data.buffer) } as never);
    }
    case 'text': {
      const encoder = new TextEncoder();
      const parts = cells.map((v) => (v === null ? new Uint8Array(0) : encoder.encode(v)));
      const valueOffsets = new Int32Array(length + 1);
      let total = 0;
      parts.forEach((p, i) => {
        total += p.length;
        valueOffsets[i + 1] = total;
      });
      const data = new Uint8Array(total);
      for (let i = 0; i < parts.length; i++) data.set(parts[i] as Uint8Array, valueOffsets[i] as number);
      return A.makeData({ ...base, valueOffsets, data } as never);
    }
  }
}

/** The Arrow schema a result travels with (field names are the manifest's column names). */
function schemaOf(A: ArrowModule, columns: ResultColumn[]) {
  const encodings = columns.map(encodingOf);
  const fields = columns.map((c, i) => new A.Field(c.name, arrowType(A, encodings[i] as Encoding), true));
  return { schema: new A.Schema(fields), encodings };
}

/**
 * Encodes one result chunk (JSON_ARRAY cells, as the statement produced them) as an Arrow IPC stream:
 * a schema message and one record batch, which is what ARROW_STREAM readers (pyarrow, apache-arrow) open.
 */
export async function arrowStream(columns: ResultColumn[], rows: (string | null)[][]): Promise<Uint8Array> {
  const A = await loadArrow();
  const { schema, encodings } = schemaOf(A, columns);
  const children = columns.map((c, i) =>
    columnData(
      A,
      c,
      encodings[i] as Encoding,
      schema.fields[i]?.type as DataType,
      rows.map((r) => r[i] ?? null),
    ),
  );
  const data = A.makeData({ type: new A.Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return A.tableToIPC(new A.Table([new A.RecordBatch(schema, data)]), 'stream');
}
