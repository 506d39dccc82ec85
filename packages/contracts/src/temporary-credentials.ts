import { z } from 'zod';
import { requiredString } from './wire.ts';

/** POST /api/2.1/unity-catalog/temporary-table-credentials */
export const GenerateTemporaryTableCredential = z.object({
  table_id: requiredString(),
  operation: z.enum(['READ', 'READ_WRITE']),
});
/** POST /api/2.1/unity-catalog/temporary-volume-credentials */
export const GenerateTemporaryVolumeCredential = z.object({
  volume_id: requiredString(),
  operation: z.enum(['READ_VOLUME', 'WRITE_VOLUME']),
});
/** POST /api/2.1/unity-catalog/temporary-path-credentials */
export const GenerateTemporaryPathCredential = z.object({
  url: requiredString(),
  operation: z.enum(['PATH_READ', 'PATH_READ_WRITE', 'PATH_CREATE_TABLE']),
  dry_run: z.boolean().optional(),
});
