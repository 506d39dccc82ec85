export {
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
  SearchGrammarError,
} from './search-grammar.ts';
export { type ArtifactStore, checkRelativePath, createArtifactStore, storePathOfUri } from './tracking.artifacts.ts';
export { trackingMigrations } from './tracking.migrations.ts';
export { mlflowPaths, trackingRoutes } from './tracking.routes.ts';
export { createTrackingService, type TrackingService } from './tracking.service.ts';
export type { TrackingTables } from './tracking.tables.ts';
