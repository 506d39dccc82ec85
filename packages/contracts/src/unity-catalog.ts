import { z } from 'zod';
import { int64, requiredString } from './wire.ts';

/** A string→string map (catalog, schema and table properties). */
export const Properties = z.record(z.string(), z.string());

/** Paging parameters every UC list accepts. */
const paging = { max_results: int64().optional(), page_token: z.string().optional() };

/** POST /catalogs */
export const CreateCatalog = z.object({
  name: requiredString(),
  comment: z.string().optional(),
  properties: Properties.optional(),
  storage_root: z.string().optional(),
});
/** GET /catalogs */
export const ListCatalogs = z.object({ ...paging });
/** GET|DELETE /catalogs/{name} */
export const CatalogByName = z.object({ name: requiredString(), force: z.boolean().optional() });
/** PATCH /catalogs/{name} */
export const UpdateCatalog = z.object({
  name: requiredString(),
  comment: z.string().optional(),
  properties: Properties.optional(),
  new_name: z.string().optional(),
  owner: z.string().optional(),
});

/** POST /schemas */
export const CreateSchema = z.object({
  name: requiredString(),
  catalog_name: requiredString(),
  comment: z.string().optional(),
  properties: Properties.optional(),
  storage_root: z.string().optional(),
});
/** GET /schemas */
export const ListSchemas = z.object({ catalog_name: requiredString(), ...paging });
/** GET|DELETE /schemas/{full_name} */
export const SchemaByName = z.object({ full_name: requiredString(), force: z.boolean().optional() });
/** PATCH /schemas/{full_name} */
export const UpdateSchema = z.object({
  full_name: requiredString(),
  comment: z.string().optional(),
  properties: Properties.optional(),
  new_name: z.string().optional(),
  owner: z.string().optional(),
});

/** A column as UC shows it (and as POST /tables accepts it). */
export const ColumnInfo = z.object({
  name: requiredString(),
  type_text: z.string().optional(),
  type_json: z.string().optional(),
  type_name: z.string().optional(),
  type_precision: z.number().int().optional(),
  type_scale: z.number().int().optional(),
  type_interval_type: z.string().optional(),
  position: z.number().int().optional(),
  comment: z.string().optional(),
  nullable: z.boolean().optional(),
  partition_index: z.number().int().optional(),
});
/** UC table types. */
export const TableType = z.enum(['MANAGED', 'EXTERNAL', 'STREAMING_TABLE', 'MATERIALIZED_VIEW', 'METRIC_VIEW', 'VIEW']);
/** UC data source formats. */
export const DataSourceFormat = z.enum(['DELTA', 'CSV', 'JSON', 'AVRO', 'PARQUET', 'ORC', 'TEXT']);

/** POST /tables */
export const CreateTable = z.object({
  name: requiredString(),
  catalog_name: requiredString(),
  schema_name: requiredString(),
  table_type: TableType,
  data_source_format: DataSourceFormat.optional(),
  columns: z.array(ColumnInfo).max(10_000).optional(),
  storage_location: z.string().optional(),
  comment: z.string().optional(),
  properties: Properties.optional(),
});
/** GET /tables */
export const ListTables = z.object({ catalog_name: requiredString(), schema_name: requiredString(), ...paging });
/** GET|DELETE /tables/{full_name} */
export const TableByName = z.object({ full_name: requiredString() });

/** Volume types. */
export const VolumeType = z.enum(['MANAGED', 'EXTERNAL']);
/** POST /volumes */
export const CreateVolume = z.object({
  catalog_name: requiredString(),
  schema_name: requiredString(),
  name: requiredString(),
  volume_type: VolumeType,
  comment: z.string().optional(),
  storage_location: z.string().optional(),
});
/** GET /volumes */
export const ListVolumes = z.object({ catalog_name: requiredString(), schema_name: requiredString(), ...paging });
/** GET|DELETE /volumes/{name} */
export const VolumeByName = z.object({ name: requiredString() });
/** PATCH /volumes/{name} */
export const UpdateVolume = z.object({
  name: requiredString(),
  comment: z.string().optional(),
  new_name: z.string().optional(),
  owner: z.string().optional(),
});

/** One parameter of a UC function. */
export const FunctionParameterInfo = z.object({
  name: requiredString(),
  type_text: requiredString(),
  type_json: z.string().optional(),
  type_name: requiredString(),
  type_precision: z.number().int().optional(),
  type_scale: z.number().int().optional(),
  type_interval_type: z.string().optional(),
  position: z.number().int().optional(),
  parameter_mode: z.string().optional(),
  parameter_type: z.string().optional(),
  parameter_default: z.string().optional(),
  comment: z.string().optional(),
});
/** The `function_info` of POST /functions (only SQL scalar functions can run in Weir). */
export const CreateFunctionInfo = z.object({
  name: requiredString(),
  catalog_name: requiredString(),
  schema_name: requiredString(),
  input_params: z.object({ parameters: z.array(FunctionParameterInfo).max(1000).optional() }).optional(),
  data_type: requiredString(),
  full_data_type: requiredString(),
  return_params: z.object({ parameters: z.array(FunctionParameterInfo).max(1000).optional() }).optional(),
  routine_body: z.enum(['SQL', 'EXTERNAL']),
  routine_definition: requiredString(),
  routine_dependencies: z.unknown().optional(),
  parameter_style: z.string().optional(),
  is_deterministic: z.boolean().optional(),
  sql_data_access: z.string().optional(),
  is_null_call: z.boolean().optional(),
  security_type: z.string().optional(),
  specific_name: z.string().optional(),
  comment: z.string().optional(),
  properties: z.string().optional(),
  external_language: z.string().optional(),
});
/** POST /functions */
export const CreateFunction = z.object({ function_info: CreateFunctionInfo });
/** GET /functions */
export const ListFunctions = z.object({ catalog_name: requiredString(), schema_name: requiredString(), ...paging });
/** GET|DELETE /functions/{name} */
export const FunctionByName = z.object({ name: requiredString(), force: z.boolean().optional() });

/** A UC column as answered. */
export type ColumnInfoWire = z.infer<typeof ColumnInfo>;
