/** Files COPY INTO has loaded into a table (so re-running it skips them). */
export interface SqlCopyLoadsTable {
  table_id: string;
  file_path: string;
  size: number;
  modified: number;
  loaded_at: number;
}

/** A table's row filter (kind `filter`, column_name '') or one column's mask (kind `mask`). */
export interface SqlRowSecurityTable {
  table_id: string;
  kind: 'filter' | 'mask';
  column_name: string;
  /** Full name of the catalog function. */
  function_name: string;
  /** The filter's argument columns, or the mask's USING COLUMNS, as a JSON array. */
  columns_json: string;
}

/** The SQL domain's tables. */
export interface SqlTables {
  sql_copy_loads: SqlCopyLoadsTable;
  sql_row_security: SqlRowSecurityTable;
}
