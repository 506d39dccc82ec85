/** A table registered in a schema: managed (under the warehouse) or external (at its own location). */
export interface UcTablesTable {
  id: string;
  schema_id: string;
  name: string;
  table_type: 'MANAGED' | 'EXTERNAL' | 'VIEW';
  data_source_format: string | null;
  /** Absolute local directory of the Delta table (null for views). */
  storage_location: string | null;
  comment: string | null;
  properties: string;
  /** Last known Delta schema and partition columns as JSON (lists read it; gets refresh it from the log). */
  schema_json: string;
  view_definition: string | null;
  owner: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

/** The tables domain's tables. */
export interface TablesTables {
  uc_tables: UcTablesTable;
}
