import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { unityCatalog } from '@weir/contracts';
import { DeltaError, openDeltaTable, type StructType } from '@weir/delta';
import type { Kysely, Selectable } from 'kysely';
import type { z } from 'zod';
import { binaryText, type DialectName, reusableQuery } from '../../platform/db.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import {
  type CatalogService,
  type CatalogTables,
  isWithin,
  localPathOf,
  mayChange,
  pageLimit,
  type ResolvedSchema,
  splitFullName,
  toPage,
  ucError,
  ucExists,
  ucInvalid,
  ucNotFound,
  validateName,
} from '../catalog/index.ts';
import type { TablesTables, UcTablesTable } from './tables.tables.ts';
import { type ColumnInput, columnsOf, schemaFromColumns } from './tables.types.ts';

type Db = Kysely<TablesTables>;
type TableRow = Selectable<UcTablesTable>;

const SERVER_MAX_PAGE = 10_000;

/** A table's row with its schema's and catalog's, by three-part name. */
const tableWithSchemaQuery = reusableQuery(['catalog', 'schema', 'table'], (db, v) =>
  (db as Kysely<TablesTables & CatalogTables>)
    .selectFrom('uc_tables as t')
    .innerJoin('uc_schemas as s', 's.id', 't.schema_id')
    .innerJoin('uc_catalogs as c', 'c.id', 's.catalog_id')
    .selectAll('t')
    .select([
      's.catalog_id as schema_catalog_id',
      'c.name as schema_catalog_name',
      's.name as schema_name',
      's.owner as schema_owner',
      'c.owner as catalog_owner',
    ])
    .where('c.name', '=', v.catalog)
    .where('s.name', '=', v.schema)
    .where('t.name', '=', v.table),
);

/** A table resolved by name, with what SQL needs to read or write it. */
export interface ResolvedTable {
  id: string;
  catalog: string;
  schema: string;
  name: string;
  type: UcTablesTable['table_type'];
  /** Absolute directory of the Delta table; null for views. */
  location: string | null;
  viewDefinition: string | null;
  owners: string[];
  partitionColumns: string[];
}

/** What a managed table is created from. */
export interface ManagedTableSpec {
  catalog: string;
  schema: string;
  name: string;
  deltaSchema: StructType;
  partitionColumns?: string[];
  properties?: Record<string, string>;
  comment?: string;
}

interface StoredSchema {
  schema: StructType;
  partitionColumns: string[];
}

/** Turns a Delta engine error into a client error (its message names the problem). */
export function deltaToUc(err: unknown): never {
  if (err instanceof DeltaError) throw ucInvalid(err.message);
  throw err;
}

function parseStored(text: string): StoredSchema {
  try {
    const parsed = JSON.parse(text) as StoredSchema;
    if (parsed?.schema?.type === 'struct') return parsed;
  } catch {
    // an unreadable cache is rebuilt from the log on the next get
  }
  return { schema: { type: 'struct', fields: [] }, partitionColumns: [] };
}

/** Tables: managed and external Delta tables registered in the catalog. */
export type TablesService = ReturnType<typeof createTablesService>;

/** Most owner and table names a candidate listing query binds (beyond that, names and owners are scanned instead). */
const CANDIDATES_MAX = 500;

/** Creates the tables service and registers tables as schema children with the catalog. */
export function createTablesService(deps: {
  db: Db;
  dialect: DialectName;
  dataDir: string;
  catalog: CatalogService;
  /** Where drops and renames are announced (governance moves or forgets the grants); awaited so they hold before the answer. */
  events?: Pick<EventBus, 'publish'>;
  now?: () => number;
}) {
  const { db, dialect, catalog } = deps;
  const now = deps.now ?? Date.now;
  const dataRoot = path.resolve(deps.dataDir);
  const warehouse = path.join(dataRoot, 'warehouse');

  function wire(row: TableRow, s: { catalogName: string; schemaName: string }, stored: StoredSchema = parseStored(row.schema_json)) {
    return {
      name: row.name,
      catalog_name: s.catalogName,
      schema_name: s.schemaName,
      full_name: `${s.catalogName}.${s.schemaName}.${row.name}`,
      table_type: row.table_type,
      ...(row.data_source_format ? { data_source_format: row.data_source_format } : {}),
      columns: columnsOf(stored.schema, stored.partitionColumns),
      ...(row.storage_location ? { storage_location: `file://${row.storage_location}` } : {}),
      ...(row.comment !== null ? { comment: row.comment } : {}),
      properties: JSON.parse(row.properties) as Record<string, string>,
      owner: row.owner,
      created_at: Number(row.created_at),
      created_by: row.created_by,
      updated_at: Number(row.updated_at),
      updated_by: row.updated_by,
      table_id: row.id,
      ...(row.view_definition !== null ? { view_definition: row.view_definition } : {}),
    };
  }

  async function tableRow(fullName: string): Promise<{ row: TableRow; schema: ResolvedSchema }> {
    const [c, s, t] = splitFullName(fullName, 3, 'table') as [string, string, string];
    // One query for the table with its schema and catalog: every statement resolves each table it names this way.
    const [hit] = await tableWithSchemaQuery(db, { catalog: c, schema: s, table: t });
    if (hit) {
      const { schema_catalog_id, schema_catalog_name, schema_name, schema_owner, catalog_owner, ...row } = hit;
      const schema = {
        id: row.schema_id,
        catalogId: schema_catalog_id,
        catalogName: schema_catalog_name,
        schemaName: schema_name,
        owner: schema_owner,
        catalogOwner: catalog_owner,
      };
      return { row, schema };
    }
    // Missing: the catalog's and schema's own lookups say which level is missing, as Unity Catalog does.
    await catalog.resolveSchema(c, s);
    throw ucNotFound('Table', fullName);
  }

  /** Reads the Delta log for the current schema; keeps the cached copy when the location cannot be read. */
  async function refreshed(row: TableRow): Promise<StoredSchema> {
    const cached = parseStored(row.schema_json);
    if (!row.storage_location || row.data_source_format !== 'DELTA') return cached;
    try {
      const snap = await openDeltaTable(row.storage_location).snapshot();
      const fresh = { schema: snap.schema, partitionColumns: snap.partitionColumns };
      const text = JSON.stringify(fresh);
      if (text !== row.schema_json) await db.updateTable('uc_tables').set({ schema_json: text }).where('id', '=', row.id).execute();
      return fresh;
    } catch {
      return cached;
    }
  }

  function managedDir(c: string, s: string, t: string): string {
    const dir = path.join(warehouse, c, s, t);
    // A leftover directory (a renamed schema's old table) must never be adopted by a new table.
    return fs.existsSync(dir) ? `${dir}-${randomUUID().slice(0, 8)}` : dir;
  }

  function removeManaged(dir: string | null): void {
    if (dir && isWithin(warehouse, dir) && dir !== warehouse) fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Inserts a table's row; a new name (not a replaced view) is announced so no stale grant can reach it. */
  async function insertRow(row: UcTablesTable, fullName: string, replacing = false) {
    // Read before the row is written: only grants older than the table can be a lost cascade's leftovers.
    const since = Date.now();
    try {
      await db.insertInto('uc_tables').values(row).execute();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '')) throw ucExists('Table', fullName);
      throw err;
    }
    if (!replacing) await deps.events?.publish('catalog.securable.created', { type: 'table', fullName, since });
  }

  async function createManaged(principal: Principal, spec: ManagedTableSpec): Promise<TableRow> {
    validateName('table', spec.name);
    const schema = await catalog.resolveSchema(spec.catalog, spec.schema);
    await catalog.assertNameFree(spec.catalog, spec.schema, spec.name);
    const dir = managedDir(spec.catalog, spec.schema, spec.name);
    const partitionColumns = spec.partitionColumns ?? [];
    for (const p of partitionColumns) {
      if (!spec.deltaSchema.fields.some((f) => f.name === p)) throw ucInvalid(`Partition column '${p}' is not a column of the table.`);
    }
    try {
      await openDeltaTable(dir).create({
        schema: spec.deltaSchema,
        partitionColumns,
        configuration: spec.properties ?? {},
        name: spec.name,
        ...(spec.comment ? { description: spec.comment } : {}),
      });
    } catch (err) {
      removeManaged(dir);
      deltaToUc(err);
    }
    const at = now();
    const row: UcTablesTable = {
      id: randomUUID(),
      schema_id: schema.id,
      name: spec.name,
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      storage_location: dir,
      comment: spec.comment ?? null,
      properties: JSON.stringify(spec.properties ?? {}),
      schema_json: JSON.stringify({ schema: spec.deltaSchema, partitionColumns }),
      view_definition: null,
      owner: principal.userName,
      created_at: at,
      created_by: principal.userName,
      updated_at: at,
      updated_by: principal.userName,
    };
    try {
      await insertRow(row, `${spec.catalog}.${spec.schema}.${spec.name}`);
    } catch (err) {
      removeManaged(dir);
      throw err;
    }
    return row;
  }

  /** Creates a managed table whose Delta log is written by `fill` (CREATE TABLE AS SELECT); registers it once the log exists. */
  async function createManagedFrom(
    principal: Principal,
    spec: { catalog: string; schema: string; name: string; comment?: string | undefined; properties?: Record<string, string> | undefined },
    fill: (dir: string) => Promise<void>,
  ): Promise<TableRow> {
    validateName('table', spec.name);
    const schema = await catalog.resolveSchema(spec.catalog, spec.schema);
    await catalog.assertNameFree(spec.catalog, spec.schema, spec.name);
    const dir = managedDir(spec.catalog, spec.schema, spec.name);
    let stored: StoredSchema;
    try {
      await fill(dir);
      const snap = await openDeltaTable(dir).snapshot();
      stored = { schema: snap.schema, partitionColumns: snap.partitionColumns };
    } catch (err) {
      removeManaged(dir);
      if (err instanceof DeltaError) deltaToUc(err);
      throw err;
    }
    const at = now();
    const row: UcTablesTable = {
      id: randomUUID(),
      schema_id: schema.id,
      name: spec.name,
      table_type: 'MANAGED',
      data_source_format: 'DELTA',
      storage_location: dir,
      comment: spec.comment ?? null,
      properties: JSON.stringify(spec.properties ?? {}),
      schema_json: JSON.stringify(stored),
      view_definition: null,
      owner: principal.userName,
      created_at: at,
      created_by: principal.userName,
      updated_at: at,
      updated_by: principal.userName,
    };
    try {
      await insertRow(row, `${spec.catalog}.${spec.schema}.${spec.name}`);
    } catch (err) {
      removeManaged(dir);
      throw err;
    }
    return row;
  }

  async function registerExternal(
    principal: Principal,
    spec: {
      catalog: string;
      schema: string;
      name: string;
      location: string;
      comment?: string | undefined;
      properties?: Record<string, string> | undefined;
      columns?: ColumnInput[] | undefined;
    },
  ): Promise<TableRow> {
    validateName('table', spec.name);
    if (!principal.isAdmin) throw ucError('PERMISSION_DENIED', 'Only admins may register external tables (they expose a server directory).');
    const schema = await catalog.resolveSchema(spec.catalog, spec.schema);
    await catalog.assertNameFree(spec.catalog, spec.schema, spec.name);
    const dir = localPathOf(spec.location);
    if (isWithin(dataRoot, dir)) throw ucInvalid("An external table may not lie inside Weir's data directory.");
    let stored: StoredSchema;
    const table = openDeltaTable(dir);
    if (await table.exists().catch(() => false)) {
      try {
        const snap = await table.snapshot();
        stored = { schema: snap.schema, partitionColumns: snap.partitionColumns };
      } catch (err) {
        deltaToUc(err);
      }
    } else if (spec.columns && spec.columns.length > 0) {
      // Registered ahead of its data, as Spark does: the writer creates the log at this location.
      const fromColumns = schemaFromColumns(spec.columns);
      stored = { schema: fromColumns.schema, partitionColumns: fromColumns.partitionColumns };
    } else {
      throw ucInvalid(`No Delta table at '${spec.location}' (no _delta_log) and no columns were given.`);
    }
    const at = now();
    const row: UcTablesTable = {
      id: randomUUID(),
      schema_id: schema.id,
      name: spec.name,
      table_type: 'EXTERNAL',
      data_source_format: 'DELTA',
      storage_location: dir,
      comment: spec.comment ?? null,
      properties: JSON.stringify(spec.properties ?? {}),
      schema_json: JSON.stringify(stored),
      view_definition: null,
      owner: principal.userName,
      created_at: at,
      created_by: principal.userName,
      updated_at: at,
      updated_by: principal.userName,
    };
    await insertRow(row, `${spec.catalog}.${spec.schema}.${spec.name}`);
    return row;
  }

  async function dropRows(rows: TableRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db
      .deleteFrom('uc_tables')
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    for (const r of rows) if (r.table_type === 'MANAGED') removeManaged(r.storage_location);
  }

  catalog.registerSchemaChildren({
    kind: 'Table',
    async count(schemaIds) {
      const row = await db
        .selectFrom('uc_tables')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('schema_id', 'in', schemaIds)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async exists(schemaId, name) {
      return (await db.selectFrom('uc_tables').select('id').where('schema_id', '=', schemaId).where('name', '=', name).executeTakeFirst()) !== undefined;
    },
    async dropAll(schemaIds) {
      await dropRows(await db.selectFrom('uc_tables').selectAll().where('schema_id', 'in', schemaIds).execute());
    },
  });

  return {
    /** POST /tables: MANAGED creates a Delta table from the columns; EXTERNAL registers one at storage_location. */
    async createTable(principal: Principal, input: z.output<typeof unityCatalog.CreateTable>) {
      validateName('table', input.name);
      if (input.data_source_format && input.data_source_format !== 'DELTA')
        throw ucInvalid(`Only DELTA tables are supported, not ${input.data_source_format}.`);
      const s = { catalogName: input.catalog_name, schemaName: input.schema_name };
      if (input.table_type === 'MANAGED') {
        if (input.storage_location) throw ucInvalid('A MANAGED table takes no storage_location: Weir allocates it.');
        if (!input.columns || input.columns.length === 0) throw ucInvalid('A MANAGED table needs columns.');
        const { schema, partitionColumns } = schemaFromColumns(input.columns);
        const row = await createManaged(principal, {
          catalog: input.catalog_name,
          schema: input.schema_name,
          name: input.name,
          deltaSchema: schema,
          partitionColumns,
          ...(input.properties ? { properties: input.properties } : {}),
          ...(input.comment ? { comment: input.comment } : {}),
        });
        return wire(row, s);
      }
      if (input.table_type === 'EXTERNAL') {
        if (!input.storage_location) throw ucInvalid('An EXTERNAL table needs a storage_location.');
        const row = await registerExternal(principal, {
          catalog: input.catalog_name,
          schema: input.schema_name,
          name: input.name,
          location: input.storage_location,
          comment: input.comment,
          properties: input.properties,
          columns: input.columns,
        });
        return wire(row, s);
      }
      throw ucInvalid(`table_type ${input.table_type} cannot be created through this API (views are created with SQL CREATE VIEW).`);
    },
    /**
     * Lists a schema's tables. `keep` (governance's visibility) drops rows before they are shaped, which is most of a
     * large listing's cost; the page token still follows the unfiltered rows, so the caller can continue past them.
     */
    async listTables(
      input: z.output<typeof unityCatalog.ListTables>,
      keep?: (rows: { fullName: string; owner: string }[]) => Promise<Set<string>>,
      /** With `keep`: the only rows that can pass it (owned by one of `owners`, or named in `names`). */
      candidates?: { owners: string[]; names: string[] },
    ) {
      const schema = await catalog.resolveSchema(input.catalog_name, input.schema_name);
      const limit = pageLimit(input.max_results, SERVER_MAX_PAGE);
      const full = (name: string) => `${schema.catalogName}.${schema.schemaName}.${name}`;
      if (keep && candidates && candidates.owners.length + candidates.names.length <= CANDIDATES_MAX) {
        // A caller who sees a few of many tables: read only the candidates, in one keyset-paged query.
        const { owners, names } = candidates;
        if (owners.length + names.length === 0) return { tables: [] };
        let q = db
          .selectFrom('uc_tables')
          .selectAll()
          .where('schema_id', '=', schema.id)
          .where((eb) => eb.or([...(owners.length > 0 ? [eb('owner', 'in', owners)] : []), ...(names.length > 0 ? [eb('name', 'in', names)] : [])]))
          .orderBy(binaryText(dialect, 'name'));
        if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
        if (limit !== undefined) q = q.limit(limit + 1);
        const page = toPage(await q.execute(), limit);
        const kept = await keep(page.rows.map((r) => ({ fullName: full(r.name), owner: r.owner })));
        const tables = page.rows.filter((r) => kept.has(full(r.name))).map((r) => wire(r, schema));
        return { tables, ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
      }
      if (keep) {
        // Names and owners first; whole rows only for what the caller may see.
        let q = db.selectFrom('uc_tables').select(['name', 'owner']).where('schema_id', '=', schema.id).orderBy(binaryText(dialect, 'name'));
        if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
        if (limit !== undefined) q = q.limit(limit + 1);
        const page = toPage(await q.execute(), limit);
        const kept = await keep(page.rows.map((r) => ({ fullName: full(r.name), owner: r.owner })));
        const names = page.rows.filter((r) => kept.has(full(r.name))).map((r) => r.name);
        const rows: TableRow[] = [];
        for (let i = 0; i < names.length; i += 500) {
          rows.push(
            ...(await db
              .selectFrom('uc_tables')
              .selectAll()
              .where('schema_id', '=', schema.id)
              .where('name', 'in', names.slice(i, i + 500))
              .execute()),
          );
        }
        rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return { tables: rows.map((r) => wire(r, schema)), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
      }
      let q = db.selectFrom('uc_tables').selectAll().where('schema_id', '=', schema.id).orderBy(binaryText(dialect, 'name'));
      if (input.page_token) q = q.where(binaryText(dialect, 'name'), '>', input.page_token);
      if (limit !== undefined) q = q.limit(limit + 1);
      const page = toPage(await q.execute(), limit);
      return { tables: page.rows.map((r) => wire(r, schema)), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
    },
    async getTable(fullName: string) {
      const { row, schema } = await tableRow(fullName);
      return wire(row, schema, await refreshed(row));
    },
    async deleteTable(principal: Principal, fullName: string) {
      const { row, schema } = await tableRow(fullName);
      if (!mayChange(principal, [row.owner, schema.owner, schema.catalogOwner]))
        throw ucError('PERMISSION_DENIED', `Only an owner or an admin may drop table '${fullName}'.`);
      await dropRows([row]);
      await deps.events?.publish('catalog.securable.dropped', { type: 'table', fullName: `${schema.catalogName}.${schema.schemaName}.${row.name}` });
      return {};
    },
    /**
     * Gives a table or view a new name in its schema (SQL `ALTER TABLE ... RENAME TO`). Managed files stay where they
     * are: the row keeps its location, and a later table with the old name gets a directory of its own.
     */
    async renameTable(principal: Principal, fullName: string, newName: string) {
      const { row, schema } = await tableRow(fullName);
      if (!mayChange(principal, [row.owner, schema.owner, schema.catalogOwner]))
        throw ucError('PERMISSION_DENIED', `Only an owner or an admin may rename table '${fullName}'.`);
      validateName('table', newName);
      if (newName === row.name) return;
      await catalog.assertNameFree(schema.catalogName, schema.schemaName, newName);
      const newFullName = `${schema.catalogName}.${schema.schemaName}.${newName}`;
      try {
        await db.updateTable('uc_tables').set({ name: newName, updated_at: now(), updated_by: principal.userName }).where('id', '=', row.id).execute();
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '')) throw ucExists('Table', newFullName);
        throw err;
      }
      await deps.events?.publish('catalog.securable.renamed', {
        type: 'table',
        fullName: `${schema.catalogName}.${schema.schemaName}.${row.name}`,
        newFullName,
      });
    },
    /** Resolves `catalog.schema.table` for SQL. */
    async resolveTable(c: string, s: string, t: string): Promise<ResolvedTable> {
      const { row, schema } = await tableRow(`${c}.${s}.${t}`);
      return {
        id: row.id,
        catalog: schema.catalogName,
        schema: schema.schemaName,
        name: row.name,
        type: row.table_type,
        location: row.storage_location,
        viewDefinition: row.view_definition,
        owners: [row.owner, schema.owner, schema.catalogOwner],
        partitionColumns: parseStored(row.schema_json).partitionColumns,
      };
    },
    createManaged,
    createManagedFrom,
    registerExternal,
    /** Registers a view (its SQL is stored and expanded when queried). */
    async createView(principal: Principal, spec: { catalog: string; schema: string; name: string; definition: string; orReplace: boolean }) {
      validateName('view', spec.name);
      const schema = await catalog.resolveSchema(spec.catalog, spec.schema);
      const fullName = `${spec.catalog}.${spec.schema}.${spec.name}`;
      let replacing = false;
      if (spec.orReplace) {
        const existing = await db.selectFrom('uc_tables').selectAll().where('schema_id', '=', schema.id).where('name', '=', spec.name).executeTakeFirst();
        if (existing && existing.table_type !== 'VIEW') throw ucExists('Table', fullName);
        if (existing) {
          if (!mayChange(principal, [existing.owner, schema.owner, schema.catalogOwner]))
            throw ucError('PERMISSION_DENIED', `Only an owner or an admin may replace view '${fullName}'.`);
          await db.deleteFrom('uc_tables').where('id', '=', existing.id).execute();
          // A replaced view keeps its grants, as in Databricks.
          replacing = true;
        }
      }
      await catalog.assertNameFree(spec.catalog, spec.schema, spec.name);
      const at = now();
      await insertRow(
        {
          id: randomUUID(),
          schema_id: schema.id,
          name: spec.name,
          table_type: 'VIEW',
          data_source_format: null,
          storage_location: null,
          comment: null,
          properties: '{}',
          schema_json: JSON.stringify({ schema: { type: 'struct', fields: [] }, partitionColumns: [] }),
          view_definition: spec.definition,
          owner: principal.userName,
          created_at: at,
          created_by: principal.userName,
          updated_at: at,
          updated_by: principal.userName,
        },
        fullName,
        replacing,
      );
    },
    /** Makes `owner` the owner of a table or view (the caller has checked the right to give it away). */
    async setOwner(principal: Principal, fullName: string, owner: string) {
      const { row, schema } = await tableRow(fullName);
      const changes = { owner, updated_at: now(), updated_by: principal.userName };
      await db.updateTable('uc_tables').set(changes).where('id', '=', row.id).execute();
      return wire({ ...row, ...changes }, schema, await refreshed(row));
    },
    /** Re-reads a table's schema from its log after a SQL write changed it. */
    async refreshSchema(tableId: string): Promise<void> {
      const row = await db.selectFrom('uc_tables').selectAll().where('id', '=', tableId).executeTakeFirst();
      if (row) await refreshed(row);
    },
    /** Every table, for information_schema and SHOW TABLES. */
    async inventory() {
      const rows = await db.selectFrom('uc_tables').selectAll().orderBy(binaryText(dialect, 'name')).execute();
      return rows.map((r) => ({ schemaId: r.schema_id, row: r, stored: parseStored(r.schema_json) }));
    },
    wire,
  };
}
