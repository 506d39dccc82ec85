import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type Action, type AddFile, assertWritable, type CommitInfo, checkpointKey, commitKey, fileKey, type RemoveFile } from './actions.ts';
import { withConnection } from './duck.ts';
import { DeltaConflictError, DeltaError } from './errors.ts';
import { type LogState, listLog, readCommit, replayLog } from './log.ts';
import type { ObjectStore } from './object-store.ts';
import { quoteLiteral } from './schema.ts';
import { fileMayMatch, type PredicateNode, type SkippingScope } from './skipping.ts';

/** Engine string written to `commitInfo.engineInfo`. */
export const ENGINE_INFO = 'Weir-Delta/0.1.0';

/** A transaction ready to commit: its actions and what it read (for Delta's conflict rules). */
export interface PendingCommit {
  /** Snapshot version the transaction read; undefined when it creates the table (commits version 0). */
  readVersion: number | undefined;
  operation: string;
  operationParameters: Record<string, string>;
  operationMetrics?: Record<string, string>;
  actions: Action[];
  /** The transaction read every file (overwrite, unpruned rewrite). */
  readWholeTable: boolean;
  /** Predicate the transaction's reads depended on; a concurrent add that may match it conflicts. */
  readPredicate?: PredicateNode;
  readScope?: SkippingScope;
  /** Keys (fileKey) of the files the transaction read. */
  readFiles: Set<string>;
  /** App ids whose txn version the transaction checked. */
  readAppIds: string[];
  /** `delta.checkpointInterval` of the table as this transaction leaves it. */
  checkpointInterval: number;
}

/** Outcome of a commit. */
export interface CommitResult {
  version: number;
  /** True when a `txn` (appId, version) showed the write was already done and nothing was committed. */
  skipped?: boolean;
  /** True when this commit also wrote a checkpoint. */
  checkpointed?: boolean;
}

function isBlindAppend(p: PendingCommit): boolean {
  const onlyAdds = p.actions.every((a) => 'add' in a || 'txn' in a || 'commitInfo' in a);
  return onlyAdds && !p.readWholeTable && p.readPredicate === undefined && p.readFiles.size === 0;
}

function buildCommitInfo(p: PendingCommit): CommitInfo {
  const info: CommitInfo = {
    timestamp: Date.now(),
    operation: p.operation,
    operationParameters: p.operationParameters,
  };
  if (p.readVersion !== undefined) info.readVersion = p.readVersion;
  // Rearrangements without data change are checked at snapshot isolation, as Spark downgrades them.
  const dataChange = p.actions.some((a) => ('add' in a && a.add.dataChange) || ('remove' in a && a.remove.dataChange));
  info.isolationLevel = dataChange || p.actions.length === 0 ? 'Serializable' : 'SnapshotIsolation';
  info.isBlindAppend = isBlindAppend(p);
  if (p.operationMetrics) info.operationMetrics = p.operationMetrics;
  info.engineInfo = ENGINE_INFO;
  info.txnId = randomUUID();
  return info;
}

/** Applies Spark's ConflictChecker rules to one winning commit; throws DeltaConflictError when they forbid a retry. */
export function checkConflicts(p: PendingCommit, winningVersion: number, winner: Action[]): void {
  const ours = {
    protocol: p.actions.some((a) => 'protocol' in a),
    removes: new Set(p.actions.filter((a): a is { remove: RemoveFile } => 'remove' in a).map((a) => fileKey(a.remove))),
    appIds: new Set([...p.readAppIds, ...p.actions.filter((a) => 'txn' in a).map((a) => (a as { txn: { appId: string } }).txn.appId)]),
  };
  const dataChange = p.actions.some((a) => ('add' in a && a.add.dataChange) || ('remove' in a && a.remove.dataChange));
  for (const a of winner) {
    if ('protocol' in a) {
      if (ours.protocol) throw new DeltaConflictError('ProtocolChanged', winningVersion, 'the protocol was changed by a concurrent commit');
      try {
        assertWritable(a.protocol);
      } catch (e) {
        throw new DeltaConflictError('ProtocolChanged', winningVersion, `a concurrent commit upgraded the protocol: ${(e as Error).message}`);
      }
    }
  }
  if (winner.some((a) => 'metaData' in a))
    throw new DeltaConflictError(
      'MetadataChanged',
      winningVersion,
      'the table metadata (schema, partitioning or properties) was changed by a concurrent commit',
    );
  for (const a of winner) {
    if ('txn' in a && ours.appIds.has(a.txn.appId)) {
      throw new DeltaConflictError('ConcurrentTransaction', winningVersion, `a concurrent commit wrote a transaction for appId "${a.txn.appId}"`);
    }
  }
  if (dataChange) {
    const added = winner.filter((a): a is { add: AddFile } => 'add' in a && a.add.dataChange).map((a) => a.add);
    for (const add of added) {
      const hit = p.readWholeTable || (p.readPredicate !== undefined && p.readScope !== undefined && fileMayMatch(p.readPredicate, add, p.readScope));
      if (hit)
        throw new DeltaConflictError('ConcurrentAppend', winningVersion, `a concurrent commit added ${add.path}, which this transaction should have read`);
    }
  }
  const removed = winner.filter((a): a is { remove: RemoveFile } => 'remove' in a).map((a) => a.remove);
  for (const r of removed) {
    const key = fileKey(r);
    if (p.readFiles.has(key))
      throw new DeltaConflictError('ConcurrentDeleteRead', winningVersion, `a concurrent commit removed ${r.path}, which this transaction read`);
    if (p.readWholeTable)
      throw new DeltaConflictError('ConcurrentDeleteRead', winningVersion, `a concurrent commit removed ${r.path} while this transaction read the whole table`);
    if (ours.removes.has(key)) throw new DeltaConflictError('ConcurrentDeleteDelete', winningVersion, `a concurrent commit also removed ${r.path}`);
  }
}

/**
 * Commits with put-if-absent of the next `NNNNNNNNNNNNNNNNNNNN.json`. When another writer took that
 * version, its actions are checked against this transaction's reads and writes; if they do not
 * conflict the same actions are retried at the next version (blind appends always rebase).
 */
export async function commit(store: ObjectStore, con: DuckDBConnection | undefined, p: PendingCommit): Promise<CommitResult> {
  const info = buildCommitInfo(p);
  // commitInfo goes first: In-Commit Timestamps require it and newer Spark writes it there.
  const body = `${[{ commitInfo: info }, ...p.actions].map((a) => JSON.stringify(a, dropInternal)).join('\n')}\n`;
  let version = p.readVersion === undefined ? 0 : p.readVersion + 1;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (await store.putIfAbsent(commitKey(version), body)) {
      const checkpointed = await maybeCheckpoint(store, con, version, p.checkpointInterval);
      return { version, checkpointed };
    }
    if (p.readVersion === undefined) throw new DeltaConflictError('MetadataChanged', version, 'the table was created concurrently');
    const winner = await readCommit(store, version, commitKey(version));
    checkConflicts(p, version, winner);
    version++;
  }
  throw new DeltaError('gave up committing after 10000 concurrent commits');
}

function dropInternal(key: string, value: unknown): unknown {
  return key === 'statsParsed' ? undefined : value;
}

/** `con` undefined: a connection is opened only when a checkpoint is due (creating a table then never loads DuckDB). */
async function maybeCheckpoint(store: ObjectStore, given: DuckDBConnection | undefined, version: number, interval: number): Promise<boolean> {
  if (version === 0 || !Number.isInteger(interval) || interval <= 0 || version % interval !== 0) return false;
  await withConnection(given, async (con) => writeCheckpoint(store, con, await replayLog(con, store, await listLog(store), version)));
  return true;
}

/** `delta.checkpointInterval` from a table configuration (default 10). */
export function checkpointIntervalOf(configuration: Record<string, string>): number {
  const n = Number(configuration['delta.checkpointInterval'] ?? '10');
  return Number.isInteger(n) && n > 0 ? n : 10;
}

const DV_TYPE = 'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT)';
/** Spark's classic checkpoint schema (physical types matter to Photon and kernel readers). */
const CHECKPOINT_COLUMNS: [string, string][] = [
  ['txn', 'STRUCT(appId VARCHAR, "version" BIGINT, lastUpdated BIGINT)'],
  [
    'add',
    `STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), deletionVector ${DV_TYPE}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, stats VARCHAR)`,
  ],
  [
    'remove',
    `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, deletionVector ${DV_TYPE}, baseRowId BIGINT, defaultRowCommitVersion BIGINT)`,
  ],
  [
    'metaData',
    'STRUCT(id VARCHAR, "name" VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, "options" MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], "configuration" MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
  ],
  ['protocol', 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])'],
  ['domainMetadata', 'STRUCT("domain" VARCHAR, "configuration" VARCHAR, removed BOOLEAN)'],
];

/** Parses Spark interval strings like "interval 1 week" or "7 days" into milliseconds. */
export function parseIntervalMs(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  const m = /^\s*(?:interval\s+)?(\d+)\s*(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!m) return fallbackMs;
  const unit: Record<string, number> = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };
  return Number(m[1]) * (unit[(m[2] as string).toLowerCase()] as number);
}

const LOG_FILE = /^_delta_log\/(\d{20})\.(json|crc|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet)$/;

/**
 * Deletes log files past `delta.logRetentionDuration` (default 30 days) as Spark does after a checkpoint: only files
 * older than the cutoff and older than the newest checkpoint that is itself past the cutoff, so the table and every
 * version still inside the retention window stay readable. `delta.enableExpiredLogCleanup=false` turns it off.
 */
export async function cleanupExpiredLogs(store: ObjectStore, configuration: Record<string, string>, now = Date.now()): Promise<number> {
  if ((configuration['delta.enableExpiredLogCleanup'] ?? 'true').toLowerCase() === 'false') return 0;
  const cutoff = now - parseIntervalMs(configuration['delta.logRetentionDuration'], 30 * 86_400_000);
  const files = (await store.list('_delta_log/'))
    .map((f) => ({ ...f, match: LOG_FILE.exec(f.key) }))
    .filter((f): f is typeof f & { match: RegExpExecArray } => f.match !== null)
    .map((f) => ({ key: f.key, lastModified: f.lastModified, version: Number(f.match[1]), kind: f.match[2] as string }));
  // Only a single-file checkpoint is trusted as the new start of the log.
  const anchors = files.filter((f) => f.kind === 'checkpoint.parquet' && f.lastModified < cutoff).map((f) => f.version);
  if (anchors.length === 0) return 0;
  const anchor = Math.max(...anchors);
  let deleted = 0;
  for (const f of files) {
    if (f.version < anchor && f.lastModified < cutoff) {
      await store.delete(f.key);
      deleted++;
    }
  }
  return deleted;
}

/** Writes a classic single-file checkpoint of `state` and points `_last_checkpoint` at it. */
export async function writeCheckpoint(store: ObjectStore, con: DuckDBConnection, state: LogState): Promise<void> {
  const retention = parseIntervalMs(state.metadata.configuration['delta.deletedFileRetentionDuration'], 7 * 86_400_000);
  const cutoff = Date.now() - retention;
  const rows: Record<string, unknown>[] = [{ protocol: state.protocol }, { metaData: state.metadata }];
  for (const t of state.txns.values()) rows.push({ txn: t });
  for (const d of state.domainMetadata.values()) rows.push({ domainMetadata: d });
  for (const a of state.files.values()) {
    const { statsParsed: _ignored, ...add } = a;
    rows.push({ add: { ...add, dataChange: false } });
  }
  for (const r of state.tombstones.values()) {
    // Tombstones only matter to VACUUM until the retention period has passed.
    if ((r.deletionTimestamp ?? 0) < cutoff) continue;
    const { stats: _s, tags: _t, ...remove } = r;
    rows.push({ remove: { ...remove, dataChange: false } });
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-checkpoint-'));
  try {
    const ndjson = path.join(tmp, 'actions.json');
    await fs.writeFile(ndjson, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const out = path.join(tmp, 'checkpoint.parquet');
    const columns = CHECKPOINT_COLUMNS.map(([n, t]) => `${n}: ${quoteLiteral(t)}`).join(', ');
    const select = CHECKPOINT_COLUMNS.map(([n]) => `"${n}"`).join(', ');
    await con.run(
      `COPY (SELECT ${select} FROM read_json(${quoteLiteral(ndjson)}, format = 'newline_delimited', columns = {${columns}})) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const bytes = await fs.readFile(out);
    // Racing writers of one checkpoint produce equivalent content, so losing the race is fine.
    await store.putIfAbsent(checkpointKey(state.version), bytes);
    let current = -1;
    try {
      current = Number(JSON.parse((await store.get('_delta_log/_last_checkpoint')).toString('utf8')).version);
    } catch {
      // A missing or corrupt hint is simply replaced.
    }
    if (!(current >= state.version)) {
      await store.put(
        '_delta_log/_last_checkpoint',
        JSON.stringify({ version: state.version, size: rows.length, sizeInBytes: bytes.length, numOfAddFiles: state.files.size }),
      );
    }
    await cleanupExpiredLogs(store, state.metadata.configuration);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
