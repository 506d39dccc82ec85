/** Base class of every error this package throws on purpose. */
export class DeltaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The table needs a protocol version or table feature this package does not implement. */
export class DeltaUnsupportedFeatureError extends DeltaError {
  constructor(
    readonly features: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** The `_delta_log` cannot be replayed: missing, corrupt, truncated or non-contiguous. */
export class DeltaLogError extends DeltaError {}

/** The table (or version) asked for does not exist. */
export class DeltaNotFoundError extends DeltaError {}

/** Input data or a schema change does not fit the table; nothing was written. */
export class DeltaSchemaError extends DeltaError {}

/** A write was refused by a table rule (appendOnly, NOT NULL, bad argument); nothing was written. */
export class DeltaInvalidOperationError extends DeltaError {}

/** Which Spark conflict rule a concurrent commit broke. */
export type DeltaConflictKind =
  | 'ProtocolChanged'
  | 'MetadataChanged'
  | 'ConcurrentTransaction'
  | 'ConcurrentAppend'
  | 'ConcurrentDeleteRead'
  | 'ConcurrentDeleteDelete';

/** Another writer committed first and its changes conflict with this transaction (Delta's conflict rules). */
export class DeltaConflictError extends DeltaError {
  constructor(
    readonly kind: DeltaConflictKind,
    readonly winningVersion: number,
    message: string,
  ) {
    super(`${kind}: ${message} (conflicting commit version ${winningVersion})`);
  }
}
