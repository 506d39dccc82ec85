import { sql } from 'kysely';
import type { Migration } from '../../platform/db.ts';

/** Tracking tables. Metric history is clustered by (run, key, timestamp, step, value): the order MLflow returns it in. */
export const trackingMigrations: Migration[] = [
  {
    id: '0100_tracking',
    async up(db, dialect) {
      const pg = dialect === 'postgres';
      const withoutRowid = pg ? sql`` : sql`without rowid`;
      await db.schema
        .createTable('experiments')
        .addColumn('experiment_id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('name', 'varchar(500)', (c) => c.notNull().unique())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'varchar(32)', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_update_time', 'bigint', (c) => c.notNull())
        .addColumn('owner_id', 'integer')
        .execute();
      await db.schema
        .createTable('experiment_tags')
        .addColumn('experiment_id', 'integer', (c) => c.notNull())
        .addColumn('key', 'varchar(250)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
        .execute();
      await db.schema
        .createTable('runs')
        .addColumn('run_uuid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('experiment_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(250)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(256)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('end_time', 'bigint')
        .addColumn('deleted_time', 'bigint')
        .addColumn('lifecycle_stage', 'varchar(20)', (c) => c.notNull())
        .addColumn('artifact_uri', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('runs_experiment_start').on('runs').columns(['experiment_id', 'start_time', 'run_uuid']).execute();
      for (const t of ['params', 'tags']) {
        await db.schema
          .createTable(t)
          .addColumn('run_uuid', 'varchar(64)', (c) => c.notNull())
          .addColumn('key', 'varchar(250)', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${t}_pk`, ['run_uuid', 'key'])
          .modifyEnd(withoutRowid)
          .execute();
        await db.schema.createIndex(`${t}_key_value`).on(t).columns(['key', 'run_uuid']).execute();
      }
      // One row per (run, metric key): the latest value for searches, and a small integer id that keys the history.
      await db.schema
        .createTable('latest_metrics')
        .addColumn('series_id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('run_uuid', 'varchar(64)', (c) => c.notNull())
        .addColumn('key', 'varchar(250)', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'smallint', (c) => c.notNull())
        .addUniqueConstraint('latest_metrics_run_key', ['run_uuid', 'key'])
        .execute();
      await db.schema
        .createTable('metrics')
        .addColumn('series_id', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'smallint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metrics_pk', ['series_id', 'timestamp', 'step', 'value', 'is_nan'])
        .modifyEnd(withoutRowid)
        .execute();
      await db.schema.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value']).execute();
      await db.schema
        .createTable('datasets')
        .addColumn('dataset_uuid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('experiment_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(500)', (c) => c.notNull())
        .addColumn('digest', 'varchar(36)', (c) => c.notNull())
        .addColumn('source_type', 'varchar(36)', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('schema', 'text')
        .addColumn('profile', 'text')
        .addUniqueConstraint('datasets_exp_name_digest', ['experiment_id', 'name', 'digest'])
        .execute();
      await db.schema
        .createTable('run_inputs')
        .addColumn('input_uuid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('run_uuid', 'varchar(64)', (c) => c.notNull())
        .addColumn('dataset_uuid', 'varchar(64)', (c) => c.notNull())
        .addUniqueConstraint('run_inputs_run_dataset', ['run_uuid', 'dataset_uuid'])
        .execute();
      await db.schema
        .createTable('input_tags')
        .addColumn('input_uuid', 'varchar(64)', (c) => c.notNull())
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(500)', (c) => c.notNull())
        .addPrimaryKeyConstraint('input_tags_pk', ['input_uuid', 'key'])
        .execute();
      await db.schema
        .createTable('run_model_io')
        .addColumn('run_uuid', 'varchar(64)', (c) => c.notNull())
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('direction', 'varchar(8)', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_model_io_pk', ['run_uuid', 'direction', 'model_id'])
        .execute();
      await db.schema
        .createTable('logged_models')
        .addColumn('model_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('experiment_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(500)', (c) => c.notNull())
        .addColumn('model_type', 'varchar(500)')
        .addColumn('source_run_id', 'varchar(64)')
        .addColumn('status', 'varchar(40)', (c) => c.notNull())
        .addColumn('status_message', 'text')
        .addColumn('creation_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('last_updated_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'varchar(20)', (c) => c.notNull())
        .addColumn('creator_id', 'integer')
        .execute();
      await db.schema.createIndex('logged_models_experiment').on('logged_models').columns(['experiment_id', 'creation_timestamp']).execute();
      for (const t of ['logged_model_tags', 'logged_model_params']) {
        await db.schema
          .createTable(t)
          .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('key', 'varchar(250)', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${t}_pk`, ['model_id', 'key'])
          .execute();
      }
      await db.schema
        .createTable('logged_model_metrics')
        .addColumn('model_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('key', 'varchar(250)', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'smallint', (c) => c.notNull())
        .addColumn('run_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('dataset_name', 'varchar(500)', (c) => c.notNull())
        .addColumn('dataset_digest', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('logged_model_metrics_pk', ['model_id', 'key', 'step', 'timestamp', 'run_id', 'dataset_name', 'dataset_digest'])
        .execute();
    },
  },
  {
    // Sorting runs by a metric walks this index in value order within the searched experiment and stops after a page,
    // instead of looking up the key for every run of the experiment and sorting them all. It replaces the (key, value)
    // index, which no query used, so a metric write still maintains the same number of indexes.
    id: '0101_latest_metrics_by_experiment',
    async up(db) {
      await db.schema.alterTable('latest_metrics').addColumn('experiment_id', 'integer').execute();
      await sql`update latest_metrics set experiment_id = (select r.experiment_id from runs r where r.run_uuid = latest_metrics.run_uuid)`.execute(db);
      await db.schema.dropIndex('latest_metrics_key_value').execute();
      await db.schema.createIndex('latest_metrics_experiment_key_value').on('latest_metrics').columns(['experiment_id', 'key', 'is_nan', 'value']).execute();
    },
  },
  {
    // Charts sample a series by step; the history is keyed by timestamp. metric_steps is a step-keyed copy of the first
    // point at each step, filled in when a chart asks (see refreshSeriesSteps), so logging metrics costs no more.
    id: '0102_metric_steps',
    async up(db, dialect) {
      await db.schema.alterTable('latest_metrics').addColumn('stepped_through', 'bigint').execute();
      await db.schema
        .createTable('metric_steps')
        .addColumn('series_id', 'integer', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'smallint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metric_steps_pk', ['series_id', 'step'])
        .modifyEnd(dialect === 'postgres' ? sql`` : sql`without rowid`)
        .execute();
    },
  },
];
