import { openDeltaTable } from '@weir/delta';

/** One captured request/response, in the columns of Databricks' legacy inference (payload) tables. */
export interface PayloadRow {
  client_request_id: string | null;
  databricks_request_id: string;
  timestamp_ms: number;
  status_code: number;
  execution_time_ms: number;
  request: string;
  response: string;
  served_entity_name: string;
  model_name: string;
  model_version: string;
}

/** Where an endpoint's payload rows go: `<catalog>.<schema>.<prefix>_payload`, created by `owner` on first flush. */
export interface PayloadTarget {
  catalog: string;
  schema: string;
  table: string;
  owner: { id: number; userName: string };
}

/** What capture needs from the tables domain: a managed table's directory, or creating it from its first batch. */
export interface PayloadTables {
  /** The Delta directory of an existing managed table, or null when the table does not exist. */
  locate(catalog: string, schema: string, table: string): Promise<string | null>;
  /** Creates a managed table whose first commit is written by `fill` into the directory it is given. */
  create(owner: { id: number; userName: string }, catalog: string, schema: string, table: string, fill: (dir: string) => Promise<void>): Promise<void>;
}

/** Buffers payload rows per table and appends them to Delta in micro-batches. */
export interface InferenceCapture {
  record(target: PayloadTarget, row: PayloadRow): void;
  /** Writes every buffered row now (graceful shutdown, tests). */
  flush(): Promise<void>;
  /** Resolves when the batches already handed to the writer are committed (buffered rows stay buffered). */
  written(): Promise<void>;
  /** Rows waiting for the next flush, per table full name. */
  pending(): Map<string, number>;
  /** The last flush error per table full name, if its last flush failed. */
  lastError(fullName: string): string | null;
  /** Flushes and stops the timer. */
  stop(): Promise<void>;
}

const sqlString = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

/** A DuckDB SELECT producing the rows with the payload table's column types. */
function batchQuery(rows: PayloadRow[]): string {
  const values = rows
    .map((r) => {
      const day = new Date(r.timestamp_ms).toISOString().slice(0, 10);
      return `(${sqlString(r.client_request_id)}, ${sqlString(r.databricks_request_id)}, DATE '${day}', ${Math.trunc(r.timestamp_ms)}, ${Math.trunc(r.status_code)}, ${Math.trunc(r.execution_time_ms)}, ${sqlString(r.request)}, ${sqlString(r.response)}, ${sqlString(r.served_entity_name)}, ${sqlString(r.model_name)}, ${sqlString(r.model_version)})`;
    })
    .join(',\n');
  return `SELECT CAST(c0 AS VARCHAR) AS client_request_id, CAST(c1 AS VARCHAR) AS databricks_request_id, CAST(c2 AS DATE) AS date,
    CAST(c3 AS BIGINT) AS timestamp_ms, CAST(c4 AS INTEGER) AS status_code, CAST(c5 AS BIGINT) AS execution_time_ms,
    CAST(c6 AS VARCHAR) AS request, CAST(c7 AS VARCHAR) AS response, CAST(c8 AS VARCHAR) AS served_entity_name,
    CAST(c9 AS VARCHAR) AS model_name, CAST(c10 AS VARCHAR) AS model_version
    FROM (VALUES ${values}) AS t(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)`;
}

/**
 * Micro-batch settings from the environment: WEIR_INFERENCE_FLUSH_SECONDS (default 10) and WEIR_INFERENCE_FLUSH_ROWS
 * (default 1,000). A crash loses at most the rows not yet written, so these bound what a crash can lose.
 */
export function captureSettingsFromEnv(env: NodeJS.ProcessEnv): { flushEveryMs?: number; maxRows?: number } {
  const seconds = Number(env.WEIR_INFERENCE_FLUSH_SECONDS);
  const rows = Number(env.WEIR_INFERENCE_FLUSH_ROWS);
  return {
    ...(Number.isFinite(seconds) && seconds > 0 ? { flushEveryMs: Math.min(seconds, 86_400) * 1000 } : {}),
    ...(Number.isInteger(rows) && rows > 0 ? { maxRows: Math.min(rows, 1_000_000) } : {}),
  };
}

/** Creates the capture: a batch is written every `flushEveryMs` (default 10 s) or as soon as `maxRows` (default 1,000) wait. */
export function createInferenceCapture(deps: {
  tables: PayloadTables;
  flushEveryMs?: number;
  maxRows?: number;
  log?: (message: string) => void;
}): InferenceCapture {
  const flushEveryMs = deps.flushEveryMs ?? 10_000;
  const maxRows = deps.maxRows ?? 1000;
  const log = deps.log ?? (() => {});
  const buffers = new Map<string, { target: PayloadTarget; rows: PayloadRow[] }>();
  const errors = new Map<string, string>();
  // Flushes of one table run one after another so commits never race each other.
  let chain: Promise<void> = Promise.resolve();

  async function writeBatch(target: PayloadTarget, rows: PayloadRow[]): Promise<void> {
    const full = `${target.catalog}.${target.schema}.${target.table}`;
    try {
      const query = batchQuery(rows);
      const dir = await deps.tables.locate(target.catalog, target.schema, target.table);
      if (dir) await openDeltaTable(dir).write(query);
      else
        await deps.tables.create(target.owner, target.catalog, target.schema, target.table, (d) =>
          openDeltaTable(d)
            .write(query)
            .then(() => {}),
        );
      errors.delete(full);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.set(full, message);
      log(`inference table ${full}: ${rows.length} rows could not be written: ${message}`);
    }
  }

  function flushAll(): Promise<void> {
    const batches = [...buffers.values()].filter((b) => b.rows.length > 0).map((b) => ({ target: b.target, rows: b.rows.splice(0) }));
    chain = chain.then(async () => {
      for (const b of batches) await writeBatch(b.target, b.rows);
    });
    return chain;
  }

  const timer = setInterval(() => void flushAll(), flushEveryMs);
  timer.unref();

  return {
    record(target, row) {
      const full = `${target.catalog}.${target.schema}.${target.table}`;
      let b = buffers.get(full);
      if (!b) {
        b = { target, rows: [] };
        buffers.set(full, b);
      }
      b.target = target;
      b.rows.push(row);
      if (b.rows.length >= maxRows) void flushAll();
    },
    flush: flushAll,
    written: () => chain,
    pending: () => new Map([...buffers].map(([k, b]) => [k, b.rows.length])),
    lastError: (full) => errors.get(full) ?? null,
    async stop() {
      clearInterval(timer);
      await flushAll();
    },
  };
}
