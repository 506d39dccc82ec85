import { describe, expect, it } from 'vitest';
import { grantChanges, normalizePrivilege } from './grants.ts';

describe('grant changes', () => {
  it('sends only what changed, per principal, in either privilege spelling', () => {
    const before = [
      { principal: 'analysts', privileges: ['SELECT'] },
      { principal: 'grace@example.com', privileges: ['select', 'MODIFY'] },
      { principal: 'untouched', privileges: ['ALL PRIVILEGES'] },
    ];
    const after = [
      { principal: 'analysts', privileges: ['SELECT', 'MODIFY'] },
      { principal: 'grace@example.com', privileges: ['SELECT'] },
      { principal: 'untouched', privileges: ['ALL_PRIVILEGES'] },
      { principal: 'new-group', privileges: ['SELECT'] },
      { principal: 'added-but-empty', privileges: [] },
    ];
    expect(grantChanges(before, after)).toEqual([
      { principal: 'analysts', add: ['MODIFY'], remove: [] },
      { principal: 'grace@example.com', add: [], remove: ['MODIFY'] },
      { principal: 'new-group', add: ['SELECT'], remove: [] },
    ]);
    expect(grantChanges(before, before)).toEqual([]);
    expect(grantChanges(before, [])).toEqual([
      { principal: 'analysts', add: [], remove: ['SELECT'] },
      { principal: 'grace@example.com', add: [], remove: ['MODIFY', 'SELECT'] },
      { principal: 'untouched', add: [], remove: ['ALL_PRIVILEGES'] },
    ]);
    expect(normalizePrivilege(' use catalog ')).toBe('USE_CATALOG');
  });
});
