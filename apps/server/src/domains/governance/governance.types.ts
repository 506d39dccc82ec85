import type { Principal } from '../../platform/http.ts';

/** A Unity Catalog securable kind, as `securable_type` spells it in the permissions API (lower case). */
export type SecurableType = 'metastore' | 'catalog' | 'schema' | 'table' | 'volume' | 'function' | 'registered_model';

/**
 * A Unity Catalog privilege in Databricks' spelling (underscores). OSS clients spell them with spaces
 * (`USE CATALOG`); the permissions routes translate at the edge, everything inside uses this form.
 */
export type Privilege =
  | 'ALL_PRIVILEGES'
  | 'MANAGE'
  | 'BROWSE'
  | 'USE_CATALOG'
  | 'USE_SCHEMA'
  | 'SELECT'
  | 'MODIFY'
  | 'EXECUTE'
  | 'READ_VOLUME'
  | 'WRITE_VOLUME'
  | 'CREATE_CATALOG'
  | 'CREATE_SCHEMA'
  | 'CREATE_TABLE'
  | 'CREATE_VOLUME'
  | 'CREATE_FUNCTION'
  | 'CREATE_MODEL';

/** One object of the catalog tree, by its full dotted name (`main`, `main.sales`, `main.sales.orders`); the metastore's name is `metastore`. */
export interface Securable {
  type: SecurableType;
  fullName: string;
}

/**
 * The one authorization decision for catalog objects. Admins pass everything; an object's owner (and the owner of any
 * parent) passes everything on it; otherwise a privilege holds when it (or ALL_PRIVILEGES) is granted to the principal
 * or to any group it belongs to (transitively) on the object or on any ancestor (metastore → catalog → schema → leaf).
 */
export interface Authorizer {
  /** Whether the principal holds the privilege on the securable (inherited grants and ownership included). */
  authorize(principal: Principal, privilege: Privilege, securable: Securable): Promise<boolean>;
  /** Like `authorize`, but throws PERMISSION_DENIED (403) naming the privilege and object when it does not hold. */
  require(principal: Principal, privilege: Privilege, securable: Securable): Promise<void>;
  /**
   * The subset of the given full names of one securable type the principal may see (any privilege on the object, or
   * ownership, plus USE on its parents as Unity Catalog requires). Listing endpoints filter through this in one call.
   */
  visible(principal: Principal, type: SecurableType, fullNames: string[]): Promise<Set<string>>;
}
