export { type ArtifactStore, createArtifactStore } from './tracking.artifacts.ts';
export { trackingMigrations } from './tracking.migrations.ts';
export { mlflowPaths, trackingRoutes } from './tracking.routes.ts';
export { createTrackingService, type TrackingService } from './tracking.service.ts';
export type { TrackingTables } from './tracking.tables.ts';
