import { sql } from 'kysely';
import type { Migration } from '../../platform/db.ts';
import { auditedColumns } from '../catalog/index.ts';

/** The table registry (tables own their Delta data; this holds names, locations and owners). */
export const tablesMigrations: Migration[] = [
  {
    id: '0210_tables',
    async up(db) {
      await auditedColumns(
        db.schema
          .createTable('uc_tables')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('schema_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('table_type', 'varchar(32)', (c) => c.notNull())
          .addColumn('data_source_format', 'varchar(32)')
          .addColumn('storage_location', 'text')
          .addColumn('comment', 'text')
          .addColumn('properties', 'text', (c) => c.notNull())
          .addColumn('schema_json', 'text', (c) => c.notNull())
          .addColumn('view_definition', 'text')
          .addUniqueConstraint('uc_tables_name', ['schema_id', 'name']),
      ).execute();
    },
  },
  {
    // Listings order and page by byte order (`name collate "C"` on PostgreSQL, see binaryText), which the unique
    // index in the database's collation cannot serve: without this every page re-sorted the whole schema.
    // SQLite's default collation is already byte order, so its unique index serves as is.
    id: '0211_tables_name_byte_order',
    async up(db, dialect) {
      if (dialect === 'postgres') await sql`create index uc_tables_schema_name_c on uc_tables (schema_id, name collate "C")`.execute(db);
    },
  },
];
