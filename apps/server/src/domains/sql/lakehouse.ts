import os from 'node:os';
import type { Kysely } from 'kysely';
import type { DialectName, Migration } from '../../platform/db.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal, RouteSpec } from '../../platform/http.ts';
import { type CatalogTables, catalogMigrations, catalogRoutes, createCatalogService, filesRoutes, type RegistryHooks, UC_PREFIX } from '../catalog/index.ts';
import type { Authorizer } from '../governance/governance.types.ts';
import type { RouteGovernance } from '../governance/index.ts';
import { createTablesService, type ResolvedTable, type TablesTables, tablesMigrations, tablesRoutes } from '../tables/index.ts';
import { ownershipAuthorizer, type PrincipalReads, principalsFrom, type SqlAccess } from './sql.authorize.ts';
import { temporaryCredentialRoutes } from './sql.credentials.ts';
import { createSqlEngine } from './sql.engine.ts';
import { type GrantsBackend, grantStoreFrom } from './sql.grants.ts';
import { sqlMigrations } from './sql.migrations.ts';
import { sqlRoutes } from './sql.routes.ts';
import { createRowSecurityStore, showRowSecurity } from './sql.row-security.ts';
import { createSqlService } from './sql.service.ts';
import type { SqlTables } from './sql.tables.ts';

/** Migrations of the catalog, tables and SQL domains, in one list for the composition root. */
export const lakehouseMigrations: Migration[] = [...catalogMigrations, ...tablesMigrations, ...sqlMigrations];

/** Builds the catalog, tables and SQL services and their routes (one call keeps the composition root's slots small). */
export async function createLakehouse(deps: {
  db: Kysely<any>;
  dialect: DialectName;
  dataDir: string;
  registry?: RegistryHooks;
  /** The governance decision; without it SQL falls back to ownership (admins and owners only). */
  authorizer?: Authorizer;
  /** Owner names to principals (views run as their owner) and a principal's groups (is_account_group_member). */
  identity?: PrincipalReads;
  /** Grant reads and writes for SQL GRANT / REVOKE / SHOW GRANTS / ALTER ... OWNER TO. */
  grants?: GrantsBackend;
  /** Filters catalog listings to what the caller may see (admins see everything without it). */
  visibility?: RouteGovernance;
  /** Where SQL publishes the tables it writes (lineage subscribes) and the catalog its drops and renames (governance subscribes). */
  events?: Pick<EventBus, 'publish'>;
  /** Checks each table a SQL statement resolves for its principal (the system tables' read rules). */
  readGuard?: (principal: Principal, table: ResolvedTable) => Promise<void>;
}) {
  const catalog = createCatalogService({
    db: deps.db as Kysely<CatalogTables>,
    dialect: deps.dialect,
    dataDir: deps.dataDir,
    ...(deps.registry ? { registry: deps.registry } : {}),
    ...(deps.events ? { events: deps.events } : {}),
  });
  const tables = createTablesService({
    db: deps.db as Kysely<TablesTables>,
    dialect: deps.dialect,
    dataDir: deps.dataDir,
    catalog,
    ...(deps.events ? { events: deps.events } : {}),
  });
  const access: SqlAccess = {
    authorizer: deps.authorizer ?? ownershipAuthorizer({ catalog, tables }),
    ...(deps.identity ? principalsFrom(deps.identity) : { principalByName: async () => undefined, groupNames: async () => [] }),
    ...(deps.grants ? { grants: grantStoreFrom(deps.grants, { catalog, tables }) } : {}),
  };
  const sql = createSqlService({
    db: deps.db as Kysely<SqlTables>,
    catalog,
    tables,
    access,
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.readGuard ? { readGuard: deps.readGuard } : {}),
    engine: createSqlEngine({
      dataDir: deps.dataDir,
      // packages/delta stages new Parquet files under the OS temp directory before moving them into a table.
      stagingDirs: [os.tmpdir()],
    }),
  });
  const rowSecurity = createRowSecurityStore(deps.db as Kysely<SqlTables>);
  const tableRoutes = showRowSecurity(tablesRoutes(tables, deps.visibility), rowSecurity, `${UC_PREFIX}/tables/:full_name`);
  const routes: RouteSpec[] = [
    ...catalogRoutes(catalog, deps.visibility),
    ...tableRoutes,
    ...sqlRoutes(sql),
    ...filesRoutes(catalog),
    ...temporaryCredentialRoutes({ catalog, tables, access, rowSecurity }),
  ];
  return { catalog, tables, sql, routes };
}
