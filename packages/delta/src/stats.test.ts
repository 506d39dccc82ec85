import { describe, expect, it } from 'vitest';
import { statsLeaves, truncateMaxString, truncateMinString } from './stats.ts';

const a32 = 'a'.repeat(32);

describe('string stats truncation (Spark rules)', () => {
  it('keeps strings of 32 chars or fewer', () => {
    expect(truncateMinString(a32)).toBe(a32);
    expect(truncateMaxString(a32)).toBe(a32);
  });

  it('cuts min to a 32-char prefix', () => {
    expect(truncateMinString(`${a32}zzz`)).toBe(a32);
  });

  it('cuts max to 32 chars plus U+007F when the next char is ASCII below it', () => {
    expect(truncateMaxString(`${a32}b`)).toBe(`${a32}\u007f`);
  });

  it('uses U+10FFFF as tie-breaker when the next char is not below U+007F', () => {
    expect(truncateMaxString(`${a32}é`)).toBe(`${a32}\u{10ffff}`);
  });

  it('does not split a surrogate pair', () => {
    const s = `${'a'.repeat(31)}😀tail`;
    expect(truncateMinString(s)).toBe(`${'a'.repeat(31)}😀`);
    expect(truncateMaxString(s)).toBe(`${'a'.repeat(31)}😀\u007f`);
  });

  it('skips over U+10FFFF chars and gives up past 64 chars', () => {
    const max = '\u{10ffff}';
    expect(truncateMaxString(`${a32}${max}b`)).toBe(`${a32}${max}\u007f`);
    expect(truncateMaxString(`${a32}${max.repeat(20)}b`)).toBeUndefined();
  });
});

describe('statsLeaves', () => {
  const fields = Array.from({ length: 40 }, (_, i) => ({ name: `c${i}`, type: 'long', nullable: true, metadata: {} }));
  it('takes the first 32 leaves by default and honours dataSkippingNumIndexedCols', () => {
    expect(statsLeaves(fields, {}).length).toBe(32);
    expect(statsLeaves(fields, { 'delta.dataSkippingNumIndexedCols': '3' }).map((l) => l.path.join('.'))).toEqual(['c0', 'c1', 'c2']);
    expect(statsLeaves(fields, { 'delta.dataSkippingNumIndexedCols': '-1' }).length).toBe(40);
  });
  it('counts struct fields as leaves and honours dataSkippingStatsColumns', () => {
    const nested = [
      {
        name: 's',
        type: {
          type: 'struct' as const,
          fields: [
            { name: 'x', type: 'long', nullable: true, metadata: {} },
            { name: 'y', type: 'string', nullable: true, metadata: {} },
          ],
        },
        nullable: true,
        metadata: {},
      },
      ...fields,
    ];
    expect(statsLeaves(nested, { 'delta.dataSkippingNumIndexedCols': '3' }).map((l) => l.path.join('.'))).toEqual(['s.x', 's.y', 'c0']);
    expect(statsLeaves(nested, { 'delta.dataSkippingStatsColumns': 'c5,s' }).map((l) => l.path.join('.'))).toEqual(['s.x', 's.y', 'c5']);
  });
});
