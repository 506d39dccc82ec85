export type { Action, AddFile, CommitInfo, DeletionVector, DomainMetadata, Metadata, Protocol, RemoveFile, Txn } from './actions.ts';
export { canonicalPath, checkpointKey, commitKey, encodeAddPath } from './actions.ts';
export type { CommitResult } from './commit.ts';
export {
  DeltaConflictError,
  type DeltaConflictKind,
  DeltaError,
  DeltaInvalidOperationError,
  DeltaLogError,
  DeltaNotFoundError,
  DeltaSchemaError,
  DeltaUnsupportedFeatureError,
} from './errors.ts';
export { LosslessNumber, parseJsonLossless } from './json.ts';
export type { HistoryEntry } from './log.ts';
export { createLocalObjectStore, type ObjectInfo, type ObjectStore } from './object-store.ts';
export type { ArrayType, DeltaDataType, MapType, StructField, StructType } from './schema.ts';
export {
  type ConnectionOption,
  type CreateOptions,
  type DeltaTable,
  type DmlOptions,
  type DmlResult,
  type MergeMatchedClause,
  type MergeOptions,
  openDeltaTable,
  type ReadRowsOptions,
  type ScanOptions,
  type Snapshot,
  type SnapshotOptions,
  type VacuumResult,
  type WriteMode,
  type WriteOptions,
} from './table.ts';
