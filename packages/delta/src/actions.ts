import { DeltaUnsupportedFeatureError } from './errors.ts';

/** The `protocol` action. */
export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[] | null;
  writerFeatures?: string[] | null;
}

/** The `metaData` action. */
export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options?: Record<string, string> | null };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

/** A deletion vector descriptor (only ever read to refuse or key files). */
export interface DeletionVector {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number | null;
  sizeInBytes: number;
  cardinality: number;
}

/** The `add` action; `statsParsed` holds a checkpoint's `stats_parsed` (lossless JSON) when there was one. */
export interface AddFile {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVector | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  statsParsed?: unknown;
}

/** The `remove` action. */
export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVector | null;
}

/** The `txn` action (idempotent writes). */
export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** The `domainMetadata` action. */
export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

/** Free-form `commitInfo`. */
export type CommitInfo = Record<string, unknown>;

/** One line of a commit file. */
export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: CommitInfo }
  | { domainMetadata: DomainMetadata }
  | { cdc: Record<string, unknown> };

/** `_delta_log/<20 digits>.json`. */
export function commitKey(version: number): string {
  return `_delta_log/${String(version).padStart(20, '0')}.json`;
}

/** `_delta_log/<20 digits>.checkpoint.parquet`. */
export function checkpointKey(version: number): string {
  return `_delta_log/${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/** The canonical form of an `add`/`remove` path: URI-decoded once, `file:` scheme folded, for reconciling actions. */
export function canonicalPath(p: string): string {
  let decoded = p;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    // A path with a stray "%" was written unencoded; keep it as is.
  }
  if (decoded.startsWith('file:///')) return decoded.slice('file://'.length);
  if (decoded.startsWith('file:/')) return decoded.slice('file:'.length);
  return decoded;
}

/** Key of a file in the snapshot: canonical path plus deletion vector id, as the protocol reconciles them. */
export function fileKey(a: { path: string; deletionVector?: DeletionVector | null }): string {
  const dv = a.deletionVector;
  return dv ? `${canonicalPath(a.path)}\u0000${dv.storageType}${dv.pathOrInlineDv}${dv.offset ?? ''}` : canonicalPath(a.path);
}

/** Encodes a relative file path for `add.path` (RFC 2396 style; `/` kept, non-ASCII left as is like Spark). */
export function encodeAddPath(relative: string): string {
  let out = '';
  for (const ch of relative) {
    const code = ch.codePointAt(0) as number;
    // Control chars, space and the RFC 2396 "unwise"/delimiter set; "/" stays, non-ASCII stays raw like Spark.
    out += code <= 0x20 || code === 0x7f || '%"#<>?[]\\^`{|}'.includes(ch) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** Reader features this package implements. */
export const SUPPORTED_READER_FEATURES = new Set(['timestampNtz', 'vacuumProtocolCheck']);
/** Writer features this package implements (legacy writer 2 features, listed by name). */
export const SUPPORTED_WRITER_FEATURES = new Set(['appendOnly', 'invariants']);

/** Refuses, naming the feature, a table this package cannot read correctly. Call before reading any data. */
export function assertReadable(p: Protocol): void {
  const v = p.minReaderVersion;
  if (v === 1) return;
  if (v === 2) throw new DeltaUnsupportedFeatureError(['columnMapping'], 'table needs reader version 2 (feature columnMapping), which is not supported');
  if (v === 3) {
    const missing = (p.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
    if (missing.length > 0) throw new DeltaUnsupportedFeatureError(missing, `table uses unsupported reader feature(s): ${missing.join(', ')}`);
    return;
  }
  const named = (p.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
  throw new DeltaUnsupportedFeatureError(
    [`minReaderVersion ${v}`, ...named],
    `table needs minReaderVersion ${v}, which is not supported (supported: 1, and 3 with only timestampNtz/vacuumProtocolCheck)${named.length ? `; features: ${named.join(', ')}` : ''}`,
  );
}

/** Refuses to write a table whose writer protocol needs something this package does not do. */
export function assertWritable(p: Protocol): void {
  assertReadable(p);
  const v = p.minWriterVersion;
  if (v <= 2) return;
  if (v === 7) {
    // timestampNtz is accepted for reading but writing its columns is not implemented.
    const missing = (p.writerFeatures ?? []).filter((f) => !SUPPORTED_WRITER_FEATURES.has(f));
    if (missing.length > 0) throw new DeltaUnsupportedFeatureError(missing, `cannot write: table uses unsupported writer feature(s): ${missing.join(', ')}`);
    return;
  }
  const implied: Record<number, string[]> = {
    3: ['checkConstraints'],
    4: ['checkConstraints', 'changeDataFeed', 'generatedColumns'],
    5: ['checkConstraints', 'changeDataFeed', 'generatedColumns', 'columnMapping'],
    6: ['checkConstraints', 'changeDataFeed', 'generatedColumns', 'columnMapping', 'identityColumns'],
  };
  const features = implied[v] ?? [`minWriterVersion ${v}`];
  throw new DeltaUnsupportedFeatureError(
    features,
    `cannot write: table needs writer version ${v} (${features.join(', ')}), only writer version 2 is supported`,
  );
}
