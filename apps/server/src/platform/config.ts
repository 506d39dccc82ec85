import path from 'node:path';

/** Everything `weir server` needs to start. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** PostgreSQL URL; absent means embedded SQLite at `<dataDir>/weir.db`. */
  metadataUrl: string | undefined;
  /** Token that becomes the admin's, from WEIR_ADMIN_TOKEN. */
  adminToken: string | undefined;
  /** Default catalog and schema for flat MLflow registry names. */
  defaultCatalog: string;
  defaultSchema: string;
  logLevel: string;
  /** Days `system.access.audit` keeps events (WEIR_AUDIT_RETENTION_DAYS, `--audit-retention-days`; default 365). */
  auditRetentionDays: number;
  /** Days lineage is kept (WEIR_LINEAGE_RETENTION_DAYS, `--lineage-retention-days`); undefined keeps it forever. */
  lineageRetentionDays: number | undefined;
  /** Seconds between compactions of committed audit events into `system.access.audit` (WEIR_AUDIT_COMPACT_SECONDS; default 10). */
  auditCompactSeconds: number;
}

function positiveNumber(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${value}'`);
  return n;
}

/** Like positiveNumber, but absent stays absent (a setting whose default is "no limit"). */
function optionalPositive(name: string, value: number | string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : positiveNumber(name, value, 0);
}

/** Builds a config from CLI options and the environment, filling defaults. */
export function resolveConfig(options: Partial<Omit<ServerConfig, 'dataDir'>> & { dataDir?: string }, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    host: options.host ?? env.WEIR_HOST_BIND ?? '0.0.0.0',
    port: options.port ?? Number(env.WEIR_PORT ?? 8080),
    dataDir: path.resolve(options.dataDir ?? env.WEIR_DATA_DIR ?? './weir-data'),
    metadataUrl: options.metadataUrl ?? env.WEIR_METADATA_URL ?? undefined,
    adminToken: options.adminToken ?? env.WEIR_ADMIN_TOKEN ?? undefined,
    defaultCatalog: options.defaultCatalog ?? env.WEIR_DEFAULT_CATALOG ?? 'main',
    defaultSchema: options.defaultSchema ?? env.WEIR_DEFAULT_SCHEMA ?? 'default',
    logLevel: options.logLevel ?? env.WEIR_LOG_LEVEL ?? 'info',
    auditRetentionDays: positiveNumber('audit retention days', options.auditRetentionDays ?? env.WEIR_AUDIT_RETENTION_DAYS, 365),
    lineageRetentionDays: optionalPositive('lineage retention days', options.lineageRetentionDays ?? env.WEIR_LINEAGE_RETENTION_DAYS),
    auditCompactSeconds: positiveNumber('audit compaction interval', options.auditCompactSeconds ?? env.WEIR_AUDIT_COMPACT_SECONDS, 10),
  };
}
