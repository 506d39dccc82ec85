import { unityCatalog as uc } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import type { CatalogService } from './catalog.service.ts';

/** The Unity Catalog REST prefix. */
export const UC_PREFIX = '/api/2.1/unity-catalog';

/** Unity Catalog REST routes for catalogs, schemas, volumes and functions. */
export function catalogRoutes(svc: CatalogService): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'>) =>
    defineRoute({ ...spec, tag: 'unity-catalog', auth: 'authenticated' }) as unknown as RouteSpec;
  return [
    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/catalogs`],
      summary: 'Create a catalog',
      input: uc.CreateCatalog,
      handler: (i, c) => svc.createCatalog(c.principal, i),
    }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/catalogs`], summary: 'List catalogs', input: uc.ListCatalogs, handler: (i) => svc.listCatalogs(i) }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/catalogs/:name`], summary: 'Get a catalog', input: uc.CatalogByName, handler: (i) => svc.getCatalog(i.name) }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/catalogs/:name`],
      summary: 'Update a catalog',
      input: uc.UpdateCatalog,
      handler: (i, c) => svc.updateCatalog(c.principal, i),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/catalogs/:name`],
      summary: 'Delete a catalog (force=true deletes its contents)',
      input: uc.CatalogByName,
      handler: (i, c) => svc.deleteCatalog(c.principal, i.name, i.force ?? false),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/schemas`],
      summary: 'Create a schema',
      input: uc.CreateSchema,
      handler: (i, c) => svc.createSchema(c.principal, i),
    }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/schemas`], summary: 'List schemas of a catalog', input: uc.ListSchemas, handler: (i) => svc.listSchemas(i) }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Get a schema',
      input: uc.SchemaByName,
      handler: (i) => svc.getSchema(i.full_name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Update a schema',
      input: uc.UpdateSchema,
      handler: (i, c) => svc.updateSchema(c.principal, i),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Delete a schema (force=true deletes its contents)',
      input: uc.SchemaByName,
      handler: (i, c) => svc.deleteSchema(c.principal, i.full_name, i.force ?? false),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/volumes`],
      summary: 'Create a volume',
      input: uc.CreateVolume,
      handler: (i, c) => svc.createVolume(c.principal, i),
    }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/volumes`], summary: 'List volumes of a schema', input: uc.ListVolumes, handler: (i) => svc.listVolumes(i) }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/volumes/:name`], summary: 'Get a volume', input: uc.VolumeByName, handler: (i) => svc.getVolume(i.name) }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/volumes/:name`],
      summary: 'Update a volume',
      input: uc.UpdateVolume,
      handler: (i, c) => svc.updateVolume(c.principal, i),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/volumes/:name`],
      summary: 'Delete a volume',
      input: uc.VolumeByName,
      handler: (i, c) => svc.deleteVolume(c.principal, i.name),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/functions`],
      summary: 'Create a SQL function',
      input: uc.CreateFunction,
      handler: (i, c) => svc.createFunction(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/functions`],
      summary: 'List functions of a schema',
      input: uc.ListFunctions,
      handler: (i) => svc.listFunctions(i),
    }),
    r({ method: 'GET', paths: [`${UC_PREFIX}/functions/:name`], summary: 'Get a function', input: uc.FunctionByName, handler: (i) => svc.getFunction(i.name) }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/functions/:name`],
      summary: 'Delete a function',
      input: uc.FunctionByName,
      handler: (i, c) => svc.deleteFunction(c.principal, i.name),
    }),
  ];
}
