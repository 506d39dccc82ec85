export { registryMigrations } from './registry.migrations.ts';
export { type ModelFacts, readModelFacts } from './registry.mlmodel.ts';
export { MODEL_FILES_PREFIX, modelFilesUri, registryRoutes } from './registry.routes.ts';
export { createRegistryService, type ModelAccess, type ModelNamespace, REGISTERED_MODEL_OBJECT, type RegistryService } from './registry.service.ts';
export type { RegistryTables } from './registry.tables.ts';
