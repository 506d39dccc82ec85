import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { dialectOf, parseSecurableType } from './governance.privileges.ts';
import type { GovernanceService } from './governance.service.ts';
import type { Securable } from './governance.types.ts';

const UC = '/api/2.1/unity-catalog';

const Target = z.object({ securable_type: z.string().min(1).max(64), full_name: z.string().min(1).max(800) });
const GetPermissions = Target.extend({ principal: z.string().min(1).max(512).optional() });
const Change = z.object({
  principal: z.string().min(1).max(512),
  add: z.array(z.string().max(64)).max(100).optional(),
  remove: z.array(z.string().max(64)).max(100).optional(),
});
const UpdatePermissions = Target.extend({ changes: z.array(Change).max(1000) });

/** Parses the path's securable; `function` that names a model is the model (Databricks' spelling for model grants). */
async function securableOf(svc: GovernanceService, input: z.output<typeof Target>): Promise<Securable> {
  const type = parseSecurableType(input.securable_type);
  if (!type) {
    throw new AppError('INVALID_PARAMETER_VALUE', `Unknown securable type '${input.securable_type.slice(0, 64)}'.`, [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_PARAMETER_VALUE', domain: 'unity-catalog.databricks.com', metadata: {} },
    ]);
  }
  return { type: await svc.resolveType(type, input.full_name), fullName: type === 'metastore' ? 'metastore' : input.full_name };
}

/** Unity Catalog grants: read and change direct grants, read effective (inherited) ones. */
export function governanceRoutes(svc: GovernanceService): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      paths: [`${UC}/permissions/:securable_type/:full_name`],
      summary: 'Direct grants on a securable (callers who may not manage it see their own)',
      tag: 'unity-catalog',
      auth: { scope: 'filtered-list' },
      input: GetPermissions,
      handler: async (i, c) => svc.getPermissions(c.principal, await securableOf(svc, i), i.principal, dialectOf(c.request.headers['user-agent'])),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'PATCH',
      paths: [`${UC}/permissions/:securable_type/:full_name`],
      summary: 'Grant and revoke privileges on a securable',
      tag: 'unity-catalog',
      // The service decides (owner, MANAGE or admin), after resolving `function` to a model where needed.
      auth: { ucService: 'MANAGE' },
      input: UpdatePermissions,
      handler: async (i, c) => svc.updatePermissions(c.principal, await securableOf(svc, i), i.changes, dialectOf(c.request.headers['user-agent'])),
    }) as unknown as RouteSpec,
    defineRoute({
      method: 'GET',
      paths: [`${UC}/effective-permissions/:securable_type/:full_name`],
      summary: 'Grants that hold on a securable, with the container each is inherited from',
      tag: 'unity-catalog',
      auth: { scope: 'filtered-list' },
      input: GetPermissions,
      handler: async (i, c) => svc.effectivePermissions(c.principal, await securableOf(svc, i), i.principal, dialectOf(c.request.headers['user-agent'])),
    }) as unknown as RouteSpec,
  ];
}
