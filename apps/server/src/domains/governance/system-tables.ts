// The `system` catalog: Weir's own tables (audit now, lineage next) live in `system.access`. It is created at start-up
// by the system principal and is read-only to users: only Weir writes it, so what it says can be trusted.

import type { StructField, StructType } from '@weir/delta';
import { AppError } from '../../platform/errors.ts';
import type { Principal, RouteSpec } from '../../platform/http.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { ResolvedTable, TablesService } from '../tables/index.ts';

/** The catalog that holds Weir's system tables. */
export const SYSTEM_CATALOG = 'system';
/** The schema of access-related system tables (audit, lineage). */
export const ACCESS_SCHEMA = 'access';
/** Owner of everything in the `system` catalog (Databricks shows the same name). */
export const SYSTEM_OWNER = 'System user';

/** The principal Weir acts as when it creates and writes system tables. */
export const SYSTEM_PRINCIPAL: Principal = { id: 0, userName: SYSTEM_OWNER, kind: 'user', isAdmin: true };

function isAlreadyExists(err: unknown): boolean {
  return err instanceof AppError && (err.code === 'RESOURCE_ALREADY_EXISTS' || err.code === 'ALREADY_EXISTS');
}

/**
 * Creates the `system` catalog and its `access` schema when absent. Idempotent, and safe when replicas start together
 * (a lost creation race is "already exists", which is success here). Lineage calls it too.
 */
export async function ensureSystemSchema(catalog: Pick<CatalogService, 'schemaExists' | 'createCatalog' | 'createSchema'>): Promise<void> {
  if (await catalog.schemaExists(SYSTEM_CATALOG, ACCESS_SCHEMA)) return;
  try {
    await catalog.createCatalog(SYSTEM_PRINCIPAL, { name: SYSTEM_CATALOG, comment: "Weir's system tables (read-only)." });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  try {
    await catalog.createSchema(SYSTEM_PRINCIPAL, { name: ACCESS_SCHEMA, catalog_name: SYSTEM_CATALOG, comment: 'Audit log and lineage.' });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/**
 * Creates the managed Delta table `system.access.<name>` with the given schema when absent and returns it resolved.
 * The table is owned by the system principal.
 */
export async function ensureSystemTable(
  tables: Pick<TablesService, 'resolveTable' | 'createManaged'>,
  name: string,
  schema: StructType,
  partitionColumns: string[] = [],
  comment?: string,
): Promise<ResolvedTable> {
  try {
    return await tables.resolveTable(SYSTEM_CATALOG, ACCESS_SCHEMA, name);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'RESOURCE_DOES_NOT_EXIST') throw err;
  }
  try {
    await tables.createManaged(SYSTEM_PRINCIPAL, {
      catalog: SYSTEM_CATALOG,
      schema: ACCESS_SCHEMA,
      name,
      deltaSchema: schema,
      partitionColumns,
      ...(comment ? { comment } : {}),
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  return tables.resolveTable(SYSTEM_CATALOG, ACCESS_SCHEMA, name);
}

const field = (name: string, type: StructField['type']): StructField => ({ name, type, nullable: true, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });

/** `system.access.audit` as Databricks documents it (column names, order and types). */
export const AUDIT_TABLE_SCHEMA: StructType = struct(
  field('account_id', 'string'),
  field('workspace_id', 'string'),
  field('version', 'string'),
  field('event_time', 'timestamp'),
  field('event_date', 'date'),
  field('source_ip_address', 'string'),
  field('user_agent', 'string'),
  field('session_id', 'string'),
  field('user_identity', struct(field('email', 'string'), field('subject_name', 'string'))),
  field('service_name', 'string'),
  field('action_name', 'string'),
  field('request_id', 'string'),
  field('request_params', { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true }),
  field('response', struct(field('status_code', 'integer'), field('error_message', 'string'), field('result', 'string'))),
  field('audit_level', 'string'),
  field('event_id', 'string'),
  field('identity_metadata', struct(field('run_by', 'string'), field('run_as', 'string'))),
);

/** Whether a catalog name (any case) is the system catalog. */
function isSystem(name: unknown): boolean {
  return typeof name === 'string' && name.trim().toLowerCase() === SYSTEM_CATALOG;
}

function namesSystem(fullName: unknown): boolean {
  return typeof fullName === 'string' && isSystem(fullName.split('.')[0]);
}

const LEADING_COMMENTS = /^\s*(?:\/\*[\s\S]*?\*\/\s*|--[^\n]*\n\s*)*/;
const WRITE_STATEMENT = /^(insert|update|delete|merge|drop|create|alter|truncate|copy|replace|comment)\b/i;
const SYSTEM_REFERENCE = /(^|[^\w$."`])["`]?system["`]?\s*\./i;
const PART = '(?:`[^`]+`|"[^"]+"|[\\w$]+)';
/** The object a write statement targets, and what kind of name it is. */
const WRITE_TARGET = new RegExp(
  '^(?:(insert\\s+(?:into|overwrite)(?:\\s+table)?|update|delete\\s+from|merge\\s+into|truncate(?:\\s+table)?|copy\\s+into)' +
    '|(?:create|replace)(?:\\s+or\\s+replace)?(?:\\s+(?:temporary|temp|external|materialized|managed))?\\s+(table|view|schema|database|catalog|volume|function)(?:\\s+if\\s+not\\s+exists)?' +
    '|drop\\s+(table|view|schema|database|catalog|volume|function)(?:\\s+if\\s+exists)?' +
    '|alter\\s+(table|view|schema|database|catalog|volume)' +
    '|comment\\s+on\\s+(table|schema|database|catalog|volume|column))' +
    `\\s+(${PART}(?:\\s*\\.\\s*${PART})*)`,
  'i',
);

/** The catalog a SQL write statement writes into (its target's first name part, defaults applied), or undefined when unparsed. */
function sqlWriteCatalog(statement: string, defaultCatalog: string): string | undefined {
  const text = statement.replace(LEADING_COMMENTS, '');
  const m = WRITE_TARGET.exec(text);
  if (!m) return undefined;
  const kind = (m[2] ?? m[3] ?? m[4] ?? m[5] ?? 'table').toLowerCase();
  const parts = (m[6] as string).split(/\s*\.\s*/).map((p) => p.replace(/^[`"]|[`"]$/g, ''));
  if (kind === 'catalog') return parts[0];
  if (kind === 'schema' || kind === 'database') return parts.length >= 2 ? parts[0] : defaultCatalog;
  if (kind === 'column') return parts.length >= 4 ? parts[0] : defaultCatalog;
  return parts.length >= 3 ? parts[0] : defaultCatalog;
}

/** Why a request would change something in the `system` catalog, or null when it does not. */
export function systemWriteRefusal(route: Pick<RouteSpec, 'method' | 'paths'>, input: Record<string, unknown>): string | null {
  const path = route.paths[0] ?? '';
  if (route.method === 'GET') return null;
  if (path === '/api/2.0/sql/statements') {
    const text = typeof input.statement === 'string' ? input.statement : '';
    if (!WRITE_STATEMENT.test(text.replace(LEADING_COMMENTS, ''))) return null;
    const defaultCatalog = typeof input.catalog === 'string' && input.catalog !== '' ? input.catalog : 'main';
    const target = sqlWriteCatalog(text, defaultCatalog);
    // A write whose target could not be read is refused when it names `system` at all (reading from it is fine).
    const writesSystem = target === undefined ? SYSTEM_REFERENCE.test(text) || isSystem(defaultCatalog) : isSystem(target);
    return writesSystem ? 'The system catalog is read-only: Weir alone writes system tables.' : null;
  }
  // Grants on system tables are how admins share them; everything else under these prefixes changes the catalog.
  if (path.includes('/permissions/')) return null;
  const uc = path.startsWith('/api/2.1/unity-catalog/');
  const files = path.startsWith('/api/2.0/fs/');
  if (!uc && !files) return null;
  if (files) {
    const p = typeof input.path === 'string' ? input.path : typeof input['*'] === 'string' ? (input['*'] as string) : '';
    return /^\/?Volumes\/system\//i.test(p) ? 'The system catalog is read-only: files cannot be written there.' : null;
  }
  if (path.endsWith('/catalogs') ? isSystem(input.name) : path.includes('/catalogs/') && isSystem(input.name)) {
    return 'The system catalog is managed by Weir and cannot be created, changed or dropped.';
  }
  // Volumes, functions and models are addressed by their full name in `name`.
  const fullNameInName = typeof input.name === 'string' && input.name.includes('.') && namesSystem(input.name);
  if (isSystem(input.catalog_name) || namesSystem(input.full_name) || fullNameInName) {
    return 'The system catalog is read-only: Weir alone creates, changes and drops its schemas and tables.';
  }
  const info = input.function_info as Record<string, unknown> | undefined;
  if (info && typeof info === 'object' && isSystem(info.catalog_name)) return 'The system catalog is read-only.';
  return null;
}

/**
 * Wraps each route so requests that would write into the `system` catalog are refused with 403 before the handler
 * runs. SQL statements are judged by their leading keyword and any `system.` name (or `catalog: system`), which errs
 * on the side of refusing; the SQL authorizer checks the resolved names as well once grants are enforced there.
 */
export function protectSystemCatalog(routes: RouteSpec[]): RouteSpec[] {
  return routes.map((route) => {
    if (route.method === 'GET') return route;
    const handler = route.handler;
    return {
      ...route,
      handler(input, ctx) {
        const refusal = systemWriteRefusal(route, input as Record<string, unknown>);
        if (refusal) throw new AppError('PERMISSION_DENIED', refusal);
        return handler(input, ctx);
      },
    };
  });
}

/** Checks a table SQL resolved for a principal: refuses a system table the principal may not read, and brings it up to date. */
export type SystemTableReadGuard = (principal: Principal, table: ResolvedTable) => Promise<void>;

/** Who may read Weir's system tables from SQL, and what brings each up to date first; filled in by the subsystems that write them. */
export interface SystemTableReads {
  /** Adds a subsystem's tables (by name under `system.access`) with what brings each up to date, and who may read system tables. */
  register(refresh: Record<string, () => Promise<void>>, mayRead: (principal: Principal, table: ResolvedTable) => boolean | Promise<boolean>): void;
  /** The check SQL runs on every table it resolves for a principal (tables outside `system` pass untouched). */
  check: SystemTableReadGuard;
}

/**
 * Creates the registry of system-table read rules. SQL receives its `check` from the composition root and calls it with
 * the statement's principal, so no request-scoped context is needed to know who is reading.
 */
export function createSystemTableReads(): SystemTableReads {
  const rules: { refresh: Record<string, () => Promise<void>>; mayRead: (principal: Principal, table: ResolvedTable) => boolean | Promise<boolean> }[] = [];
  return {
    register(refresh, mayRead) {
      rules.push({ refresh, mayRead });
    },
    async check(principal, table) {
      if (!isSystem(table.catalog)) return;
      // Every registered rule must admit the reader (each subsystem guards all of `system`, not only its own tables).
      for (const rule of rules) {
        if (!(await rule.mayRead(principal, table))) {
          throw new AppError('PERMISSION_DENIED', `User does not have SELECT on table '${table.catalog}.${table.schema}.${table.name}'.`);
        }
      }
      for (const rule of rules) {
        const bringUpToDate = table.schema === ACCESS_SCHEMA ? rule.refresh[table.name] : undefined;
        if (bringUpToDate) await bringUpToDate();
      }
    },
  };
}

/**
 * Registers a subsystem's system tables: SQL reading one first brings it up to date (`refresh`, e.g. compaction of
 * committed audit events), and only callers `mayRead` admits read any system table (by default admins only).
 */
export function guardSystemTableReads(
  reads: Pick<SystemTableReads, 'register'>,
  refresh: Record<string, () => Promise<void>>,
  mayRead: (principal: Principal, table: ResolvedTable) => boolean | Promise<boolean> = (p) => p.isAdmin,
): void {
  reads.register(refresh, mayRead);
}
