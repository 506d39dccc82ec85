import { ownership, unityCatalog as uc } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type Principal, type RouteSpec } from '../../platform/http.ts';
import {
  createCatalog,
  createInSchema,
  manage,
  onLeaf,
  type RouteGovernance,
  type SecurableType,
  useCatalog,
  useSchema,
  visiblePage,
} from '../governance/index.ts';
import { withUcErrorCodes } from './catalog.names.ts';
import type { CatalogService } from './catalog.service.ts';

/** The Unity Catalog REST prefix. */
export const UC_PREFIX = '/api/2.1/unity-catalog';

/** A listing answer of the catalog services: one array field plus the next page token. */
type Listing = { next_page_token?: string } & Record<string, unknown>;

/**
 * Lists only what the caller may see, page by page (see visiblePage); admins and servers built without governance
 * get the service's answer unchanged.
 */
export async function filteredListing(
  governance: RouteGovernance | undefined,
  principal: Principal,
  type: SecurableType,
  field: string,
  input: { max_results?: number | undefined; page_token?: string | undefined },
  list: (
    page: { max_results?: number | undefined; page_token?: string | undefined },
    keep?: (rows: { fullName: string; owner: string }[]) => Promise<Set<string>>,
  ) => Promise<Listing>,
): Promise<Listing> {
  if (!governance || principal.isAdmin) return list(input);
  // Services that can drop invisible rows before shaping them get the same visibility check as a pre-filter.
  const keep = (rows: { fullName: string; owner: string }[]) =>
    governance.visibleWithOwners(
      principal,
      type,
      rows.map((r) => r.fullName),
      new Map(rows.map((r) => [r.fullName, r.owner])),
    );
  const page = await visiblePage({
    principal,
    type,
    visibility: governance,
    maxResults: input.max_results,
    pageToken: input.page_token,
    async fetch(pageToken, maxResults) {
      const answer = await list({ ...input, page_token: pageToken, max_results: maxResults }, keep);
      return { items: (answer[field] ?? []) as { name: string; owner?: string; full_name?: string }[], next_page_token: answer.next_page_token };
    },
  });
  return { [field]: page.items, ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
}

/** Unity Catalog REST routes for catalogs, schemas, volumes and functions. */
export function catalogRoutes(svc: CatalogService, governance?: RouteGovernance): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag'>) =>
    defineRoute({ ...spec, handler: withUcErrorCodes(spec.handler), tag: 'unity-catalog' }) as unknown as RouteSpec;
  const newOwner = async (owner: string | undefined) => {
    if (owner !== undefined && governance) await governance.requirePrincipal(owner);
  };
  // Grants follow renames and go with drops through the catalog service's events (governance subscribes), so SQL
  // statements and REST calls cascade alike.
  const parentOf = (fullName: string) => fullName.slice(0, Math.max(0, fullName.lastIndexOf('.')));
  return [
    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/catalogs`],
      summary: 'Create a catalog',
      auth: { uc: () => createCatalog() },
      input: uc.CreateCatalog,
      handler: (i, c) => svc.createCatalog(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/catalogs`],
      summary: 'List catalogs',
      auth: { scope: 'filtered-list' },
      input: uc.ListCatalogs,
      handler: (i, c) => filteredListing(governance, c.principal, 'catalog', 'catalogs', i, (page) => svc.listCatalogs({ ...i, ...page })),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/catalogs/:name`],
      summary: 'Get a catalog',
      auth: { uc: (i: { name: string }) => useCatalog(i.name) },
      input: uc.CatalogByName,
      handler: (i) => svc.getCatalog(i.name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/catalogs/:name`],
      summary: 'Update a catalog (rename, comment, owner)',
      auth: { uc: (i: { name: string }) => manage('catalog', i.name) },
      input: uc.UpdateCatalog,
      async handler(i, c) {
        await newOwner(i.owner);
        return svc.updateCatalog(c.principal, i);
      },
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/catalogs/:name`],
      summary: 'Delete a catalog (force=true deletes its contents)',
      auth: { uc: (i: { name: string }) => manage('catalog', i.name) },
      input: uc.CatalogByName,
      handler: (i, c) => svc.deleteCatalog(c.principal, i.name, i.force ?? false),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/schemas`],
      summary: 'Create a schema',
      auth: {
        uc: (i: { catalog_name: string }) => [
          ...useCatalog(i.catalog_name),
          { privilege: 'CREATE_SCHEMA', securable: { type: 'catalog', fullName: i.catalog_name } },
        ],
      },
      input: uc.CreateSchema,
      handler: (i, c) => svc.createSchema(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/schemas`],
      summary: 'List schemas of a catalog',
      auth: { scope: 'filtered-list' },
      input: uc.ListSchemas,
      handler: (i, c) => filteredListing(governance, c.principal, 'schema', 'schemas', i, (page) => svc.listSchemas({ ...i, ...page })),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Get a schema',
      auth: { uc: (i: { full_name: string }) => useSchema(parentOf(i.full_name), i.full_name.slice(i.full_name.lastIndexOf('.') + 1)) },
      input: uc.SchemaByName,
      handler: (i) => svc.getSchema(i.full_name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Update a schema (rename, comment, owner)',
      auth: { uc: (i: { full_name: string }) => manage('schema', i.full_name) },
      input: uc.UpdateSchema,
      async handler(i, c) {
        await newOwner(i.owner);
        return svc.updateSchema(c.principal, i);
      },
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/schemas/:full_name`],
      summary: 'Delete a schema (force=true deletes its contents)',
      auth: { uc: (i: { full_name: string }) => manage('schema', i.full_name) },
      input: uc.SchemaByName,
      handler: (i, c) => svc.deleteSchema(c.principal, i.full_name, i.force ?? false),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/volumes`],
      summary: 'Create a volume',
      auth: { uc: (i: { catalog_name: string; schema_name: string }) => createInSchema('CREATE_VOLUME', i.catalog_name, i.schema_name) },
      input: uc.CreateVolume,
      handler: (i, c) => svc.createVolume(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/volumes`],
      summary: 'List volumes of a schema',
      auth: { scope: 'filtered-list' },
      input: uc.ListVolumes,
      handler: (i, c) => filteredListing(governance, c.principal, 'volume', 'volumes', i, (page) => svc.listVolumes({ ...i, ...page })),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/volumes/:name`],
      summary: 'Get a volume',
      auth: { uc: (i: { name: string }) => onLeaf('READ_VOLUME', 'volume', i.name) },
      input: uc.VolumeByName,
      handler: (i) => svc.getVolume(i.name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/volumes/:name`],
      summary: 'Update a volume (rename, comment, owner)',
      auth: { uc: (i: { name: string }) => manage('volume', i.name) },
      input: uc.UpdateVolume,
      async handler(i, c) {
        await newOwner(i.owner);
        return svc.updateVolume(c.principal, i);
      },
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/volumes/:name`],
      summary: 'Delete a volume',
      auth: { uc: (i: { name: string }) => manage('volume', i.name) },
      input: uc.VolumeByName,
      handler: (i, c) => svc.deleteVolume(c.principal, i.name),
    }),

    r({
      method: 'POST',
      paths: [`${UC_PREFIX}/functions`],
      summary: 'Create a SQL function',
      auth: {
        uc: (i: { function_info: { catalog_name: string; schema_name: string } }) =>
          createInSchema('CREATE_FUNCTION', i.function_info.catalog_name, i.function_info.schema_name),
      },
      input: uc.CreateFunction,
      handler: (i, c) => svc.createFunction(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/functions`],
      summary: 'List functions of a schema',
      auth: { scope: 'filtered-list' },
      input: uc.ListFunctions,
      handler: (i, c) => filteredListing(governance, c.principal, 'function', 'functions', i, (page) => svc.listFunctions({ ...i, ...page })),
    }),
    r({
      method: 'GET',
      paths: [`${UC_PREFIX}/functions/:name`],
      summary: 'Get a function',
      auth: { uc: (i: { name: string }) => onLeaf('EXECUTE', 'function', i.name) },
      input: uc.FunctionByName,
      handler: (i) => svc.getFunction(i.name),
    }),
    r({
      method: 'DELETE',
      paths: [`${UC_PREFIX}/functions/:name`],
      summary: 'Delete a function',
      auth: { uc: (i: { name: string }) => manage('function', i.name) },
      input: uc.FunctionByName,
      handler: (i, c) => svc.deleteFunction(c.principal, i.name),
    }),
    r({
      method: 'PATCH',
      paths: [`${UC_PREFIX}/functions/:name`],
      summary: 'Update a function (owner)',
      auth: { uc: (i: { name: string }) => manage('function', i.name) },
      input: ownership.UpdateFunction,
      async handler(i, c) {
        // MANAGE (owners of the function or a container hold it) was checked by the gate; the new owner must exist.
        if (i.owner === undefined) return svc.getFunction(i.name);
        await newOwner(i.owner);
        return svc.setFunctionOwner(c.principal, i.name, i.owner);
      },
    }),
  ];
}
