/** The registry's tables: registered models, their versions, tags and aliases (one store for MLflow and Unity Catalog). */
export interface RegistryTables {
  registered_models: {
    model_id: string;
    catalog_name: string;
    schema_name: string;
    name: string;
    description: string | null;
    owner: string;
    owner_id: number;
    created_at: number;
    created_by: string;
    updated_at: number;
    updated_by: string;
    /** Highest version number ever given; numbers are never reused, even after deletion. */
    last_version: number;
  };
  registered_model_tags: { model_id: string; key: string; value: string };
  registered_model_aliases: { model_id: string; alias: string; version: number };
  model_versions: {
    id: string;
    model_id: string;
    version: number;
    created_at: number;
    created_by: string;
    updated_at: number;
    updated_by: string;
    current_stage: string;
    description: string | null;
    source: string;
    run_id: string | null;
    run_link: string | null;
    logged_model_id: string | null;
    status: string;
    status_message: string | null;
    /** Where the version's files live: `models/<c>/<s>/<m>/<v>` under the data dir, or the external source. */
    storage_location: string | null;
    /** MLmodel facts as JSON text (flavors, signature, input example info, requirements file). */
    model_meta: string | null;
    servable: number;
    not_servable_reason: string | null;
    deleted: number;
  };
  model_version_tags: { model_id: string; version: number; key: string; value: string };
}
