import { identity } from '@weir/contracts';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { type IdentityService, levelAtLeast } from './identity.service.ts';

/** A kind of workspace object that carries Databricks permission levels. */
export interface PermissionObjectType {
  /** `object_type` in the Databricks answer, e.g. `mlflowExperiment`. */
  displayType: string;
  /** Whether the object exists (answers 404 otherwise). */
  exists(id: string): Promise<boolean>;
}

const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Token, SCIM user and workspace-permission routes. */
export function identityRoutes(identitySvc: IdentityService, objectTypes: Record<string, PermissionObjectType>): RouteSpec[] {
  async function aclResponse(type: string, id: string) {
    const meta = objectTypes[type];
    const acl = await identitySvc.objectAcl(type, id);
    const names = await identitySvc.principalNames(acl.map((e) => e.principalId));
    return {
      object_id: `/${type}/${id}`,
      object_type: meta?.displayType ?? type,
      access_control_list: acl.map((e) => {
        const p = names.get(e.principalId);
        const who =
          p?.kind === 'group'
            ? { group_name: p.name }
            : p?.kind === 'service_principal'
              ? { service_principal_name: p.name }
              : { user_name: p?.name ?? String(e.principalId) };
        return { ...who, all_permissions: [{ permission_level: e.level, inherited: false }] };
      }),
    };
  }

  async function requireManage(type: string, id: string, principal: Parameters<IdentityService['levelOn']>[0]) {
    const meta = objectTypes[type];
    if (!meta) throw new AppError('ENDPOINT_NOT_FOUND', `No permissions API for object type ${type}.`);
    if (!(await meta.exists(id))) throw new AppError('RESOURCE_DOES_NOT_EXIST', `${meta.displayType} ${id} does not exist.`);
    const level = await identitySvc.levelOn(principal, type, id);
    if (!levelAtLeast(level, 'CAN_MANAGE')) {
      throw new AppError('PERMISSION_DENIED', `User ${principal.userName} does not have Manage permissions on ${type} ${id}.`);
    }
  }

  const permissionPath = '/api/2.0/permissions/:object_type/:object_id';
  const PermissionTarget = z.object({ object_type: z.string().min(1), object_id: z.string().min(1) });
  const setAcl = (replace: boolean) =>
    defineRoute({
      method: replace ? 'PUT' : 'PATCH',
      paths: [permissionPath],
      summary: replace ? 'Replace the permissions of a workspace object' : 'Add or update permissions of a workspace object',
      tag: 'permissions',
      auth: 'authenticated',
      input: PermissionTarget.extend(identity.SetObjectPermissions.shape),
      async handler(input, { principal }) {
        await requireManage(input.object_type, input.object_id, principal);
        const entries = [];
        for (const ace of input.access_control_list) {
          const id = ace.user_name
            ? await identitySvc.principalIdByName('user', ace.user_name)
            : ace.group_name
              ? await identitySvc.principalIdByName('group', ace.group_name)
              : ace.service_principal_name
                ? await identitySvc.principalIdByName('service_principal', ace.service_principal_name)
                : null;
          if (id === null) throw new AppError('INVALID_PARAMETER_VALUE', 'Each access control entry needs user_name, group_name or service_principal_name.');
          entries.push({ principalId: id, level: ace.permission_level });
        }
        await identitySvc.setObjectAcl(input.object_type, input.object_id, entries, replace);
        return aclResponse(input.object_type, input.object_id);
      },
    });

  return [
    defineRoute({
      method: 'POST',
      paths: ['/api/2.0/token/create'],
      summary: 'Create a personal access token for the caller',
      tag: 'tokens',
      auth: 'authenticated',
      input: identity.CreateToken,
      handler: (input, { principal }) => identitySvc.createToken(principal, input.comment, input.lifetime_seconds),
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/token/list'],
      summary: "List the caller's tokens",
      tag: 'tokens',
      auth: 'authenticated',
      input: z.object({}),
      handler: async (_input, { principal }) => ({ token_infos: await identitySvc.listTokens(principal) }),
    }),
    defineRoute({
      method: 'POST',
      paths: ['/api/2.0/token/delete'],
      summary: 'Revoke a token',
      tag: 'tokens',
      auth: 'authenticated',
      input: identity.DeleteToken,
      async handler(input, { principal }) {
        await identitySvc.deleteToken(principal, input.token_id);
        return {};
      },
    }),
    defineRoute({
      method: 'POST',
      paths: ['/api/2.0/preview/scim/v2/Users'],
      summary: 'Create a user (admins)',
      tag: 'scim',
      auth: 'admin',
      errorFormat: 'scim',
      input: identity.CreateScimUser,
      async handler(input, { reply }) {
        const user = await identitySvc.createUser(input);
        return reply.code(201).type('application/scim+json').send(JSON.stringify(user));
      },
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/preview/scim/v2/Users'],
      summary: 'List users (admins)',
      tag: 'scim',
      auth: 'admin',
      errorFormat: 'scim',
      input: z.object({
        filter: z.string().max(1000).optional(),
        startIndex: z.coerce.number().int().min(1).optional(),
        count: z.coerce.number().int().min(0).max(10000).optional(),
      }),
      async handler(input) {
        let userName: string | undefined;
        if (input.filter) {
          const m = /^\s*userName\s+eq\s+"([^"]*)"\s*$/i.exec(input.filter);
          if (!m) throw new AppError('INVALID_PARAMETER_VALUE', `Unsupported filter: ${input.filter}. Use userName eq "name".`);
          userName = m[1];
        }
        const startIndex = input.startIndex ?? 1;
        const { total, users } = await identitySvc.listUsers({ userName, startIndex, count: input.count ?? 10000 });
        return { schemas: [SCIM_LIST], totalResults: total, startIndex, itemsPerPage: users.length, Resources: users };
      },
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/preview/scim/v2/Users/:id'],
      summary: 'Get a user (admins)',
      tag: 'scim',
      auth: 'admin',
      errorFormat: 'scim',
      input: z.object({ id: z.string().min(1) }),
      handler: (input) => identitySvc.getUser(input.id),
    }),
    defineRoute({
      method: 'DELETE',
      paths: ['/api/2.0/preview/scim/v2/Users/:id'],
      summary: 'Delete a user (admins)',
      tag: 'scim',
      auth: 'admin',
      errorFormat: 'scim',
      input: z.object({ id: z.string().min(1) }),
      async handler(input, { reply }) {
        await identitySvc.deleteUser(input.id);
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/preview/scim/v2/Me'],
      summary: 'The calling user',
      tag: 'scim',
      auth: 'authenticated',
      errorFormat: 'scim',
      input: z.object({}),
      handler: (_input, { principal }) => identitySvc.getUser(String(principal.id)),
    }),
    defineRoute({
      method: 'GET',
      paths: [permissionPath],
      summary: 'Permissions of a workspace object',
      tag: 'permissions',
      auth: 'authenticated',
      input: PermissionTarget,
      async handler(input, { principal }) {
        await requireManage(input.object_type, input.object_id, principal);
        return aclResponse(input.object_type, input.object_id);
      },
    }),
    setAcl(true),
    setAcl(false),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/permissions/:object_type/:object_id/permissionLevels'],
      summary: 'Permission levels a workspace object supports',
      tag: 'permissions',
      auth: 'authenticated',
      input: PermissionTarget,
      handler: () => ({
        permission_levels: [
          { permission_level: 'CAN_READ', description: 'Can view the object' },
          { permission_level: 'CAN_EDIT', description: 'Can view and change the object' },
          { permission_level: 'CAN_MANAGE', description: 'Can view, change, delete and manage permissions' },
        ],
      }),
    }),
  ];
}
