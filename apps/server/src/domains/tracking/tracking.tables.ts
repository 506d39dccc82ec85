import type { Generated } from 'kysely';

/** The tracking domain's tables (MLflow experiments, runs, metrics, params, tags, inputs, logged models). */
export interface TrackingTables {
  experiments: {
    experiment_id: Generated<number>;
    name: string;
    artifact_location: string;
    lifecycle_stage: string;
    creation_time: number;
    last_update_time: number;
    owner_id: number | null;
  };
  experiment_tags: { experiment_id: number; key: string; value: string };
  runs: {
    run_uuid: string;
    experiment_id: number;
    name: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time: number | null;
    deleted_time: number | null;
    lifecycle_stage: string;
    artifact_uri: string;
  };
  params: { run_uuid: string; key: string; value: string };
  tags: { run_uuid: string; key: string; value: string };
  metrics: { series_id: number; timestamp: number; step: number; value: number; is_nan: number };
  latest_metrics: {
    series_id: Generated<number>;
    run_uuid: string;
    /** The run's experiment (runs never move), so a metric sort can walk one experiment's values in order. */
    experiment_id: number | null;
    key: string;
    timestamp: number;
    step: number;
    value: number;
    is_nan: number;
    /** metric_steps holds this series' points up to this timestamp; null: not built (or a point was logged before it). */
    stepped_through: number | null;
  };
  /** The first point of each distinct step of a series (derived from `metrics` when a chart samples it). */
  metric_steps: { series_id: number; step: number; timestamp: number; value: number; is_nan: number };
  datasets: {
    dataset_uuid: string;
    experiment_id: number;
    name: string;
    digest: string;
    source_type: string;
    source: string;
    schema: string | null;
    profile: string | null;
  };
  run_inputs: { input_uuid: string; run_uuid: string; dataset_uuid: string };
  input_tags: { input_uuid: string; key: string; value: string };
  run_model_io: { run_uuid: string; model_id: string; direction: string; step: number };
  logged_models: {
    model_id: string;
    experiment_id: number;
    name: string;
    model_type: string | null;
    source_run_id: string | null;
    status: string;
    status_message: string | null;
    creation_timestamp: number;
    last_updated_timestamp: number;
    artifact_location: string;
    lifecycle_stage: string;
    creator_id: number | null;
  };
  logged_model_tags: { model_id: string; key: string; value: string };
  logged_model_params: { model_id: string; key: string; value: string };
  logged_model_metrics: {
    model_id: string;
    key: string;
    timestamp: number;
    step: number;
    value: number;
    is_nan: number;
    run_id: string;
    dataset_name: string;
    dataset_digest: string;
  };
}
