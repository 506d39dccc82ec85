// The audit log's door for the composition root: the writer (SQLite journal or PostgreSQL staging table), the HTTP hook,
// the `system.access.audit` Delta table and its compaction.

import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { MetadataDb } from '../../platform/db.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { TablesService } from '../tables/index.ts';
import { type AuditCompactor, type AuditIdentity, createAuditCompactor } from './audit.compaction.ts';
import { type AuditedRequest, type AuditTables, type AuditWriter, auditEventOf, createAuditWriter, installAuditHook } from './audit.log.ts';
import type { Authorizer } from './governance.types.ts';
import {
  ACCESS_SCHEMA,
  AUDIT_TABLE_SCHEMA,
  ensureSystemSchema,
  ensureSystemTable,
  guardSystemTableReads,
  SYSTEM_CATALOG,
  type SystemTableReads,
} from './system-tables.ts';

export { AUDIT_JOURNAL_APP_ID, AUDIT_TXN_APP_ID } from './audit.compaction.ts';
export { actionNameOf, serviceNameOf } from './audit.events.ts';
export { AUDIT_UNAVAILABLE_BODY, type AuditedRequest, auditMigrations } from './audit.log.ts';
export { createSystemTableReads, ensureSystemSchema, protectSystemCatalog, SYSTEM_CATALOG } from './system-tables.ts';

/** Name of the audit table inside `system.access`. */
export const AUDIT_TABLE = 'audit';

/** The audit log of a running server. */
export interface AuditLog {
  writer: AuditWriter;
  compactor: AuditCompactor;
  /** Directory of the Delta table `system.access.audit`. */
  location: string;
  /** Registers the HTTP hook that stores each request's event before its response is sent. */
  install(app: FastifyInstance): void;
  /** Stores the event of a request answered outside Fastify (the invocation fast path); resolves once it is durable. */
  record(request: AuditedRequest, statusCode: number, payload: string): Promise<void>;
  /** Starts periodic compaction. */
  start(): void;
  /** Waits for pending events, stops periodic compaction and compacts what is left (graceful shutdown). */
  close(): Promise<void>;
}

/**
 * Creates the `system.access.audit` table when absent and the audit log around it. SQL reads of the table compact
 * first, so a query sees every event committed before it started; only admins may read it until grants are enforced
 * by SQL.
 */
export async function createAuditLog(deps: {
  store: Pick<MetadataDb, 'db' | 'dialect' | 'bulkInsert' | 'sqlite'>;
  catalog: Pick<CatalogService, 'schemaExists' | 'createCatalog' | 'createSchema'>;
  tables: Pick<TablesService, 'resolveTable' | 'createManaged'>;
  /** Where the read rules of system tables are registered (SQL checks them for each table it resolves). */
  systemReads: Pick<SystemTableReads, 'register'>;
  retentionDays: number;
  compactSeconds: number;
  identity?: AuditIdentity;
  /** Unity Catalog grants: SELECT on the table admits non-admins. Without it the table is admin-only. */
  authorizer?: Pick<Authorizer, 'authorize'>;
  now?: () => number;
  onError?: (err: unknown) => void;
}): Promise<AuditLog> {
  await ensureSystemSchema(deps.catalog);
  const table = await ensureSystemTable(deps.tables, AUDIT_TABLE, AUDIT_TABLE_SCHEMA, ['event_date'], 'Every request to Weir, allowed or refused.');
  if (!table.location) throw new Error(`${SYSTEM_CATALOG}.${ACCESS_SCHEMA}.${AUDIT_TABLE} has no storage location`);
  const location = table.location;
  const writer = createAuditWriter(deps.store, deps.onError);
  const compactor = createAuditCompactor({
    db: deps.store.db as Kysely<AuditTables>,
    dialect: deps.store.dialect,
    location: async () => location,
    identity: deps.identity ?? { accountId: 'weir', workspaceId: '1' },
    retentionDays: deps.retentionDays,
    intervalMs: deps.compactSeconds * 1000,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
    beforeCompact: () => writer.drain(),
    journal: writer.journal,
  });
  const authorizer = deps.authorizer;
  const now = deps.now ?? Date.now;
  guardSystemTableReads(
    deps.systemReads,
    {
      [AUDIT_TABLE]: async () => {
        await compactor.compact();
      },
    },
    (principal, t) =>
      principal.isAdmin || (authorizer ? authorizer.authorize(principal, 'SELECT', { type: 'table', fullName: `${t.catalog}.${t.schema}.${t.name}` }) : false),
  );
  return {
    writer,
    compactor,
    location,
    install(app) {
      installAuditHook(app, writer, deps.now);
    },
    record(request, statusCode, payload) {
      return writer.append(auditEventOf(request, statusCode, payload, now()));
    },
    start() {
      compactor.start();
    },
    async close() {
      await writer.drain();
      await compactor.stop();
      await writer.close();
    },
  };
}
