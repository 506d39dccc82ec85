/** One principal's privileges on a securable (UC `privilege_assignments[]`). */
export interface PrivilegeAssignment {
  principal: string;
  privileges: string[];
}

/** One change of a UC `PATCH /permissions` body. */
export interface PermissionChange {
  principal: string;
  add: string[];
  remove: string[];
}

/** The privileges that can be granted on each securable type (Databricks' list, in display order). */
export const GRANTABLE: Record<string, readonly string[]> = {
  catalog: [
    'USE_CATALOG',
    'USE_SCHEMA',
    'BROWSE',
    'SELECT',
    'MODIFY',
    'EXECUTE',
    'READ_VOLUME',
    'WRITE_VOLUME',
    'CREATE_SCHEMA',
    'CREATE_TABLE',
    'CREATE_VOLUME',
    'CREATE_FUNCTION',
    'CREATE_MODEL',
    'MANAGE',
    'ALL_PRIVILEGES',
  ],
  schema: [
    'USE_SCHEMA',
    'SELECT',
    'MODIFY',
    'EXECUTE',
    'READ_VOLUME',
    'WRITE_VOLUME',
    'CREATE_TABLE',
    'CREATE_VOLUME',
    'CREATE_FUNCTION',
    'CREATE_MODEL',
    'MANAGE',
    'ALL_PRIVILEGES',
  ],
  table: ['SELECT', 'MODIFY', 'MANAGE', 'ALL_PRIVILEGES'],
  volume: ['READ_VOLUME', 'WRITE_VOLUME', 'MANAGE', 'ALL_PRIVILEGES'],
  function: ['EXECUTE', 'MANAGE', 'ALL_PRIVILEGES'],
  registered_model: ['EXECUTE', 'MANAGE', 'ALL_PRIVILEGES'],
};

/** Privileges as the server may spell them (OSS clients get spaces): compared in Databricks' underscore spelling. */
export function normalizePrivilege(p: string): string {
  return p
    .trim()
    .toUpperCase()
    .replace(/[\s_]+/g, '_');
}

/**
 * The PATCH changes that turn `before` into `after`: per principal, what to add and what to remove. Principals whose
 * privileges did not change are left out, so a save never touches grants the user did not edit.
 */
export function grantChanges(before: readonly PrivilegeAssignment[], after: readonly PrivilegeAssignment[]): PermissionChange[] {
  const had = new Map(before.map((a) => [a.principal, new Set(a.privileges.map(normalizePrivilege))]));
  const want = new Map(after.map((a) => [a.principal, new Set(a.privileges.map(normalizePrivilege))]));
  const out: PermissionChange[] = [];
  for (const principal of new Set([...had.keys(), ...want.keys()])) {
    const h = had.get(principal) ?? new Set<string>();
    const w = want.get(principal) ?? new Set<string>();
    const add = [...w].filter((p) => !h.has(p)).sort();
    const remove = [...h].filter((p) => !w.has(p)).sort();
    if (add.length || remove.length) out.push({ principal, add, remove });
  }
  return out;
}
