import type { UcCheck } from '../../platform/http.ts';
import type { Privilege, SecurableType } from './governance.types.ts';

// Builders for `{ uc: (input) => checks }` route requirements. Names come from untrusted input: a malformed one simply
// matches no grant (a non-admin is refused, an admin reaches the handler, which answers 400 or 404).

const check = (privilege: Privilege, type: SecurableType, fullName: string): UcCheck => ({ privilege, securable: { type, fullName } });

function parts(fullName: string): [string, string] {
  const [c = '', s = ''] = fullName.split('.');
  return [c, s];
}

/** USE_CATALOG on the catalog (what opening a catalog needs). */
export function useCatalog(catalog: string): UcCheck[] {
  return [check('USE_CATALOG', 'catalog', catalog)];
}

/** USE_CATALOG + USE_SCHEMA: what reaching into `catalog.schema` needs. */
export function useSchema(catalog: string, schema: string): UcCheck[] {
  return [check('USE_CATALOG', 'catalog', catalog), check('USE_SCHEMA', 'schema', `${catalog}.${schema}`)];
}

/** USE on the containers plus `privilege` on the object named `c.s.n` (reading a table needs SELECT, a volume READ_VOLUME, ...). */
export function onLeaf(privilege: Privilege, type: SecurableType, fullName: string): UcCheck[] {
  const [c, s] = parts(fullName);
  return [...useSchema(c, s), check(privilege, type, fullName)];
}

/** USE on the containers plus a CREATE_* privilege on the schema. */
export function createInSchema(privilege: Privilege, catalog: string, schema: string): UcCheck[] {
  return [...useSchema(catalog, schema), check(privilege, 'schema', `${catalog}.${schema}`)];
}

/** MANAGE on the object (owners of it or a container and admins hold it too): renames, drops, owner changes. */
export function manage(type: SecurableType, fullName: string): UcCheck[] {
  return [check('MANAGE', type, fullName)];
}

/** The metastore-level privilege to create catalogs. */
export function createCatalog(): UcCheck[] {
  return [check('CREATE_CATALOG', 'metastore', 'metastore')];
}
