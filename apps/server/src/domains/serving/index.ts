export { captureSettingsFromEnv, createInferenceCapture, type InferenceCapture, type PayloadTables } from './serving.capture.ts';
export { createInvocationFastPath, type InvocationFastPath, interceptInvocations } from './serving.fast-path.ts';
export { servingMigrations } from './serving.migrations.ts';
export { INVOCATIONS_PATH, MAX_INVOCATION_BYTES, SERVED_ENTITY_HEADER, servingRoutes } from './serving.routes.ts';
export { createModelRuntime, type LoadedModel, type ModelRuntime, onnxThreadsFromEnv } from './serving.runtime.ts';
export { createServingService, type EndpointAccess, SERVING_ENDPOINT_OBJECT, type ServedModelSource, type ServingService } from './serving.service.ts';
export {
  DEFAULT_ALIAS_POLL_SECONDS,
  parseModelUri,
  type StandaloneServing,
  type StandaloneServingOptions,
  startStandaloneServing,
} from './serving.standalone.ts';
export type { ServingTables } from './serving.tables.ts';
