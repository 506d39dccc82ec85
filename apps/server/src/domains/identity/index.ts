export { identityMigrations } from './identity.migrations.ts';
export { identityRoutes, type PermissionObjectType } from './identity.routes.ts';
export { createIdentityService, type IdentityService, levelAtLeast, type PrincipalDeletionListener, type PrincipalRef } from './identity.service.ts';
export type { IdentityTables } from './identity.tables.ts';
