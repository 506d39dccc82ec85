export { filesRoutes } from './catalog.files.ts';
export { auditedColumns, catalogMigrations } from './catalog.migrations.ts';
export {
  pageLimit,
  splitFullName,
  toPage,
  UcNotFoundError,
  ucError,
  ucExists,
  ucInvalid,
  ucNotFound,
  validateName,
  withUcErrorCodes,
} from './catalog.names.ts';
export { catalogRoutes, filteredListing, UC_PREFIX } from './catalog.routes.ts';
export {
  type CatalogService,
  createCatalogService,
  isWithin,
  localPathOf,
  mayChange,
  type RegistryHooks,
  type ResolvedSchema,
  type SchemaChildren,
} from './catalog.service.ts';
export type { CatalogTables } from './catalog.tables.ts';
export { parseVolumePath, safeJoin, type VolumePath } from './catalog.volumes.ts';
