export { lineageMigrations } from './lineage.migrations.ts';
export { lineageRoutes } from './lineage.routes.ts';
export {
  createLineageService,
  datasetTable,
  ENTITY_KINDS,
  type EntityKind,
  type LineageAccess,
  type LineageService,
  parseEntityId,
  type TableFacts,
} from './lineage.service.ts';
export { COLUMN_LINEAGE, createLineageSystemTables, type LineageSystemTables, TABLE_LINEAGE } from './lineage.system-tables.ts';
export type { LineageTables } from './lineage.tables.ts';
