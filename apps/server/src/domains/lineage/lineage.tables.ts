import type { Generated } from 'kysely';

/** One lineage edge as recorded: entity level when both column fields are null, column level otherwise. */
export interface LineageEdgesTable {
  record_id: Generated<number>;
  /** Shared by every edge one event (a statement, a log-inputs call, a registration, a config switch) produced. */
  event_id: string;
  event_time: number;
  /** `kind:name` (`table:main.sales.orders`, `path:/Volumes/...`, `run:<id>`, `model_version:c.s.m/3`, `endpoint:name`). */
  source_id: string;
  source_type: string | null;
  target_id: string;
  target_type: string | null;
  source_column: string | null;
  target_column: string | null;
  /** How the edge arose: `sql`, `dataset_input`, `registered_from_run`, `serves`. */
  kind: string;
  /** The SQL statement (statement id) or request that created the edge. */
  statement_id: string | null;
  /** The SQL operation (INSERT, MERGE, ...) or the dataset name, for display. */
  detail: string | null;
  created_by: string | null;
  /** The copy batch that put a SQL edge into its `system.access` Delta table; null until copied. */
  batch: number | null;
}

/** Tables of the lineage domain. */
export interface LineageTables {
  lineage_edges: LineageEdgesTable;
}
