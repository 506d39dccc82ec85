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
}

/** Databricks-style permission levels on workspace objects (experiments, endpoints, ...). */
export interface ObjectPermissionsTable {
  object_type: string;
  object_id: string;
  principal_id: number;
  level: string;
}

/** The identity domain's tables. */
export interface IdentityTables {
  principals: PrincipalsTable;
  group_members: GroupMembersTable;
  tokens: TokensTable;
  object_permissions: ObjectPermissionsTable;
}
