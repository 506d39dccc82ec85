import type { Migration } from '../../platform/db.ts';

/** COPY INTO bookkeeping. */
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
];
