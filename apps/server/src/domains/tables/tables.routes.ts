import { ownership, unityCatalog as uc } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { filteredListing, UC_PREFIX, withUcErrorCodes } from '../catalog/index.ts';
import { createInSchema, manage, onLeaf, type RouteGovernance } from '../governance/index.ts';
import type { TablesService } from './tables.service.ts';

/** Unity Catalog REST routes for tables. */
export function tablesRoutes(svc: TablesService, governance?: RouteGovernance): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag'>) =>
    defineRoute({ ...spec, handler: withUcErrorCodes(spec.handler), tag: 'unity-catalog' }) as unknown as RouteSpec;
  return [
    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/tables`],
      summary: 'Create a managed table or register an external one',
      auth: { uc: (i: { catalog_name: string; schema_name: string }) => createInSchema('CREATE_TABLE', i.catalog_name, i.schema_name) },
      input: uc.CreateTable,
      handler: (i, c) => svc.createTable(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/tables`],
      summary: 'List tables of a schema',
      auth: { scope: 'filtered-list' },
      input: uc.ListTables,
      async handler(i, c) {
        // Decided from the grants before any row is read: a caller who sees every table gets the plain listing, one
        // who sees some has only the candidate rows read (each still confirmed row by row).
        const only = governance && !c.principal.isAdmin ? await governance.childFilter(c.principal, 'table', `${i.catalog_name}.${i.schema_name}`) : undefined;
        return filteredListing(governance, c.principal, 'table', 'tables', i, (page, keep) =>
          svc.listTables({ ...i, ...page }, only?.all ? undefined : keep, only?.all === false ? only : undefined),
        );
      },
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/tables/:full_name`],
      summary: 'Get a table with its columns',
      auth: { uc: (i: { full_name: string }) => onLeaf('SELECT', 'table', i.full_name) },
      input: uc.TableByName,
      handler: (i) => svc.getTable(i.full_name),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/tables/:full_name`],
      summary: 'Drop a table (a managed table loses its data)',
      auth: { uc: (i: { full_name: string }) => manage('table', i.full_name) },
      input: uc.TableByName,
      // The tables service announces the drop; governance forgets the table's grants before this answers.
      handler: (i, c) => svc.deleteTable(c.principal, i.full_name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/tables/:full_name`],
      summary: 'Update a table (owner)',
      auth: { uc: (i: { full_name: string }) => manage('table', i.full_name) },
      input: ownership.UpdateTable,
      async handler(i, c) {
        // MANAGE (owners of the table or a container hold it) was checked by the gate; the new owner must exist.
        if (i.owner === undefined) return svc.getTable(i.full_name);
        await governance?.requirePrincipal(i.owner);
        return svc.setOwner(c.principal, i.full_name, i.owner);
      },
    }),
  ];
}
