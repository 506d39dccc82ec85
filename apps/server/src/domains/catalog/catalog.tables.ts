/** Columns every catalog object carries: who owns it and who touched it when. */
interface Audited {
  owner: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

/** A catalog: the first level of the three-level namespace. */
export interface UcCatalogsTable extends Audited {
  id: string;
  name: string;
  comment: string | null;
  /** JSON object of string properties. */
  properties: string;
  storage_root: string | null;
}

/** A schema inside a catalog. */
export interface UcSchemasTable extends Audited {
  id: string;
  catalog_id: string;
  name: string;
  comment: string | null;
  properties: string;
  storage_root: string | null;
}

/** A volume: a governed directory of files inside a schema. */
export interface UcVolumesTable extends Audited {
  id: string;
  schema_id: string;
  name: string;
  volume_type: 'MANAGED' | 'EXTERNAL';
  /** Absolute local directory. */
  storage_location: string;
  comment: string | null;
}

/** A SQL scalar function inside a schema. */
export interface UcFunctionsTable extends Audited {
  id: string;
  schema_id: string;
  name: string;
  /** The CreateFunction body as JSON (returned as given, plus identity fields). */
  info: string;
}

/** The catalog domain's tables. */
export interface CatalogTables {
  uc_catalogs: UcCatalogsTable;
  uc_schemas: UcSchemasTable;
  uc_volumes: UcVolumesTable;
  uc_functions: UcFunctionsTable;
}
