// `system.access.table_lineage` and `system.access.column_lineage`: Delta tables that copy the SQL edges of the
// lineage store (the store stays the source of truth for the APIs).
//
// Copying loses nothing and duplicates nothing when killed between any two steps, by Delta's `txn` action (one app id
// per table): rows are marked with batch number V = (the table's txn version) + 1 by an UPDATE of rows not yet marked,
// then exactly the rows of batch V are appended in one commit carrying txn(appId, V). After a kill, rows marked with a
// batch above the table's txn version were never committed and are released; rows at or below it are in the table.
// Rows are marked with an UPDATE rather than picked by "record_id > watermark" because PostgreSQL can commit a lower
// serial after a higher one: an UPDATE only touches committed rows, and a late row waits for the next batch.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable, type StructField, type StructType } from '@weir/delta';
import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { Authorizer } from '../governance/governance.types.ts';
import {
  ACCESS_SCHEMA,
  ensureSystemSchema,
  ensureSystemTable,
  guardSystemTableReads,
  SYSTEM_CATALOG,
  type SystemTableReads,
} from '../governance/system-tables.ts';
import type { TablesService } from '../tables/index.ts';
import { parseEntityId } from './lineage.service.ts';
import type { LineageTables } from './lineage.tables.ts';

/** Name of the table-level lineage table inside `system.access`. */
export const TABLE_LINEAGE = 'table_lineage';
/** Name of the column-level lineage table inside `system.access`. */
export const COLUMN_LINEAGE = 'column_lineage';

const ROWS_PER_COMMIT = 20_000;
const DAY_MS = 86_400_000;
/** A PostgreSQL advisory lock key: one replica copies at a time. */
const COPY_LOCK = 727_800;

const field = (name: string, type: StructField['type']): StructField => ({ name, type, nullable: true, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });
const strings = (...names: string[]) => names.map((n) => field(n, 'string'));

/** The columns of `table_lineage` (or, with `columnLevel`, `column_lineage`) as Databricks documents them. */
export function lineageTableSchema(columnLevel: boolean): StructType {
  return struct(
    ...strings('account_id', 'metastore_id', 'workspace_id', 'entity_type', 'entity_id', 'entity_run_id'),
    ...strings('source_table_full_name', 'source_table_catalog', 'source_table_schema', 'source_table_name', 'source_path', 'source_type'),
    ...(columnLevel ? strings('source_column_name') : []),
    ...strings('target_table_full_name', 'target_table_catalog', 'target_table_schema', 'target_table_name', 'target_path', 'target_type'),
    ...(columnLevel ? strings('target_column_name') : []),
    field('created_by', 'string'),
    field('event_time', 'timestamp'),
    field('event_date', 'date'),
    ...strings('record_id', 'event_id', 'statement_id'),
    field(
      'entity_metadata',
      struct(
        field('job_info', struct(...strings('job_id', 'job_run_id'))),
        ...strings('dashboard_id', 'legacy_dashboard_id', 'notebook_id', 'sql_query_id'),
        field('dlt_pipeline_info', struct(...strings('dlt_pipeline_id', 'dlt_update_id'))),
      ),
    ),
    field('direct_access', 'boolean'),
  );
}

const ENTITY_METADATA_TYPE =
  'STRUCT(job_info STRUCT(job_id VARCHAR, job_run_id VARCHAR), dashboard_id VARCHAR, legacy_dashboard_id VARCHAR, notebook_id VARCHAR, sql_query_id VARCHAR, dlt_pipeline_info STRUCT(dlt_pipeline_id VARCHAR, dlt_update_id VARCHAR))';

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Keeps the Delta copies of the lineage store current: periodically, before each SQL read of them, and at shutdown. */
export interface LineageSystemTables {
  /** Copies every SQL edge committed so far into the two Delta tables. */
  flush(): Promise<void>;
  start(): void;
  /** Stops the periodic copy and copies what is left. */
  stop(): Promise<void>;
}

/**
 * Creates `system.access.table_lineage` and `column_lineage` when absent and the copier around them. SQL reads of
 * either table copy first, so a query sees every edge recorded before it started; like every system table they are
 * readable by admins and by those granted SELECT on them.
 */
export async function createLineageSystemTables(deps: {
  db: Kysely<LineageTables>;
  dialect: DialectName;
  catalog: Pick<CatalogService, 'schemaExists' | 'createCatalog' | 'createSchema'>;
  tables: Pick<TablesService, 'resolveTable' | 'createManaged'>;
  /** Where the read rules of system tables are registered (SQL checks them for each table it resolves). */
  systemReads: Pick<SystemTableReads, 'register'>;
  authorizer?: Pick<Authorizer, 'authorize'>;
  intervalMs?: number;
  /**
   * Days lineage is kept (`--lineage-retention-days`); undefined keeps it forever. Expired edges leave the store (and so
   * the lineage APIs) and the two Delta tables, by whole UTC days as Databricks' rolling retention does.
   */
  retentionDays?: number | undefined;
  now?: () => number;
  onError?: (err: unknown) => void;
}): Promise<LineageSystemTables> {
  const { db } = deps;
  await ensureSystemSchema(deps.catalog);
  const targets = await Promise.all(
    [false, true].map(async (columnLevel) => {
      const name = columnLevel ? COLUMN_LINEAGE : TABLE_LINEAGE;
      const table = await ensureSystemTable(
        deps.tables,
        name,
        lineageTableSchema(columnLevel),
        ['event_date'],
        columnLevel ? 'Column-level lineage of SQL writes.' : 'Table-level lineage of SQL writes.',
      );
      if (!table.location) throw new Error(`${SYSTEM_CATALOG}.${ACCESS_SCHEMA}.${name} has no storage location`);
      return { name, columnLevel, location: table.location, appId: `weir-lineage-${name}` };
    }),
  );

  type Target = (typeof targets)[number];
  // The two tables copy disjoint rows of the store (entity-level vs column-level SQL edges), so they share `batch`.
  const subset = (t: Target) =>
    db
      .updateTable('lineage_edges')
      .where('kind', '=', 'sql')
      .where('source_column', t.columnLevel ? 'is not' : 'is', null);

  async function writeBatch(t: Target, version: number): Promise<void> {
    const rows = await db
      .selectFrom('lineage_edges')
      .selectAll()
      .where('kind', '=', 'sql')
      .where('source_column', t.columnLevel ? 'is not' : 'is', null)
      .where('batch', '=', version)
      .orderBy('record_id')
      .execute();
    const lines = rows.map((r) => {
      const source = parseEntityId(r.source_id);
      const target = parseEntityId(r.target_id);
      const [sc, ss, st] = source.kind === 'table' ? source.name.split('.') : [];
      const [tc, ts, tt] = target.kind === 'table' ? target.name.split('.') : [];
      return JSON.stringify({
        entity_run_id: r.statement_id,
        source_table_full_name: source.kind === 'table' ? source.name : null,
        source_table_catalog: sc ?? null,
        source_table_schema: ss ?? null,
        source_table_name: st ?? null,
        source_path: source.kind === 'path' ? source.name : null,
        source_type: r.source_type ?? (source.kind === 'path' ? 'PATH' : 'TABLE'),
        source_column_name: r.source_column,
        target_table_full_name: target.kind === 'table' ? target.name : null,
        target_table_catalog: tc ?? null,
        target_table_schema: ts ?? null,
        target_table_name: tt ?? null,
        target_type: r.target_type ?? 'TABLE',
        target_column_name: r.target_column,
        created_by: r.created_by,
        event_time: Number(r.event_time),
        record_id: String(r.record_id),
        event_id: r.event_id,
        statement_id: r.statement_id,
      });
    });
    const file = path.join(os.tmpdir(), `weir-lineage-${randomUUID()}.ndjson`);
    fs.writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
    const v = 'VARCHAR';
    const columns = `{entity_run_id: '${v}', source_table_full_name: '${v}', source_table_catalog: '${v}', source_table_schema: '${v}',
      source_table_name: '${v}', source_path: '${v}', source_type: '${v}', source_column_name: '${v}', target_table_full_name: '${v}',
      target_table_catalog: '${v}', target_table_schema: '${v}', target_table_name: '${v}', target_type: '${v}', target_column_name: '${v}',
      created_by: '${v}', event_time: 'BIGINT', record_id: '${v}', event_id: '${v}', statement_id: '${v}'}`;
    try {
      const query = `SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS metastore_id, '0' AS workspace_id,
          CAST(NULL AS VARCHAR) AS entity_type, CAST(NULL AS VARCHAR) AS entity_id, entity_run_id,
          source_table_full_name, source_table_catalog, source_table_schema, source_table_name, source_path, source_type,
          ${t.columnLevel ? 'source_column_name,' : ''}
          target_table_full_name, target_table_catalog, target_table_schema, target_table_name, CAST(NULL AS VARCHAR) AS target_path, target_type,
          ${t.columnLevel ? 'target_column_name,' : ''}
          created_by, to_timestamp(event_time / 1000.0) AS event_time, CAST(epoch_ms(event_time) AS DATE) AS event_date,
          record_id, event_id, statement_id, CAST(NULL AS ${ENTITY_METADATA_TYPE}) AS entity_metadata, true AS direct_access
        FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = ${columns})`;
      await openDeltaTable(t.location).write(query, { mode: 'append', txn: { appId: t.appId, version } });
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  async function copy(t: Target): Promise<void> {
    let done = (await openDeltaTable(t.location).snapshot()).txns.get(t.appId)?.version ?? 0;
    await subset(t).set({ batch: null }).where('batch', '>', done).execute();
    for (;;) {
      const nth = await db
        .selectFrom('lineage_edges')
        .select('record_id')
        .where('kind', '=', 'sql')
        .where('source_column', t.columnLevel ? 'is not' : 'is', null)
        .where('batch', 'is', null)
        .orderBy('record_id')
        .offset(ROWS_PER_COMMIT - 1)
        .limit(1)
        .executeTakeFirst();
      const version = done + 1;
      let mark = subset(t).set({ batch: version }).where('batch', 'is', null);
      if (nth) mark = mark.where('record_id', '<=', nth.record_id);
      const marked = Number((await mark.executeTakeFirst()).numUpdatedRows);
      if (marked === 0) return;
      await writeBatch(t, version);
      done = version;
      if (!nth) return;
    }
  }

  /**
   * Drops lineage older than the retention window: first from the Delta tables, then from the store. Runs after a copy
   * under the same lock, so a batch being copied is never cut; a kill in between leaves store rows that the next run
   * drops (they are already out of the Delta tables or older than any row the copy would write).
   */
  async function expire(): Promise<void> {
    if (!deps.retentionDays) return;
    const cutoff = new Date((deps.now ?? Date.now)() - deps.retentionDays * DAY_MS).toISOString().slice(0, 10);
    for (const t of targets) {
      const table = openDeltaTable(t.location);
      const expired = await table.delete(`event_date < DATE ${sqlString(cutoff)}`);
      // Expired Parquet files leave the disk once Delta's own retention (7 days of time travel) has passed.
      if (expired.numAffectedRows > 0) await table.vacuum().catch(() => undefined);
    }
    await db
      .deleteFrom('lineage_edges')
      .where('event_time', '<', Date.parse(`${cutoff}T00:00:00Z`))
      .execute();
  }

  async function copyAll(): Promise<void> {
    const run = async () => {
      for (const t of targets) await copy(t);
      await expire();
    };
    if (deps.dialect !== 'postgres') return run();
    // Replicas share the store: an advisory lock held on one connection lets one of them copy at a time.
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${COPY_LOCK})`.execute(conn);
      try {
        await run();
      } finally {
        await sql`select pg_advisory_unlock(${COPY_LOCK})`.execute(conn);
      }
    });
  }

  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  function flush(): Promise<void> {
    // A copy already under way may have started before the caller's edges committed: queue exactly one more behind it.
    if (!running) {
      running = copyAll().finally(() => {
        running = null;
      });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return flush();
      });
    return queued;
  }

  const refresh = { [TABLE_LINEAGE]: flush, [COLUMN_LINEAGE]: flush };
  const authorizer = deps.authorizer;
  guardSystemTableReads(
    deps.systemReads,
    refresh,
    (principal: Principal, t) =>
      principal.isAdmin || (authorizer ? authorizer.authorize(principal, 'SELECT', { type: 'table', fullName: `${t.catalog}.${t.schema}.${t.name}` }) : false),
  );

  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  function schedule(): void {
    if (stopped || !deps.intervalMs) return;
    timer = setTimeout(() => {
      flush()
        .catch((err) => deps.onError?.(err))
        .finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  }

  return {
    flush,
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
