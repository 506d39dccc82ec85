import { z } from 'zod';

/** Serving endpoint permission levels, weakest first, as Databricks names them for this object type. */
export const ServingEndpointPermissionLevel = z.enum(['CAN_VIEW', 'CAN_QUERY', 'CAN_MANAGE']);
/** A serving endpoint permission level. */
export type ServingEndpointPermissionLevel = z.infer<typeof ServingEndpointPermissionLevel>;

/** Path of `/api/2.0/permissions/serving-endpoints/{serving_endpoint_id}`. */
export const ServingEndpointPermissionsTarget = z.object({ serving_endpoint_id: z.string().min(1).max(1000) });

/** PUT/PATCH `/api/2.0/permissions/serving-endpoints/{id}`; the level is checked by the service so other names get a clear refusal. */
export const SetServingEndpointPermissions = ServingEndpointPermissionsTarget.extend({
  access_control_list: z
    .array(
      z.object({
        user_name: z.string().min(1).max(1000).optional(),
        group_name: z.string().min(1).max(1000).optional(),
        service_principal_name: z.string().min(1).max(1000).optional(),
        permission_level: z.string().min(1).max(100),
      }),
    )
    .max(1000),
});
