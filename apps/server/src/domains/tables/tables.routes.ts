import { unityCatalog as uc } from '@weir/contracts';
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
      handler: (i, c) => filteredListing(governance, c.principal, 'table', 'tables', i, (page, keep) => svc.listTables({ ...i, ...page }, keep)),
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
      async handler(i, c) {
        const out = await svc.deleteTable(c.principal, i.full_name);
        await governance?.forgetSecurable({ type: 'table', fullName: i.full_name });
        return out;
      },
    }),
  ];
}
