import path from 'node:path';
import { temporaryCredentials as contracts } from '@weir/contracts';
import type { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type Principal, type RouteSpec } from '../../platform/http.ts';
import { type CatalogService, isWithin, localPathOf, UC_PREFIX } from '../catalog/index.ts';
import type { Privilege, SecurableType } from '../governance/governance.types.ts';
import type { TablesService } from '../tables/index.ts';
import type { SqlAccess } from './sql.authorize.ts';
import type { RowSecurityStore } from './sql.row-security.ts';

/** How long vended credentials are said to last; local paths need none, but clients schedule renewals from it. */
const LIFETIME_MS = 60 * 60 * 1000;

interface TableHit {
  id: string;
  catalog: string;
  schema: string;
  name: string;
  type: string;
  location: string | null;
}

interface VolumeHit {
  catalog: string;
  schema: string;
  name: string;
  location: string;
}

/**
 * Temporary credentials for engines that read table and volume files themselves (the Spark Unity Catalog connector,
 * DuckDB's uc_catalog). Storage is local, so the answer carries no cloud credentials, only the location and an expiry,
 * but it is only given to callers who hold the privileges the operation needs, and never for a table with a row filter
 * or column mask (its raw files would bypass them) unless the caller may change those.
 */
export function temporaryCredentialRoutes(deps: {
  catalog: Pick<CatalogService, 'inventory'>;
  tables: Pick<TablesService, 'inventory'>;
  access: SqlAccess;
  rowSecurity: RowSecurityStore;
  now?: () => number;
}): RouteSpec[] {
  const now = deps.now ?? Date.now;

  async function need(principal: Principal, checks: [Privilege, SecurableType, string][]): Promise<void> {
    for (const [privilege, type, fullName] of checks) {
      if (!(await deps.access.authorizer.authorize(principal, privilege, { type, fullName })))
        throw new AppError('PERMISSION_DENIED', `User does not have ${privilege} on ${type} '${fullName}'.`);
    }
  }

  async function allTables(): Promise<TableHit[]> {
    const inv = await deps.catalog.inventory();
    const schemas = new Map(inv.schemas.map((s) => [s.schema_id, s]));
    return (await deps.tables.inventory()).flatMap((t) => {
      const s = schemas.get(t.schemaId);
      return s ? [{ id: t.row.id, catalog: s.catalog_name, schema: s.name, name: t.row.name, type: t.row.table_type, location: t.row.storage_location }] : [];
    });
  }

  async function allVolumes(): Promise<(VolumeHit & { id: string })[]> {
    const inv = await deps.catalog.inventory();
    return inv.volumes.map((v) => ({
      id: v.volume_id,
      catalog: v.catalog_name,
      schema: v.schema_name,
      name: v.name,
      location: localPathOf(v.storage_location),
    }));
  }

  async function tableCredential(principal: Principal, t: TableHit, write: boolean) {
    const full = `${t.catalog}.${t.schema}.${t.name}`;
    if (!t.location) throw new AppError('INVALID_PARAMETER_VALUE', `'${full}' is a view; views have no storage to read.`);
    await need(principal, [
      ['USE_CATALOG', 'catalog', t.catalog],
      ['USE_SCHEMA', 'schema', `${t.catalog}.${t.schema}`],
      ['SELECT', 'table', full],
      ...(write ? ([['MODIFY', 'table', full]] as [Privilege, SecurableType, string][]) : []),
    ]);
    if ((await deps.rowSecurity.get(t.id)) && !(await deps.access.authorizer.authorize(principal, 'MANAGE', { type: 'table', fullName: full })))
      throw new AppError('PERMISSION_DENIED', `Table '${full}' has a row filter or column mask; its files cannot be read directly. Query it with SQL.`);
    return { expiration_time: now() + LIFETIME_MS, url: `file://${t.location}` };
  }

  async function volumeCredential(principal: Principal, v: VolumeHit, write: boolean) {
    const full = `${v.catalog}.${v.schema}.${v.name}`;
    await need(principal, [
      ['USE_CATALOG', 'catalog', v.catalog],
      ['USE_SCHEMA', 'schema', `${v.catalog}.${v.schema}`],
      [write ? 'WRITE_VOLUME' : 'READ_VOLUME', 'volume', full],
    ]);
    return { expiration_time: now() + LIFETIME_MS, url: `file://${v.location}` };
  }

  const route = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth' | 'method'>) =>
    defineRoute({ ...spec, method: 'POST', tag: 'unity-catalog', auth: 'authenticated' }) as unknown as RouteSpec;

  return [
    route({
      paths: [`${UC_PREFIX}/temporary-table-credentials`],
      summary: 'Temporary credentials to read (SELECT) or read and write (MODIFY) a table’s files',
      input: contracts.GenerateTemporaryTableCredential,
      async handler(input, { principal }) {
        const t = (await allTables()).find((x) => x.id === input.table_id);
        if (!t) throw new AppError('RESOURCE_DOES_NOT_EXIST', `Table with id '${input.table_id.slice(0, 100)}' does not exist.`);
        return tableCredential(principal, t, input.operation === 'READ_WRITE');
      },
    }),
    route({
      paths: [`${UC_PREFIX}/temporary-volume-credentials`],
      summary: 'Temporary credentials to read (READ VOLUME) or write (WRITE VOLUME) a volume’s files',
      input: contracts.GenerateTemporaryVolumeCredential,
      async handler(input, { principal }) {
        const v = (await allVolumes()).find((x) => x.id === input.volume_id);
        if (!v) throw new AppError('RESOURCE_DOES_NOT_EXIST', `Volume with id '${input.volume_id.slice(0, 100)}' does not exist.`);
        return volumeCredential(principal, v, input.operation === 'WRITE_VOLUME');
      },
    }),
    route({
      paths: [`${UC_PREFIX}/temporary-path-credentials`],
      summary: 'Temporary credentials for a storage path: a table’s or volume’s location, checked as that object',
      input: contracts.GenerateTemporaryPathCredential,
      async handler(input, { principal }) {
        let local: string;
        try {
          local = path.resolve(localPathOf(input.url));
        } catch {
          throw new AppError('INVALID_PARAMETER_VALUE', `'${input.url.slice(0, 200)}' is not a storage path Weir can serve.`);
        }
        if (input.operation !== 'PATH_CREATE_TABLE') {
          const write = input.operation === 'PATH_READ_WRITE';
          const t = (await allTables()).find((x) => x.location && isWithin(x.location, local));
          if (t) return tableCredential(principal, t, write);
          const v = (await allVolumes()).find((x) => isWithin(x.location, local));
          if (v) return volumeCredential(principal, v, write);
        }
        // A path no table or volume owns (or a new external table's location) has no grant that could cover it.
        if (!principal.isAdmin)
          throw new AppError('PERMISSION_DENIED', `Only admins may get credentials for '${input.url.slice(0, 200)}', which no table or volume owns.`);
        return { expiration_time: now() + LIFETIME_MS, url: `file://${local}` };
      },
    }),
  ];
}
