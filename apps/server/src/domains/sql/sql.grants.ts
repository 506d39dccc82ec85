import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { CatalogService } from '../catalog/index.ts';
import { parsePrivilege } from '../governance/governance.privileges.ts';
import type { Privilege, Securable, SecurableType } from '../governance/governance.types.ts';
import type { TablesService } from '../tables/index.ts';
import { SqlCursor, splitTopLevel } from './sql.cursor.ts';
import { qualify, type ResolveContext } from './sql.resolve.ts';
import { alterRowSecurity } from './sql.row-security.ts';
import type { Outcome } from './sql.statements.ts';
import { SqlError, sqlInvalid } from './sql.text.ts';

/**
 * The grant and ownership writes SQL makes, through the same store (and the same checks: MANAGE or ownership to
 * grant, unknown principal, privilege not applicable to the type) as the permissions REST API.
 */
export interface SqlGrantStore {
  /** Applies `changes` as PATCH .../permissions does; throws AppError on refusal. */
  updatePermissions(caller: Principal, securable: Securable, changes: { principal: string; add: Privilege[]; remove: Privilege[] }[]): Promise<unknown>;
  /** The grants made directly on the securable (optionally only one principal's). */
  getPermissions(caller: Principal, securable: Securable, principal?: string): Promise<{ principal: string; privileges: Privilege[] }[]>;
  /** Makes `owner` the securable's owner; throws AppError on refusal. */
  setOwner(caller: Principal, securable: Securable, owner: string): Promise<void>;
}

/** Reads `USE CATALOG`, `use_catalog`, `ALL` or `ALL PRIVILEGES` into Databricks' spelling. */
function privilegeOf(text: string): Privilege {
  // SQL also accepts a bare `ALL` (GRANT ALL ON ...); everything else reads as the permissions API does.
  const privilege = /^\s*all\s*$/i.test(text) ? 'ALL_PRIVILEGES' : parsePrivilege(text);
  if (!privilege) throw sqlInvalid(`[INVALID_PARAMETER_VALUE] Unknown privilege '${text.trim()}'.`);
  return privilege;
}

const TYPE_WORDS: [string[], SecurableType][] = [
  [['METASTORE'], 'metastore'],
  [['CATALOG'], 'catalog'],
  [['SCHEMA'], 'schema'],
  [['DATABASE'], 'schema'],
  [['TABLE'], 'table'],
  [['VIEW'], 'table'],
  [['VOLUME'], 'volume'],
  [['FUNCTION'], 'function'],
  [['REGISTERED', 'MODEL'], 'registered_model'],
  [['MODEL'], 'registered_model'],
];

/** Reads `<type> <name>` (a bare name is a table, as Databricks allows) and qualifies the name with the defaults. */
function securableAt(c: SqlCursor, defaults: { catalog: string; schema: string }): Securable {
  let type: SecurableType = 'table';
  for (const [words, t] of TYPE_WORDS) {
    if (c.keyword(...words)) {
      type = t;
      break;
    }
  }
  if (type === 'metastore') return { type, fullName: 'metastore' };
  const parts = c.name();
  if (type === 'catalog') {
    if (parts.length !== 1) throw sqlInvalid(`A catalog name has one part, not '${parts.join('.')}'.`);
    return { type, fullName: parts[0] as string };
  }
  if (type === 'schema') {
    if (parts.length > 2) throw sqlInvalid(`A schema name has at most two parts, not '${parts.join('.')}'.`);
    return { type, fullName: parts.length === 1 ? `${defaults.catalog}.${parts[0]}` : parts.join('.') };
  }
  const q = qualify(parts, defaults);
  return { type, fullName: `${q.catalog}.${q.schema}.${q.name}` };
}

/** A principal name: backquoted in Databricks SQL (converted to double quotes before parsing), or a bare word. */
function principalAt(c: SqlCursor): string {
  const parts = c.name();
  return parts.join('.');
}

/** The securable and its ancestors, nearest first (grants on a parent apply to the child). */
function lineage(s: Securable): Securable[] {
  const out: Securable[] = [s];
  if (s.type === 'metastore') return out;
  const parts = s.fullName.split('.');
  if (parts.length >= 3) out.push({ type: 'schema', fullName: parts.slice(0, 2).join('.') });
  if (parts.length >= 2) out.push({ type: 'catalog', fullName: parts[0] as string });
  return out;
}

/** Databricks' object_type column spells models as functions and everything in upper case. */
function objectType(type: SecurableType): string {
  return (type === 'registered_model' ? 'function' : type).toUpperCase();
}

/** AppErrors of the grant store become statement errors with their own code (404 principal, 400 privilege, 403 refusal). */
async function viaStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw new SqlError(err.code === 'RESOURCE_DOES_NOT_EXIST' ? 'NOT_FOUND' : err.code, err.message);
    throw err;
  }
}

function store(ctx: ResolveContext): SqlGrantStore {
  const grants = ctx.access.grants;
  if (!grants) throw sqlInvalid('[UNSUPPORTED_STATEMENT] Grants are not available on this server.');
  return grants;
}

const nothing = (): Outcome => ({ columns: [], rows: [] });

/**
 * Runs the governance statements: GRANT, REVOKE, SHOW GRANTS, `ALTER <type> <name> [SET] OWNER TO <principal>`,
 * `ALTER TABLE|VIEW ... RENAME TO` (grants follow) and the row-filter / column-mask forms of ALTER TABLE. Answers
 * undefined for any other statement (which then runs as usual).
 */
export async function governanceStatement(ctx: ResolveContext, sql: string): Promise<Outcome | undefined> {
  const c = new SqlCursor(sql);
  c.skip();
  const head = c.peekWord();
  if (head === 'GRANT' || head === 'REVOKE') {
    c.keyword(head);
    const on = c.findTopLevel(c.pos, /^ON\b/i);
    if (!on) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] ${head} needs ON <object>.`);
    const privileges = splitTopLevel(c.sql.slice(c.pos, on.index)).map(privilegeOf);
    if (privileges.length === 0) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] ${head} needs at least one privilege.`);
    c.pos = on.index + on.length;
    const securable = securableAt(c, ctx.defaults);
    c.expect(head === 'GRANT' ? 'TO' : 'FROM');
    const principal = principalAt(c);
    c.end();
    const change = head === 'GRANT' ? { principal, add: privileges, remove: [] } : { principal, add: [], remove: privileges };
    await viaStore(() => store(ctx).updatePermissions(ctx.principal, securable, [change]));
    return nothing();
  }
  if (head === 'SHOW' && (c.keyword('SHOW', 'GRANTS') || c.keyword('SHOW', 'GRANT'))) {
    let principal: string | undefined;
    if (c.peekWord() !== 'ON') principal = principalAt(c);
    c.expect('ON');
    const securable = securableAt(c, ctx.defaults);
    c.end();
    const rows: (string | null)[][] = [];
    for (const s of lineage(securable)) {
      const assignments = await viaStore(() => store(ctx).getPermissions(ctx.principal, s, principal));
      // SQL spells privileges with spaces (`USE CATALOG`), as GRANT takes them and Databricks' SHOW GRANTS prints them.
      for (const a of assignments) for (const p of a.privileges) rows.push([a.principal, p.replaceAll('_', ' '), objectType(s.type), s.fullName]);
    }
    const cols = ['principal', 'action_type', 'object_type', 'object_key'];
    return {
      columns: cols.map((name, position) => ({ name, position, type_name: 'STRING', type_text: 'string' })),
      rows,
    };
  }
  if (head === 'ALTER') {
    c.keyword('ALTER');
    const save = c.pos;
    const isTable = c.keyword('TABLE');
    c.pos = save;
    const securable = securableAt(c, ctx.defaults);
    if (c.keyword('OWNER', 'TO') || c.keyword('SET', 'OWNER', 'TO')) {
      const owner = principalAt(c);
      c.end();
      await viaStore(() => store(ctx).setOwner(ctx.principal, securable, owner));
      return nothing();
    }
    if ((isTable || securable.type === 'table') && c.keyword('RENAME', 'TO')) {
      const [cat, sch, name] = securable.fullName.split('.') as [string, string, string];
      const target = c.name();
      c.end();
      // Databricks renames within the schema: a qualified new name must name the same catalog and schema.
      const q = qualify(target, { catalog: cat, schema: sch });
      if (q.catalog !== cat || q.schema !== sch) throw sqlInvalid(`[INVALID_PARAMETER_VALUE] RENAME TO cannot move '${securable.fullName}' to another schema.`);
      await viaStore(() => ctx.tables.renameTable(ctx.principal, `${cat}.${sch}.${name}`, q.name));
      return nothing();
    }
    if (isTable) {
      const [cat, sch, name] = securable.fullName.split('.') as [string, string, string];
      const table = await ctx.tables.resolveTable(cat, sch, name).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'RESOURCE_DOES_NOT_EXIST')
          throw new SqlError('NOT_FOUND', `[TABLE_DOES_NOT_EXIST] Table or view '${securable.fullName}' does not exist.`);
        throw err;
      });
      if (await alterRowSecurity(ctx, c, table)) return nothing();
    }
  }
  return undefined;
}

/** What the SQL grant statements need from the governance service. */
export interface GrantsBackend {
  getPermissions(
    principal: Principal,
    securable: Securable,
    filter: string | undefined,
    dialect: 'databricks',
  ): Promise<{ privilege_assignments: { principal: string; privileges: string[] }[] }>;
  updatePermissions(
    principal: Principal,
    securable: Securable,
    changes: { principal: string; add?: string[]; remove?: string[] }[],
    dialect: 'databricks',
  ): Promise<unknown>;
  mayManage(principal: Principal, securable: Securable): Promise<boolean>;
  requirePrincipal(name: string): Promise<void>;
  /** Gives away an object another domain keeps (registered models); throws AppError when it cannot. */
  setOwnerElsewhere?(caller: Principal, securable: Securable, owner: string): Promise<void>;
}

/** Adapts the governance service (grants) and the catalog and tables services (owners) to what SQL statements call. */
export function grantStoreFrom(
  backend: GrantsBackend,
  owners: {
    catalog: Pick<CatalogService, 'updateCatalog' | 'updateSchema' | 'updateVolume' | 'setFunctionOwner'>;
    tables: Pick<TablesService, 'setOwner' | 'resolveTable'>;
  },
): SqlGrantStore {
  return {
    updatePermissions: (caller, securable, changes) => backend.updatePermissions(caller, securable, changes, 'databricks'),
    async getPermissions(caller, securable, principal) {
      const answer = await backend.getPermissions(caller, securable, principal, 'databricks');
      return answer.privilege_assignments.map((a) => ({ principal: a.principal, privileges: a.privileges as Privilege[] }));
    },
    async setOwner(caller, securable, owner) {
      if (!(await backend.mayManage(caller, securable)))
        throw new AppError(
          'PERMISSION_DENIED',
          `Only an owner, a holder of MANAGE or an admin may change the owner of ${securable.type} '${securable.fullName}'.`,
        );
      await backend.requirePrincipal(owner);
      if (securable.type === 'catalog') await owners.catalog.updateCatalog(caller, { name: securable.fullName, owner });
      else if (securable.type === 'schema') await owners.catalog.updateSchema(caller, { full_name: securable.fullName, owner });
      else if (securable.type === 'volume') await owners.catalog.updateVolume(caller, { name: securable.fullName, owner });
      else if (securable.type === 'table') await owners.tables.setOwner(caller, securable.fullName, owner);
      else if (securable.type === 'function') await owners.catalog.setFunctionOwner(caller, securable.fullName, owner);
      else if (securable.type === 'registered_model' && backend.setOwnerElsewhere) await backend.setOwnerElsewhere(caller, securable, owner);
      else throw new AppError('INVALID_PARAMETER_VALUE', `ALTER ... OWNER TO is not supported for ${securable.type}.`);
    },
  };
}
