import type { Migration } from '../../platform/db.ts';

/** Identity tables: principals, groups, tokens, workspace object permissions. */
export const identityMigrations: Migration[] = [
  {
    id: '0001_identity',
    async up(db, dialect) {
      await db.schema
        .createTable('principals')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('name', 'varchar(512)', (c) => c.notNull())
        .addColumn('display_name', 'varchar(512)')
        .addColumn('password_hash', 'varchar(512)')
        .addColumn('application_id', 'varchar(128)')
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('principals_kind_name', ['kind', 'name'])
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'integer', (c) => c.notNull())
        .addColumn('member_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'member_id'])
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('token_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('principal_id', 'integer', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('comment', 'varchar(1000)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tokens_principal').on('tokens').column('principal_id').execute();
      await db.schema
        .createTable('object_permissions')
        .addColumn('object_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(256)', (c) => c.notNull())
        .addColumn('principal_id', 'integer', (c) => c.notNull())
        .addColumn('level', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_permissions_pk', ['object_type', 'object_id', 'principal_id'])
        .execute();
      await db.schema.createIndex('object_permissions_principal').on('object_permissions').columns(['principal_id', 'object_type']).execute();
    },
  },
  {
    // SCIM attributes, who created a token (admins mint tokens for service principals), and a change counter that
    // lets every replica notice another replica's identity writes.
    id: '0002_identity_scim',
    async up(db) {
      await db.schema.alterTable('principals').addColumn('external_id', 'varchar(256)').execute();
      await db.schema.alterTable('principals').addColumn('attributes', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('created_by_id', 'integer').execute();
      await db.schema.createIndex('group_members_member').on('group_members').columns(['member_id', 'group_id']).execute();
      await db.schema
        .createTable('identity_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('identity_state').values({ id: 1, epoch: 0 }).execute();
    },
  },
];
