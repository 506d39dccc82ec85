import { type CaptureThread, startCaptureThread } from './serving.capture-thread.ts';
import { appendPayloadBatch, createPayloadTable, withBatchFile } from './serving.capture-writer.ts';

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

// A lone surrogate (a client_request_id can carry one through a JSON escape) becomes U+FFFD, as it would on its way
// into DuckDB as UTF-8 anyway; DuckDB's JSON reader would refuse the whole batch over it.
const wellFormed = (v: string | null) => (v === null ? null : v.toWellFormed());

/** The UTC date (YYYY-MM-DD) of the last day a row fell on, so rows of the same day share one string. */
let lastDay = { start: 0, end: 0, date: '' };
function utcDateOf(ms: number): string {
  if (ms < lastDay.start || ms >= lastDay.end) {
    const start = Math.floor(ms / 86_400_000) * 86_400_000;
    lastDay = { start, end: start + 86_400_000, date: new Date(start).toISOString().slice(0, 10) };
  }
  return lastDay.date;
}

/** A row as one NDJSON line in the payload table's columns (built as text: no object per row). */
function payloadLineOf(r: PayloadRow): string {
  return `{"client_request_id":${JSON.stringify(wellFormed(r.client_request_id))},"databricks_request_id":${JSON.stringify(wellFormed(r.databricks_request_id))},"date":"${utcDateOf(r.timestamp_ms)}","timestamp_ms":${Math.trunc(r.timestamp_ms)},"status_code":${Math.trunc(r.status_code)},"execution_time_ms":${Math.trunc(r.execution_time_ms)},"request":${JSON.stringify(wellFormed(r.request))},"response":${JSON.stringify(wellFormed(r.response))},"served_entity_name":${JSON.stringify(wellFormed(r.served_entity_name))},"model_name":${JSON.stringify(wellFormed(r.model_name))},"model_version":${JSON.stringify(wellFormed(r.model_version))}}\n`;
}

/**
 * A table's rows waiting for the next flush, as NDJSON in a buffer outside the JS heap: a thousand row objects kept
 * on the heap would be copied by every minor garbage collection until the flush, at a cost of several microseconds
 * per request under load.
 */
interface PendingRows {
  target: PayloadTarget;
  lines: Buffer;
  /** Bytes of `lines` in use. */
  used: number;
  rows: number;
}

const INITIAL_BUFFER_BYTES = 256 * 1024;

/** Appends a line, growing the buffer when the line might not fit (UTF-8 takes at most 3 bytes per UTF-16 unit). */
function appendLine(p: PendingRows, line: string): void {
  const need = p.used + line.length * 3;
  if (need > p.lines.length) {
    const grown = Buffer.allocUnsafe(Math.max(need, p.lines.length * 2));
    p.lines.copy(grown, 0, 0, p.used);
    p.lines = grown;
  }
  p.used += p.lines.write(line, p.used);
  p.rows++;
}

/**
 * Auto-compaction: after this many micro-batches of a table, its small files are rewritten into one (as Delta's
 * auto compact does once 50 small files gather). An inference table gets a file per micro-batch, several a second
 * under load, and every read of the table opens every file.
 */
const COMPACT_EVERY_BATCHES = 50;

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

/**
 * Creates the capture: a batch is written every `flushEveryMs` (default 10 s) or as soon as `maxRows` (default 1,000)
 * wait, and a table's small files are compacted after every `compactEveryBatches` (default 50) of its batches.
 */
export function createInferenceCapture(deps: {
  tables: PayloadTables;
  flushEveryMs?: number;
  maxRows?: number;
  compactEveryBatches?: number;
  /** Write batches to existing tables on a thread of their own (default true); the first batch of a table is written here. */
  writerThread?: boolean;
  log?: (message: string) => void;
}): InferenceCapture {
  const flushEveryMs = deps.flushEveryMs ?? 10_000;
  const maxRows = deps.maxRows ?? 1000;
  const compactEveryBatches = deps.compactEveryBatches ?? COMPACT_EVERY_BATCHES;
  /** Batches appended per table since its last compaction (in memory: a restart only delays the next one). */
  const batchesSinceCompaction = new Map<string, number>();
  const log = deps.log ?? (() => {});
  // Started with the first append, so a server that captures nothing runs no extra thread.
  let captureThread: CaptureThread | null = null;
  const append = (dir: string, lines: Uint8Array, compact: boolean) => {
    if (deps.writerThread === false) return appendPayloadBatch(dir, lines, compact);
    captureThread ??= startCaptureThread(log);
    return captureThread.append(dir, lines, compact);
  };
  const buffers = new Map<string, PendingRows>();
  /** Full names of the targets seen (a serving generation passes the same target object with every request). */
  const fullNames = new WeakMap<PayloadTarget, string>();
  const errors = new Map<string, string>();
  // Flushes of one table run one after another so commits never race each other.
  let chain: Promise<void> = Promise.resolve();

  async function writeBatch(target: PayloadTarget, lines: Buffer, rows: number): Promise<void> {
    const full = `${target.catalog}.${target.schema}.${target.table}`;
    try {
      const dir = await deps.tables.locate(target.catalog, target.schema, target.table);
      if (dir) {
        const batches = (batchesSinceCompaction.get(full) ?? 0) + 1;
        const compact = batches >= compactEveryBatches;
        batchesSinceCompaction.set(full, compact ? 0 : batches);
        const { compactError } = await append(dir, lines, compact);
        if (compactError !== null) log(`inference table ${full}: small files could not be compacted: ${compactError}`);
      } else
        await withBatchFile(lines, (file) => deps.tables.create(target.owner, target.catalog, target.schema, target.table, (d) => createPayloadTable(d, file)));
      errors.delete(full);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.set(full, message);
      log(`inference table ${full}: ${rows} rows could not be written: ${message}`);
    }
  }

  function flushAll(): Promise<void> {
    const batches: { target: PayloadTarget; lines: Buffer; rows: number }[] = [];
    for (const p of buffers.values()) {
      if (p.rows === 0) continue;
      batches.push({ target: p.target, lines: p.lines.subarray(0, p.used), rows: p.rows });
      p.lines = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
      p.used = 0;
      p.rows = 0;
    }
    chain = chain.then(async () => {
      for (const b of batches) await writeBatch(b.target, b.lines, b.rows);
    });
    return chain;
  }

  const timer = setInterval(() => void flushAll(), flushEveryMs);
  timer.unref();

  return {
    record(target, row) {
      let full = fullNames.get(target);
      if (full === undefined) {
        full = `${target.catalog}.${target.schema}.${target.table}`;
        fullNames.set(target, full);
      }
      let b = buffers.get(full);
      if (!b) {
        b = { target, lines: Buffer.allocUnsafe(INITIAL_BUFFER_BYTES), used: 0, rows: 0 };
        buffers.set(full, b);
      }
      b.target = target;
      appendLine(b, payloadLineOf(row));
      if (b.rows >= maxRows) void flushAll();
    },
    flush: flushAll,
    written: () => chain,
    pending: () => new Map([...buffers].map(([k, b]) => [k, b.rows])),
    lastError: (full) => errors.get(full) ?? null,
    async stop() {
      clearInterval(timer);
      await flushAll();
      await captureThread?.stop();
    },
  };
}
