import { type DeltaDataType, duckTypeOf, parseDecimal, quoteLiteral } from './schema.ts';

const TS_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A parsed timestamp: microseconds since the epoch (UTC), and whether the text carried a zone. */
export interface ParsedTimestamp {
  micros: bigint;
  zoned: boolean;
}

/**
 * Parses the timestamp spellings found in Delta logs: ISO-8601 with `T`/`Z`/offset, Spark's legacy
 * `YYYY-MM-DD HH:MM:SS[.ffffff]`, DuckDB's `... +00`. Text without a zone is taken as UTC.
 */
export function parseTimestamp(text: string): ParsedTimestamp | undefined {
  const m = TS_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  let micros = BigInt(days) * 86_400_000_000n + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(s)) * 1_000_000n;
  micros += BigInt(`${frac}000000`.slice(0, 6));
  if (zone && zone.toUpperCase() !== 'Z' && zone.toUpperCase() !== 'UTC') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return undefined;
    const offset = BigInt(Number(zm[2]) * 3600 + Number(zm[3] ?? '0') * 60) * 1_000_000n;
    micros += zm[1] === '+' ? -offset : offset;
  }
  return { micros, zoned: zone !== undefined };
}

/** Days since 1970-01-01 for a `YYYY-MM-DD` date (proleptic Gregorian), or undefined. */
export function parseDate(text: string): number | undefined {
  const m = /^([+-]?\d{4,6})-(\d{2})-(\d{2})/.exec(text.trim());
  if (!m) return undefined;
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's days_from_civil: exact for any year, unlike Date for years < 100.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Formats microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff+00` (a DuckDB TIMESTAMPTZ literal). */
export function formatMicrosUtc(micros: bigint): string {
  const dayMicros = 86_400_000_000n;
  let days = micros / dayMicros;
  let rem = micros % dayMicros;
  if (rem < 0n) {
    rem += dayMicros;
    days -= 1n;
  }
  const { y, m, d } = civilFromDays(Number(days));
  const secs = Number(rem / 1_000_000n);
  const frac = String(rem % 1_000_000n).padStart(6, '0');
  const p2 = (n: number) => String(n).padStart(2, '0');
  const yy = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
  return `${yy}-${p2(m)}-${p2(d)} ${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}.${frac}+00`;
}

function civilFromDays(z0: number): { y: number; m: number; d: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** A typed DuckDB literal for a serialized partition value (empty string and null are both null, as Spark reads them). */
export function partitionLiteral(value: string | null | undefined, type: DeltaDataType): string {
  const duckType = duckTypeOf(type);
  if (value === null || value === undefined || value === '') return `CAST(NULL AS ${duckType})`;
  if (type === 'string') return quoteLiteral(value);
  if (type === 'binary') return `encode(${quoteLiteral(value)})`;
  if (type === 'timestamp') {
    // Legacy values were written in the writer's session zone, which the log does not record: read as UTC.
    const ts = parseTimestamp(value);
    if (!ts) throw new Error(`invalid timestamp partition value "${value}"`);
    return `CAST(${quoteLiteral(formatMicrosUtc(ts.micros))} AS TIMESTAMPTZ)`;
  }
  return `CAST(${quoteLiteral(value)} AS ${duckType})`;
}

/** Compares two decimal number texts exactly (e.g. int64 or decimal(38,s) stats); -1, 0 or 1. */
export function compareDecimalText(a: string, b: string): number {
  const na = normalizeDecimal(a);
  const nb = normalizeDecimal(b);
  if (na === undefined || nb === undefined) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (na.neg !== nb.neg) return na.neg ? -1 : 1;
  const sign = na.neg ? -1 : 1;
  if (na.int.length !== nb.int.length) return (na.int.length < nb.int.length ? -1 : 1) * sign;
  if (na.int !== nb.int) return (na.int < nb.int ? -1 : 1) * sign;
  const len = Math.max(na.frac.length, nb.frac.length);
  const fa = na.frac.padEnd(len, '0');
  const fb = nb.frac.padEnd(len, '0');
  if (fa === fb) return 0;
  return (fa < fb ? -1 : 1) * sign;
}

function normalizeDecimal(text: string): { neg: boolean; int: string; frac: string } | undefined {
  const m = /^([+-])?(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return undefined;
  const int = (m[2] as string).replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zero = /^0*$/.test(int) && frac === '';
  return { neg: m[1] === '-' && !zero, int: int === '' ? '0' : int, frac };
}

/** True for types whose stats are exact decimal texts. */
export function isExactNumeric(t: DeltaDataType): boolean {
  return t === 'byte' || t === 'short' || t === 'integer' || t === 'long' || parseDecimal(t) !== undefined;
}
