import { z } from 'zod';
import { int64 } from './wire.ts';

/** POST /api/2.0/token/create */
export const CreateToken = z.object({
  comment: z.string().max(1000).optional(),
  lifetime_seconds: int64().optional(),
});
/** POST /api/2.0/token/delete */
export const DeleteToken = z.object({ token_id: z.string().min(1) });
/** POST /api/2.0/preview/scim/v2/Users (Weir also takes a password for UI login). */
export const CreateScimUser = z.object({
  schemas: z.array(z.string()).optional(),
  userName: z.string().min(1).max(256),
  displayName: z.string().max(256).optional(),
  active: z.boolean().optional(),
  emails: z.array(z.object({ value: z.string(), primary: z.boolean().optional(), type: z.string().optional() })).optional(),
  password: z.string().min(8).max(1024).optional(),
});
/** Databricks permission levels for workspace objects, weakest first. */
export const PermissionLevel = z.enum(['CAN_READ', 'CAN_EDIT', 'CAN_MANAGE']);
/** A permission level on a workspace object. */
export type PermissionLevel = z.infer<typeof PermissionLevel>;
/** PUT/PATCH /api/2.0/permissions/{type}/{id} */
export const SetObjectPermissions = z.object({
  access_control_list: z.array(
    z.object({
      user_name: z.string().min(1).optional(),
      group_name: z.string().min(1).optional(),
      service_principal_name: z.string().min(1).optional(),
      permission_level: PermissionLevel,
    }),
  ),
});
