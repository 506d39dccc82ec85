import { z } from 'zod';
import { requiredString } from './wire.ts';

/** GET /api/weir/v1/lineage: the graph around one entity (`table:c.s.t`, `path:/Volumes/...`, `run:<id>`, `model_version:c.s.m/3`, `endpoint:<name>`). */
export const LineageGraph = z.object({
  entity: requiredString().max(2000),
  direction: z.enum(['upstream', 'downstream', 'both']).optional(),
  depth: z.coerce.number().int().min(1).max(20).optional(),
});

/** GET /api/2.0/lineage-tracking/table-lineage (parameters in the query string). */
export const TableLineage = z.object({
  table_name: requiredString().max(800),
  include_entity_lineage: z.boolean().optional(),
});

/** GET /api/2.0/lineage-tracking/column-lineage */
export const ColumnLineage = z.object({
  table_name: requiredString().max(800),
  column_name: requiredString().max(1000),
});
