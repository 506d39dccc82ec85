import type { Migration } from '../../platform/db.ts';

/** The grants store (ids 07xx). */
export const governanceMigrations: Migration[] = [
  {
    id: '0701_governance_grants',
    async up(db) {
      await db.schema
        .createTable('uc_grants')
        .addColumn('securable_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('full_name', 'varchar(800)', (c) => c.notNull())
        .addColumn('principal_id', 'integer', (c) => c.notNull())
        .addColumn('privilege', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('uc_grants_pk', ['securable_type', 'full_name', 'principal_id', 'privilege'])
        .execute();
      await db.schema.createIndex('uc_grants_principal').on('uc_grants').column('principal_id').execute();
      await db.schema.createIndex('uc_grants_name').on('uc_grants').column('full_name').execute();
      await db.schema
        .createTable('uc_grants_version')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('uc_grants_version').values({ id: 1, version: 0 }).execute();
    },
  },
  {
    id: '0702_governance_grant_time',
    async up(db) {
      // When a grant was written (ms): a created object forgets only grants older than itself, so a grant made just
      // after the object appeared is never taken for one a lost drop cascade left behind.
      await db.schema
        .alterTable('uc_grants')
        .addColumn('granted_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
];
