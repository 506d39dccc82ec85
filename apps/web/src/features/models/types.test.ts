import { describe, expect, it } from 'vitest';
import { aliasesByVersion, aliasProblem, modelNameFilter, signatureFields } from './types.ts';

describe('model helpers', () => {
  it('accepts ordinary aliases and refuses reserved or malformed ones', () => {
    expect(aliasProblem('champion')).toBeNull();
    expect(aliasProblem('prod_2-eu')).toBeNull();
    expect(aliasProblem('latest')).toMatch(/reserved/);
    expect(aliasProblem('LATEST')).toMatch(/reserved/);
    expect(aliasProblem('v3')).toMatch(/version numbers/);
    expect(aliasProblem('9lives')).toMatch(/starting with a letter/);
    expect(aliasProblem('has space')).toMatch(/letters, digits/);
    expect(aliasProblem('  ')).toBe('Enter an alias name.');
  });

  it('builds a case-insensitive name filter with quotes escaped, and none for an empty box', () => {
    expect(modelNameFilter('  ')).toBeUndefined();
    expect(modelNameFilter('fraud')).toBe("name ILIKE '%fraud%'");
    expect(modelNameFilter("o'brien")).toBe("name ILIKE '%o\\'brien%'");
  });

  it('groups aliases by version, sorted', () => {
    const map = aliasesByVersion({
      aliases: [
        { alias: 'prod', version: '3' },
        { alias: 'champion', version: '3' },
        { alias: 'shadow', version: '1' },
      ],
    });
    expect(map.get('3')).toEqual(['champion', 'prod']);
    expect(map.get('1')).toEqual(['shadow']);
    expect(map.get('2')).toBeUndefined();
  });

  it('reads column and tensor signatures from JSON text or decoded values', () => {
    expect(signatureFields('[{"type": "double", "name": "a", "required": true}, {"type": "string", "name": "b", "required": false}]')).toEqual([
      { name: 'a', type: 'double', required: true },
      { name: 'b', type: 'string', required: false },
    ]);
    expect(signatureFields([{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 1] } }])).toEqual([
      { name: '#0', type: 'tensor float32 [-1, 1]', required: true },
    ]);
    expect(signatureFields('not json')).toEqual([]);
    expect(signatureFields(null)).toEqual([]);
  });
});
