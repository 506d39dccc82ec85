import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import {
  type Action,
  type AddFile,
  assertReadable,
  assertWritable,
  type DomainMetadata,
  fileKey,
  type Metadata,
  type Protocol,
  type RemoveFile,
  type Txn,
} from './actions.ts';
import { type CommitResult, checkpointIntervalOf, commit, type PendingCommit, parseIntervalMs, writeCheckpoint } from './commit.ts';
import { queryRows, tempName, withConnection } from './duck.ts';
import { DeltaInvalidOperationError, DeltaNotFoundError, DeltaSchemaError, DeltaUnsupportedFeatureError } from './errors.ts';
import {
  commitTimestamps,
  type HistoryEntry,
  type LogListing,
  type LogState,
  lastCheckpointHint,
  latestVersion,
  listLog,
  listLogFrom,
  readHistory,
  replayLog,
  versionAtTimestamp,
} from './log.ts';
import { createLocalObjectStore, type ObjectStore } from './object-store.ts';
import { buildScanSql, localFilePath } from './scan.ts';
import {
  canStore,
  type DeltaDataType,
  deltaTypeFromDuck,
  duckTypeOf,
  findField,
  mergeSchemas,
  parseSchemaString,
  quoteIdent,
  type StructField,
  type StructType,
  typeName,
  validateSchema,
} from './schema.ts';
import { numRecordsOf, type PredicateNode, parsePredicate, pruneFiles, type SkippingScope } from './skipping.ts';
import { writeDataFiles } from './write.ts';

/** A consistent, read-only view of a table at one version. */
export interface Snapshot {
  readonly version: number;
  /** Commit time of this version (ms epoch; the commit file's modification time, as Spark uses for time travel). */
  readonly timestamp: number | undefined;
  readonly protocol: Protocol;
  readonly metadata: Metadata;
  readonly schema: StructType;
  readonly partitionColumns: string[];
  readonly configuration: Record<string, string>;
  /** Live data files. */
  readonly files: AddFile[];
  /** Remove tombstones still in the log (used by VACUUM). */
  readonly tombstones: RemoveFile[];
  readonly txns: ReadonlyMap<string, Txn>;
  readonly domainMetadata: ReadonlyMap<string, DomainMetadata>;
  /** Files that may hold rows matching a DuckDB SQL predicate (partition values and min/max/nullCount stats). */
  filesMatching(predicate?: string, options?: ConnectionOption): Promise<AddFile[]>;
  /** A DuckDB SELECT over this snapshot's rows (files pruned by `predicate`, which is also applied). */
  scanSql(options?: ScanOptions): Promise<string>;
  /** Creates (or replaces) a temp view `name` over this snapshot on the given connection. */
  createView(name: string, options: ScanOptions & { connection: DuckDBConnection }): Promise<void>;
  /** Reads rows into JS objects (BIGINT as bigint, timestamps as Date); meant for tests and small tables. */
  readRows(options?: ReadRowsOptions): Promise<Record<string, unknown>[]>;
}

/** Use this DuckDB connection instead of the package's internal one. */
export interface ConnectionOption {
  connection?: DuckDBConnection;
}

/** Options of a scan. */
export interface ScanOptions extends ConnectionOption {
  predicate?: string;
}

/** Options of readRows. */
export interface ReadRowsOptions extends ScanOptions {
  columns?: string[];
  orderBy?: string;
}

/** Which version to load. */
export interface SnapshotOptions extends ConnectionOption {
  version?: number;
  /** Latest version committed at or before this time. */
  timestamp?: Date | number | string;
}

/** Table creation. */
export interface CreateOptions extends ConnectionOption {
  /** Spark StructType (object or its JSON text). */
  schema: StructType | string;
  partitionColumns?: string[];
  configuration?: Record<string, string>;
  name?: string;
  description?: string;
  /** Succeed without change when the table exists. */
  ifNotExists?: boolean;
}

/** How `write` treats existing data. */
export type WriteMode = 'append' | 'overwrite' | 'errorIfExists' | 'ignore';

/** Options of `write`. */
export interface WriteOptions extends ConnectionOption {
  mode?: WriteMode;
  /** With mode overwrite: replace only rows matching this predicate; every written row must match it. */
  replaceWhere?: string;
  /** Add input columns the table lacks (nullable) instead of refusing them. */
  mergeSchema?: boolean;
  /** With mode overwrite: replace the schema (and partitioning) with the input's. */
  overwriteSchema?: boolean;
  /** Partition columns when the write creates the table (or overwrites its schema). */
  partitionBy?: string[];
  /** Table properties when the write creates the table. */
  configuration?: Record<string, string>;
  /** Idempotent write: skipped when the table already has a txn for appId at or above version. */
  txn?: { appId: string; version: number };
  /** Write against this (possibly older) snapshot; conflicts with later commits are then checked. */
  snapshot?: Snapshot;
}

/** Options shared by DELETE/UPDATE/MERGE/OPTIMIZE. */
export interface DmlOptions extends ConnectionOption {
  snapshot?: Snapshot;
}

/** Result of a row-level operation. */
export interface DmlResult extends CommitResult {
  numAffectedRows: number;
  numRemovedFiles: number;
  numAddedFiles: number;
}

/** One MERGE clause on matched (or not-matched-by-source) rows. */
export type MergeMatchedClause = { condition?: string; update: Record<string, string> | '*' } | { condition?: string; delete: true };

/** MERGE INTO the table USING a source query. */
export interface MergeOptions extends DmlOptions {
  /** SELECT producing the source rows. */
  source: string;
  /** Join condition, referring to `targetAlias` and `sourceAlias`. */
  on: string;
  targetAlias?: string;
  sourceAlias?: string;
  whenMatched?: MergeMatchedClause[];
  whenNotMatched?: { condition?: string; insert: Record<string, string> | '*' }[];
  whenNotMatchedBySource?: MergeMatchedClause[];
}

/** Result of VACUUM. */
export interface VacuumResult {
  /** Keys of the files deleted (or, in a dry run, that would be). */
  files: string[];
  dryRun: boolean;
}

/** A Delta table at a location. */
export interface DeltaTable {
  readonly store: ObjectStore;
  exists(): Promise<boolean>;
  /** Latest version. */
  version(): Promise<number>;
  snapshot(options?: SnapshotOptions): Promise<Snapshot>;
  /** commitInfo of each version still in the log, newest first. */
  history(limit?: number): Promise<HistoryEntry[]>;
  create(options: CreateOptions): Promise<CommitResult>;
  /** Writes the rows of a DuckDB SELECT (creating the table when absent). */
  write(query: string, options?: WriteOptions): Promise<CommitResult>;
  /** Deletes rows matching a DuckDB SQL predicate (all rows when undefined). */
  delete(predicate?: string, options?: DmlOptions): Promise<DmlResult>;
  /** Sets columns to DuckDB SQL expressions on rows matching `where`. */
  update(options: { set: Record<string, string>; where?: string } & DmlOptions): Promise<DmlResult>;
  merge(options: MergeOptions): Promise<DmlResult>;
  /** Bin-packs small files per partition (dataChange false). */
  optimize(options?: { where?: string; targetFileSize?: number } & DmlOptions): Promise<DmlResult>;
  /** Deletes files no longer referenced and older than the retention period. */
  vacuum(options?: { retentionHours?: number; dryRun?: boolean; force?: boolean }): Promise<VacuumResult>;
  /** Writes a checkpoint of the latest version. */
  checkpoint(options?: ConnectionOption): Promise<number>;
}

const UNSUPPORTED_PROPERTIES: [RegExp, (v: string) => boolean, string][] = [
  [/^delta\.enableDeletionVectors$/, (v) => v === 'true', 'deletionVectors'],
  [/^delta\.columnMapping\.mode$/, (v) => v !== 'none', 'columnMapping'],
  [/^delta\.enableChangeDataFeed$/, (v) => v === 'true', 'changeDataFeed'],
  [/^delta\.enableRowTracking$/, (v) => v === 'true', 'rowTracking'],
  [/^delta\.enableInCommitTimestamps$/, (v) => v === 'true', 'inCommitTimestamp'],
  [/^delta\.constraints\./, () => true, 'checkConstraints'],
  [/^delta\.feature\./, () => true, 'table features'],
  [/^delta\.enableTypeWidening$/, (v) => v === 'true', 'typeWidening'],
];

function assertSupportedConfiguration(configuration: Record<string, string>): void {
  for (const [k, v] of Object.entries(configuration)) {
    if (typeof v !== 'string') throw new DeltaInvalidOperationError(`table property ${k} must be a string`);
    for (const [re, active, feature] of UNSUPPORTED_PROPERTIES) {
      if (re.test(k) && active(v.toLowerCase()))
        throw new DeltaUnsupportedFeatureError([feature], `cannot write: table property ${k}=${v} needs feature ${feature}, which is not supported`);
    }
  }
}

function assertSupportedSchemaForWrite(schema: StructType): void {
  const walk = (fields: StructField[], prefix: string) => {
    for (const f of fields) {
      const name = prefix + f.name;
      for (const key of Object.keys(f.metadata ?? {})) {
        if (key === 'delta.invariants')
          throw new DeltaUnsupportedFeatureError(['invariants'], `cannot write: column ${name} has a delta.invariants SQL expression, which is not supported`);
        if (key === 'delta.generationExpression')
          throw new DeltaUnsupportedFeatureError(['generatedColumns'], `cannot write: column ${name} is a generated column`);
        if (key.startsWith('delta.identity.'))
          throw new DeltaUnsupportedFeatureError(['identityColumns'], `cannot write: column ${name} is an identity column`);
      }
      const inner = (t: DeltaDataType): void => {
        if (t === 'timestamp_ntz')
          throw new DeltaUnsupportedFeatureError(
            ['timestampNtz'],
            `cannot write: column ${name} is timestamp_ntz (feature timestampNtz), which Weir only reads`,
          );
        if (typeof t === 'object' && t.type === 'struct') walk(t.fields, `${name}.`);
        if (typeof t === 'object' && t.type === 'array') inner(t.elementType);
        if (typeof t === 'object' && t.type === 'map') {
          inner(t.keyType);
          inner(t.valueType);
        }
      };
      inner(f.type);
    }
  };
  walk(schema.fields, '');
}

/** True when any field, at any depth of structs, is NOT NULL. */
function hasNotNullField(fields: StructField[]): boolean {
  return fields.some((f) => !f.nullable || (typeof f.type === 'object' && f.type.type === 'struct' && hasNotNullField(f.type.fields)));
}

function removeOf(add: AddFile, now: number, dataChange = true): RemoveFile {
  return { path: add.path, deletionTimestamp: now, dataChange, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size };
}

function toMs(t: Date | number | string): number {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new DeltaInvalidOperationError(`invalid timestamp ${t}`);
  return ms;
}

/** Opens the Delta table at a local directory or on an ObjectStore (nothing is read until asked). */
export function openDeltaTable(location: string | ObjectStore, defaults: ConnectionOption = {}): DeltaTable {
  const store = typeof location === 'string' ? createLocalObjectStore(path.resolve(location)) : location;
  const conOf = (o?: ConnectionOption) => o?.connection ?? defaults.connection;

  function makeSnapshot(state: Awaited<ReturnType<typeof replayLog>>, schema: StructType, timestamp: number | undefined): Snapshot {
    const files = [...state.files.values()];
    const scope: SkippingScope = { schema, partitionColumns: state.metadata.partitionColumns };
    const snap: Snapshot = {
      version: state.version,
      timestamp,
      protocol: state.protocol,
      metadata: state.metadata,
      schema,
      partitionColumns: state.metadata.partitionColumns,
      configuration: state.metadata.configuration,
      files,
      tombstones: [...state.tombstones.values()],
      txns: state.txns,
      domainMetadata: state.domainMetadata,
      async filesMatching(predicate, options) {
        if (predicate === undefined) return files;
        return withConnection(conOf(options), async (con) => pruneFiles(files, await parsePredicate(con, predicate), scope));
      },
      async scanSql(options = {}) {
        return withConnection(conOf(options), async (con) => {
          const selected = options.predicate === undefined ? files : pruneFiles(files, await parsePredicate(con, options.predicate), scope);
          const sql = await buildScanSql(con, store, { schema, partitionColumns: snap.partitionColumns, files: selected });
          return options.predicate === undefined ? sql : `SELECT * FROM (${sql}) WHERE (${options.predicate})`;
        });
      },
      async createView(name, options) {
        const sql = await snap.scanSql(options);
        await options.connection.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${sql}`);
      },
      async readRows(options = {}) {
        return withConnection(conOf(options), async (con) => {
          const sql = await snap.scanSql({ ...options, connection: con });
          const cols = options.columns ? options.columns.map(quoteIdent).join(', ') : '*';
          return queryRows(con, `SELECT ${cols} FROM (${sql})${options.orderBy ? ` ORDER BY ${options.orderBy}` : ''}`);
        });
      },
    };
    return snap;
  }

  /** The latest state from `_last_checkpoint` on, or undefined when the hint does not lead to a usable checkpoint. */
  async function replayFromHint(con: DuckDBConnection): Promise<{ listing: LogListing; state: LogState } | undefined> {
    const hint = await lastCheckpointHint(store);
    if (hint === undefined) return undefined;
    const listing = await listLogFrom(store, hint);
    if (!listing) return undefined;
    try {
      return { listing, state: await replayLog(con, store, listing) };
    } catch (e) {
      if (e instanceof DeltaUnsupportedFeatureError) throw e;
      // A corrupt checkpoint or a gap: the full listing knows the older checkpoints and commits.
      return undefined;
    }
  }

  async function loadSnapshot(con: DuckDBConnection, options: SnapshotOptions = {}): Promise<Snapshot> {
    const latest = options.version === undefined && options.timestamp === undefined ? await replayFromHint(con) : undefined;
    const listing = latest?.listing ?? (await listLog(store));
    let version = options.version;
    if (options.timestamp !== undefined) version = versionAtTimestamp(listing, toMs(options.timestamp));
    const state = latest?.state ?? (await replayLog(con, store, listing, version));
    // The protocol is checked before the schema is interpreted or any data file is touched.
    assertReadable(state.protocol);
    const schema = parseSchemaString(state.metadata.schemaString);
    return makeSnapshot(state, schema, commitTimestamps(listing).get(state.version));
  }

  async function latestOrGiven(con: DuckDBConnection, given?: Snapshot): Promise<Snapshot> {
    const snap = given ?? (await loadSnapshot(con));
    assertWritable(snap.protocol);
    assertSupportedConfiguration(snap.configuration);
    assertSupportedSchemaForWrite(snap.schema);
    return snap;
  }

  function pending(
    snap: Snapshot | undefined,
    operation: string,
    operationParameters: Record<string, string>,
    configuration: Record<string, string>,
  ): PendingCommit {
    return {
      readVersion: snap?.version,
      operation,
      operationParameters,
      actions: [],
      readWholeTable: false,
      readFiles: new Set(),
      readAppIds: [],
      checkpointInterval: checkpointIntervalOf(configuration),
    };
  }

  /** Reads the column names and DuckDB types of a relation. */
  async function describe(con: DuckDBConnection, relation: string): Promise<{ names: string[]; types: DuckDBType[] }> {
    const reader = await con.runAndReadAll(`SELECT * FROM ${relation} LIMIT 0`);
    return { names: reader.columnNames(), types: reader.columnTypes() };
  }

  function inferSchema(names: string[], types: DuckDBType[]): StructType {
    const seen = new Set<string>();
    return {
      type: 'struct',
      fields: names.map((name, i) => {
        if (seen.has(name.toLowerCase())) throw new DeltaSchemaError(`input has duplicate column "${name}"`);
        seen.add(name.toLowerCase());
        return { name, type: deltaTypeFromDuck(types[i] as DuckDBType, name), nullable: true, metadata: {} };
      }),
    };
  }

  /** SELECT over `relation` producing exactly the table's columns, cast to their Delta types. */
  function castSelect(relation: string, inputNames: string[], inputTypes: DuckDBType[], schema: StructType): string {
    const cols = schema.fields.map((f) => {
      const i = inputNames.findIndex((n) => n.toLowerCase() === f.name.toLowerCase());
      const target = duckTypeOf(f.type);
      if (i < 0) return `CAST(NULL AS ${target}) AS ${quoteIdent(f.name)}`;
      const src = quoteIdent(inputNames[i] as string);
      const t = (inputTypes[i] as DuckDBType).toString();
      // Naive DuckDB timestamps are UTC wall clock; an explicit zone keeps the session zone out of it.
      if (f.type === 'timestamp' && /^TIMESTAMP(_NS|_MS|_S)?$/.test(t)) {
        // Epoch microseconds carry the UTC wall clock over exactly and cost a fraction of timezone()'s
        // per-row calendar work; only the infinities, which have no epoch value, take the slow path.
        const ts = `CAST(${src} AS TIMESTAMP)`;
        return `CASE WHEN isfinite(${ts}) THEN make_timestamptz(epoch_us(${ts})) ELSE timezone('UTC', ${ts}) END AS ${quoteIdent(f.name)}`;
      }
      return `CAST(${src} AS ${target}) AS ${quoteIdent(f.name)}`;
    });
    return `SELECT ${cols.join(', ')} FROM ${relation}`;
  }

  async function assertNotNull(con: DuckDBConnection, sourceSql: string, schema: StructType): Promise<void> {
    const checks: { name: string; cond: string }[] = [];
    const walk = (fields: StructField[], prefix: string, expr: (n: string) => string, parentNotNull: string | undefined) => {
      for (const f of fields) {
        const e = expr(f.name);
        if (!f.nullable) checks.push({ name: prefix + f.name, cond: parentNotNull ? `(${e} IS NULL AND ${parentNotNull})` : `${e} IS NULL` });
        if (typeof f.type === 'object' && f.type.type === 'struct') {
          walk(f.type.fields, `${prefix}${f.name}.`, (n) => `struct_extract(${e}, '${n.replaceAll("'", "''")}')`, `${e} IS NOT NULL`);
        }
      }
    };
    walk(schema.fields, '', quoteIdent, undefined);
    if (checks.length === 0) return;
    const row = (await queryRows(con, `SELECT ${checks.map((c, i) => `count(*) FILTER (WHERE ${c.cond}) AS c${i}`).join(', ')} FROM (${sourceSql})`))[0] ?? {};
    checks.forEach((c, i) => {
      const n = Number(row[`c${i}`] ?? 0);
      if (n > 0) throw new DeltaInvalidOperationError(`NOT NULL constraint violated for column ${c.name}: ${n} row(s) are null`);
    });
  }

  function appendOnly(snap: Snapshot): boolean {
    return snap.configuration['delta.appendOnly']?.toLowerCase() === 'true';
  }

  function assertMayRemove(snap: Snapshot, what: string): void {
    if (appendOnly(snap)) throw new DeltaInvalidOperationError(`cannot ${what}: table has delta.appendOnly=true`);
  }

  /** Rows of `files` in scan form, with __weir_file/__weir_row, and a map back from local path to add. */
  async function scanWithFiles(con: DuckDBConnection, snap: Snapshot, files: AddFile[]) {
    const sql = await buildScanSql(con, store, { schema: snap.schema, partitionColumns: snap.partitionColumns, files }, { withFileColumns: true });
    const byLocal = new Map(files.map((f) => [localFilePath(store, f), f]));
    return { sql, byLocal };
  }

  /** Writes a rewrite's rows (temp table) back as data files, after checking NOT NULL. */
  async function writeRows(con: DuckDBConnection, snap: Snapshot, schema: StructType, sourceSql: string, dataChange = true): Promise<AddFile[]> {
    await assertNotNull(con, sourceSql, schema);
    return writeDataFiles({ con, store, schema, partitionColumns: snap.partitionColumns, configuration: snap.configuration, sourceSql, dataChange });
  }

  /** DELETE's plan: which files go, which are rewritten without the matching rows. */
  async function planDelete(con: DuckDBConnection, snap: Snapshot, predicate: string | undefined) {
    const scope: SkippingScope = { schema: snap.schema, partitionColumns: snap.partitionColumns };
    const now = Date.now();
    if (predicate === undefined) {
      const deleted = snap.files.reduce((n, f) => n + (numRecordsOf(f) ?? 0), 0);
      return { removes: snap.files.map((f) => removeOf(f, now)), adds: [] as AddFile[], readFiles: snap.files, node: undefined, deleted };
    }
    const node = await parsePredicate(con, predicate);
    const candidates = pruneFiles(snap.files, node, scope);
    if (candidates.length === 0) return { removes: [], adds: [], readFiles: [], node, deleted: 0 };
    const { sql, byLocal } = await scanWithFiles(con, snap, candidates);
    const counts = await queryRows(con, `SELECT __weir_file AS f, count(*) FILTER (WHERE (${predicate})) AS hit, count(*) AS n FROM (${sql}) GROUP BY ALL`);
    const removes: RemoveFile[] = [];
    const partial: AddFile[] = [];
    let deleted = 0;
    for (const c of counts) {
      const hit = Number(c.hit);
      if (hit === 0) continue;
      const add = byLocal.get(String(c.f)) as AddFile;
      deleted += hit;
      removes.push(removeOf(add, now));
      if (hit < Number(c.n)) partial.push(add);
    }
    let adds: AddFile[] = [];
    if (partial.length > 0) {
      const { sql: psql } = await scanWithFiles(con, snap, partial);
      const cols = snap.schema.fields.map((f) => quoteIdent(f.name)).join(', ');
      adds = await writeRows(con, snap, snap.schema, `SELECT ${cols} FROM (${psql}) WHERE (${predicate}) IS NOT TRUE`);
    }
    return { removes, adds, readFiles: candidates, node, deleted };
  }

  async function create(options: CreateOptions): Promise<CommitResult> {
    // No connection of its own: version 0 is never checkpointed, so creating a table needs no DuckDB.
    const latest = await latestVersion(store);
    if (latest >= 0) {
      if (options.ifNotExists) return { version: latest, skipped: true };
      throw new DeltaInvalidOperationError('table already exists');
    }
    const schema = typeof options.schema === 'string' ? parseSchemaString(options.schema) : options.schema;
    const { actions, metadata } = newTableActions(schema, options.partitionColumns ?? [], options.configuration ?? {}, options.name, options.description);
    const p = pending(
      undefined,
      'CREATE TABLE',
      {
        isManaged: 'false',
        description: options.description ?? '',
        partitionBy: JSON.stringify(metadata.partitionColumns),
        properties: JSON.stringify(metadata.configuration),
      },
      metadata.configuration,
    );
    p.actions = actions;
    return commit(store, conOf(options), p);
  }

  function newTableActions(schema: StructType, partitionColumns: string[], configuration: Record<string, string>, name?: string, description?: string) {
    validateSchema(schema);
    assertSupportedConfiguration(configuration);
    assertSupportedSchemaForWrite(schema);
    const partCols = partitionColumns.map((c) => {
      const f = findField(schema, c);
      if (!f) throw new DeltaSchemaError(`partition column ${c} is not in the schema`);
      if (typeof f.type !== 'string') throw new DeltaSchemaError(`partition column ${c} has non-primitive type ${typeName(f.type)}`);
      return f.name;
    });
    if (partCols.length > 0 && partCols.length === schema.fields.length)
      throw new DeltaSchemaError('cannot partition by every column: at least one data column is needed');
    const protocol: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };
    const metadata: Metadata = {
      id: randomUUID(),
      format: { provider: 'parquet', options: {} },
      schemaString: JSON.stringify(schema),
      partitionColumns: partCols,
      configuration,
      createdTime: Date.now(),
    };
    if (name !== undefined) metadata.name = name;
    if (description !== undefined) metadata.description = description;
    return { actions: [{ protocol }, { metaData: metadata }] as Action[], metadata, protocol };
  }

  async function write(query: string, options: WriteOptions = {}): Promise<CommitResult> {
    const mode = options.mode ?? 'append';
    return withConnection(conOf(options), async (con) => {
      // Only the latest version is needed here: file names, without the size and time of every log file.
      const latest = await latestVersion(store);
      const exists = latest >= 0;
      if (exists && mode === 'errorIfExists') throw new DeltaInvalidOperationError('table already exists');
      if (exists && mode === 'ignore') return { version: latest, skipped: true };
      if (options.replaceWhere !== undefined && mode !== 'overwrite') throw new DeltaInvalidOperationError('replaceWhere needs mode "overwrite"');
      // A view, not a copy: the input is read once, by the COPY that writes the data files. It is
      // materialized only when a check (NOT NULL, replaceWhere) must see the same rows the COPY writes.
      const raw = tempName('input');
      let materialized: string | undefined;
      await con.run(`CREATE TEMP VIEW ${raw} AS ${query.trim().replace(/;+\s*$/, '')}`);
      try {
        const { names, types } = await describe(con, raw);
        const inputSchema = inferSchema(names, types);
        if (!exists) {
          const { actions, metadata } = newTableActions(inputSchema, options.partitionBy ?? [], options.configuration ?? {});
          const schema = parseSchemaString(metadata.schemaString);
          const source = castSelect(raw, names, types, schema);
          const adds = await writeDataFiles({
            con,
            store,
            schema,
            partitionColumns: metadata.partitionColumns,
            configuration: metadata.configuration,
            sourceSql: source,
            dataChange: true,
          });
          const p = pending(
            undefined,
            'CREATE TABLE AS SELECT',
            { isManaged: 'false', description: '', partitionBy: JSON.stringify(metadata.partitionColumns), properties: JSON.stringify(metadata.configuration) },
            metadata.configuration,
          );
          p.actions = [...actions, ...adds.map((add) => ({ add }))];
          if (options.txn) p.actions.push({ txn: { ...options.txn, lastUpdated: Date.now() } });
          p.operationMetrics = metrics(adds);
          return commit(store, con, p);
        }
        const snap = await latestOrGiven(con, options.snapshot);
        if (options.txn) {
          const seen = snap.txns.get(options.txn.appId);
          if (seen && seen.version >= options.txn.version) return { version: snap.version, skipped: true };
        }
        let schema = snap.schema;
        let partitionColumns = snap.partitionColumns;
        let newMetadata: Metadata | undefined;
        if (options.overwriteSchema) {
          if (mode !== 'overwrite' || options.replaceWhere !== undefined)
            throw new DeltaInvalidOperationError('overwriteSchema needs mode "overwrite" without replaceWhere');
          validateSchema(inputSchema);
          schema = inputSchema;
          partitionColumns = (options.partitionBy ?? []).map((c) => (findField(schema, c) ?? { name: c }).name);
          for (const c of partitionColumns) if (!findField(schema, c)) throw new DeltaSchemaError(`partition column ${c} is not in the input`);
        } else {
          for (let i = 0; i < names.length; i++) {
            const name = names[i] as string;
            const field = findField(schema, name);
            const inType = (inputSchema.fields[i] as StructField).type;
            if (!field) {
              if (!options.mergeSchema) throw new DeltaSchemaError(`column ${name} is not in the table schema (write with mergeSchema to add it)`);
              continue;
            }
            if (!canStore(inType, field.type)) {
              if (
                options.mergeSchema &&
                typeof inType === 'object' &&
                inType.type === 'struct' &&
                typeof field.type === 'object' &&
                field.type.type === 'struct'
              )
                continue;
              throw new DeltaSchemaError(`column ${name}: cannot write ${typeName(inType)} into a column of type ${typeName(field.type)}`);
            }
          }
          if (options.mergeSchema) {
            const merged = mergeSchemas(schema, inputSchema);
            if (JSON.stringify(merged) !== JSON.stringify(schema)) {
              validateSchema(merged);
              schema = merged;
            }
          }
        }
        if (schema !== snap.schema || partitionColumns !== snap.partitionColumns) {
          newMetadata = { ...snap.metadata, schemaString: JSON.stringify(schema), partitionColumns };
        }
        let relation = raw;
        if (options.replaceWhere !== undefined || hasNotNullField(schema.fields)) {
          materialized = tempName('rows');
          await con.run(`CREATE TEMP TABLE ${materialized} AS SELECT * FROM ${raw}`);
          relation = materialized;
        }
        const source = castSelect(relation, names, types, schema);
        await assertNotNull(con, source, schema);
        if (options.replaceWhere !== undefined) {
          const bad = Number((await queryRows(con, `SELECT count(*) AS n FROM (${source}) WHERE (${options.replaceWhere}) IS NOT TRUE`))[0]?.n ?? 0);
          if (bad > 0) throw new DeltaInvalidOperationError(`${bad} written row(s) do not match replaceWhere (${options.replaceWhere})`);
        }
        const p = pending(
          snap,
          'WRITE',
          { mode: mode === 'overwrite' ? 'Overwrite' : 'Append', partitionBy: JSON.stringify(partitionColumns) },
          (newMetadata ?? snap.metadata).configuration,
        );
        const actions: Action[] = [];
        if (newMetadata) actions.push({ metaData: newMetadata });
        if (mode === 'overwrite') {
          if (options.replaceWhere !== undefined) {
            p.operationParameters.predicate = JSON.stringify([options.replaceWhere]);
            const plan = await planDelete(con, snap, options.replaceWhere);
            if (plan.removes.length > 0) assertMayRemove(snap, 'overwrite');
            actions.push(...plan.removes.map((remove) => ({ remove })), ...plan.adds.map((add) => ({ add })));
            for (const f of plan.readFiles) p.readFiles.add(fileKey(f));
            if (plan.node) {
              p.readPredicate = plan.node;
              p.readScope = { schema: snap.schema, partitionColumns: snap.partitionColumns };
            }
          } else {
            if (snap.files.length > 0) assertMayRemove(snap, 'overwrite');
            const now = Date.now();
            actions.push(...snap.files.map((f) => ({ remove: removeOf(f, now) })));
            p.readWholeTable = true;
          }
        }
        const snapForWrite = { ...snap, schema, partitionColumns, configuration: (newMetadata ?? snap.metadata).configuration } as Snapshot;
        const adds = await writeDataFiles({
          con,
          store,
          schema,
          partitionColumns,
          configuration: snapForWrite.configuration,
          sourceSql: source,
          dataChange: true,
        });
        actions.push(...adds.map((add) => ({ add })));
        if (options.txn) {
          actions.push({ txn: { ...options.txn, lastUpdated: Date.now() } });
          p.readAppIds.push(options.txn.appId);
        }
        p.actions = actions;
        p.operationMetrics = metrics(adds);
        return commit(store, con, p);
      } finally {
        if (materialized !== undefined) await con.run(`DROP TABLE IF EXISTS ${materialized}`);
        await con.run(`DROP VIEW IF EXISTS ${raw}`);
      }
    });
  }

  function metrics(adds: AddFile[]): Record<string, string> {
    const rows = adds.reduce((n, a) => n + (numRecordsOf(a) ?? 0), 0);
    return { numFiles: String(adds.length), numOutputRows: String(rows), numOutputBytes: String(adds.reduce((n, a) => n + a.size, 0)) };
  }

  async function deleteRows(predicate: string | undefined, options: DmlOptions = {}): Promise<DmlResult> {
    return withConnection(conOf(options), async (con) => {
      const snap = await latestOrGiven(con, options.snapshot);
      const plan = await planDelete(con, snap, predicate);
      if (plan.removes.length === 0) return { version: snap.version, skipped: true, numAffectedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
      assertMayRemove(snap, 'DELETE');
      const p = pending(snap, 'DELETE', { predicate: JSON.stringify(predicate === undefined ? [] : [predicate]) }, snap.configuration);
      p.actions = [...plan.removes.map((remove) => ({ remove })), ...plan.adds.map((add) => ({ add }))];
      for (const f of plan.readFiles) p.readFiles.add(fileKey(f));
      if (plan.node) {
        p.readPredicate = plan.node;
        p.readScope = { schema: snap.schema, partitionColumns: snap.partitionColumns };
      } else p.readWholeTable = true;
      p.operationMetrics = { numDeletedRows: String(plan.deleted), numRemovedFiles: String(plan.removes.length), numAddedFiles: String(plan.adds.length) };
      const r = await commit(store, con, p);
      return { ...r, numAffectedRows: plan.deleted, numRemovedFiles: plan.removes.length, numAddedFiles: plan.adds.length };
    });
  }

  async function update(options: { set: Record<string, string>; where?: string } & DmlOptions): Promise<DmlResult> {
    return withConnection(conOf(options), async (con) => {
      const snap = await latestOrGiven(con, options.snapshot);
      const set = new Map<string, string>();
      for (const [col, expr] of Object.entries(options.set)) {
        const f = findField(snap.schema, col);
        if (!f) throw new DeltaSchemaError(`UPDATE: column ${col} is not in the table schema`);
        set.set(f.name, expr);
      }
      if (set.size === 0) throw new DeltaInvalidOperationError('UPDATE needs at least one column to set');
      const scope: SkippingScope = { schema: snap.schema, partitionColumns: snap.partitionColumns };
      const node = options.where === undefined ? undefined : await parsePredicate(con, options.where);
      const candidates = pruneFiles(snap.files, node, scope);
      const cond = options.where === undefined ? 'true' : `(${options.where})`;
      let touched: AddFile[] = [];
      let updated = 0;
      if (candidates.length > 0) {
        const { sql, byLocal } = await scanWithFiles(con, snap, candidates);
        const counts = await queryRows(con, `SELECT __weir_file AS f, count(*) FILTER (WHERE ${cond}) AS hit FROM (${sql}) GROUP BY ALL`);
        touched = counts.filter((c) => Number(c.hit) > 0).map((c) => byLocal.get(String(c.f)) as AddFile);
        updated = counts.reduce((n, c) => n + Number(c.hit), 0);
      }
      if (touched.length === 0) return { version: snap.version, skipped: true, numAffectedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
      assertMayRemove(snap, 'UPDATE');
      const { sql } = await scanWithFiles(con, snap, touched);
      const cols = snap.schema.fields.map((f) => {
        const expr = set.get(f.name);
        if (expr === undefined) return quoteIdent(f.name);
        return `CASE WHEN ${cond} THEN CAST((${expr}) AS ${duckTypeOf(f.type)}) ELSE ${quoteIdent(f.name)} END AS ${quoteIdent(f.name)}`;
      });
      const out = tempName('update');
      await con.run(`CREATE TEMP TABLE ${out} AS SELECT ${cols.join(', ')} FROM (${sql})`);
      try {
        const adds = await writeRows(con, snap, snap.schema, `SELECT * FROM ${out}`);
        const now = Date.now();
        const p = pending(snap, 'UPDATE', { predicate: JSON.stringify(options.where === undefined ? [] : [options.where]) }, snap.configuration);
        p.actions = [...touched.map((f) => ({ remove: removeOf(f, now) })), ...adds.map((add) => ({ add }))];
        for (const f of candidates) p.readFiles.add(fileKey(f));
        if (node) {
          p.readPredicate = node;
          p.readScope = scope;
        } else p.readWholeTable = true;
        p.operationMetrics = { numUpdatedRows: String(updated), numRemovedFiles: String(touched.length), numAddedFiles: String(adds.length) };
        const r = await commit(store, con, p);
        return { ...r, numAffectedRows: updated, numRemovedFiles: touched.length, numAddedFiles: adds.length };
      } finally {
        await con.run(`DROP TABLE IF EXISTS ${out}`);
      }
    });
  }

  async function merge(options: MergeOptions): Promise<DmlResult> {
    return withConnection(conOf(options), async (con) => {
      const snap = await latestOrGiven(con, options.snapshot);
      const t = options.targetAlias ?? 't';
      const s = options.sourceAlias ?? 's';
      const matched = options.whenMatched ?? [];
      const notMatched = options.whenNotMatched ?? [];
      const bySource = options.whenNotMatchedBySource ?? [];
      if (matched.length + notMatched.length + bySource.length === 0) throw new DeltaInvalidOperationError('MERGE needs at least one WHEN clause');
      const src = tempName('merge_src');
      await con.run(`CREATE TEMP TABLE ${src} AS SELECT *, true AS __weir_src FROM (${options.source.trim().replace(/;+\s*$/, '')})`);
      const out = tempName('merge_out');
      try {
        const { names: srcNames } = await describe(con, src);
        const scope: SkippingScope = { schema: snap.schema, partitionColumns: snap.partitionColumns, alias: t, foreignAliases: [s] };
        const onNode = await parsePredicate(con, options.on);
        // Unmatched target rows can be anywhere, so clauses on them need every file.
        const candidates = bySource.length > 0 ? snap.files : pruneFiles(snap.files, onNode, scope);
        const { sql, byLocal } = await scanWithFiles(con, snap, candidates);
        // Target rows no source row matches only matter to NOT MATCHED BY SOURCE clauses, and unmatched
        // source rows only to NOT MATCHED ones: the narrowest join keeps millions of untouched rows out.
        const joinType = bySource.length > 0 ? (notMatched.length > 0 ? 'FULL OUTER JOIN' : 'LEFT JOIN') : notMatched.length > 0 ? 'RIGHT JOIN' : 'JOIN';
        const join = `FROM (${sql}) AS ${quoteIdent(t)} ${joinType} ${src} AS ${quoteIdent(s)} ON (${options.on})`;
        const tq = (c: string) => `${quoteIdent(t)}.${quoteIdent(c)}`;
        const sq = (c: string) => `${quoteIdent(s)}.${quoteIdent(c)}`;
        const whenList = (clauses: { condition?: string }[], prefix: string, otherwise: string) =>
          `CASE ${clauses.map((c, i) => `WHEN ${c.condition ? `(${c.condition})` : 'true'} THEN '${prefix}${i}'`).join(' ')} ELSE '${otherwise}' END`;
        const act = `(CASE WHEN ${tq('__weir_file')} IS NOT NULL AND ${sq('__weir_src')} IS NOT NULL THEN ${matched.length ? whenList(matched, 'M', 'K') : `'K'`} WHEN ${tq('__weir_file')} IS NOT NULL THEN ${bySource.length ? whenList(bySource, 'B', 'K') : `'K'`} ELSE ${notMatched.length ? whenList(notMatched, 'I', 'X') : `'X'`} END)`;
        // With "*", a column the source lacks keeps its target value (update) or is null (insert).
        const srcColumn = (name: string) => {
          const n = srcNames.find((x) => x.toLowerCase() === name.toLowerCase() && x !== '__weir_src');
          return n === undefined ? undefined : sq(n);
        };
        const deletes: string[] = [];
        const columnCases = new Map<string, string[]>();
        for (const f of snap.schema.fields) columnCases.set(f.name, []);
        const addClause = (tag: string, assignments: Record<string, string> | '*', fromTarget: boolean) => {
          const explicit = new Map<string, string>();
          if (assignments !== '*') {
            for (const [col, expr] of Object.entries(assignments)) {
              const f = findField(snap.schema, col);
              if (!f) throw new DeltaSchemaError(`MERGE: column ${col} is not in the table schema`);
              explicit.set(f.name, expr);
            }
          }
          for (const f of snap.schema.fields) {
            let expr = assignments === '*' ? srcColumn(f.name) : explicit.get(f.name);
            if (expr === undefined) expr = fromTarget ? tq(f.name) : 'NULL';
            (columnCases.get(f.name) as string[]).push(`WHEN '${tag}' THEN CAST((${expr}) AS ${duckTypeOf(f.type)})`);
          }
        };
        const clauseTag = (list: MergeMatchedClause[], prefix: string) =>
          list.forEach((c, i) => {
            if ('delete' in c) deletes.push(`${prefix}${i}`);
            else addClause(`${prefix}${i}`, c.update, true);
          });
        clauseTag(matched, 'M');
        clauseTag(bySource, 'B');
        notMatched.forEach((c, i) => {
          addClause(`I${i}`, c.insert, false);
        });
        const cols = snap.schema.fields.map((f) => {
          const cases = columnCases.get(f.name) as string[];
          return `${cases.length ? `CASE ${act} ${cases.join(' ')} ELSE ${tq(f.name)} END` : tq(f.name)} AS ${quoteIdent(f.name)}`;
        });
        // Kept: rows a clause acts on, plus every matched pair (for the duplicate check); not kept are
        // unmatched untouched target rows ('K') and source rows nobody inserts ('X').
        const pair = `(${tq('__weir_file')} IS NOT NULL AND ${sq('__weir_src')} IS NOT NULL)`;
        await con.run(
          `CREATE TEMP TABLE ${out} AS SELECT * FROM (SELECT ${act} AS __act, ${pair} AS __pair, ${tq('__weir_file')} AS __f, ${tq('__weir_row')} AS __r, ${cols.join(', ')} ${join}) WHERE __pair OR __act NOT IN ('K', 'X')`,
        );
        if (matched.length > 0) {
          const dup = await queryRows(con, `SELECT 1 AS n FROM ${out} WHERE __pair GROUP BY __f, __r HAVING count(*) > 1 LIMIT 1`);
          if (dup.length > 0) throw new DeltaInvalidOperationError('MERGE: a target row matched more than one source row');
        }
        const touchedRows = await queryRows(con, `SELECT DISTINCT __f AS f FROM ${out} WHERE __f IS NOT NULL AND (__act LIKE 'M%' OR __act LIKE 'B%')`);
        const touched = touchedRows.map((r) => byLocal.get(String(r.f)) as AddFile);
        const counts =
          (
            await queryRows(
              con,
              `SELECT count(*) FILTER (WHERE __act LIKE 'M%' OR __act LIKE 'B%') AS changed, count(*) FILTER (WHERE __act LIKE 'I%') AS inserted FROM ${out}`,
            )
          )[0] ?? {};
        const affected = Number(counts.changed ?? 0) + Number(counts.inserted ?? 0);
        if (touched.length === 0 && Number(counts.inserted ?? 0) === 0)
          return { version: snap.version, skipped: true, numAffectedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
        if (touched.length > 0) assertMayRemove(snap, 'MERGE');
        const names = snap.schema.fields.map((f) => quoteIdent(f.name)).join(', ');
        const delList = deletes.length ? `(${deletes.map((d) => `'${d}'`).join(', ')})` : `('')`;
        // Rewritten files: their rows no clause touched, then the updated and inserted rows.
        // Each acted-on row is unique: M rows by the duplicate check, B rows are unmatched target rows, I rows source rows.
        let rewrite = `SELECT ${names} FROM ${out} WHERE __act <> 'K' AND __act NOT IN ${delList}`;
        if (touched.length > 0) {
          const touchedScan = await scanWithFiles(con, snap, touched);
          const acted = `__o.__act LIKE 'M%' OR __o.__act LIKE 'B%'`;
          const untouched = `SELECT ${names} FROM (${touchedScan.sql}) AS __k WHERE NOT EXISTS (SELECT 1 FROM ${out} AS __o WHERE (${acted}) AND __o.__f = __k.__weir_file AND __o.__r = __k.__weir_row)`;
          rewrite = `${untouched} UNION ALL ${rewrite}`;
        }
        const adds = await writeRows(con, snap, snap.schema, rewrite);
        const now = Date.now();
        const p = pending(
          snap,
          'MERGE',
          {
            predicate: JSON.stringify(options.on),
            matchedPredicates: JSON.stringify(matched),
            notMatchedPredicates: JSON.stringify(notMatched),
            notMatchedBySourcePredicates: JSON.stringify(bySource),
          },
          snap.configuration,
        );
        p.actions = [...touched.map((f) => ({ remove: removeOf(f, now) })), ...adds.map((add) => ({ add }))];
        for (const f of candidates) p.readFiles.add(fileKey(f));
        p.readPredicate = onNode;
        p.readScope = scope;
        if (bySource.length > 0) p.readWholeTable = true;
        const r = await commit(store, con, p);
        return { ...r, numAffectedRows: affected, numRemovedFiles: touched.length, numAddedFiles: adds.length };
      } finally {
        await con.run(`DROP TABLE IF EXISTS ${src}`);
        await con.run(`DROP TABLE IF EXISTS ${out}`);
      }
    });
  }

  async function optimize(options: { where?: string; targetFileSize?: number } & DmlOptions = {}): Promise<DmlResult> {
    return withConnection(conOf(options), async (con) => {
      const snap = await latestOrGiven(con, options.snapshot);
      const target = options.targetFileSize ?? 128 * 1024 * 1024;
      const scope: SkippingScope = { schema: snap.schema, partitionColumns: snap.partitionColumns };
      let files = snap.files;
      if (options.where !== undefined) {
        const bad = [...(await referencedColumns(con, options.where))].filter((c) => !snap.partitionColumns.some((p) => p.toLowerCase() === c.toLowerCase()));
        if (bad.length) throw new DeltaInvalidOperationError(`OPTIMIZE where may only use partition columns (not ${bad.join(', ')})`);
        files = pruneFiles(files, await parsePredicate(con, options.where), scope);
      }
      const groups = new Map<string, AddFile[]>();
      for (const f of files) {
        if (f.size >= target) continue;
        const key = JSON.stringify(snap.partitionColumns.map((c) => f.partitionValues[c] ?? null));
        groups.set(key, [...(groups.get(key) ?? []), f]);
      }
      const removed: AddFile[] = [];
      const added: AddFile[] = [];
      for (const group of groups.values()) {
        if (group.length < 2) continue;
        const sql = await buildScanSql(con, store, { schema: snap.schema, partitionColumns: snap.partitionColumns, files: group });
        added.push(...(await writeRows(con, snap, snap.schema, sql, false)));
        removed.push(...group);
      }
      if (removed.length === 0) return { version: snap.version, skipped: true, numAffectedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
      const now = Date.now();
      const p = pending(snap, 'OPTIMIZE', { predicate: JSON.stringify(options.where ? [options.where] : []), zOrderBy: '[]' }, snap.configuration);
      p.actions = [...removed.map((f) => ({ remove: removeOf(f, now, false) })), ...added.map((add) => ({ add }))];
      for (const f of removed) p.readFiles.add(fileKey(f));
      p.operationMetrics = { numRemovedFiles: String(removed.length), numAddedFiles: String(added.length) };
      const r = await commit(store, con, p);
      return { ...r, numAffectedRows: 0, numRemovedFiles: removed.length, numAddedFiles: added.length };
    });
  }

  async function referencedColumns(con: DuckDBConnection, predicate: string): Promise<Set<string>> {
    const node = await parsePredicate(con, predicate);
    const out = new Set<string>();
    const walk = (n: PredicateNode) => {
      if (n.kind === 'and' || n.kind === 'or') n.children.forEach(walk);
      else if (n.kind === 'cmp' || n.kind === 'null') out.add(n.column[n.column.length - 1] as string);
      else if (n.kind === 'unknown') out.add('<expression>');
    };
    walk(node);
    return out;
  }

  async function vacuum(options: { retentionHours?: number; dryRun?: boolean; force?: boolean } = {}): Promise<VacuumResult> {
    return withConnection(conOf(), async (con) => {
      const snap = await latestOrGiven(con);
      const configured = parseIntervalMs(snap.configuration['delta.deletedFileRetentionDuration'], 7 * 86_400_000);
      const retention = options.retentionHours === undefined ? configured : options.retentionHours * 3_600_000;
      if (retention < configured && !options.force) {
        throw new DeltaInvalidOperationError(
          `VACUUM retention of ${retention / 3_600_000} hours is shorter than the table's ${configured / 3_600_000} hours; pass force to do it anyway (concurrent readers and time travel may break)`,
        );
      }
      const cutoff = Date.now() - retention;
      const keep = new Set<string>();
      for (const f of snap.files) keep.add(fileKey({ path: f.path }));
      for (const r of snap.tombstones) if ((r.deletionTimestamp ?? 0) >= cutoff) keep.add(fileKey({ path: r.path }));
      const partCols = snap.partitionColumns.map((c) => `${c.toLowerCase()}=`);
      const hidden = (key: string) =>
        key.split('/').some((part) => (part.startsWith('_') || part.startsWith('.')) && !partCols.some((pc) => part.toLowerCase().startsWith(pc)));
      const all = await store.list('');
      const doomed = all.filter((o) => !hidden(o.key) && !keep.has(o.key) && o.lastModified < cutoff).map((o) => o.key);
      if (!options.dryRun) for (const key of doomed) await store.delete(key);
      return { files: doomed, dryRun: options.dryRun === true };
    });
  }

  return {
    store,
    async exists() {
      return (await latestVersion(store)) >= 0;
    },
    async version() {
      const latest = await latestVersion(store);
      if (latest < 0) throw new DeltaNotFoundError('not a Delta table');
      return latest;
    },
    snapshot: (options) => withConnection(conOf(options), (con) => loadSnapshot(con, options)),
    history: async (limit) => readHistory(store, await listLog(store), limit),
    create,
    write,
    delete: deleteRows,
    update,
    merge,
    optimize,
    vacuum,
    checkpoint: (options) =>
      withConnection(conOf(options), async (con) => {
        const listing = await listLog(store);
        const state = await replayLog(con, store, listing);
        assertReadable(state.protocol);
        await writeCheckpoint(store, con, state);
        return state.version;
      }),
  };
}
