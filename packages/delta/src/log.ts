import type { DuckDBConnection } from '@duckdb/node-api';
import {
  type Action,
  type AddFile,
  type CommitInfo,
  type DomainMetadata,
  fileKey,
  type Metadata,
  type Protocol,
  type RemoveFile,
  type Txn,
} from './actions.ts';
import { queryRows } from './duck.ts';
import { DeltaLogError, DeltaNotFoundError, DeltaUnsupportedFeatureError } from './errors.ts';
import { parseJsonLossless } from './json.ts';
import type { ObjectInfo, ObjectStore } from './object-store.ts';
import { quoteLiteral } from './schema.ts';

/** What a listing of `_delta_log/` says about available versions. */
export interface LogListing {
  commits: Map<number, ObjectInfo>;
  /** Complete classic checkpoints: version → part files (one, or all parts of a multi-part checkpoint). */
  checkpoints: Map<number, ObjectInfo[]>;
  /** Versions that only have a V2 (UUID-named) checkpoint, which needs the v2Checkpoint feature. */
  v2Checkpoints: Set<number>;
  latest: number;
}

/** The replayed state of a table at one version. */
export interface LogState {
  version: number;
  protocol: Protocol;
  metadata: Metadata;
  files: Map<string, AddFile>;
  tombstones: Map<string, RemoveFile>;
  txns: Map<string, Txn>;
  domainMetadata: Map<string, DomainMetadata>;
  /** The checkpoint version replay started from, if any. */
  checkpointVersion: number | undefined;
}

const COMMIT_RE = /^(\d{20})\.json$/;
const CHECKPOINT_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2_RE = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

/** Lists `_delta_log/` and classifies the files; anything not named like a commit or checkpoint is ignored. */
export async function listLog(store: ObjectStore): Promise<LogListing> {
  return classifyLog(await store.list('_delta_log/'));
}

/**
 * The latest version from the log's file names alone. Statements ask this before every read to see whether a
 * table moved on, so stores that can list names skip the per-file stat a full listing makes (hundreds on a
 * long-lived table).
 */
export async function latestVersion(store: ObjectStore): Promise<number> {
  if (!store.listKeys) return (await listLog(store)).latest;
  const keys = await store.listKeys('_delta_log/');
  return classifyLog(keys.map((key) => ({ key, size: 0, lastModified: 0 }))).latest;
}

/** The version `_delta_log/_last_checkpoint` names, or undefined when it is missing or unreadable (it is only a hint). */
export async function lastCheckpointHint(store: ObjectStore): Promise<number | undefined> {
  try {
    const v = Number(JSON.parse((await store.get('_delta_log/_last_checkpoint')).toString('utf8')).version);
    return Number.isInteger(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists only the log from `version` on (its checkpoint and later commits), as Spark and delta-rs do from
 * `_last_checkpoint`, so opening a long-lived table does not touch every old commit file. Undefined
 * when the store cannot list that way or no complete checkpoint exists at `version`.
 */
export async function listLogFrom(store: ObjectStore, version: number): Promise<LogListing | undefined> {
  if (!store.listAfter) return undefined;
  const listing = classifyLog(await store.listAfter('_delta_log/', `_delta_log/${String(version).padStart(20, '0')}`));
  return listing.checkpoints.has(version) ? listing : undefined;
}

function classifyLog(objects: ObjectInfo[]): LogListing {
  const commits = new Map<number, ObjectInfo>();
  const checkpoints = new Map<number, ObjectInfo[]>();
  const multipart = new Map<string, { version: number; total: number; parts: Map<number, ObjectInfo> }>();
  const v2Checkpoints = new Set<number>();
  let latest = -1;
  for (const o of objects) {
    const name = o.key.slice('_delta_log/'.length);
    if (name.includes('/')) continue;
    let m = COMMIT_RE.exec(name);
    if (m) {
      const v = Number(m[1]);
      commits.set(v, o);
      latest = Math.max(latest, v);
      continue;
    }
    m = CHECKPOINT_RE.exec(name);
    if (m) {
      const v = Number(m[1]);
      checkpoints.set(v, [o]);
      latest = Math.max(latest, v);
      continue;
    }
    m = MULTIPART_RE.exec(name);
    if (m) {
      const v = Number(m[1]);
      const total = Number(m[3]);
      const id = `${v}/${total}`;
      const entry = multipart.get(id) ?? { version: v, total, parts: new Map() };
      entry.parts.set(Number(m[2]), o);
      multipart.set(id, entry);
      continue;
    }
    m = V2_RE.exec(name);
    if (m) v2Checkpoints.add(Number(m[1]));
  }
  for (const mp of multipart.values()) {
    // A multi-part checkpoint only counts when every part is there (a writer may have died half way).
    if (mp.parts.size !== mp.total || checkpoints.has(mp.version)) continue;
    const parts = [...mp.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    checkpoints.set(mp.version, parts);
    latest = Math.max(latest, mp.version);
  }
  return { commits, checkpoints, v2Checkpoints, latest };
}

/** Parses one commit file; any malformed line is an error naming the version and line (never skipped). */
export function parseCommit(version: number, text: string): Action[] {
  if (text.length === 0) throw new DeltaLogError(`commit ${version} is empty (corrupt or truncated log file)`);
  const lines = text.split('\n');
  const actions: Action[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new DeltaLogError(`commit ${version} is corrupt or truncated: line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new DeltaLogError(`commit ${version} is corrupt: line ${i + 1} is not a JSON object`);
    }
    const a = obj as Record<string, unknown>;
    if (a.add !== undefined && (typeof (a.add as AddFile).path !== 'string' || typeof (a.add as AddFile).size !== 'number')) {
      throw new DeltaLogError(`commit ${version} is corrupt: line ${i + 1} has an add action without path or size`);
    }
    if (a.remove !== undefined && typeof (a.remove as RemoveFile).path !== 'string') {
      throw new DeltaLogError(`commit ${version} is corrupt: line ${i + 1} has a remove action without path`);
    }
    actions.push(a as Action);
  }
  return actions;
}

/** Reads and parses commit `version`. */
export async function readCommit(store: ObjectStore, version: number, key: string): Promise<Action[]> {
  const buf = await store.get(key);
  return parseCommit(version, buf.toString('utf8'));
}

/** Replay state before its version is known: what applyActions builds up. */
type ReplayState = Omit<LogState, 'version' | 'protocol' | 'metadata' | 'checkpointVersion'> & { protocol?: Protocol; metadata?: Metadata };

function emptyState(): ReplayState {
  return { files: new Map(), tombstones: new Map(), txns: new Map(), domainMetadata: new Map(), protocol: undefined, metadata: undefined };
}

function cloneState(s: ReplayState): ReplayState {
  return {
    files: new Map(s.files),
    tombstones: new Map(s.tombstones),
    txns: new Map(s.txns),
    domainMetadata: new Map(s.domainMetadata),
    protocol: s.protocol,
    metadata: s.metadata,
  };
}

// Checkpoint files never change once written, so the state they describe is kept (keyed by path, size
// and mtime) for the next snapshot of the same table: reopening a long table then costs a listing and
// the commits since the checkpoint. Callers get a copy of the maps, never the cached ones.
const CHECKPOINT_CACHE_ENTRIES = 8;
const checkpointCache = new Map<string, ReplayState>();

async function checkpointState(con: DuckDBConnection, store: ObjectStore, parts: ObjectInfo[]): Promise<ReplayState> {
  const files = parts.map((p) => {
    const local = store.localPath?.(p.key);
    if (!local) throw new DeltaLogError('reading checkpoints needs a store with local paths');
    return local;
  });
  const cacheKey = parts.map((p, i) => `${files[i]}\u0000${p.size}\u0000${p.lastModified}`).join('\u0001');
  const cached = checkpointCache.get(cacheKey);
  if (cached) {
    // Re-insert so the map's order is least recently used first.
    checkpointCache.delete(cacheKey);
    checkpointCache.set(cacheKey, cached);
    return cloneState(cached);
  }
  const state = emptyState();
  applyActions(state, await parseCheckpoint(con, files, parts));
  checkpointCache.set(cacheKey, state);
  while (checkpointCache.size > CHECKPOINT_CACHE_ENTRIES) checkpointCache.delete(checkpointCache.keys().next().value as string);
  return cloneState(state);
}

async function parseCheckpoint(con: DuckDBConnection, files: string[], parts: ObjectInfo[]): Promise<Action[]> {
  const src = `read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true)`;
  const described = await queryRows(con, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${src})`);
  const columns = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
  // delta-rs puts an all-null `sidecar` column into classic checkpoints; only actual V2 content is refused.
  const v2Columns = ['checkpointMetadata', 'sidecar'].filter((c) => columns.has(c));
  if (v2Columns.length > 0) {
    const counts = await queryRows(con, `SELECT ${v2Columns.map((c, i) => `count("${c}") AS c${i}`).join(', ')} FROM ${src}`);
    if (v2Columns.some((_, i) => Number(counts[0]?.[`c${i}`] ?? 0) > 0)) {
      throw new DeltaUnsupportedFeatureError(['v2Checkpoint'], 'table has a V2 checkpoint (feature v2Checkpoint), which is not supported');
    }
  }
  const wanted = ['protocol', 'metaData', 'txn', 'add', 'remove', 'domainMetadata'].filter((c) => columns.has(c));
  if (!wanted.includes('add') && !wanted.includes('metaData') && !wanted.includes('protocol')) {
    throw new DeltaLogError(`checkpoint ${parts[0]?.key} has none of the protocol/metaData/add columns`);
  }
  const hasStatsParsed = /\bstats_parsed\b/.test(columns.get('add') ?? '');
  const select = wanted.map((c) => `to_json("${c}")::VARCHAR AS "${c}"`);
  if (hasStatsParsed) select.push(`to_json(struct_extract("add", 'stats_parsed'))::VARCHAR AS __stats_parsed`);
  const rows = await queryRows(con, `SELECT ${select.join(', ')} FROM ${src}`);
  const actions: Action[] = [];
  for (const r of rows) {
    for (const c of wanted) {
      const v = r[c];
      if (v === null || v === undefined) continue;
      const obj = JSON.parse(String(v)) as Record<string, unknown>;
      if (c === 'add') {
        const add = obj as unknown as AddFile & { stats_parsed?: unknown; partitionValues_parsed?: unknown };
        delete add.stats_parsed;
        delete add.partitionValues_parsed;
        const sp = r.__stats_parsed;
        if (typeof sp === 'string') add.statsParsed = parseJsonLossless(sp);
        add.partitionValues ??= {};
        actions.push({ add });
      } else if (c === 'protocol') actions.push({ protocol: obj as unknown as Protocol });
      else if (c === 'metaData') {
        const md = obj as unknown as Metadata;
        md.configuration ??= {};
        md.partitionColumns ??= [];
        actions.push({ metaData: md });
      } else if (c === 'txn') actions.push({ txn: obj as unknown as Txn });
      else if (c === 'remove') actions.push({ remove: obj as unknown as RemoveFile });
      else if (c === 'domainMetadata') actions.push({ domainMetadata: obj as unknown as DomainMetadata });
    }
  }
  return actions;
}

/** Applies a commit's (or checkpoint's) actions to a state, newest wins. */
export function applyActions(
  state: Omit<LogState, 'version' | 'protocol' | 'metadata' | 'checkpointVersion'> & { protocol?: Protocol; metadata?: Metadata },
  actions: Action[],
): void {
  for (const a of actions) {
    if ('add' in a) {
      const key = fileKey(a.add);
      a.add.partitionValues ??= {};
      state.files.set(key, a.add);
      state.tombstones.delete(key);
    } else if ('remove' in a) {
      const key = fileKey(a.remove);
      state.files.delete(key);
      state.tombstones.set(key, a.remove);
    } else if ('metaData' in a) {
      a.metaData.configuration ??= {};
      a.metaData.partitionColumns ??= [];
      state.metadata = a.metaData;
    } else if ('protocol' in a) state.protocol = a.protocol;
    else if ('txn' in a) state.txns.set(a.txn.appId, a.txn);
    else if ('domainMetadata' in a) {
      if (a.domainMetadata.removed) state.domainMetadata.delete(a.domainMetadata.domain);
      else state.domainMetadata.set(a.domainMetadata.domain, a.domainMetadata);
    }
  }
}

/** Picks the newest complete checkpoint at or below `version`. */
function checkpointsAtOrBelow(listing: LogListing, version: number): number[] {
  return [...listing.checkpoints.keys()].filter((v) => v <= version).sort((a, b) => b - a);
}

/** Replays the log to `version` (default latest): newest usable checkpoint plus contiguous JSON commits. */
export async function replayLog(con: DuckDBConnection, store: ObjectStore, listing: LogListing, version?: number): Promise<LogState> {
  if (listing.latest < 0) throw new DeltaNotFoundError('not a Delta table: no commits or checkpoints in _delta_log/');
  const target = version ?? listing.latest;
  if (!Number.isInteger(target) || target < 0) throw new DeltaNotFoundError(`invalid version ${version}`);
  if (target > listing.latest) throw new DeltaNotFoundError(`version ${target} does not exist (latest is ${listing.latest})`);
  const candidates = [...checkpointsAtOrBelow(listing, target), undefined];
  let lastError: unknown;
  for (const cp of candidates) {
    const start = cp === undefined ? 0 : cp + 1;
    const missing = firstMissing(listing, start, target);
    if (missing !== undefined) {
      lastError ??= gapError(listing, missing, target, cp);
      continue;
    }
    const state = {
      files: new Map<string, AddFile>(),
      tombstones: new Map<string, RemoveFile>(),
      txns: new Map<string, Txn>(),
      domainMetadata: new Map<string, DomainMetadata>(),
      protocol: undefined as Protocol | undefined,
      metadata: undefined as Metadata | undefined,
    };
    if (cp !== undefined) {
      try {
        Object.assign(state, await checkpointState(con, store, listing.checkpoints.get(cp) as ObjectInfo[]));
      } catch (e) {
        if (e instanceof DeltaUnsupportedFeatureError) throw e;
        // A corrupt checkpoint is skipped in favour of an older one, as Spark does; remember why.
        lastError = new DeltaLogError(`checkpoint ${cp} is unreadable: ${(e as Error).message}`, { cause: e });
        continue;
      }
    }
    const versions: number[] = [];
    for (let v = start; v <= target; v++) versions.push(v);
    const commits = await mapLimit(versions, 16, (v) => readCommit(store, v, (listing.commits.get(v) as ObjectInfo).key));
    for (const actions of commits) applyActions(state, actions);
    if (!state.protocol) throw new DeltaLogError(`no protocol action found replaying the log to version ${target}`);
    if (!state.metadata) throw new DeltaLogError(`no metaData action found replaying the log to version ${target}`);
    return { ...state, protocol: state.protocol, metadata: state.metadata, version: target, checkpointVersion: cp };
  }
  throw lastError instanceof Error ? lastError : new DeltaLogError(`cannot reconstruct version ${target}`);
}

function firstMissing(listing: LogListing, from: number, to: number): number | undefined {
  for (let v = from; v <= to; v++) if (!listing.commits.has(v)) return v;
  return undefined;
}

function gapError(listing: LogListing, missing: number, target: number, cp: number | undefined): Error {
  if (cp === undefined && [...listing.v2Checkpoints].some((v) => v <= target)) {
    return new DeltaUnsupportedFeatureError(
      ['v2Checkpoint'],
      `version ${target} is only reachable through a V2 checkpoint (feature v2Checkpoint), which is not supported`,
    );
  }
  const hole = [...listing.commits.keys()].some((v) => v < missing);
  return new DeltaLogError(
    hole
      ? `log versions are not contiguous: commit ${missing} is missing before version ${target}`
      : `version ${target} cannot be reconstructed: commit ${missing} is missing and no checkpoint covers it`,
  );
}

/** Runs `fn` over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Commit timestamps as Spark defines them for time travel: the commit files' modification times,
 * forced to increase (ts[i+1] = ts[i] + 1 when a clock went backwards).
 */
export function commitTimestamps(listing: LogListing): Map<number, number> {
  const out = new Map<number, number>();
  let prev = -Infinity;
  for (const v of [...listing.commits.keys()].sort((a, b) => a - b)) {
    let ts = Math.floor((listing.commits.get(v) as ObjectInfo).lastModified);
    if (ts <= prev) ts = prev + 1;
    out.set(v, ts);
    prev = ts;
  }
  return out;
}

/** The newest version whose commit timestamp is at or before `timestamp` (ms). */
export function versionAtTimestamp(listing: LogListing, timestamp: number): number {
  const ts = commitTimestamps(listing);
  let found: number | undefined;
  let earliest = Infinity;
  for (const [v, t] of ts) {
    earliest = Math.min(earliest, t);
    if (t <= timestamp && (found === undefined || v > found)) found = v;
  }
  if (found === undefined) {
    throw new DeltaNotFoundError(
      `no commit at or before ${new Date(timestamp).toISOString()} (earliest commit is at ${Number.isFinite(earliest) ? new Date(earliest).toISOString() : 'n/a'})`,
    );
  }
  return found;
}

/** One entry of `history()`: the commitInfo of a version plus that version. */
export interface HistoryEntry {
  version: number;
  timestamp: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  commitInfo: CommitInfo;
}

/** commitInfo of every commit still in the log, newest first. */
export async function readHistory(store: ObjectStore, listing: LogListing, limit?: number): Promise<HistoryEntry[]> {
  const ts = commitTimestamps(listing);
  const versions = [...listing.commits.keys()].sort((a, b) => b - a).slice(0, limit ?? Infinity);
  return mapLimit(versions, 16, async (v) => {
    const actions = await readCommit(store, v, (listing.commits.get(v) as ObjectInfo).key);
    const info = (actions.find((a) => 'commitInfo' in a) as { commitInfo: CommitInfo } | undefined)?.commitInfo ?? {};
    const entry: HistoryEntry = { version: v, timestamp: typeof info.timestamp === 'number' ? info.timestamp : (ts.get(v) as number), commitInfo: info };
    if (typeof info.operation === 'string') entry.operation = info.operation;
    if (info.operationParameters && typeof info.operationParameters === 'object')
      entry.operationParameters = info.operationParameters as Record<string, unknown>;
    return entry;
  });
}
