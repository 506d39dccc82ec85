export * from './errors.ts';
export type { PermissionLevel } from './identity.ts';
export * as identity from './identity.ts';
export * from './lakehouse.ts';
export * as mlflow from './mlflow.ts';
export * as registry from './registry.ts';
export * as serving from './serving.ts';
export * as web from './web.ts';
export * from './wire.ts';
