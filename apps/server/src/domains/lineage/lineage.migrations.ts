import type { Migration } from '../../platform/db.ts';

/** Lineage tables (ids 08xx). */
export const lineageMigrations: Migration[] = [
  {
    id: '0800_lineage_edges',
    async up(db, dialect) {
      await db.schema
        .createTable('lineage_edges')
        .addColumn('record_id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('event_time', 'bigint', (c) => c.notNull())
        .addColumn('source_id', 'varchar(2000)', (c) => c.notNull())
        .addColumn('source_type', 'varchar(64)')
        .addColumn('target_id', 'varchar(2000)', (c) => c.notNull())
        .addColumn('target_type', 'varchar(64)')
        .addColumn('source_column', 'varchar(1000)')
        .addColumn('target_column', 'varchar(1000)')
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('statement_id', 'varchar(128)')
        .addColumn('detail', 'varchar(1000)')
        .addColumn('created_by', 'varchar(512)')
        .addColumn('batch', 'integer')
        .execute();
      await db.schema.createIndex('lineage_edges_source').on('lineage_edges').columns(['source_id', 'target_id']).execute();
      await db.schema.createIndex('lineage_edges_target').on('lineage_edges').columns(['target_id', 'source_id']).execute();
    },
  },
];
