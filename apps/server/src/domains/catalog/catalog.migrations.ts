import type { Kysely } from 'kysely';
import type { Migration } from '../../platform/db.ts';

type Builder = ReturnType<Kysely<any>['schema']['createTable']>;

/** Adds the owner and audit columns shared by every catalog object. */
export function auditedColumns(table: Builder): Builder {
  return table
    .addColumn('owner', 'varchar(512)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'varchar(512)', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(512)', (c) => c.notNull());
}

/** Catalogs, schemas, volumes and functions; then the `main.default` every workspace starts with. */
export const catalogMigrations: Migration[] = [
  {
    id: '0201_catalog',
    async up(db) {
      await auditedColumns(
        db.schema
          .createTable('uc_catalogs')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
          .addColumn('comment', 'text')
          .addColumn('properties', 'text', (c) => c.notNull())
          .addColumn('storage_root', 'text'),
      ).execute();
      await auditedColumns(
        db.schema
          .createTable('uc_schemas')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('catalog_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('comment', 'text')
          .addColumn('properties', 'text', (c) => c.notNull())
          .addColumn('storage_root', 'text')
          .addUniqueConstraint('uc_schemas_name', ['catalog_id', 'name']),
      ).execute();
      await auditedColumns(
        db.schema
          .createTable('uc_volumes')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('schema_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('volume_type', 'varchar(16)', (c) => c.notNull())
          .addColumn('storage_location', 'text', (c) => c.notNull())
          .addColumn('comment', 'text')
          .addUniqueConstraint('uc_volumes_name', ['schema_id', 'name']),
      ).execute();
      await auditedColumns(
        db.schema
          .createTable('uc_functions')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('schema_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('info', 'text', (c) => c.notNull())
          .addUniqueConstraint('uc_functions_name', ['schema_id', 'name']),
      ).execute();
    },
  },
  {
    // A migration rather than a start-up step: it runs once, so a deleted `main` stays deleted.
    id: '0202_catalog_main_default',
    async up(db) {
      const at = Date.now();
      const audit = { owner: 'admin', created_at: at, created_by: 'admin', updated_at: at, updated_by: 'admin' };
      const catalogId = crypto.randomUUID();
      await db
        .insertInto('uc_catalogs')
        .values({ id: catalogId, name: 'main', comment: 'Default catalog', properties: '{}', storage_root: null, ...audit })
        .execute();
      await db
        .insertInto('uc_schemas')
        .values({ id: crypto.randomUUID(), catalog_id: catalogId, name: 'default', comment: 'Default schema', properties: '{}', storage_root: null, ...audit })
        .execute();
    },
  },
];
