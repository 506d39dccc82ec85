import type { ColumnType } from 'kysely';
/** One granted privilege: a principal holds `privilege` on the securable `securable_type` + `full_name`. */
export interface UcGrantsTable {
  securable_type: string;
  full_name: string;
  principal_id: number;
  /** Databricks spelling (`USE_CATALOG`). */
  privilege: string;
  /** When the grant was written (ms since the epoch; 0 for grants older than this column). */
  granted_at: ColumnType<number, number | undefined, number>;
}

/** A single row whose counter moves on every grant write, so other replicas know to reload their cache. */
export interface UcGrantsVersionTable {
  id: number;
  version: number;
}

/** The governance domain's tables. */
export interface GovernanceTables {
  uc_grants: UcGrantsTable;
  uc_grants_version: UcGrantsVersionTable;
}
