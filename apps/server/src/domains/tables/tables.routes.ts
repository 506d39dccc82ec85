import { unityCatalog as uc } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { UC_PREFIX } from '../catalog/index.ts';
import type { TablesService } from './tables.service.ts';

/** Unity Catalog REST routes for tables. */
export function tablesRoutes(svc: TablesService): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'>) =>
    defineRoute({ ...spec, tag: 'unity-catalog', auth: 'authenticated' }) as unknown as RouteSpec;
  return [
    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/tables`],
      summary: 'Create a managed table or register an external one',
      input: uc.CreateTable,
      handler: (i, c) => svc.createTable(c.principal, i),
    }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/tables`], summary: 'List tables of a schema', input: uc.ListTables, handler: (i) => svc.listTables(i) }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/tables/:full_name`],
      summary: 'Get a table with its columns',
      input: uc.TableByName,
      handler: (i) => svc.getTable(i.full_name),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/tables/:full_name`],
      summary: 'Drop a table (a managed table loses its data)',
      input: uc.TableByName,
      handler: (i, c) => svc.deleteTable(c.principal, i.full_name),
    }),
  ];
}
