// The durable half of the audit log: every request's event is appended to the staging table `audit_events` in the
// metadata store before its response leaves the server. Appends are group-committed: events arriving while one insert
// is in flight (or within the same event-loop turn) go into the next multi-row insert, so under load one commit carries
// many events and an idle server pays one small insert per request.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Generated, Kysely } from 'kysely';
import type { BulkColumn, MetadataDb, Migration } from '../../platform/db.ts';
import { factsOf } from '../../platform/http.ts';
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

/** Appends audit events durably, group-committing concurrent appends into one multi-row insert. */
export interface AuditWriter {
  /** Resolves once the event is committed to the metadata store. */
  append(event: AuditEvent): Promise<void>;
  /** Resolves when every event appended so far is committed (or failed). */
  drain(): Promise<void>;
  /** Commits issued so far and events they carried (for the benchmark notes and tests). */
  stats(): { commits: number; events: number };
}

/** Creates the group-committing writer over the store's `audit_events` table. */
export function createAuditWriter(store: Pick<MetadataDb, 'db' | 'bulkInsert'>): AuditWriter {
  const db = store.db as Kysely<AuditTables>;
  let next = newBatch();
  let inFlight: Promise<void> | null = null;
  let scheduled = false;
  let commits = 0;
  let events = 0;

  async function write(rows: unknown[][]): Promise<void> {
    // A transaction, not a bare insert: on SQLite it takes Kysely's connection lock, so the rows can never join (and
    // be rolled back with) another request's open transaction; a batch over 200 rows commits as one.
    await db.transaction().execute((trx) => store.bulkInsert(trx, 'audit_events', COLUMNS, rows));
    commits++;
    events += rows.length;
  }

  function kick(): void {
    scheduled = false;
    if (inFlight || next.rows.length === 0) return;
    const batch = next;
    next = newBatch();
    inFlight = write(batch.rows)
      .then(batch.resolve, batch.reject)
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
    stats: () => ({ commits, events }),
  };
}

/** Secrets a request carries in its Authorization header (the bearer token, or a Basic password). */
function headerSecrets(request: FastifyRequest, into: Set<string>): void {
  const auth = request.headers.authorization;
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

/** Builds the event of a finished request from what the HTTP layer recorded about it. */
export function eventOf(request: FastifyRequest, statusCode: number, payload: unknown, now: number): AuditEvent {
  // A catch-all route (the web UI's) that answers "no such endpoint" did not serve the request: audit it as unmatched.
  const unmatched = statusCode === 404 && errorCodeOf(statusCode, payload) === 'ENDPOINT_NOT_FOUND';
  const facts = unmatched ? undefined : factsOf(request);
  const path = String(request.url).split('?')[0] ?? '';
  let names = facts ? routeNames.get(facts.route) : undefined;
  if (facts && !names) {
    names = { service: serviceNameOf(facts.route.tag, path), action: actionNameOf(facts.route.method, facts.route.paths[0] ?? path) };
    routeNames.set(facts.route, names);
  }
  const params = facts?.params ?? {
    ...((request.query ?? {}) as Record<string, unknown>),
    ...((request.params ?? {}) as Record<string, unknown>),
  };
  const secrets = secretValuesOf(params);
  headerSecrets(request, secrets);
  const message = errorMessageOf(statusCode, payload);
  return {
    event_id: randomUUID(),
    event_time: now,
    request_id: cleanText(String(request.id), 128) ?? '',
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
      return JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The audit log could not be written; the request was not acknowledged.' });
    }
  });
}
