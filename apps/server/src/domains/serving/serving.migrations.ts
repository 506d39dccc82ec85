import type { Migration } from '../../platform/db.ts';

/** Serving tables (ids 06xx). */
export const servingMigrations: Migration[] = [
  {
    id: '0600_serving_endpoints',
    async up(db) {
      await db.schema
        .createTable('serving_endpoints')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(63)', (c) => c.notNull().unique())
        .addColumn('creator', 'varchar(256)', (c) => c.notNull())
        .addColumn('creator_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('config', 'text')
        .addColumn('pending_config', 'text')
        .addColumn('config_version', 'integer', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .execute();
    },
  },
];
