// Moves committed audit events from the staging table into the Delta table `system.access.audit`, and applies retention.
//
// Losing nothing and duplicating nothing when killed between any two steps rests on Delta's `txn` action:
//   1. T = the version of the table's txn for APP_ID (the last batch known to be in Delta).
//   2. Staged rows of batches <= T are already in Delta (a kill came after the commit, before the cleanup): delete them.
//      Rows of batches > T were picked but never committed: release them (batch = null).
//   3. Pick the next batch V = T + 1: mark waiting rows with it, write exactly the rows marked V to Delta in one commit
//      carrying txn(APP_ID, V) — Delta skips a write whose txn version it already holds, and the commit is atomic.
//   4. Delete the staged rows of batch V.
// Rows are marked with an UPDATE instead of a "seq <= watermark" rule because PostgreSQL can commit a lower serial after
// a higher one; an UPDATE only touches rows already committed, and a late row simply waits for the next batch.
//
// The SQLite journal (audit.log.ts) goes to Delta without the staging table, under its own txn app id and the same rule:
//   1. T = the version of the table's txn for JOURNAL_APP_ID.
//   2. Journal files already renamed `<file>.v<V>` with V <= T are in Delta (a kill came before their deletion): delete
//      them. Those with V > T (necessarily T + 1) were assigned but never committed: they join this batch.
//   3. The journal's sealed files are renamed `<file>.v<T+1>` (an atomic step each), then every file of batch T + 1 is
//      written in one commit carrying txn(JOURNAL_APP_ID, T + 1), then deleted.
// A line a kill cut short can only end a file (appends never follow a failed write in the same file); it was never
// acknowledged and is dropped.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDeltaTable } from '@weir/delta';
import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../../platform/db.ts';
import { type AuditJournal, type AuditTables, auditLineOf, journalBatches, journalBatchFile } from './audit.log.ts';

/** The Delta `txn` application id of audit compaction. */
export const AUDIT_TXN_APP_ID = 'weir-audit-compaction';
/** The Delta `txn` application id of the SQLite journal's batches. */
export const AUDIT_JOURNAL_APP_ID = 'weir-audit-journal';
/** Most events written to Delta per commit (bounds memory and the size of one Parquet file). */
const EVENTS_PER_COMMIT = 20_000;
/** A PostgreSQL advisory lock key: one replica compacts at a time. */
const COMPACTION_LOCK = 727_750;
const DAY_MS = 86_400_000;

/** Constants of every event (Databricks fills these from the account and workspace). */
export interface AuditIdentity {
  accountId: string;
  workspaceId: string;
}

/** What one compaction did. */
export interface CompactionResult {
  /** Events moved from the staging table into Delta. */
  moved: number;
  /** Delta commits written. */
  commits: number;
  /** Rows removed from the Delta table by retention. */
  expired: number;
}

/** Compaction of staged audit events into `system.access.audit`, run periodically, at shutdown and before audit reads. */
export interface AuditCompactor {
  /**
   * Runs one compaction after any already running (so everything committed before the call moves). Retention is
   * measured from `at` (default: now).
   */
  compact(at?: number): Promise<CompactionResult>;
  /** Starts the periodic task. */
  start(): void;
  /** Stops the periodic task and runs a last compaction. */
  stop(): Promise<void>;
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Lines in a journal file; a last line a kill cut short is cut off the file first. */
function completeLines(file: string): number {
  const bytes = fs.readFileSync(file);
  const end = bytes.lastIndexOf(0x0a) + 1;
  if (end < bytes.length) fs.truncateSync(file, end);
  let lines = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < end; i = bytes.indexOf(0x0a, i + 1)) lines++;
  return lines;
}

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Creates the compactor over the staging table and the Delta table at `location()`. */
export function createAuditCompactor(deps: {
  db: Kysely<AuditTables>;
  dialect: DialectName;
  /** Directory of the managed Delta table `system.access.audit` (resolved through the tables domain). */
  location: () => Promise<string>;
  identity: AuditIdentity;
  retentionDays: number;
  intervalMs: number;
  now?: () => number;
  onError?: (err: unknown) => void;
  /** Runs before each compaction: makes every event appended so far durable. */
  beforeCompact?: () => Promise<void>;
  /** The writer's SQLite journal, compacted straight into Delta after the staging table. */
  journal?: AuditJournal | null;
}): AuditCompactor {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  let tail: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  /**
   * The batch's events as NDJSON lines in `seq` order. On SQLite the store writes the lines itself in one aggregate
   * (several times cheaper than materializing every row as an object and encoding it again on the event loop);
   * `request_params` is stored as the JSON text of its map and goes into the line as it is.
   */
  async function batchLines(version: number): Promise<{ count: number; text: string }> {
    if (deps.dialect === 'sqlite') {
      const { rows } = await sql<{ count: number; text: string | null }>`select count(*) as count, group_concat(json_object(
          'event_id', event_id, 'event_time', event_time, 'request_id', request_id, 'source_ip_address', source_ip_address,
          'user_agent', user_agent, 'user_name', user_name, 'service_name', service_name, 'action_name', action_name,
          'request_params', json(request_params), 'status_code', status_code, 'error_message', error_message), char(10) order by seq) as text
        from audit_events where batch = ${version}`.execute(db);
      const row = rows[0];
      return { count: Number(row?.count ?? 0), text: row?.text ? `${row.text}\n` : '' };
    }
    const rows = await db.selectFrom('audit_events').selectAll().where('batch', '=', version).orderBy('seq').execute();
    let text = '';
    for (const r of rows) text += auditLineOf(r);
    return { count: rows.length, text };
  }

  /** Appends the events of NDJSON files (lines of {@link auditLineOf}) in one Delta commit carrying `txn`. */
  async function writeEventFiles(location: string, files: string[], txn: { appId: string; version: number }): Promise<void> {
    const { accountId, workspaceId } = deps.identity;
    const query = `SELECT ${sqlString(accountId)} AS account_id, ${sqlString(workspaceId)} AS workspace_id, '2.0' AS "version",
        to_timestamp(event_time / 1000.0) AS event_time, CAST(epoch_ms(event_time) AS DATE) AS event_date,
        source_ip_address, user_agent, CAST(NULL AS VARCHAR) AS session_id,
        {'email': user_name, 'subject_name': user_name} AS user_identity,
        service_name, action_name, request_id, request_params,
        {'status_code': status_code, 'error_message': error_message, 'result': CAST(NULL AS VARCHAR)} AS response,
        'WORKSPACE_LEVEL' AS audit_level, event_id,
        {'run_by': user_name, 'run_as': user_name} AS identity_metadata
      FROM read_json([${files.map(sqlString).join(', ')}], format = 'newline_delimited', columns = {event_id: 'VARCHAR', event_time: 'BIGINT',
        request_id: 'VARCHAR', source_ip_address: 'VARCHAR', user_agent: 'VARCHAR', user_name: 'VARCHAR', service_name: 'VARCHAR',
        action_name: 'VARCHAR', request_params: 'MAP(VARCHAR, VARCHAR)', status_code: 'INTEGER', error_message: 'VARCHAR'})`;
    await openDeltaTable(location).write(query, { mode: 'append', txn });
  }

  async function writeBatch(location: string, version: number): Promise<number> {
    const { count, text } = await batchLines(version);
    if (count === 0) return 0;
    const file = path.join(os.tmpdir(), `weir-audit-${randomUUID()}.ndjson`);
    fs.writeFileSync(file, text);
    try {
      await writeEventFiles(location, [file], { appId: AUDIT_TXN_APP_ID, version });
    } finally {
      fs.rmSync(file, { force: true });
    }
    return count;
  }

  /** Writes the journal's sealed files (and any a kill left assigned) to Delta; returns the events moved (see the header). */
  async function compactJournal(location: string, journal: AuditJournal): Promise<number> {
    const done = (await openDeltaTable(location).snapshot()).txns.get(AUDIT_JOURNAL_APP_ID)?.version ?? 0;
    const version = done + 1;
    const files: string[] = [];
    for (const batch of journalBatches(journal.base)) {
      if (batch.version <= done) fs.rmSync(batch.file, { force: true });
      else files.push(batch.file);
    }
    for (const file of journal.seal()) {
      const assigned = journalBatchFile(file, version);
      fs.renameSync(file, assigned);
      files.push(assigned);
    }
    let count = 0;
    const nonEmpty: string[] = [];
    for (const file of files) {
      const lines = completeLines(file);
      count += lines;
      if (lines > 0) nonEmpty.push(file);
    }
    if (count > 0) await writeEventFiles(location, nonEmpty, { appId: AUDIT_JOURNAL_APP_ID, version });
    for (const file of files) fs.rmSync(file, { force: true });
    return count;
  }

  async function compactUnlocked(at: number): Promise<CompactionResult> {
    const location = await deps.location();
    const table = openDeltaTable(location);
    const result: CompactionResult = { moved: 0, commits: 0, expired: 0 };
    let done = (await table.snapshot()).txns.get(AUDIT_TXN_APP_ID)?.version ?? 0;
    await db.deleteFrom('audit_events').where('batch', '<=', done).execute();
    await db.updateTable('audit_events').set({ batch: null }).where('batch', '>', done).execute();
    for (;;) {
      const nth = await db
        .selectFrom('audit_events')
        .select('seq')
        .where('batch', 'is', null)
        .orderBy('seq')
        .offset(EVENTS_PER_COMMIT - 1)
        .limit(1)
        .executeTakeFirst();
      const version = done + 1;
      let mark = db.updateTable('audit_events').set({ batch: version }).where('batch', 'is', null);
      if (nth) mark = mark.where('seq', '<=', nth.seq);
      const marked = Number((await mark.executeTakeFirst()).numUpdatedRows);
      if (marked === 0) break;
      result.moved += await writeBatch(location, version);
      result.commits++;
      await db.deleteFrom('audit_events').where('batch', '<=', version).execute();
      done = version;
      if (!nth) break;
    }
    if (deps.journal) {
      const moved = await compactJournal(location, deps.journal);
      result.moved += moved;
      if (moved > 0) result.commits++;
    }
    const cutoff = utcDate(at - deps.retentionDays * DAY_MS);
    const expired = await table.delete(`event_date < DATE ${sqlString(cutoff)}`);
    if (!expired.skipped) {
      result.expired = expired.numAffectedRows;
      // Expired Parquet files leave the disk once Delta's own retention (7 days of time travel) has passed.
      await table.vacuum().catch(() => undefined);
    }
    return result;
  }

  async function compactOnce(at: number): Promise<CompactionResult> {
    await deps.beforeCompact?.();
    if (deps.dialect !== 'postgres') return compactUnlocked(at);
    // Replicas share the staging table: an advisory lock held on one connection lets one of them compact at a time.
    return db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${COMPACTION_LOCK})`.execute(conn);
      try {
        return await compactUnlocked(at);
      } finally {
        await sql`select pg_advisory_unlock(${COMPACTION_LOCK})`.execute(conn);
      }
    });
  }

  function compact(at?: number): Promise<CompactionResult> {
    // Runs one after another: a run already under way may have started before the caller's events committed.
    const run = tail.catch(() => undefined).then(() => compactOnce(at ?? now()));
    tail = run;
    return run;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      compact()
        .catch((err) => deps.onError?.(err))
        .finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  }

  return {
    compact,
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await compact();
    },
  };
}
