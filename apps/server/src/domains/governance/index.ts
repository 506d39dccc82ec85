export { type ListingVisibility, type RouteGovernance, visiblePage } from './governance.listing.ts';
export { governanceMigrations } from './governance.migrations.ts';
export { createOwnerLookup, type IdentityReads, type OwnerSources, principalDirectoryFrom } from './governance.owners.ts';
export { APPLICABLE, chainOf, type Dialect, dialectOf, parsePrivilege, parseSecurableType, spellPrivilege } from './governance.privileges.ts';
export { createCatalog, createInSchema, manage, onLeaf, useCatalog, useSchema } from './governance.requirements.ts';
export { declareRequirements, ROUTE_REQUIREMENTS, routeKey } from './governance.route-requirements.ts';
export { governanceRoutes } from './governance.routes.ts';
export {
  createGovernanceService,
  type GovernanceService,
  type OwnerLookup,
  type PermissionsChange,
  type PrincipalDirectory,
  type PrincipalRef,
} from './governance.service.ts';
export type { GovernanceTables } from './governance.tables.ts';
export type { Authorizer, Privilege, Securable, SecurableType } from './governance.types.ts';
