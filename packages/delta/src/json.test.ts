import { describe, expect, it } from 'vitest';
import { LosslessNumber, parseJsonLossless, stringifyJson } from './json.ts';

describe('parseJsonLossless', () => {
  it('keeps int64 and decimal digits that JSON.parse loses', () => {
    const v = parseJsonLossless('{"a":12345678901234567890,"b":10.000,"c":[-1.5e3]}') as Record<string, unknown>;
    expect((v.a as LosslessNumber).text).toBe('12345678901234567890');
    expect((v.b as LosslessNumber).text).toBe('10.000');
    expect(((v.c as unknown[])[0] as LosslessNumber).text).toBe('-1.5e3');
    expect(JSON.parse('12345678901234567890')).not.toBe(12345678901234567890n);
  });

  it('parses strings with escapes, booleans and null', () => {
    expect(parseJsonLossless('{"s":"a\\"b\\u00e9\\n","t":true,"f":false,"n":null}')).toEqual({ s: 'a"bé\n', t: true, f: false, n: null });
  });

  it('rejects malformed and truncated input', () => {
    expect(() => parseJsonLossless('{"a":1')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('{"a":1} x')).toThrow(/trailing/);
    expect(() => parseJsonLossless('"abc')).toThrow(/unterminated/);
  });

  it('writes LosslessNumber and bigint back verbatim', () => {
    expect(stringifyJson({ a: new LosslessNumber('10.000'), b: 9007199254740993n, c: 's', d: undefined })).toBe('{"a":10.000,"b":9007199254740993,"c":"s"}');
  });
});
