export * from './errors.ts';
export type { PermissionLevel } from './identity.ts';
export * as identity from './identity.ts';
export * as mlflow from './mlflow.ts';
export * from './wire.ts';
