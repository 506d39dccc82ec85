import type { Migration } from '../../platform/db.ts';

/** Web UI session tables. */
export const webMigrations: Migration[] = [
  {
    id: '0501_web_sessions',
    async up(db) {
      await db.schema
        .createTable('web_sessions')
        .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('principal_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_sessions_principal').on('web_sessions').column('principal_id').execute();
      await db.schema.createIndex('web_sessions_expires').on('web_sessions').column('expires_at').execute();
    },
  },
];
