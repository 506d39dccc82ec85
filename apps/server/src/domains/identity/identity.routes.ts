import { identity } from '@weir/contracts';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import type { PrincipalKind } from './identity.scim.ts';
import { type IdentityService, levelAtLeast, type ScimResource } from './identity.service.ts';

/** A kind of workspace object that carries Databricks permission levels. */
export interface PermissionObjectType {
  /** `object_type` in the Databricks answer, e.g. `mlflowExperiment`. */
  displayType: string;
  /** Whether the object exists (answers 404 otherwise). */
  exists(id: string): Promise<boolean>;
}

const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SCIM_BASE = '/api/2.0/preview/scim/v2';

/** The three SCIM resource collections and the body each takes. */
const SCIM_COLLECTIONS: { segment: string; kind: PrincipalKind; label: string; body: z.ZodObject }[] = [
  { segment: 'Users', kind: 'user', label: 'user', body: identity.CreateScimUser },
  { segment: 'Groups', kind: 'group', label: 'group', body: identity.ScimGroupBody },
  { segment: 'ServicePrincipals', kind: 'service_principal', label: 'service principal', body: identity.ScimServicePrincipalBody },
];

/** Keeps only the requested top-level attributes (`attributes`) or drops some (`excludedAttributes`); id and schemas stay. */
function project(resource: ScimResource, attributes: string | undefined, excluded: string | undefined): ScimResource {
  const names = (list: string | undefined) =>
    new Set(
      (list ?? '')
        .split(',')
        .map((a) => (a.trim().split('.')[0] ?? '').toLowerCase())
        .filter(Boolean),
    );
  const keep = names(attributes);
  const drop = names(excluded);
  if (keep.size === 0 && drop.size === 0) return resource;
  const out: ScimResource = { schemas: resource.schemas, id: resource.id };
  for (const [key, value] of Object.entries(resource)) {
    const k = key.toLowerCase();
    if (keep.size > 0 && !keep.has(k)) continue;
    if (drop.has(k)) continue;
    out[key] = value;
  }
  return out;
}

/** SCIM Users, Groups and ServicePrincipals (admins), and Me (anyone signed in). */
function scimRoutes(identitySvc: IdentityService): RouteSpec[] {
  const IdParam = z.object({ id: z.string().min(1).max(64) });
  const routes: RouteSpec[] = [];
  for (const c of SCIM_COLLECTIONS) {
    const collection = `${SCIM_BASE}/${c.segment}`;
    const item = `${collection}/:id`;
    routes.push(
      defineRoute({
        method: 'POST',
        paths: [collection],
        summary: `Create a ${c.label} (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: c.body,
        async handler(input, { reply }) {
          const created = await identitySvc.createPrincipal(c.kind, input as never);
          return reply.code(201).type('application/scim+json').send(JSON.stringify(created));
        },
      }) as unknown as RouteSpec,
      defineRoute({
        method: 'GET',
        paths: [collection],
        summary: `List ${c.label}s with a SCIM filter and paging (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: identity.ScimListQuery,
        async handler(input) {
          const startIndex = input.startIndex ?? 1;
          const { total, resources } = await identitySvc.listPrincipals(c.kind, {
            filter: input.filter,
            startIndex,
            count: input.count ?? 10_000,
            sortBy: input.sortBy,
            descending: input.sortOrder === 'descending',
          });
          return {
            schemas: [SCIM_LIST],
            totalResults: total,
            startIndex,
            itemsPerPage: resources.length,
            Resources: resources.map((r) => project(r, input.attributes, input.excludedAttributes)),
          };
        },
      }) as unknown as RouteSpec,
      defineRoute({
        method: 'GET',
        paths: [item],
        summary: `Get a ${c.label} (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: IdParam.extend({ attributes: z.string().max(1000).optional(), excludedAttributes: z.string().max(1000).optional() }),
        handler: async (input) => project(await identitySvc.getPrincipal(c.kind, input.id), input.attributes, input.excludedAttributes),
      }) as unknown as RouteSpec,
      defineRoute({
        method: 'PATCH',
        paths: [item],
        summary: `Update a ${c.label} with a SCIM PatchOp (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: identity.ScimPatch.extend(IdParam.shape),
        handler: (input) => identitySvc.patchPrincipal(c.kind, input.id, input.Operations),
      }) as unknown as RouteSpec,
      defineRoute({
        method: 'PUT',
        paths: [item],
        summary: `Replace a ${c.label} (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: c.body.extend(IdParam.shape),
        handler: (input) => identitySvc.replacePrincipal(c.kind, String(input.id), input as never),
      }) as unknown as RouteSpec,
      defineRoute({
        method: 'DELETE',
        paths: [item],
        summary: `Delete a ${c.label} with its tokens and memberships (admins)`,
        tag: 'scim',
        auth: 'admin',
        errorFormat: 'scim',
        input: IdParam,
        async handler(input, { reply }) {
          await identitySvc.deletePrincipal(c.kind, input.id);
          return reply.code(204).send();
        },
      }) as unknown as RouteSpec,
    );
  }
  routes.push(
    defineRoute({
      method: 'GET',
      paths: [`${SCIM_BASE}/Me`],
      summary: 'The calling user or service principal',
      tag: 'scim',
      auth: 'authenticated',
      errorFormat: 'scim',
      input: z.object({}),
      handler: (_input, { principal }) => identitySvc.me(principal),
    }) as unknown as RouteSpec,
  );
  return routes;
}

/** Databricks token management: admins mint tokens for service principals and see or revoke every token. */
function tokenManagementRoutes(identitySvc: IdentityService): RouteSpec[] {
  const TokenId = z.object({ token_id: z.string().min(1).max(128) });
  return [
    defineRoute({
      method: 'POST',
      paths: ['/api/2.0/token-management/on-behalf-of/tokens'],
      summary: 'Create a token for a service principal (admins)',
      tag: 'tokens',
      auth: 'admin',
      input: identity.CreateOboToken,
      handler: (input, { principal }) => identitySvc.createOboToken(principal, input),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/token-management/tokens'],
      summary: 'List every token, optionally by creator (admins)',
      tag: 'tokens',
      auth: 'admin',
      input: identity.ListManagedTokens,
      handler: async (input) => ({ token_infos: await identitySvc.listAllTokens(input) }),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/token-management/tokens/:token_id'],
      summary: 'Get a token by id (admins)',
      tag: 'tokens',
      auth: 'admin',
      input: TokenId,
      handler: async (input) => ({ token_info: await identitySvc.getManagedToken(input.token_id) }),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'DELETE',
      paths: ['/api/2.0/token-management/tokens/:token_id'],
      summary: 'Revoke any token (admins)',
      tag: 'tokens',
      auth: 'admin',
      input: TokenId,
      async handler(input, { principal }) {
        await identitySvc.deleteToken(principal, input.token_id);
        return {};
      },
    }) as unknown as RouteSpec,
  ];
}

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
    ...scimRoutes(identitySvc),
    ...tokenManagementRoutes(identitySvc),
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
