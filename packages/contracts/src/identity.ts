import { z } from 'zod';
import { int64 } from './wire.ts';

/** POST /api/2.0/token/create */
export const CreateToken = z.object({
  comment: z.string().max(1000).optional(),
  lifetime_seconds: int64().optional(),
});
/** POST /api/2.0/token/delete */
export const DeleteToken = z.object({ token_id: z.string().min(1) });
/** A SCIM multi-valued attribute entry (`members`, `groups`, `emails`, `entitlements`, `roles`). */
export const ScimValue = z.object({
  value: z.union([z.string().max(512), z.number().int()]).optional(),
  display: z.string().max(1024).optional(),
  primary: z.boolean().optional(),
  type: z.string().max(64).optional(),
  $ref: z.string().max(1024).optional(),
});
/** A SCIM multi-valued attribute entry as sent by clients. */
export type ScimValue = z.infer<typeof ScimValue>;

const scimList = (max: number) => z.array(ScimValue).max(max).optional();
const scimSchemas = z.array(z.string().max(256)).max(10).optional();

/** POST/PUT /api/2.0/preview/scim/v2/Users (Weir also takes a password for UI login). */
export const CreateScimUser = z.object({
  schemas: scimSchemas,
  userName: z.string().min(1).max(256),
  displayName: z.string().max(256).optional(),
  active: z.boolean().optional(),
  emails: scimList(100),
  name: z.object({ givenName: z.string().max(256).optional(), familyName: z.string().max(256).optional() }).optional(),
  externalId: z.string().max(256).optional(),
  groups: scimList(10_000),
  entitlements: scimList(100),
  roles: scimList(100),
  password: z.string().min(8).max(1024).optional(),
});
/** POST/PUT /api/2.0/preview/scim/v2/Groups */
export const ScimGroupBody = z.object({
  schemas: scimSchemas,
  displayName: z.string().min(1).max(256),
  externalId: z.string().max(256).optional(),
  members: scimList(100_000),
  groups: scimList(10_000),
  entitlements: scimList(100),
  roles: scimList(100),
});
/** POST/PUT /api/2.0/preview/scim/v2/ServicePrincipals; `applicationId` is a UUID, generated when absent. */
export const ScimServicePrincipalBody = z.object({
  schemas: scimSchemas,
  applicationId: z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
    .optional(),
  displayName: z.string().max(256).optional(),
  active: z.boolean().optional(),
  externalId: z.string().max(256).optional(),
  groups: scimList(10_000),
  entitlements: scimList(100),
  roles: scimList(100),
});
/** PATCH /api/2.0/preview/scim/v2/{Users|Groups|ServicePrincipals}/{id}: a SCIM PatchOp. */
export const ScimPatch = z.object({
  schemas: scimSchemas,
  Operations: z
    .array(
      z.object({
        op: z.string().min(1).max(16),
        path: z.string().min(1).max(1024).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(1000),
});
/** One SCIM patch operation. */
export type ScimPatchOperation = z.infer<typeof ScimPatch>['Operations'][number];
/** GET list query of the SCIM resources. */
export const ScimListQuery = z.object({
  filter: z.string().max(4000).optional(),
  startIndex: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
  count: z.coerce.number().int().min(0).max(10_000).optional(),
  attributes: z.string().max(1000).optional(),
  excludedAttributes: z.string().max(1000).optional(),
  sortBy: z.string().max(100).optional(),
  sortOrder: z.enum(['ascending', 'descending']).optional(),
});
/** POST /api/2.0/token-management/on-behalf-of/tokens */
export const CreateOboToken = z.object({
  application_id: z.string().min(1).max(256),
  lifetime_seconds: int64().optional(),
  comment: z.string().max(1000).optional(),
  scopes: z.array(z.string().max(256)).max(100).optional(),
  autoscope_enabled: z.boolean().optional(),
});
/** GET /api/2.0/token-management/tokens */
export const ListManagedTokens = z.object({
  created_by_id: int64().optional(),
  created_by_username: z.string().min(1).max(512).optional(),
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
