import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { unityCatalog } from '@weir/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { z } from 'zod';
import { binaryText, type DialectName } from '../../platform/db.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import { pageLimit, parseProperties, splitFullName, toPage, ucError, ucExists, ucInvalid, ucNotFound, validateName } from './catalog.names.ts';
import type { CatalogTables, UcCatalogsTable, UcFunctionsTable, UcSchemasTable, UcVolumesTable } from './catalog.tables.ts';

type Db = Kysely<CatalogTables>;

/** Objects another domain keeps inside schemas (tables): counted before deletes, dropped by force deletes, and kept from sharing names. */
export interface SchemaChildren {
  /** Human word for the object, used in messages ("Table"). */
  kind: string;
  count(schemaIds: string[]): Promise<number>;
  exists(schemaId: string, name: string): Promise<boolean>;
  /** Removes every object in these schemas (their data too, when managed). */
  dropAll(schemaIds: string[]): Promise<void>;
}

/** A resolved schema with what authorization and storage need. */
export interface ResolvedSchema {
  id: string;
  catalogId: string;
  catalogName: string;
  schemaName: string;
  owner: string;
  catalogOwner: string;
}

/** Optional hooks the model registry passes so models count as schema children. */
export interface RegistryHooks {
  countModelsInSchema?: (catalog: string, schema: string) => Promise<number>;
  modelNameTaken?: (catalog: string, schema: string, name: string) => Promise<boolean>;
  dropModelsInSchema?: (catalog: string, schema: string) => Promise<void>;
}

const SERVER_MAX_PAGE = 10_000;

/** Whether the caller may change an object owned along this chain (object, schema, catalog owners). */
export function mayChange(principal: Principal, owners: string[]): boolean {
  return principal.isAdmin || owners.includes(principal.userName);
}

function assertMayChange(principal: Principal, owners: string[], what: string): void {
  if (!mayChange(principal, owners)) throw ucError('PERMISSION_DENIED', `Only an owner or an admin may change ${what}.`);
}

function audit(principal: Principal, at: number) {
  return { owner: principal.userName, created_at: at, created_by: principal.userName, updated_at: at, updated_by: principal.userName };
}

function auditWire(row: { owner: string; created_at: number; created_by: string; updated_at: number; updated_by: string }) {
  return {
    owner: row.owner,
    created_at: Number(row.created_at),
    created_by: row.created_by,
    updated_at: Number(row.updated_at),
    updated_by: row.updated_by,
  };
}

function catalogWire(row: Selectable<UcCatalogsTable>) {
  return {
    name: row.name,
    ...(row.comment !== null ? { comment: row.comment } : {}),
    properties: parseProperties(row.properties),
    ...auditWire(row),
    id: row.id,
    ...(row.storage_root ? { storage_root: row.storage_root, storage_location: row.storage_root } : {}),
  };
}

function schemaWire(row: Selectable<UcSchemasTable>, catalogName: string) {
  return {
    name: row.name,
    catalog_name: catalogName,
    ...(row.comment !== null ? { comment: row.comment } : {}),
    properties: parseProperties(row.properties),
    full_name: `${catalogName}.${row.name}`,
    ...auditWire(row),
    schema_id: row.id,
    ...(row.storage_root ? { storage_root: row.storage_root, storage_location: row.storage_root } : {}),
  };
}

function volumeWire(row: Selectable<UcVolumesTable>, s: { catalogName: string; schemaName: string }) {
  return {
    catalog_name: s.catalogName,
    schema_name: s.schemaName,
    name: row.name,
    ...(row.comment !== null ? { comment: row.comment } : {}),
    ...auditWire(row),
    volume_id: row.id,
    volume_type: row.volume_type,
    storage_location: `file://${row.storage_location}`,
    full_name: `${s.catalogName}.${s.schemaName}.${row.name}`,
  };
}

function functionWire(row: Selectable<UcFunctionsTable>, s: { catalogName: string; schemaName: string }) {
  const info = JSON.parse(row.info) as Record<string, unknown>;
  return {
    ...info,
    name: row.name,
    catalog_name: s.catalogName,
    schema_name: s.schemaName,
    full_name: `${s.catalogName}.${s.schemaName}.${row.name}`,
    ...auditWire(row),
    function_id: row.id,
  };
}

/** Turns a `file://` URI or absolute path into a normalized absolute path, refusing anything else. */
export function localPathOf(location: string): string {
  let p = location;
  if (p.startsWith('file://')) p = decodeURIComponent(p.slice('file://'.length));
  else if (p.startsWith('file:')) p = decodeURIComponent(p.slice('file:'.length));
  if (!path.isAbsolute(p) || p.includes('\0'))
    throw ucInvalid(`storage_location must be an absolute local path or a file:// URI, got '${location.slice(0, 300)}'.`);
  return path.resolve(p);
}

/** True when `inner` is `outer` or lies beneath it. */
export function isWithin(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The catalog: catalogs, schemas, volumes, functions and their owners. */
export type CatalogService = ReturnType<typeof createCatalogService>;

/** Creates the catalog service; `dataDir` anchors managed volumes. */
export function createCatalogService(deps: {
  db: Db;
  dialect: DialectName;
  dataDir: string;
  registry?: RegistryHooks;
  /** Where drops and renames are announced (governance moves or forgets the grants); awaited so they hold before the answer. */
  events?: Pick<EventBus, 'publish'>;
  now?: () => number;
}) {
  const { db, dialect } = deps;
  // `since` is read before the row is written: grants older than it on the new name are a lost cascade's leftovers.
  const created = async (type: 'catalog' | 'schema' | 'volume' | 'function', fullName: string, since: number) =>
    deps.events?.publish('catalog.securable.created', { type, fullName, since });
  const dropped = async (type: 'catalog' | 'schema' | 'volume' | 'function', fullName: string) =>
    deps.events?.publish('catalog.securable.dropped', { type, fullName });
  const renamed = async (type: 'catalog' | 'schema' | 'volume', fullName: string, newFullName: string) => {
    if (newFullName !== fullName) await deps.events?.publish('catalog.securable.renamed', { type, fullName, newFullName });
  };
  const now = deps.now ?? Date.now;
  const children: SchemaChildren[] = [];
  const registry: RegistryHooks = deps.registry ?? {};
  const volumesRoot = path.join(path.resolve(deps.dataDir), 'volumes');

  async function catalogRow(name: string, q: Db = db) {
    const row = await q.selectFrom('uc_catalogs').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw ucNotFound('Catalog', name);
    return row;
  }

  async function resolveSchema(catalog: string, schema: string, q: Db = db): Promise<ResolvedSchema> {
    const row = await q
      .selectFrom('uc_schemas as s')
      .innerJoin('uc_catalogs as c', 'c.id', 's.catalog_id')
      .select(['s.id as id', 's.catalog_id as catalogId', 'c.name as catalogName', 's.name as schemaName', 's.owner as owner', 'c.owner as catalogOwner'])
      .where('c.name', '=', catalog)
      .where('s.name', '=', schema)
      .executeTakeFirst();
    if (!row) {
      await catalogRow(catalog, q);
      throw ucNotFound('Schema', `${catalog}.${schema}`);
    }
    return row;
  }

  async function childCount(schemaIds: string[], names: { catalog: string; schema: string }[]): Promise<number> {
    if (schemaIds.length === 0) return 0;
    let n = 0;
    for (const t of ['uc_volumes', 'uc_functions'] as const) {
      const row = await db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('schema_id', 'in', schemaIds)
        .executeTakeFirstOrThrow();
      n += Number(row.n);
    }
    for (const c of children) n += await c.count(schemaIds);
    if (registry.countModelsInSchema) for (const s of names) n += await registry.countModelsInSchema(s.catalog, s.schema);
    return n;
  }

  /** Drops every child of these schemas: other domains' objects first, then volumes (managed files too) and functions. */
  async function dropChildren(schemaIds: string[], names: { catalog: string; schema: string }[]): Promise<void> {
    if (schemaIds.length === 0) return;
    for (const c of children) await c.dropAll(schemaIds);
    if (registry.dropModelsInSchema) for (const s of names) await registry.dropModelsInSchema(s.catalog, s.schema);
    const volumes = await db.selectFrom('uc_volumes').select(['storage_location', 'volume_type']).where('schema_id', 'in', schemaIds).execute();
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('uc_volumes').where('schema_id', 'in', schemaIds).execute();
      await trx.deleteFrom('uc_functions').where('schema_id', 'in', schemaIds).execute();
    });
    for (const v of volumes) if (v.volume_type === 'MANAGED') removeManagedDir(v.storage_location);
  }

  function removeManagedDir(dir: string): void {
    // Only ever inside Weir's own volumes root: an external location is never deleted.
    if (isWithin(volumesRoot, dir) && dir !== volumesRoot) fs.rmSync(dir, { recursive: true, force: true });
  }

  async function nameTaken(catalog: string, schema: string, name: string, q: Db = db): Promise<string | undefined> {
    const s = await resolveSchema(catalog, schema, q);
    const volume = await q.selectFrom('uc_volumes').select('id').where('schema_id', '=', s.id).where('name', '=', name).executeTakeFirst();
    if (volume) return 'Volume';
    const fn = await q.selectFrom('uc_functions').select('id').where('schema_id', '=', s.id).where('name', '=', name).executeTakeFirst();
    if (fn) return 'Function';
    for (const c of children) if (await c.exists(s.id, name)) return c.kind;
    if (registry.modelNameTaken && (await registry.modelNameTaken(catalog, schema, name))) return 'Registered model';
    return undefined;
  }

  async function assertNameFree(catalog: string, schema: string, name: string): Promise<void> {
    const kind = await nameTaken(catalog, schema, name);
    if (kind) throw ucExists(kind, `${catalog}.${schema}.${name}`);
  }

  function schemaNamesOf(rows: { id: string; name: string }[], catalogName: string) {
    return { ids: rows.map((r) => r.id), names: rows.map((r) => ({ catalog: catalogName, schema: r.name })) };
  }

  async function volumeRow(fullName: string) {
    const [c, s, v] = splitFullName(fullName, 3, 'volume') as [string, string, string];
    const schema = await resolveSchema(c, s);
    const row = await db.selectFrom('uc_volumes').selectAll().where('schema_id', '=', schema.id).where('name', '=', v).executeTakeFirst();
    if (!row) throw ucNotFound('Volume', fullName);
    return { row, schema };
  }

  async function functionRow(fullName: string) {
    const [c, s, f] = splitFullName(fullName, 3, 'function') as [string, string, string];
    const schema = await resolveSchema(c, s);
    const row = await db.selectFrom('uc_functions').selectAll().where('schema_id', '=', schema.id).where('name', '=', f).executeTakeFirst();
    if (!row) throw ucNotFound('Function', fullName);
    return { row, schema };
  }

  function isUniqueViolation(err: unknown): boolean {
    const e = err as { code?: string; message?: string };
    return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e.message ?? '');
  }

  return {
    /** Lets another domain (tables) keep objects inside schemas. */
    registerSchemaChildren(provider: SchemaChildren): void {
      children.push(provider);
    },
    /** Lets the model registry join later than the catalog is built. */
    setRegistryHooks(hooks: RegistryHooks): void {
      Object.assign(registry, hooks);
    },
    resolveSchema,
    /** True when `catalog.schema` exists. */
    async schemaExists(catalog: string, schema: string): Promise<boolean> {
      try {
        await resolveSchema(catalog, schema);
        return true;
      } catch {
        return false;
      }
    },
    /** The owner of a catalog (`c`), schema (`c.s`), volume or function (`c.s.n`); undefined when absent. */
    async ownerOf(kind: 'catalog' | 'schema' | 'volume' | 'function', fullName: string): Promise<string | undefined> {
      try {
        if (kind === 'catalog') return (await catalogRow(fullName)).owner;
        if (kind === 'schema') {
          const [c, s] = splitFullName(fullName, 2, 'schema') as [string, string];
          return (await resolveSchema(c, s)).owner;
        }
        return kind === 'volume' ? (await volumeRow(fullName)).row.owner : (await functionRow(fullName)).row.owner;
      } catch {
        return undefined;
      }
    },
    /** Whether the caller may create or change objects in this schema as its owner, its catalog's owner or an admin. */
    async mayManageSchema(principal: Principal, catalog: string, schema: string): Promise<boolean> {
      const s = await resolveSchema(catalog, schema);
      return mayChange(principal, [s.owner, s.catalogOwner]);
    },
    /** True when a table, volume, function or model already has this name in the schema. */
    async nameTaken(catalog: string, schema: string, name: string): Promise<boolean> {
      return (await nameTaken(catalog, schema, name)) !== undefined;
    },
    /** Throws RESOURCE_ALREADY_EXISTS when any object of the schema has this name. */
    assertNameFree,

    // ---- catalogs ----
    async createCatalog(principal: Principal, input: z.output<typeof unityCatalog.CreateCatalog>) {
      validateName('catalog', input.name);
      const at = now();
      const row = {
        id: randomUUID(),
        name: input.name,
        comment: input.comment ?? null,
        properties: JSON.stringify(input.properties ?? {}),
        storage_root: input.storage_root ?? null,
        ...audit(principal, at),
      };
      const since = Date.now();
      try {
        await db.insertInto('uc_catalogs').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Catalog', input.name);
        throw err;
      }
      await created('catalog', input.name, since);
      return catalogWire(row);
    },
    async listCatalogs(input: z.output<typeof unityCatalog.ListCatalogs>) {
      const limit = pageLimit(input.max_results, SERVER_MAX_PAGE);
      let q = db.selectFrom('uc_catalogs').selectAll().orderBy(binaryText(dialect, 'name'));
      if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
      if (limit !== undefined) q = q.limit(limit + 1);
      const page = toPage(await q.execute(), limit);
      return { catalogs: page.rows.map(catalogWire), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
    },
    async getCatalog(name: string) {
      return catalogWire(await catalogRow(name));
    },
    async updateCatalog(principal: Principal, input: z.output<typeof unityCatalog.UpdateCatalog>) {
      const row = await catalogRow(input.name);
      assertMayChange(principal, [row.owner], `catalog '${row.name}'`);
      if (input.new_name !== undefined && input.new_name !== row.name) validateName('catalog', input.new_name);
      if (input.owner !== undefined && !principal.isAdmin && input.owner !== row.owner) assertMayChange(principal, [row.owner], `the owner of '${row.name}'`);
      const changes = {
        ...(input.comment !== undefined ? { comment: input.comment } : {}),
        ...(input.properties !== undefined ? { properties: JSON.stringify(input.properties) } : {}),
        ...(input.new_name ? { name: input.new_name } : {}),
        ...(input.owner ? { owner: input.owner } : {}),
        updated_at: now(),
        updated_by: principal.userName,
      };
      try {
        await db.updateTable('uc_catalogs').set(changes).where('id', '=', row.id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Catalog', input.new_name ?? row.name);
        throw err;
      }
      if (input.new_name) await renamed('catalog', row.name, input.new_name);
      return catalogWire({ ...row, ...changes });
    },
    async deleteCatalog(principal: Principal, name: string, force: boolean) {
      const row = await catalogRow(name);
      assertMayChange(principal, [row.owner], `catalog '${name}'`);
      const schemas = await db.selectFrom('uc_schemas').select(['id', 'name']).where('catalog_id', '=', row.id).execute();
      const { ids, names } = schemaNamesOf(schemas, name);
      if (!force) {
        const nonDefault = schemas.filter((s) => s.name !== 'default' && s.name !== 'information_schema');
        const inner = await childCount(ids, names);
        if (nonDefault.length > 0 || inner > 0)
          throw ucInvalid(`Cannot delete catalog '${name}': it is not empty (${schemas.length} schema(s), ${inner} object(s)). Use force=true.`);
      }
      await dropChildren(ids, names);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('uc_schemas').where('catalog_id', '=', row.id).execute();
        await trx.deleteFrom('uc_catalogs').where('id', '=', row.id).execute();
      });
      await dropped('catalog', name);
      return {};
    },

    // ---- schemas ----
    async createSchema(principal: Principal, input: z.output<typeof unityCatalog.CreateSchema>) {
      validateName('schema', input.name);
      const catalog = await catalogRow(input.catalog_name);
      const at = now();
      const row = {
        id: randomUUID(),
        catalog_id: catalog.id,
        name: input.name,
        comment: input.comment ?? null,
        properties: JSON.stringify(input.properties ?? {}),
        storage_root: input.storage_root ?? null,
        ...audit(principal, at),
      };
      const since = Date.now();
      try {
        await db.insertInto('uc_schemas').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Schema', `${catalog.name}.${input.name}`);
        throw err;
      }
      await created('schema', `${catalog.name}.${input.name}`, since);
      return schemaWire(row, catalog.name);
    },
    async listSchemas(input: z.output<typeof unityCatalog.ListSchemas>) {
      const catalog = await catalogRow(input.catalog_name);
      const limit = pageLimit(input.max_results, SERVER_MAX_PAGE);
      let q = db.selectFrom('uc_schemas').selectAll().where('catalog_id', '=', catalog.id).orderBy(binaryText(dialect, 'name'));
      if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
      if (limit !== undefined) q = q.limit(limit + 1);
      const page = toPage(await q.execute(), limit);
      return { schemas: page.rows.map((r) => schemaWire(r, catalog.name)), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
    },
    async getSchema(fullName: string) {
      const [c, s] = splitFullName(fullName, 2, 'schema') as [string, string];
      const resolved = await resolveSchema(c, s);
      const row = await db.selectFrom('uc_schemas').selectAll().where('id', '=', resolved.id).executeTakeFirstOrThrow();
      return schemaWire(row, c);
    },
    async updateSchema(principal: Principal, input: z.output<typeof unityCatalog.UpdateSchema>) {
      const [c, s] = splitFullName(input.full_name, 2, 'schema') as [string, string];
      const resolved = await resolveSchema(c, s);
      assertMayChange(principal, [resolved.owner, resolved.catalogOwner], `schema '${input.full_name}'`);
      if (input.new_name !== undefined && input.new_name !== s) validateName('schema', input.new_name);
      const row = await db.selectFrom('uc_schemas').selectAll().where('id', '=', resolved.id).executeTakeFirstOrThrow();
      const changes = {
        ...(input.comment !== undefined ? { comment: input.comment } : {}),
        ...(input.properties !== undefined ? { properties: JSON.stringify(input.properties) } : {}),
        ...(input.new_name ? { name: input.new_name } : {}),
        ...(input.owner ? { owner: input.owner } : {}),
        updated_at: now(),
        updated_by: principal.userName,
      };
      try {
        await db.updateTable('uc_schemas').set(changes).where('id', '=', row.id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Schema', `${c}.${input.new_name ?? s}`);
        throw err;
      }
      if (input.new_name) await renamed('schema', input.full_name, `${c}.${input.new_name}`);
      return schemaWire({ ...row, ...changes }, c);
    },
    async deleteSchema(principal: Principal, fullName: string, force: boolean) {
      const [c, s] = splitFullName(fullName, 2, 'schema') as [string, string];
      const resolved = await resolveSchema(c, s);
      assertMayChange(principal, [resolved.owner, resolved.catalogOwner], `schema '${fullName}'`);
      const names = [{ catalog: c, schema: s }];
      if (!force) {
        const inner = await childCount([resolved.id], names);
        if (inner > 0) throw ucInvalid(`Cannot delete schema '${fullName}': it holds ${inner} object(s). Use force=true.`);
      }
      await dropChildren([resolved.id], names);
      await db.deleteFrom('uc_schemas').where('id', '=', resolved.id).execute();
      await dropped('schema', `${c}.${s}`);
      return {};
    },

    // ---- volumes ----
    async createVolume(principal: Principal, input: z.output<typeof unityCatalog.CreateVolume>) {
      validateName('volume', input.name);
      const schema = await resolveSchema(input.catalog_name, input.schema_name);
      await assertNameFree(input.catalog_name, input.schema_name, input.name);
      let location: string;
      if (input.volume_type === 'MANAGED') {
        if (input.storage_location) throw ucInvalid('A MANAGED volume takes no storage_location: Weir allocates it.');
        location = path.join(volumesRoot, input.catalog_name, input.schema_name, input.name);
        // A leftover directory (e.g. from a renamed schema) must never be adopted by a new volume.
        if (fs.existsSync(location)) location = `${location}-${randomUUID().slice(0, 8)}`;
      } else {
        if (!input.storage_location) throw ucInvalid('An EXTERNAL volume needs a storage_location.');
        if (!principal.isAdmin) throw ucError('PERMISSION_DENIED', 'Only admins may register external volumes (they expose a server directory).');
        location = localPathOf(input.storage_location);
        if (isWithin(path.resolve(deps.dataDir), location)) throw ucInvalid("An external volume may not lie inside Weir's data directory.");
        if (!fs.existsSync(location) || !fs.statSync(location).isDirectory())
          throw ucInvalid(`storage_location '${input.storage_location}' is not an existing directory.`);
      }
      const row = {
        id: randomUUID(),
        schema_id: schema.id,
        name: input.name,
        volume_type: input.volume_type,
        storage_location: location,
        comment: input.comment ?? null,
        ...audit(principal, now()),
      };
      const since = Date.now();
      try {
        await db.insertInto('uc_volumes').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Volume', `${input.catalog_name}.${input.schema_name}.${input.name}`);
        throw err;
      }
      if (input.volume_type === 'MANAGED') fs.mkdirSync(location, { recursive: true });
      await created('volume', `${input.catalog_name}.${input.schema_name}.${input.name}`, since);
      return volumeWire(row, schema);
    },
    async listVolumes(input: z.output<typeof unityCatalog.ListVolumes>) {
      const schema = await resolveSchema(input.catalog_name, input.schema_name);
      const limit = pageLimit(input.max_results, SERVER_MAX_PAGE);
      let q = db.selectFrom('uc_volumes').selectAll().where('schema_id', '=', schema.id).orderBy(binaryText(dialect, 'name'));
      if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
      if (limit !== undefined) q = q.limit(limit + 1);
      const page = toPage(await q.execute(), limit);
      return { volumes: page.rows.map((r) => volumeWire(r, schema)), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
    },
    async getVolume(fullName: string) {
      const { row, schema } = await volumeRow(fullName);
      return volumeWire(row, schema);
    },
    /** The volume's directory and owners, for the Files API and SQL reads. */
    async volumeLocation(catalog: string, schema: string, volume: string) {
      const { row, schema: s } = await volumeRow(`${catalog}.${schema}.${volume}`);
      return { directory: row.storage_location, owners: [row.owner, s.owner, s.catalogOwner], type: row.volume_type };
    },
    async updateVolume(principal: Principal, input: z.output<typeof unityCatalog.UpdateVolume>) {
      const { row, schema } = await volumeRow(input.name);
      assertMayChange(principal, [row.owner, schema.owner, schema.catalogOwner], `volume '${input.name}'`);
      if (input.new_name !== undefined && input.new_name !== row.name) {
        validateName('volume', input.new_name);
        await assertNameFree(schema.catalogName, schema.schemaName, input.new_name);
      }
      const changes = {
        ...(input.comment !== undefined ? { comment: input.comment } : {}),
        ...(input.new_name ? { name: input.new_name } : {}),
        ...(input.owner ? { owner: input.owner } : {}),
        updated_at: now(),
        updated_by: principal.userName,
      };
      try {
        await db.updateTable('uc_volumes').set(changes).where('id', '=', row.id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Volume', `${schema.catalogName}.${schema.schemaName}.${input.new_name ?? row.name}`);
        throw err;
      }
      if (input.new_name) await renamed('volume', input.name, `${schema.catalogName}.${schema.schemaName}.${input.new_name}`);
      return volumeWire({ ...row, ...changes }, schema);
    },
    async deleteVolume(principal: Principal, fullName: string) {
      const { row, schema } = await volumeRow(fullName);
      assertMayChange(principal, [row.owner, schema.owner, schema.catalogOwner], `volume '${fullName}'`);
      await db.deleteFrom('uc_volumes').where('id', '=', row.id).execute();
      if (row.volume_type === 'MANAGED') removeManagedDir(row.storage_location);
      await dropped('volume', `${schema.catalogName}.${schema.schemaName}.${row.name}`);
      return {};
    },

    // ---- functions ----
    async createFunction(principal: Principal, input: z.output<typeof unityCatalog.CreateFunction>) {
      const info = input.function_info;
      validateName('function', info.name);
      if (info.routine_body !== 'SQL') throw ucInvalid('Only SQL functions (routine_body SQL) can be created in Weir.');
      for (const p of info.input_params?.parameters ?? []) validateName('parameter', p.name);
      const schema = await resolveSchema(info.catalog_name, info.schema_name);
      await assertNameFree(info.catalog_name, info.schema_name, info.name);
      const stored = {
        ...info,
        input_params: info.input_params ?? { parameters: [] },
        parameter_style: info.parameter_style ?? 'S',
        is_deterministic: info.is_deterministic ?? true,
        sql_data_access: info.sql_data_access ?? 'CONTAINS_SQL',
        is_null_call: info.is_null_call ?? false,
        security_type: info.security_type ?? 'DEFINER',
        specific_name: info.specific_name ?? info.name,
      };
      const row = { id: randomUUID(), schema_id: schema.id, name: info.name, info: JSON.stringify(stored), ...audit(principal, now()) };
      const since = Date.now();
      try {
        await db.insertInto('uc_functions').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw ucExists('Function', `${info.catalog_name}.${info.schema_name}.${info.name}`);
        throw err;
      }
      await created('function', `${info.catalog_name}.${info.schema_name}.${info.name}`, since);
      return functionWire(row, schema);
    },
    async listFunctions(input: z.output<typeof unityCatalog.ListFunctions>) {
      const schema = await resolveSchema(input.catalog_name, input.schema_name);
      const limit = pageLimit(input.max_results, SERVER_MAX_PAGE);
      let q = db.selectFrom('uc_functions').selectAll().where('schema_id', '=', schema.id).orderBy(binaryText(dialect, 'name'));
      if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
      if (limit !== undefined) q = q.limit(limit + 1);
      const page = toPage(await q.execute(), limit);
      return { functions: page.rows.map((r) => functionWire(r, schema)), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
    },
    async getFunction(fullName: string) {
      const { row, schema } = await functionRow(fullName);
      return functionWire(row, schema);
    },
    async deleteFunction(principal: Principal, fullName: string) {
      const { row, schema } = await functionRow(fullName);
      assertMayChange(principal, [row.owner, schema.owner, schema.catalogOwner], `function '${fullName}'`);
      await db.deleteFrom('uc_functions').where('id', '=', row.id).execute();
      await dropped('function', `${schema.catalogName}.${schema.schemaName}.${row.name}`);
      return {};
    },
    /** Makes `owner` the owner of a function (the caller has checked the right to give it away and that the principal exists). */
    async setFunctionOwner(principal: Principal, fullName: string, owner: string) {
      const { row, schema } = await functionRow(fullName);
      const changes = { owner, updated_at: now(), updated_by: principal.userName };
      await db.updateTable('uc_functions').set(changes).where('id', '=', row.id).execute();
      return functionWire({ ...row, ...changes }, schema);
    },

    // ---- information_schema ----
    /** Every catalog, schema, volume and function as flat rows (what information_schema views are built from). */
    async inventory() {
      const catalogs = await db.selectFrom('uc_catalogs').selectAll().orderBy(binaryText(dialect, 'name')).execute();
      const schemas = await db
        .selectFrom('uc_schemas as s')
        .innerJoin('uc_catalogs as c', 'c.id', 's.catalog_id')
        .selectAll('s')
        .select('c.name as catalog_name')
        .execute();
      const schemaById = new Map(schemas.map((s) => [s.id, s]));
      const volumes = (await db.selectFrom('uc_volumes').selectAll().execute()).flatMap((v) => {
        const s = schemaById.get(v.schema_id);
        return s ? [volumeWire(v, { catalogName: s.catalog_name, schemaName: s.name })] : [];
      });
      const functions = (await db.selectFrom('uc_functions').selectAll().execute()).flatMap((f) => {
        const s = schemaById.get(f.schema_id);
        return s ? [functionWire(f, { catalogName: s.catalog_name, schemaName: s.name })] : [];
      });
      return { catalogs: catalogs.map(catalogWire), schemas: schemas.map((s) => schemaWire(s, s.catalog_name)), volumes, functions };
    },
  };
}
