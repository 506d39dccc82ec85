/** Files COPY INTO has loaded into a table (so re-running it skips them). */
export interface SqlCopyLoadsTable {
  table_id: string;
  file_path: string;
  size: number;
  modified: number;
  loaded_at: number;
}

/** The SQL domain's tables. */
export interface SqlTables {
  sql_copy_loads: SqlCopyLoadsTable;
}
