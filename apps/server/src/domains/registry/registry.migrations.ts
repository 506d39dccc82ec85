import type { Migration } from '../../platform/db.ts';

/** Registry tables: one store behind the MLflow registry API and the Unity Catalog models API. */
export const registryMigrations: Migration[] = [
  {
    id: '0300_registry',
    async up(db) {
      await db.schema
        .createTable('registered_models')
        .addColumn('model_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('catalog_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('schema_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(512)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('owner', 'varchar(256)', (c) => c.notNull())
        .addColumn('owner_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(256)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(256)', (c) => c.notNull())
        .addColumn('last_version', 'integer', (c) => c.notNull())
        .addUniqueConstraint('registered_models_full_name', ['catalog_name', 'schema_name', 'name'])
        .execute();
      await db.schema
        .createTable('registered_model_tags')
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('key', 'varchar(250)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_id', 'key'])
        .execute();
      await db.schema
        .createTable('registered_model_aliases')
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('alias', 'varchar(255)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('registered_model_aliases_pk', ['model_id', 'alias'])
        .execute();
      await db.schema
        .createTable('model_versions')
        .addColumn('id', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(256)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(256)', (c) => c.notNull())
        .addColumn('current_stage', 'varchar(20)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('run_id', 'varchar(64)')
        .addColumn('run_link', 'text')
        .addColumn('logged_model_id', 'varchar(64)')
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('status_message', 'text')
        .addColumn('storage_location', 'text')
        .addColumn('model_meta', 'text')
        .addColumn('servable', 'smallint', (c) => c.notNull())
        .addColumn('not_servable_reason', 'text')
        .addColumn('deleted', 'smallint', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
        .execute();
      await db.schema.createIndex('model_versions_run').on('model_versions').columns(['run_id']).execute();
      await db.schema
        .createTable('model_version_tags')
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('key', 'varchar(250)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_version_tags_pk', ['model_id', 'version', 'key'])
        .execute();
    },
  },
];
