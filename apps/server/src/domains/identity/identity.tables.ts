import type { Generated } from 'kysely';

/** Users, service principals and groups share one id space so grants can name any of them. */
export interface PrincipalsTable {
  id: Generated<number>;
  kind: 'user' | 'service_principal' | 'group';
  name: string;
  display_name: string | null;
  password_hash: string | null;
  application_id: string | null;
  active: number;
  created_at: number;
  external_id: string | null;
  /** JSON of the SCIM attributes Weir keeps but does not act on: emails, name, entitlements, roles. */
  attributes: string | null;
}

/** Group membership (groups may contain groups). */
export interface GroupMembersTable {
  group_id: number;
  member_id: number;
}

/** Personal access tokens; only a hash of the secret is kept. */
export interface TokensTable {
  token_id: string;
  principal_id: number;
  token_hash: string;
  comment: string | null;
  created_at: number;
  expires_at: number;
  /** Who minted it (an admin, for tokens made on behalf of a service principal); null means the owner. */
  created_by_id: number | null;
}

/** Databricks-style permission levels on workspace objects (experiments, endpoints, ...). */
export interface ObjectPermissionsTable {
  object_type: string;
  object_id: string;
  principal_id: number;
  level: string;
}

/** Change counters, so each replica can tell its caches are stale: id 1 grows with every identity write, id 2 with every workspace-object permission write. */
export interface IdentityStateTable {
  id: number;
  epoch: number;
}

/** The identity domain's tables. */
export interface IdentityTables {
  principals: PrincipalsTable;
  group_members: GroupMembersTable;
  tokens: TokensTable;
  object_permissions: ObjectPermissionsTable;
  identity_state: IdentityStateTable;
}
