import { describe, expect, it } from 'vitest';
import { compareDecimalText, formatMicrosUtc, parseDate, parseTimestamp, partitionLiteral } from './values.ts';

describe('parseTimestamp', () => {
  it('reads ISO-8601 UTC, offsets, legacy and DuckDB spellings to the same instant', () => {
    const micros = 1_704_103_200_000_000n; // 2024-01-01T10:00:00Z
    expect(parseTimestamp('2024-01-01T10:00:00.000000Z')).toEqual({ micros, zoned: true });
    expect(parseTimestamp('2024-01-01 10:00:00')).toEqual({ micros, zoned: false });
    expect(parseTimestamp('2024-01-01 12:00:00+02')?.micros).toBe(micros);
    expect(parseTimestamp('2024-01-01T02:00:00.000-08:00')?.micros).toBe(micros);
    expect(parseTimestamp('2024-01-01 10:00:00.123456')?.micros).toBe(micros + 123_456n);
    expect(parseTimestamp('1969-12-31 23:59:59.999999Z')?.micros).toBe(-1n);
    expect(parseTimestamp('9999-12-31T23:59:59.999Z')?.micros).toBe(253_402_300_799_999_000n);
    expect(parseTimestamp('not a time')).toBeUndefined();
  });

  it('parses dates as days since the epoch', () => {
    expect(parseDate('1970-01-01')).toBe(0);
    expect(parseDate('2000-03-01')).toBe(11_017);
    expect(parseDate('1969-12-31')).toBe(-1);
  });

  it('formats microseconds as a TIMESTAMPTZ literal', () => {
    expect(formatMicrosUtc(1_704_103_200_123_456n)).toBe('2024-01-01 10:00:00.123456+00');
    expect(formatMicrosUtc(-1n)).toBe('1969-12-31 23:59:59.999999+00');
  });
});

describe('compareDecimalText', () => {
  it('compares beyond 2^53 and across scales', () => {
    expect(compareDecimalText('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareDecimalText('10.000', '10')).toBe(0);
    expect(compareDecimalText('-1.5', '-1.25')).toBe(-1);
    expect(compareDecimalText('0.10', '0.09')).toBe(1);
    expect(compareDecimalText('-0', '0')).toBe(0);
    expect(compareDecimalText('99999999999999999999999999999999999999', '99999999999999999999999999999999999998')).toBe(1);
  });
});

describe('partitionLiteral', () => {
  it('turns empty strings and nulls into typed NULL', () => {
    expect(partitionLiteral(null, 'integer')).toBe('CAST(NULL AS INTEGER)');
    expect(partitionLiteral('', 'string')).toBe('CAST(NULL AS VARCHAR)');
  });
  it('reads legacy and ISO timestamp partition values as UTC instants', () => {
    expect(partitionLiteral('2021-09-08 11:11:11', 'timestamp')).toBe("CAST('2021-09-08 11:11:11.000000+00' AS TIMESTAMPTZ)");
    expect(partitionLiteral('2024-01-01T10:00:00.000000Z', 'timestamp')).toBe("CAST('2024-01-01 10:00:00.000000+00' AS TIMESTAMPTZ)");
  });
  it('quotes strings safely', () => {
    expect(partitionLiteral("it's", 'string')).toBe("'it''s'");
  });
});
