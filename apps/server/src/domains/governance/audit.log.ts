// The durable half of the audit log: every request's event is made durable before its response leaves the server, and
// compaction later moves it into `system.access.audit`.
// - SQLite (embedded): the event is appended as one NDJSON line to a journal file next to the database (one write(2):
//   once it returns, the line survives a killed process, the same guarantee as a WAL commit at synchronous=NORMAL, for a
//   tenth of the cost of a commit on the request path). Events of requests that finish in the same event-loop turn share
//   that write, made right after the turn. Compaction seals the journal file and writes the sealed files to Delta
//   itself, so an event is written twice in all (journal, Parquet), never staged in a table in between.
// - PostgreSQL: appends are group-committed into the staging table `audit_events`: events arriving while one insert is
//   in flight (or within the same event-loop turn) go into the next multi-row insert, so under load one statement
//   carries many events; compaction moves them on from there.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Generated, Kysely } from 'kysely';
import type { BulkColumn, MetadataDb, Migration } from '../../platform/db.ts';
import { factsOf, type RequestFacts } from '../../platform/http.ts';
import {
  type AuditEvent,
  actionNameOf,
  cleanText,
  errorCodeOf,
  errorMessageOf,
  requestParamsOf,
  scrub,
  secretValuesOf,
  serviceNameOf,
} from './audit.events.ts';

/** The staging table: events committed but not yet compacted into `system.access.audit`. */
export interface AuditEventsTable extends AuditEvent {
  /** Insertion order (serial); compaction takes events in this order. */
  seq: Generated<number>;
  /** The compaction batch (the Delta txn version) an event was assigned to; null until a compaction picks it. */
  batch: number | null;
}

/** The audit domain's tables. */
export interface AuditTables {
  audit_events: AuditEventsTable;
}

/** Governance range 0750–0799: the audit staging table. */
export const auditMigrations: Migration[] = [
  {
    id: '0750_audit_events',
    async up(db, dialect) {
      const pg = dialect === 'postgres';
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('event_id', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('event_time', 'bigint', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('source_ip_address', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('user_name', 'text')
        .addColumn('service_name', 'text', (c) => c.notNull())
        .addColumn('action_name', 'text', (c) => c.notNull())
        .addColumn('request_params', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('batch', 'bigint')
        .execute();
      await db.schema.createIndex('audit_events_batch').on('audit_events').columns(['batch', 'seq']).execute();
    },
  },
];

const COLUMNS: BulkColumn[] = [
  { name: 'event_id', pgType: 'text' },
  { name: 'event_time', pgType: 'bigint' },
  { name: 'request_id', pgType: 'text' },
  { name: 'source_ip_address', pgType: 'text' },
  { name: 'user_agent', pgType: 'text' },
  { name: 'user_name', pgType: 'text' },
  { name: 'service_name', pgType: 'text' },
  { name: 'action_name', pgType: 'text' },
  { name: 'request_params', pgType: 'text' },
  { name: 'status_code', pgType: 'integer' },
  { name: 'error_message', pgType: 'text' },
];

function rowOf(e: AuditEvent): unknown[] {
  return [
    e.event_id,
    e.event_time,
    e.request_id,
    e.source_ip_address,
    e.user_agent,
    e.user_name,
    e.service_name,
    e.action_name,
    e.request_params,
    e.status_code,
    e.error_message,
  ];
}

interface Batch {
  rows: unknown[][];
  done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every append awaits `done`; this keeps a failed batch with no waiter left from being reported as unhandled.
  done.catch(() => {});
  return { rows: [], done, resolve, reject };
}

/** Appends audit events durably (see the header comment for how, per engine). */
export interface AuditWriter {
  /** Resolves once the event is durable: in the journal (SQLite) or committed to the staging table (PostgreSQL). */
  append(event: AuditEvent): Promise<void>;
  /** Resolves when every event appended so far is durable (written to the journal, or committed to the staging table). */
  drain(): Promise<void>;
  /** Writes what is left and releases the journal (graceful shutdown); its files stay for the next compaction. */
  close(): Promise<void>;
  /** Writes (journal appends or commits) issued so far and events they carried (for the benchmark notes and tests). */
  stats(): { commits: number; events: number };
  /** The journal, when events go to one (a SQLite store with a file); null when they go to the staging table. */
  journal: AuditJournal | null;
}

/**
 * The SQLite audit journal as compaction sees it: files `<base>.<generation>` of NDJSON lines, one event per line in
 * the columns of {@link auditLineOf}; a file compaction has assigned to Delta txn version V is renamed
 * `<base>.<generation>.v<V>` (see audit.compaction.ts).
 */
export interface AuditJournal {
  base: string;
  /** Closes the file taking appends (when it holds any) and hands over every closed file not yet compacted, oldest first. */
  seal(): string[];
  /** The file the next append opens when none is open (a test makes it unopenable to show a failing journal refuses). */
  nextFile(): string;
}

const INSERT_ONE = `insert into audit_events (${COLUMNS.map((c) => `"${c.name}"`).join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`;

/**
 * Creates the writer over the store: a journal next to a SQLite database file, group commits into `audit_events`
 * otherwise. Journal files a killed process left are handed to the first compaction.
 */
export function createAuditWriter(store: Pick<MetadataDb, 'db' | 'bulkInsert' | 'sqlite'>, onError?: (err: unknown) => void): AuditWriter {
  const file = store.sqlite && !store.sqlite.memory && store.sqlite.name ? store.sqlite.name : null;
  if (store.sqlite && file) return createJournalWriter(`${file}-audit-journal`, onError);
  return createGroupCommitWriter(store);
}

/**
 * The event as one NDJSON line in the columns compaction reads (`request_params` is already the JSON text of its map,
 * so it goes in as it is). The journal's lines, and the staging table's rows on their way to Delta.
 */
export function auditLineOf(e: AuditEvent): string {
  return `{"event_id":${JSON.stringify(e.event_id)},"event_time":${Number(e.event_time)},"request_id":${JSON.stringify(e.request_id)},"source_ip_address":${JSON.stringify(e.source_ip_address)},"user_agent":${JSON.stringify(e.user_agent)},"user_name":${JSON.stringify(e.user_name)},"service_name":${JSON.stringify(e.service_name)},"action_name":${JSON.stringify(e.action_name)},"request_params":${e.request_params},"status_code":${Number(e.status_code)},"error_message":${JSON.stringify(e.error_message)}}\n`;
}

/** The name a journal file takes once compaction assigns it to Delta txn version `version`. */
export function journalBatchFile(file: string, version: number): string {
  return `${file}.v${version}`;
}

/**
 * What a name in the journal's folder is: `<base>.<generation>` (version null) or, once assigned to a Delta txn
 * version, `<base>.<generation>.v<version>`; null for any other name.
 */
function journalFileOf(prefix: string, name: string): { generation: number; version: number | null } | null {
  const m = name.startsWith(prefix) ? /^(\d+)(?:\.v(\d+))?$/.exec(name.slice(prefix.length)) : null;
  return m ? { generation: Number(m[1]), version: m[2] === undefined ? null : Number(m[2]) } : null;
}

/** Journal files an earlier compaction assigned a txn version (a kill can leave them behind), with that version. */
export function journalBatches(base: string): { file: string; version: number }[] {
  const dir = path.dirname(base);
  const prefix = `${path.basename(base)}.`;
  const found: { file: string; version: number }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const f = journalFileOf(prefix, name);
    if (f?.version != null) found.push({ file: path.join(dir, name), version: f.version });
  }
  return found;
}

/**
 * The SQLite writer: appends go to `<base>.<generation>`; sealing closes that file (the next append opens the next
 * generation) and compaction writes the sealed files to Delta. Files found at start are sealed from the outset, and
 * generations continue after the highest found, batch files included.
 */
function createJournalWriter(base: string, onError?: (err: unknown) => void): AuditWriter {
  const dir = path.dirname(base);
  const prefix = `${path.basename(base)}.`;
  let sealed: { generation: number; file: string }[] = [];
  let generation = 0;
  for (const name of fs.readdirSync(dir)) {
    const f = journalFileOf(prefix, name);
    if (!f) continue;
    generation = Math.max(generation, f.generation);
    if (f.version === null) sealed.push({ generation: f.generation, file: path.join(dir, name) });
  }
  sealed.sort((x, y) => x.generation - y.generation);
  /** The open file's descriptor; -1 when none is open (the next append opens the next generation). */
  let fd = -1;
  let current = '';
  /** Events in the open file. */
  let lines = 0;
  let closed = false;
  let commits = 0;
  let events = 0;

  function openNext(): void {
    generation++;
    current = `${base}.${generation}`;
    lines = 0;
    fd = fs.openSync(current, 'a', 0o600);
  }

  /** Closes the open file; it goes to compaction unless nothing was ever written to it. */
  function seal(keepEmpty: boolean): void {
    if (fd < 0) return;
    try {
      fs.closeSync(fd);
    } catch (err) {
      onError?.(err);
    }
    fd = -1;
    if (lines > 0 || keepEmpty) sealed.push({ generation, file: current });
    else fs.rmSync(current, { force: true });
  }

  // Events appended in the same event-loop turn are written together, in one write(2), right after the turn; each
  // append resolves once that write returned (a lone request waits for no other: nothing else runs in its turn).
  let waiting: { text: string; count: number; batch: Batch } | null = null;

  function writeWaiting(): void {
    const group = waiting;
    if (!group) return;
    waiting = null;
    try {
      if (fd < 0) openNext();
      const written = fs.writeSync(fd, group.text);
      const length = Buffer.byteLength(group.text);
      if (written !== length) throw new Error(`The audit journal took ${written} of ${length} bytes.`);
    } catch (err) {
      // Appends go on in the next file; a line cut short in this one is dropped by compaction (it was never acknowledged).
      seal(true);
      group.batch.reject(err);
      return;
    }
    lines += group.count;
    commits++;
    events += group.count;
    group.batch.resolve();
  }

  return {
    append(event) {
      if (closed) return Promise.reject(new Error('The audit journal is closed.'));
      if (!waiting) {
        waiting = { text: '', count: 0, batch: newBatch() };
        setImmediate(writeWaiting);
      }
      waiting.text += auditLineOf(event);
      waiting.count++;
      return waiting.batch.done;
    },
    async drain() {
      writeWaiting();
    },
    async close() {
      writeWaiting();
      closed = true;
      seal(false);
    },
    stats: () => ({ commits, events }),
    journal: {
      base,
      seal() {
        writeWaiting();
        seal(false);
        const files = sealed.map((s) => s.file);
        sealed = [];
        return files;
      },
      nextFile: () => `${base}.${generation + 1}`,
    },
  };
}

/**
 * The group-committing writer over the `audit_events` table (PostgreSQL, or a SQLite store without a file).
 *
 * On SQLite a batch is written with a cached prepared statement straight on the connection, synchronously, when no
 * transaction is open on it: the insert then commits on its own (WAL, synchronous=NORMAL: durable against a killed
 * process) before the batch's waiters resume, without Kysely's statement preparation, connection lock and BEGIN/COMMIT
 * round trips, which cost more than the insert for a lone request. When another request's transaction is open on the
 * connection (it spans awaits), a raw insert would join it and could be rolled back with it, so the batch goes through
 * a Kysely transaction instead, which waits for the connection. On PostgreSQL a batch is one INSERT statement, atomic
 * without an explicit transaction.
 */
function createGroupCommitWriter(store: Pick<MetadataDb, 'db' | 'bulkInsert' | 'sqlite'>): AuditWriter {
  const db = store.db as Kysely<AuditTables>;
  const sqlite = store.sqlite;
  const insertOne = sqlite?.prepare(INSERT_ONE);
  const insertMany =
    sqlite && insertOne
      ? sqlite.transaction((rows: unknown[][]) => {
          for (const r of rows) insertOne.run(r);
        })
      : undefined;
  let next = newBatch();
  let inFlight: Promise<void> | null = null;
  let scheduled = false;
  let commits = 0;
  let events = 0;

  /** Writes the rows now when the SQLite connection is free of transactions; false when they must wait for it. */
  function writeNow(rows: unknown[][]): boolean {
    if (!sqlite || !insertOne || !insertMany || sqlite.inTransaction) return false;
    if (rows.length === 1) insertOne.run(rows[0] as unknown[]);
    else insertMany(rows);
    return true;
  }

  async function writeQueued(rows: unknown[][]): Promise<void> {
    if (sqlite) {
      // A transaction, not a bare insert: it takes Kysely's connection lock, so the rows can never join (and be rolled
      // back with) another request's open transaction; a batch over 200 rows commits as one.
      await db.transaction().execute((trx) => store.bulkInsert(trx, 'audit_events', COLUMNS, rows));
    } else {
      await store.bulkInsert(db, 'audit_events', COLUMNS, rows);
    }
  }

  function counted(n: number): void {
    commits++;
    events += n;
  }

  function kick(): void {
    scheduled = false;
    if (inFlight || next.rows.length === 0) return;
    const batch = next;
    next = newBatch();
    try {
      if (writeNow(batch.rows)) {
        counted(batch.rows.length);
        batch.resolve();
        return;
      }
    } catch (err) {
      batch.reject(err);
      return;
    }
    inFlight = writeQueued(batch.rows)
      .then(() => {
        counted(batch.rows.length);
        batch.resolve();
      }, batch.reject)
      .finally(() => {
        inFlight = null;
        if (next.rows.length > 0) kick();
      });
  }

  return {
    append(event) {
      next.rows.push(rowOf(event));
      const done = next.done;
      if (!inFlight && !scheduled) {
        scheduled = true;
        // Events of the same event-loop turn share the insert; while one is in flight the next batch keeps filling.
        setImmediate(kick);
      }
      return done;
    },
    async drain() {
      while (inFlight || next.rows.length > 0 || scheduled) {
        if (inFlight) await inFlight;
        else await new Promise((r) => setImmediate(r));
      }
    },
    async close() {
      await this.drain();
    },
    stats: () => ({ commits, events }),
    journal: null,
  };
}

/** Secrets a request carries in its Authorization header (the bearer token, or a Basic password). */
function headerSecrets(headers: IncomingHttpHeaders, into: Set<string>): void {
  const auth = headers.authorization;
  if (typeof auth !== 'string') return;
  const [scheme, value] = auth.split(/\s+/, 2);
  if (!value) return;
  into.add(value);
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && decoded.length - colon > 4) into.add(decoded.slice(colon + 1));
  }
}

const routeNames = new WeakMap<object, { service: string; action: string }>();

/** The time part of the last id made (requests finishing in the same millisecond share it). */
let idPrefix = { ms: -1, text: '' };

/**
 * A UUIDv7 (RFC 9562: 48-bit millisecond time, then 74 random bits) for `event_id`. Ids that grow with time go into the
 * unique index at its end instead of at random places: staging an event costs about half as much CPU as with a v4 id.
 */
export function timeOrderedId(ms: number): string {
  const t = Math.max(0, Math.trunc(ms));
  if (t !== idPrefix.ms) {
    const time = t.toString(16).padStart(12, '0').slice(-12);
    idPrefix = { ms: t, text: `${time.slice(0, 8)}-${time.slice(8, 12)}-7` };
  }
  // The v4 id's version digit (index 14) becomes 7; its variant and the other random digits are kept.
  return idPrefix.text + randomUUID().slice(15);
}

/** What an audit event is built from, whichever transport answered the request (Fastify, or the invocation fast path). */
export interface AuditedRequest {
  id: string;
  /** The request target as sent (the query is dropped from the event). */
  url: string;
  ip: string | undefined;
  headers: IncomingHttpHeaders;
  /** What the HTTP layer recorded: route, principal, decoded parameters (undefined when no route matched). */
  facts: RequestFacts | undefined;
  /** Query and path parameters, read only when the route recorded none. */
  rawParams?: () => Record<string, unknown>;
}

/** The body a request gets instead of its answer when its audit event could not be stored (status 503). */
export const AUDIT_UNAVAILABLE_BODY = JSON.stringify({
  error_code: 'TEMPORARILY_UNAVAILABLE',
  message: 'The audit log could not be written; the request was not acknowledged.',
});

/** Builds the event of a finished request. */
export function auditEventOf(request: AuditedRequest, statusCode: number, payload: unknown, now: number): AuditEvent {
  // A catch-all route (the web UI's) that answers "no such endpoint" did not serve the request: audit it as unmatched.
  const unmatched = statusCode === 404 && errorCodeOf(statusCode, payload) === 'ENDPOINT_NOT_FOUND';
  const facts = unmatched ? undefined : request.facts;
  const query = request.url.indexOf('?');
  const path = query < 0 ? request.url : request.url.slice(0, query);
  let names = facts ? routeNames.get(facts.route) : undefined;
  if (facts && !names) {
    names = { service: serviceNameOf(facts.route.tag, path), action: actionNameOf(facts.route.method, facts.route.paths[0] ?? path) };
    routeNames.set(facts.route, names);
  }
  const params = facts?.params ?? request.rawParams?.() ?? {};
  const secrets = secretValuesOf(params);
  headerSecrets(request.headers, secrets);
  const message = errorMessageOf(statusCode, payload);
  return {
    event_id: timeOrderedId(now),
    event_time: now,
    request_id: cleanText(request.id, 128) ?? '',
    source_ip_address: cleanText(request.ip, 64),
    user_agent: cleanText(request.headers['user-agent']),
    user_name: facts?.principal ? facts.principal.userName : null,
    service_name: names?.service ?? serviceNameOf(undefined, path),
    action_name: names?.action ?? 'unknownEndpoint',
    request_params: JSON.stringify(requestParamsOf(params, secrets)),
    status_code: statusCode,
    error_message: message === null ? null : scrub(message, secrets),
  };
}

/** Builds the event of a finished request from what the HTTP layer recorded about it. */
export function eventOf(request: FastifyRequest, statusCode: number, payload: unknown, now: number): AuditEvent {
  return auditEventOf(
    {
      id: String(request.id),
      url: String(request.url),
      ip: request.ip,
      headers: request.headers,
      facts: factsOf(request),
      rawParams: () => ({ ...((request.query ?? {}) as Record<string, unknown>), ...((request.params ?? {}) as Record<string, unknown>) }),
    },
    statusCode,
    payload,
    now,
  );
}

/**
 * Registers the `onSend` hook that makes each request's event durable before its response is written. When the
 * event cannot be stored the response becomes 503: an unaudited request is not acknowledged.
 */
export function installAuditHook(app: FastifyInstance, writer: AuditWriter, now: () => number = Date.now): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const event = eventOf(request, reply.statusCode, payload, now());
    try {
      await writer.append(event);
      return payload;
    } catch (err) {
      request.log.error({ err: err instanceof Error ? err.message : String(err) }, 'audit event could not be stored');
      const stream = payload as { destroy?: () => void } | null;
      if (stream && typeof stream.destroy === 'function') stream.destroy();
      reply.code(503).type('application/json');
      return AUDIT_UNAVAILABLE_BODY;
    }
  });
}
