/** The serving domain's tables: one row per endpoint, its config kept as JSON so a restart restores it. */
export interface ServingTables {
  serving_endpoints: {
    id: string;
    name: string;
    creator: string;
    creator_id: number;
    created_at: number;
    updated_at: number;
    /** The endpoint's config as accepted (served_entities with their names, traffic_config, auto_capture_config), JSON text. */
    config: string | null;
    /** A config accepted but not yet serving (loading, or interrupted by a restart), JSON text. */
    pending_config: string | null;
    config_version: number;
    /** Tags as JSON text `[{key, value}]`. */
    tags: string;
    description: string | null;
  };
}
