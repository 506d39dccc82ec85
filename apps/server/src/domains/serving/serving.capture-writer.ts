// Writing inference-table micro-batches to Delta: used on the capture thread (serving.capture-worker.mjs) and, where
// that thread cannot run, on the event loop.
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';

const sqlString = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * Properties of a payload table Weir creates. File statistics (for data skipping) cover the columns one filters by and
 * leave out `request` and `response`: min/max of JSON bodies skip nothing, and computing them meant reading every new
 * file back (about a tenth of the cost of each micro-batch).
 */
const PAYLOAD_TABLE_PROPERTIES = {
  'delta.dataSkippingStatsColumns':
    'client_request_id,databricks_request_id,date,timestamp_ms,status_code,execution_time_ms,served_entity_name,model_name,model_version',
};

/**
 * A DuckDB SELECT reading a batch file with the payload table's column types. The rows travel as a file for DuckDB's
 * JSON reader: as a VALUES list a thousand rows cost DuckDB about 130 ms of parsing and binding (more CPU than the
 * requests they record), as one JSON string literal about 30 ms, as a file about 17 ms.
 */
function batchQuery(file: string): string {
  return `SELECT client_request_id, databricks_request_id, date, timestamp_ms, status_code, execution_time_ms, request, response,
    served_entity_name, model_name, model_version
    FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = {client_request_id: 'VARCHAR',
      databricks_request_id: 'VARCHAR', date: 'DATE', timestamp_ms: 'BIGINT', status_code: 'INTEGER', execution_time_ms: 'BIGINT',
      request: 'VARCHAR', response: 'VARCHAR', served_entity_name: 'VARCHAR', model_name: 'VARCHAR', model_version: 'VARCHAR'})`;
}

/**
 * Files below this size are compacted. The file a compaction writes is usually above it, so each row is rewritten
 * about once; below it (a quiet endpoint), the rewrite stays under this size.
 */
const SMALL_FILE_BYTES = 512 * 1024;

/** Runs `fn` with the batch's NDJSON in a file, which exists only while `fn` runs (a kill leaves at most a stray temp file). */
export async function withBatchFile<T>(lines: Uint8Array, fn: (file: string) => Promise<T>): Promise<T> {
  const file = path.join(os.tmpdir(), `weir-capture-${randomUUID()}.ndjson`);
  try {
    await fsp.writeFile(file, lines, { mode: 0o600 });
    return await fn(file);
  } finally {
    await fsp.rm(file, { force: true });
  }
}

/** Writes the first batch of a payload table into `dir`, with the table properties Weir gives payload tables. */
export async function createPayloadTable(dir: string, file: string): Promise<void> {
  await openDeltaTable(dir).write(batchQuery(file), { configuration: PAYLOAD_TABLE_PROPERTIES });
}

/**
 * Appends a batch to the payload table in `dir` and then, when `compact` is set, rewrites its small files into one
 * (Delta OPTIMIZE: same rows, `dataChange` false). A failed append throws; a failed compaction only reports why.
 */
export async function appendPayloadBatch(dir: string, lines: Uint8Array, compact: boolean): Promise<{ compactError: string | null }> {
  await withBatchFile(lines, (file) => openDeltaTable(dir).write(batchQuery(file)));
  if (!compact) return { compactError: null };
  try {
    await openDeltaTable(dir).optimize({ targetFileSize: SMALL_FILE_BYTES });
    return { compactError: null };
  } catch (err) {
    return { compactError: err instanceof Error ? err.message : String(err) };
  }
}
