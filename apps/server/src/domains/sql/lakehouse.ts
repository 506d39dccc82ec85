import os from 'node:os';
import type { Kysely } from 'kysely';
import type { DialectName, Migration } from '../../platform/db.ts';
import type { RouteSpec } from '../../platform/http.ts';
import { type CatalogTables, catalogMigrations, catalogRoutes, createCatalogService, filesRoutes, type RegistryHooks } from '../catalog/index.ts';
import { createTablesService, type TablesTables, tablesMigrations, tablesRoutes } from '../tables/index.ts';
import { createSqlEngine } from './sql.engine.ts';
import { sqlMigrations } from './sql.migrations.ts';
import { sqlRoutes } from './sql.routes.ts';
import { createSqlService } from './sql.service.ts';
import type { SqlTables } from './sql.tables.ts';

/** Migrations of the catalog, tables and SQL domains, in one list for the composition root. */
export const lakehouseMigrations: Migration[] = [...catalogMigrations, ...tablesMigrations, ...sqlMigrations];

/** Builds the catalog, tables and SQL services and their routes (one call keeps the composition root's slots small). */
export async function createLakehouse(deps: { db: Kysely<any>; dialect: DialectName; dataDir: string; registry?: RegistryHooks }) {
  const catalog = createCatalogService({
    db: deps.db as Kysely<CatalogTables>,
    dialect: deps.dialect,
    dataDir: deps.dataDir,
    ...(deps.registry ? { registry: deps.registry } : {}),
  });
  const tables = createTablesService({ db: deps.db as Kysely<TablesTables>, dialect: deps.dialect, dataDir: deps.dataDir, catalog });
  const sql = createSqlService({
    db: deps.db as Kysely<SqlTables>,
    catalog,
    tables,
    engine: createSqlEngine({
      dataDir: deps.dataDir,
      // packages/delta stages new Parquet files under the OS temp directory before moving them into a table.
      stagingDirs: [os.tmpdir()],
    }),
  });
  const routes: RouteSpec[] = [...catalogRoutes(catalog), ...tablesRoutes(tables), ...sqlRoutes(sql), ...filesRoutes(catalog)];
  return { catalog, tables, sql, routes };
}
