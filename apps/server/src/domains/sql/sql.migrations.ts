import type { Migration } from '../../platform/db.ts';

/** COPY INTO bookkeeping; row filters and column masks. */
export const sqlMigrations: Migration[] = [
  {
    id: '0401_sql_copy_loads',
    async up(db) {
      await db.schema
        .createTable('sql_copy_loads')
        .addColumn('table_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('file_path', 'varchar(4000)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('modified', 'bigint', (c) => c.notNull())
        .addColumn('loaded_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sql_copy_loads_pk', ['table_id', 'file_path'])
        .execute();
    },
  },
  {
    id: '0402_sql_row_security',
    async up(db) {
      await db.schema
        .createTable('sql_row_security')
        .addColumn('table_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('column_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('function_name', 'varchar(800)', (c) => c.notNull())
        .addColumn('columns_json', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sql_row_security_pk', ['table_id', 'kind', 'column_name'])
        .execute();
    },
  },
];
