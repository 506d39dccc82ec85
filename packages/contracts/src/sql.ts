import { z } from 'zod';
import { int64, requiredString } from './wire.ts';

/** One named parameter of a statement (`:name` in the SQL text). */
export const StatementParameter = z.object({
  name: requiredString(),
  value: z.string().nullable().optional(),
  type: z.string().optional(),
});

/** POST /api/2.0/sql/statements */
export const ExecuteStatement = z.object({
  statement: requiredString(),
  warehouse_id: z.string().optional(),
  catalog: z.string().optional(),
  schema: z.string().optional(),
  parameters: z.array(StatementParameter).max(1000).optional(),
  wait_timeout: z.string().optional(),
  on_wait_timeout: z.enum(['CONTINUE', 'CANCEL']).optional(),
  disposition: z.enum(['INLINE', 'EXTERNAL_LINKS']).optional(),
  format: z.enum(['JSON_ARRAY', 'ARROW_STREAM', 'CSV']).optional(),
  row_limit: int64().optional(),
  byte_limit: int64().optional(),
});

/** GET /api/2.0/sql/statements/{statement_id}, POST .../cancel */
export const StatementById = z.object({ statement_id: requiredString() });

/** GET /api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index} */
export const StatementChunk = z.object({ statement_id: requiredString(), chunk_index: z.string().regex(/^\d{1,9}$/) });

/** GET /api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index}/download: an external link's target. */
export const StatementChunkDownload = z.object({
  statement_id: requiredString(),
  chunk_index: z.string().regex(/^\d{1,9}$/),
  expires: z.string().regex(/^\d{1,15}$/),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Statement states of the Statement Execution API. */
export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';
