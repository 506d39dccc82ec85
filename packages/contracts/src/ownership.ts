import { z } from 'zod';
import { requiredString } from './wire.ts';

// Ownership transfers through PATCH, as Databricks' Unity Catalog API takes them (`owner` is a principal's name:
// a user name, a group's display name or a service principal's application id).

/** PATCH /api/2.1/unity-catalog/tables/{full_name} `{owner}` */
export const UpdateTable = z.object({ full_name: requiredString(), owner: requiredString().max(1000).optional() });

/** PATCH /api/2.1/unity-catalog/functions/{name} `{owner}` */
export const UpdateFunction = z.object({ name: requiredString(), owner: requiredString().max(1000).optional() });

/** PATCH /api/2.1/unity-catalog/models/{full_name} `{comment, new_name, owner}` */
export const UpdateRegisteredModel = z.object({
  full_name: requiredString(),
  comment: z.string().optional(),
  new_name: z.string().optional(),
  owner: requiredString().max(1000).optional(),
});
