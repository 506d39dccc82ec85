export { createInferenceCapture, type InferenceCapture, type PayloadTables } from './serving.capture.ts';
export { servingMigrations } from './serving.migrations.ts';
export { MAX_INVOCATION_BYTES, SERVED_ENTITY_HEADER, servingRoutes } from './serving.routes.ts';
export { createModelRuntime, type LoadedModel, type ModelRuntime } from './serving.runtime.ts';
export { createServingService, type EndpointAccess, SERVING_ENDPOINT_OBJECT, type ServedModelSource, type ServingService } from './serving.service.ts';
export type { ServingTables } from './serving.tables.ts';
