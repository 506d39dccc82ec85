export { tablesMigrations } from './tables.migrations.ts';
export { tablesRoutes } from './tables.routes.ts';
export { createTablesService, deltaToUc, type ManagedTableSpec, type ResolvedTable, type TablesService } from './tables.service.ts';
export type { TablesTables } from './tables.tables.ts';
export { columnsOf, duckTypeOfDelta, parseTypeText, typeText } from './tables.types.ts';
