import { z } from 'zod';
import { int64, KeyValue, requiredString } from './wire.ts';

const tags = z.array(KeyValue);
/** A model version number: MLflow sends it as a string, some clients as a number. */
const versionField = z.union([requiredString(), z.number().int().transform(String)]);

/** POST registered-models/create */
export const CreateRegisteredModel = z.object({
  name: requiredString(),
  tags: tags.optional(),
  description: z.string().optional(),
  deployment_job_id: z.string().optional(),
});
/** GET registered-models/get, DELETE registered-models/delete */
export const RegisteredModelName = z.object({ name: requiredString() });
/** POST registered-models/rename */
export const RenameRegisteredModel = z.object({ name: requiredString(), new_name: requiredString() });
/** PATCH registered-models/update */
export const UpdateRegisteredModel = z.object({ name: requiredString(), description: z.string().optional() });
/** GET registered-models/search and the legacy registered-models/list */
export const SearchRegisteredModels = z.object({
  filter: z.string().optional(),
  max_results: int64().optional(),
  order_by: z.array(z.string()).optional(),
  page_token: z.string().optional(),
});
/** POST|GET registered-models/get-latest-versions */
export const GetLatestVersions = z.object({ name: requiredString(), stages: z.array(z.string()).optional() });
/** POST registered-models/set-tag */
export const SetRegisteredModelTag = z.object({ name: requiredString(), key: requiredString(), value: z.string().optional() });
/** DELETE registered-models/delete-tag */
export const DeleteRegisteredModelTag = z.object({ name: requiredString(), key: requiredString() });
/** POST registered-models/alias */
export const SetRegisteredModelAlias = z.object({ name: requiredString(), alias: requiredString(), version: versionField });
/** DELETE|GET registered-models/alias */
export const RegisteredModelAlias = z.object({ name: requiredString(), alias: requiredString() });
/** POST model-versions/create */
export const CreateModelVersion = z.object({
  name: requiredString(),
  source: requiredString(),
  run_id: z.string().optional(),
  tags: tags.optional(),
  run_link: z.string().optional(),
  description: z.string().optional(),
  model_id: z.string().optional(),
});
/** GET model-versions/get, DELETE model-versions/delete, GET model-versions/get-download-uri */
export const ModelVersionRef = z.object({ name: requiredString(), version: versionField });
/** PATCH model-versions/update */
export const UpdateModelVersion = z.object({ name: requiredString(), version: versionField, description: z.string().optional() });
/** POST model-versions/transition-stage */
export const TransitionModelVersionStage = z.object({
  name: requiredString(),
  version: versionField,
  stage: requiredString(),
  archive_existing_versions: z.boolean().optional(),
});
/** GET model-versions/search */
export const SearchModelVersions = z.object({
  filter: z.string().optional(),
  max_results: int64().optional(),
  order_by: z.array(z.string()).optional(),
  page_token: z.string().optional(),
});
/** POST model-versions/set-tag */
export const SetModelVersionTag = z.object({ name: requiredString(), version: versionField, key: requiredString(), value: z.string().optional() });
/** DELETE model-versions/delete-tag */
export const DeleteModelVersionTag = z.object({ name: requiredString(), version: versionField, key: requiredString() });

/** Unity Catalog: POST /models */
export const UcCreateRegisteredModel = z.object({
  name: requiredString(),
  catalog_name: requiredString(),
  schema_name: requiredString(),
  comment: z.string().optional(),
  storage_location: z.string().optional(),
});
/** Unity Catalog: GET /models */
export const UcListRegisteredModels = z.object({
  catalog_name: z.string().optional(),
  schema_name: z.string().optional(),
  max_results: int64().optional(),
  page_token: z.string().optional(),
  include_browse: z.boolean().optional(),
});
/** Unity Catalog: GET|DELETE /models/{full_name} */
export const UcModelFullName = z.object({
  full_name: requiredString(),
  force: z.boolean().optional(),
  include_aliases: z.boolean().optional(),
  include_browse: z.boolean().optional(),
});
/** Unity Catalog: PATCH /models/{full_name} */
export const UcUpdateRegisteredModel = z.object({ full_name: requiredString(), comment: z.string().optional(), new_name: z.string().optional() });
/** Unity Catalog: POST /models/versions */
export const UcCreateModelVersion = z.object({
  model_name: requiredString(),
  catalog_name: requiredString(),
  schema_name: requiredString(),
  source: requiredString(),
  run_id: z.string().optional(),
  comment: z.string().optional(),
});
/** Unity Catalog: GET /models/{full_name}/versions */
export const UcListModelVersions = z.object({ full_name: requiredString(), max_results: int64().optional(), page_token: z.string().optional() });
/** Unity Catalog: GET|DELETE|PATCH /models/{full_name}/versions/{version} (and finalize) */
export const UcModelVersionRef = z.object({
  full_name: requiredString(),
  version: z.string().regex(/^\d{1,9}$/),
  comment: z.string().optional(),
  include_aliases: z.boolean().optional(),
});
/** Unity Catalog: PUT|GET|DELETE /models/{full_name}/aliases/{alias} */
export const UcModelAlias = z.object({ full_name: requiredString(), alias: requiredString(), version_num: int64().optional() });
