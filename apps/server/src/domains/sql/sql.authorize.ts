import type { DuckDBConnection } from '@duckdb/node-api';
import type { Principal } from '../../platform/http.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { Authorizer, Privilege, Securable, SecurableType } from '../governance/governance.types.ts';
import type { ResolvedTable, TablesService } from '../tables/index.ts';
import type { SqlGrantStore } from './sql.grants.ts';
import { SqlError, sqlString } from './sql.text.ts';

/** What SQL needs from governance to decide who may touch what. */
export interface SqlAccess {
  authorizer: Authorizer;
  /** The principal an owner's name stands for (a view reads its tables with its owner's rights); undefined for a group or an unknown name. */
  principalByName(userName: string): Promise<Principal | undefined>;
  /** The names of every group the principal belongs to, directly or through other groups. */
  groupNames(principal: Principal): Promise<string[]>;
  /** Grant and ownership writes for GRANT, REVOKE, SHOW GRANTS and ALTER ... OWNER TO. */
  grants?: SqlGrantStore;
}

/** A catalog object SQL touches, by its three-level (or shorter) name. */
interface Named {
  catalog: string;
  schema: string;
  name: string;
}

function denied(principal: Principal, privilege: Privilege, type: SecurableType, fullName: string): SqlError {
  const spelled = type === 'metastore' ? 'the metastore' : `${type} '${fullName}'`;
  return new SqlError('PERMISSION_DENIED', `[INSUFFICIENT_PERMISSIONS] User '${principal.userName}' does not have ${privilege} on ${spelled}.`);
}

/** Throws PERMISSION_DENIED (as a statement error) unless the principal holds every privilege listed. */
export async function requireAll(access: SqlAccess, principal: Principal, needs: [Privilege, SecurableType, string][]): Promise<void> {
  for (const [privilege, type, fullName] of needs) {
    if (!(await access.authorizer.authorize(principal, privilege, { type, fullName }))) throw denied(principal, privilege, type, fullName);
  }
}

/** The USE privileges every access to an object below a schema needs (Unity Catalog's rule). */
function uses(o: { catalog: string; schema: string }): [Privilege, SecurableType, string][] {
  return [
    ['USE_CATALOG', 'catalog', o.catalog],
    ['USE_SCHEMA', 'schema', `${o.catalog}.${o.schema}`],
  ];
}

const fullNameOf = (o: Named) => `${o.catalog}.${o.schema}.${o.name}`;

/** Reading a table or view: USE CATALOG, USE SCHEMA and SELECT. */
export function requireRead(access: SqlAccess, principal: Principal, table: Named): Promise<void> {
  return requireAll(access, principal, [...uses(table), ['SELECT', 'table', fullNameOf(table)]]);
}

/** How a statement writes a table: appending needs MODIFY; a rewrite (UPDATE/DELETE/MERGE) reads the rows too; `manage` changes its definition. */
export type WritePurpose = 'append' | 'rewrite' | 'maintain' | 'manage';

/** Writing a table: MODIFY (plus SELECT when the statement reads the rows it changes; MANAGE to change its definition). */
export async function requireWrite(access: SqlAccess, principal: Principal, table: Named, purpose: WritePurpose): Promise<void> {
  const full = fullNameOf(table);
  const needs: [Privilege, SecurableType, string][] = uses(table);
  if (purpose === 'manage') needs.push(['MANAGE', 'table', full]);
  else {
    if (purpose === 'rewrite') needs.push(['SELECT', 'table', full]);
    needs.push(['MODIFY', 'table', full]);
  }
  await requireAll(access, principal, needs);
}

/** Creating an object: CREATE CATALOG on the metastore, CREATE SCHEMA on the catalog, CREATE TABLE/VOLUME/FUNCTION on the schema. */
export function requireCreate(
  access: SqlAccess,
  principal: Principal,
  kind: 'catalog' | 'schema' | 'table' | 'volume' | 'function',
  where: { catalog: string; schema?: string },
): Promise<void> {
  if (kind === 'catalog') return requireAll(access, principal, [['CREATE_CATALOG', 'metastore', 'metastore']]);
  if (kind === 'schema')
    return requireAll(access, principal, [
      ['USE_CATALOG', 'catalog', where.catalog],
      ['CREATE_SCHEMA', 'catalog', where.catalog],
    ]);
  const privilege: Privilege = kind === 'table' ? 'CREATE_TABLE' : kind === 'volume' ? 'CREATE_VOLUME' : 'CREATE_FUNCTION';
  const schema = `${where.catalog}.${where.schema}`;
  return requireAll(access, principal, [...uses({ catalog: where.catalog, schema: where.schema as string }), [privilege, 'schema', schema]]);
}

/** Reading files of a volume: USE CATALOG, USE SCHEMA and READ VOLUME. */
export function requireVolumeRead(access: SqlAccess, principal: Principal, volume: Named): Promise<void> {
  return requireAll(access, principal, [...uses(volume), ['READ_VOLUME', 'volume', fullNameOf(volume)]]);
}

/** Calling a catalog function: USE CATALOG, USE SCHEMA and EXECUTE. */
export function requireExecute(access: SqlAccess, principal: Principal, fn: Named): Promise<void> {
  return requireAll(access, principal, [...uses(fn), ['EXECUTE', 'function', fullNameOf(fn)]]);
}

/** The principal a view's body runs as: its owner, so a view whose owner lost (or never had) access shows nothing it should not. */
export async function viewRunner(access: SqlAccess, view: ResolvedTable): Promise<Principal> {
  const ownerName = view.owners[0] as string;
  const owner = await access.principalByName(ownerName);
  if (!owner)
    throw new SqlError(
      'PERMISSION_DENIED',
      `[INSUFFICIENT_PERMISSIONS] View '${view.catalog}.${view.schema}.${view.name}' is owned by '${ownerName}', which is not an active user or service principal; its owner must be changed before it can be read.`,
    );
  return owner;
}

/** Filters full names of one securable type down to those the principal may see. */
export async function visibleNames(access: SqlAccess, principal: Principal, type: SecurableType, fullNames: string[]): Promise<Set<string>> {
  if (fullNames.length === 0) return new Set();
  return access.authorizer.visible(principal, type, fullNames);
}

/**
 * Defines `current_user()`, `is_account_group_member(name)` and `is_member(name)` on the statement's own connection as
 * literals of the caller, so row filters and column masks (and user queries) can tell who is asking. Temp macros
 * shadow DuckDB's built-in `current_user`; a connection that had them is closed after its statement, never reused,
 * so nothing leaks between callers.
 */
export async function installPrincipalMacros(con: DuckDBConnection, access: SqlAccess, principal: Principal): Promise<void> {
  const groups = await access.groupNames(principal);
  const list = groups.length === 0 ? 'NULL::VARCHAR' : groups.map(sqlString).join(', ');
  await con.run(`CREATE TEMP MACRO current_user() AS ${sqlString(principal.userName)}`);
  await con.run(`CREATE TEMP MACRO session_user() AS ${sqlString(principal.userName)}`);
  await con.run(`CREATE TEMP MACRO "user"() AS ${sqlString(principal.userName)}`);
  await con.run(`CREATE TEMP MACRO is_account_group_member(g) AS coalesce(CAST(g AS VARCHAR) IN (${list}), false)`);
  await con.run(`CREATE TEMP MACRO is_member(g) AS coalesce(CAST(g AS VARCHAR) IN (${list}), false)`);
}

/**
 * The decision SQL makes when no governance authorizer is wired (a server built without the governance domain): admins
 * pass everything, an object's owner (or its schema's or catalog's owner) passes everything on it, nobody else passes.
 * It never grants more than ownership did before grants existed.
 */
export function ownershipAuthorizer(deps: { catalog: Pick<CatalogService, 'ownerOf'>; tables: Pick<TablesService, 'resolveTable'> }): Authorizer {
  async function owners(s: Securable): Promise<string[]> {
    if (s.type === 'metastore') return [];
    const parts = s.fullName.split('.');
    const out: (string | undefined)[] = [await deps.catalog.ownerOf('catalog', parts[0] as string)];
    if (parts.length >= 2) out.push(await deps.catalog.ownerOf('schema', parts.slice(0, 2).join('.')));
    if (parts.length === 3) {
      if (s.type === 'table') {
        const [c, sc, t] = parts as [string, string, string];
        out.push(
          await deps.tables.resolveTable(c, sc, t).then(
            (r) => r.owners[0],
            () => undefined,
          ),
        );
      } else if (s.type === 'volume' || s.type === 'function') out.push(await deps.catalog.ownerOf(s.type, s.fullName));
    }
    return out.filter((o): o is string => o !== undefined);
  }
  const authorize = async (principal: Principal, _privilege: Privilege, securable: Securable) =>
    principal.isAdmin || (await owners(securable)).includes(principal.userName);
  return {
    authorize,
    async require(principal, privilege, securable) {
      if (!(await authorize(principal, privilege, securable))) throw denied(principal, privilege, securable.type, securable.fullName);
    },
    async visible(principal, type, fullNames) {
      const out = new Set<string>();
      for (const n of fullNames) if (await authorize(principal, 'BROWSE', { type, fullName: n })) out.add(n);
      return out;
    },
  };
}

/** What resolving owners and groups needs from identity. */
export interface PrincipalReads {
  principalByName(name: string): Promise<{ id: number; kind: string } | null>;
  principalById(id: number): Promise<Principal | null>;
  groupsOf(principalId: number): Promise<number[]>;
  principalNames(ids: number[]): Promise<Map<number, { name: string; kind: string }>>;
}

/** Owner names to principals and principals to group names, read from identity (deactivated owners resolve to nobody). */
export function principalsFrom(identity: PrincipalReads): Pick<SqlAccess, 'principalByName' | 'groupNames'> {
  return {
    async principalByName(userName) {
      const ref = await identity.principalByName(userName);
      if (!ref || ref.kind === 'group') return undefined;
      return (await identity.principalById(ref.id)) ?? undefined;
    },
    async groupNames(principal) {
      const named = await identity.principalNames(await identity.groupsOf(principal.id));
      return [...named.values()].filter((p) => p.kind === 'group').map((p) => p.name);
    },
  };
}
