/** Error codes Weir answers with, from the MLflow / Databricks set, mapped to their HTTP status. */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  UNAUTHENTICATED: 401,
  CUSTOMER_UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  // Unity Catalog's object-specific codes (what Databricks answers for a missing catalog, schema or table).
  CATALOG_DOES_NOT_EXIST: 404,
  SCHEMA_DOES_NOT_EXIST: 404,
  TABLE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_CONFLICT: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

/** One of the error codes Weir can answer with. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The error body every Weir API answers with (the Databricks / MLflow shape). */
export interface ErrorBody {
  error_code: ErrorCode;
  message: string;
  details?: unknown[];
}
