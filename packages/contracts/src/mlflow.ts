import { z } from 'zod';
import { double, int64, KeyValue, protoEnum, requiredString } from './wire.ts';

/** MLflow ViewType, by name or number. */
export const ViewType = protoEnum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const);
/** MLflow RunStatus, by name or number. */
export const RunStatus = protoEnum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const);
/** MLflow 3 logged model status, by name or number. */
export const LoggedModelStatus = protoEnum(['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] as const);

const tags = z.array(KeyValue);
const runId = { run_id: z.string().optional(), run_uuid: z.string().optional() };

/** POST experiments/create */
export const CreateExperiment = z.object({
  name: requiredString(),
  artifact_location: z.string().optional(),
  tags: tags.optional(),
});
/** POST|GET experiments/search and the legacy experiments/list */
export const SearchExperiments = z.object({
  max_results: int64().optional(),
  page_token: z.string().optional(),
  filter: z.string().optional(),
  order_by: z.array(z.string()).optional(),
  view_type: ViewType.optional(),
});
/** GET experiments/get, POST experiments/delete|restore */
export const ExperimentIdRequest = z.object({ experiment_id: requiredString() });
/** GET experiments/get-by-name */
export const GetExperimentByName = z.object({ experiment_name: requiredString() });
/** POST experiments/update */
export const UpdateExperiment = z.object({ experiment_id: requiredString(), new_name: requiredString() });
/** POST experiments/set-experiment-tag */
export const SetExperimentTag = z.object({
  experiment_id: requiredString(),
  key: requiredString(),
  value: z.string().optional(),
});
/** POST experiments/delete-experiment-tag */
export const DeleteExperimentTag = z.object({ experiment_id: requiredString(), key: requiredString() });

/** POST runs/create */
export const CreateRun = z.object({
  experiment_id: z.string().optional(),
  user_id: z.string().optional(),
  run_name: z.string().optional(),
  start_time: int64().optional(),
  tags: tags.optional(),
});
/** POST runs/update */
export const UpdateRun = z.object({
  ...runId,
  status: RunStatus.optional(),
  end_time: int64().optional(),
  run_name: z.string().optional(),
});
/** GET runs/get, POST runs/delete|restore */
export const RunIdRequest = z.object(runId);
/** POST runs/search */
export const SearchRuns = z.object({
  experiment_ids: z.array(z.string()).optional(),
  filter: z.string().optional(),
  run_view_type: ViewType.optional(),
  max_results: int64().optional(),
  order_by: z.array(z.string()).optional(),
  page_token: z.string().optional(),
});
/** One metric point as logged. */
export const MetricInput = z.object({
  key: requiredString(),
  value: double(),
  timestamp: int64(),
  step: int64().optional(),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
  run_id: z.string().optional(),
});
/** POST runs/log-metric */
export const LogMetric = z.object({
  ...runId,
  key: requiredString(),
  value: double(),
  timestamp: int64(),
  step: int64().optional(),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
});
/** POST runs/log-parameter */
export const LogParam = z.object({ ...runId, key: requiredString(), value: z.string().optional() });
/** POST runs/set-tag */
export const SetTag = z.object({ ...runId, key: requiredString(), value: z.string().optional() });
/** POST runs/delete-tag */
export const DeleteTag = z.object({ run_id: requiredString(), key: requiredString() });
/** POST runs/log-batch */
export const LogBatch = z.object({
  run_id: requiredString(),
  metrics: z.array(MetricInput).optional(),
  params: z.array(z.object({ key: requiredString(), value: z.string().optional() })).optional(),
  tags: z.array(z.object({ key: requiredString(), value: z.string().optional() })).optional(),
});
/** A dataset as logged in run inputs. */
export const Dataset = z.object({
  name: requiredString(),
  digest: requiredString(),
  source_type: requiredString(),
  source: requiredString(),
  schema: z.string().optional(),
  profile: z.string().optional(),
});
/** POST runs/log-inputs */
export const LogInputs = z.object({
  run_id: requiredString(),
  datasets: z.array(z.object({ tags: tags.optional(), dataset: Dataset })).optional(),
  models: z.array(z.object({ model_id: requiredString() })).optional(),
});
/** POST runs/outputs */
export const LogOutputs = z.object({
  run_id: requiredString(),
  models: z.array(z.object({ model_id: requiredString(), step: int64().optional() })),
});
/** POST runs/log-model (MLflow 2.x) */
export const LogModel = z.object({ run_id: requiredString(), model_json: requiredString() });
/** GET metrics/get-history */
export const GetMetricHistory = z.object({
  ...runId,
  metric_key: requiredString(),
  max_results: int64().optional(),
  page_token: z.string().optional(),
});
/** GET metrics/get-history-bulk-interval */
export const GetMetricHistoryBulkInterval = z.object({
  run_ids: z.array(z.string()).optional(),
  metric_key: z.string().optional(),
  start_step: int64().optional(),
  end_step: int64().optional(),
  max_results: int64().optional(),
});
/** GET metrics/get-history-bulk (UI) */
export const GetMetricHistoryBulk = z.object({
  run_id: z.array(z.string()).optional(),
  metric_key: z.string().optional(),
  max_results: int64().optional(),
});
/** GET artifacts/list */
export const ListArtifacts = z.object({
  ...runId,
  path: z.string().optional(),
  page_token: z.string().optional(),
});
/** GET mlflow-artifacts/artifacts (listing) */
export const ListProxyArtifacts = z.object({ path: z.string().optional() });

/** POST logged-models */
export const CreateLoggedModel = z.object({
  experiment_id: requiredString(),
  name: z.string().optional(),
  model_type: z.string().optional(),
  source_run_id: z.string().optional(),
  params: z.array(KeyValue).optional(),
  tags: tags.optional(),
});
/** PATCH logged-models/{model_id} */
export const FinalizeLoggedModel = z.object({
  model_id: z.string().optional(),
  status: LoggedModelStatus,
});
/** POST logged-models/search */
export const SearchLoggedModels = z.object({
  experiment_ids: z.array(z.string()).optional(),
  filter: z.string().optional(),
  datasets: z.array(z.object({ dataset_name: requiredString(), dataset_digest: z.string().optional() })).optional(),
  max_results: int64().optional(),
  order_by: z
    .array(
      z.object({
        field_name: requiredString(),
        ascending: z.boolean().optional(),
        dataset_name: z.string().optional(),
        dataset_digest: z.string().optional(),
      }),
    )
    .optional(),
  page_token: z.string().optional(),
});
/** PATCH logged-models/{model_id}/tags */
export const SetLoggedModelTags = z.object({ model_id: z.string().optional(), tags: tags.optional() });
/** POST logged-models/{model_id}/params */
export const LogLoggedModelParams = z.object({ model_id: z.string().optional(), params: z.array(KeyValue).optional() });
/** GET logged-models/{model_id}/artifacts/directories */
export const ListLoggedModelArtifacts = z.object({
  artifact_directory_path: z.string().optional(),
  page_token: z.string().optional(),
});
/** POST experiments/search-datasets (UI) */
export const SearchDatasets = z.object({ experiment_ids: z.array(z.string()).optional() });
