import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { sql as sqlContracts } from '@weir/contracts';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { AppError, invalidParameter } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { ResolvedTable, TablesService } from '../tables/index.ts';
import { arrowStream } from './sql.arrow.ts';
import { installPrincipalMacros, type SqlAccess } from './sql.authorize.ts';
import type { SqlEngine } from './sql.engine.ts';
import { DEFAULT_CATALOG, DEFAULT_SCHEMA } from './sql.resolve.ts';
import { createRowSecurityStore } from './sql.row-security.ts';
import { type ExecContext, executeStatement, isQuery, type Outcome } from './sql.statements.ts';
import type { SqlTables } from './sql.tables.ts';
import { convertBackticks, maskSql, SqlError, singleStatement, substituteParameters, toSqlError } from './sql.text.ts';

type State = sqlContracts.StatementState;

/** Rows are cut into chunks of about this many bytes of JSON so no single response gets huge. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const KEPT_STATEMENTS = 64;
/** External links stay valid this long (Databricks promises at most 15 minutes). */
const LINK_LIFETIME_MS = 15 * 60 * 1000;

type Format = 'JSON_ARRAY' | 'ARROW_STREAM';
type Disposition = 'INLINE' | 'EXTERNAL_LINKS';

/** Thrown when a statement first touches a location the engine could not reach; it runs again on a wider engine. */
class EngineWidened extends Error {}

interface Chunk {
  chunk_index: number;
  row_offset: number;
  row_count: number;
  data_array: (string | null)[][];
  /** The chunk as its format's bytes (Arrow IPC stream, or JSON text for EXTERNAL_LINKS); then data_array is emptied. */
  bytes?: Uint8Array;
}

interface Statement {
  id: string;
  principalId: number;
  format: Format;
  disposition: Disposition;
  /** Signs external links: they are fetched without the caller's token, like presigned URLs. */
  linkKey: Buffer;
  state: State;
  error?: { error_code: string; message: string };
  outcome?: { columns: Outcome['columns']; chunks: Chunk[]; totalRows: number; truncated: boolean };
  con?: DuckDBConnection;
  done: Promise<void>;
  finishedAt?: number;
}

function parseWaitTimeout(text: string | undefined): number {
  if (text === undefined) return 10;
  const m = /^(\d+)s$/.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n === 0 || (n >= 5 && n <= 50))) throw invalidParameter(`wait_timeout must be 0s or between 5s and 50s, got '${text}'.`);
  return n;
}

function chunkRows(rows: (string | null)[][]): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    for (const v of rows[i] as (string | null)[]) bytes += v === null ? 5 : v.length + 3;
    if (bytes >= CHUNK_BYTES || i === rows.length - 1) {
      chunks.push({ chunk_index: chunks.length, row_offset: start, row_count: i + 1 - start, data_array: rows.slice(start, i + 1) });
      start = i + 1;
      bytes = 0;
    }
  }
  if (chunks.length === 0) chunks.push({ chunk_index: 0, row_offset: 0, row_count: 0, data_array: [] });
  return chunks;
}

/** SQL: statement execution over the catalog's tables with DuckDB. */
export type SqlService = ReturnType<typeof createSqlService>;

/** Creates the SQL service. */
export function createSqlService(deps: {
  db: Kysely<SqlTables>;
  catalog: CatalogService;
  tables: TablesService;
  engine: SqlEngine;
  /** Who may read and write what (grants, ownership, groups). */
  access: SqlAccess;
  /** Where table writes are published (lineage records them before the statement reports success). */
  events?: Pick<EventBus, 'publish'>;
  /** Checks each table a statement resolves for its principal (system tables: who may read, bring up to date). */
  readGuard?: (principal: Principal, table: ResolvedTable) => Promise<void>;
  now?: () => number;
}) {
  const { db, catalog, tables, engine, access } = deps;
  const rowSecurity = createRowSecurityStore(db);
  const now = deps.now ?? Date.now;
  const statements = new Map<string, Statement>();

  const copyLoads: ExecContext['copyLoads'] = {
    async loaded(tableId, files) {
      const out = new Set<string>();
      for (let i = 0; i < files.length; i += 500) {
        const part = files.slice(i, i + 500);
        const rows = await db.selectFrom('sql_copy_loads').select('file_path').where('table_id', '=', tableId).where('file_path', 'in', part).execute();
        for (const r of rows) out.add(r.file_path);
      }
      return out;
    },
    async record(tableId, files) {
      const at = now();
      for (const f of files) {
        await db
          .insertInto('sql_copy_loads')
          .values({ table_id: tableId, file_path: f.path, size: f.size, modified: Math.floor(f.modified), loaded_at: at })
          .onConflict((oc) => oc.columns(['table_id', 'file_path']).doUpdateSet({ size: f.size, modified: Math.floor(f.modified), loaded_at: at }))
          .execute();
      }
    },
  };

  function evict(): void {
    // Statements are kept in the order they started; the oldest finished ones go first (no sort on every request).
    let excess = statements.size - KEPT_STATEMENTS;
    for (const s of statements.values()) {
      if (excess <= 0) return;
      if (s.finishedAt === undefined) continue;
      statements.delete(s.id);
      excess--;
    }
  }

  /** The tables service as a statement of `principal` sees it: every table it resolves passes the read guard first. */
  function tablesReadBy(principal: Principal): TablesService {
    const guard = deps.readGuard;
    if (!guard) return tables;
    return {
      ...tables,
      async resolveTable(c, s, t) {
        const table = await tables.resolveTable(c, s, t);
        await guard(principal, table);
        return table;
      },
    };
  }

  /** Runs the statement on a clean connection; re-runs once if the engine had to widen its allowed directories. */
  async function run(st: Statement, principal: Principal, text: string, defaults: { catalog: string; schema: string }, rowLimit: number | undefined) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const con = await engine.connect();
      st.con = con;
      let macros: Promise<void> | undefined;
      let reusable = false;
      const ctx: ExecContext = {
        con,
        principal,
        catalog,
        tables: tablesReadBy(principal),
        reads: [],
        directReads: [],
        lineage: [],
        counter: { n: 0 },
        defaults,
        copyLoads,
        access,
        rowSecurity,
        principalMacros: () => (macros ??= installPrincipalMacros(con, access, principal)),
        checkCanceled() {
          if ((st.state as State) === 'CANCELED') throw new SqlError('CANCELLED', 'The statement was canceled.');
        },
        async spare() {
          const spareCon = await engine.connect();
          return { con: spareCon, release: (clean: boolean) => engine.release(spareCon, clean) };
        },
        async allow(dir) {
          if (await engine.allow(dir)) throw new EngineWidened();
        },
      };
      try {
        if ((st.state as State) === 'CANCELED') return;
        st.state = 'RUNNING';
        const outcome = await executeStatement(ctx, text);
        // Published even when the statement was canceled meanwhile: its write has committed.
        for (const w of ctx.lineage ?? []) {
          await deps.events?.publish('sql.table.written', {
            ...w,
            statementId: st.id,
            userName: principal.userName,
            defaults,
            reads: (ctx.directReads ?? []).map((t) => ({ catalog: t.catalog, schema: t.schema, name: t.name, type: t.type })),
          });
        }
        if ((st.state as State) === 'CANCELED') return;
        let rows = outcome.rows;
        const truncated = rowLimit !== undefined && rows.length > rowLimit;
        if (truncated) rows = rows.slice(0, rowLimit);
        const chunks = chunkRows(rows);
        if (st.format === 'ARROW_STREAM' || st.disposition === 'EXTERNAL_LINKS') {
          for (const c of chunks) {
            c.bytes = st.format === 'ARROW_STREAM' ? await arrowStream(outcome.columns, c.data_array) : new TextEncoder().encode(JSON.stringify(c.data_array));
            c.data_array = [];
          }
        }
        st.outcome = { columns: outcome.columns, chunks, totalRows: rows.length, truncated };
        st.state = 'SUCCEEDED';
        // Every temp view and macro a statement creates is numbered by its counter, and only queries keep to that.
        reusable = isQuery(text) && ctx.counter.n === 0 && macros === undefined && !/setseed/i.test(text);
        return;
      } catch (err) {
        if (err instanceof EngineWidened) continue;
        if ((st.state as State) === 'CANCELED') return;
        const e = toSqlError(err);
        st.state = 'FAILED';
        st.error = { error_code: e.errorCode, message: e.message };
        return;
      } finally {
        st.con = undefined;
        engine.release(con, reusable && (st.state as State) === 'SUCCEEDED');
      }
    }
    st.state = 'FAILED';
    st.error = { error_code: 'INTERNAL_ERROR', message: 'The SQL engine could not be prepared for this statement.' };
  }

  function response(st: Statement, origin: string) {
    const body: Record<string, unknown> = { statement_id: st.id, status: { state: st.state, ...(st.error ? { error: st.error } : {}) } };
    if (st.state === 'SUCCEEDED' && st.outcome) {
      const o = st.outcome;
      body.manifest = {
        format: st.format,
        schema: { column_count: o.columns.length, columns: o.columns },
        total_chunk_count: o.chunks.length,
        chunks: o.chunks.map((c) => ({
          chunk_index: c.chunk_index,
          row_offset: c.row_offset,
          row_count: c.row_count,
          ...(c.bytes ? { byte_count: c.bytes.length } : {}),
        })),
        total_row_count: o.totalRows,
        ...(o.chunks.some((c) => c.bytes) ? { total_byte_count: o.chunks.reduce((n, c) => n + (c.bytes?.length ?? 0), 0) } : {}),
        truncated: o.truncated,
      };
      const first = o.chunks[0];
      if (first) body.result = chunkWire(st, first, origin);
    }
    return body;
  }

  function chunkWire(st: Statement, c: Chunk, origin: string) {
    const total = st.outcome?.chunks.length ?? 0;
    const position = { chunk_index: c.chunk_index, row_offset: c.row_offset, row_count: c.row_count };
    const next =
      c.chunk_index + 1 < total
        ? { next_chunk_index: c.chunk_index + 1, next_chunk_internal_link: `/api/2.0/sql/statements/${st.id}/result/chunks/${c.chunk_index + 1}` }
        : {};
    if (st.disposition === 'EXTERNAL_LINKS') {
      const expires = now() + LINK_LIFETIME_MS;
      const signature = linkSignature(st, c.chunk_index, expires);
      const link = {
        ...position,
        byte_count: c.bytes?.length ?? 0,
        external_link: `${origin}/api/2.0/sql/statements/${st.id}/result/chunks/${c.chunk_index}/download?expires=${expires}&signature=${signature}`,
        expiration: new Date(expires).toISOString(),
        ...next,
      };
      return { external_links: [link] };
    }
    if (st.format === 'ARROW_STREAM') return { ...position, attachment: Buffer.from(c.bytes ?? new Uint8Array()).toString('base64'), ...next };
    return { ...position, ...(c.row_count > 0 ? { data_array: c.data_array } : {}), ...next };
  }

  function linkSignature(st: Statement, index: number, expires: number): string {
    return createHmac('sha256', st.linkKey).update(`${index}:${expires}`).digest('hex');
  }

  function find(principal: Principal, id: string): Statement {
    const st = statements.get(id);
    if (!st || (st.principalId !== principal.id && !principal.isAdmin))
      throw new AppError('RESOURCE_DOES_NOT_EXIST', `Statement '${id.slice(0, 100)}' does not exist.`);
    return st;
  }

  return {
    /** POST /api/2.0/sql/statements: runs synchronously up to wait_timeout, then continues (or cancels) in the background. */
    async execute(principal: Principal, input: z.output<typeof sqlContracts.ExecuteStatement>, origin = '') {
      const wait = parseWaitTimeout(input.wait_timeout);
      const format = input.format ?? 'JSON_ARRAY';
      if (format === 'CSV') throw invalidParameter('format CSV is not supported; use JSON_ARRAY or ARROW_STREAM.');
      if (input.row_limit !== undefined && input.row_limit < 0) throw invalidParameter('row_limit must not be negative.');
      const id = `01${randomUUID().replaceAll('-', '').slice(0, 30)}`;
      let resolveDone = () => {};
      const st: Statement = {
        id,
        principalId: principal.id,
        format,
        disposition: input.disposition ?? 'INLINE',
        linkKey: randomBytes(32),
        state: 'PENDING',
        done: new Promise<void>((r) => (resolveDone = r)),
      };
      statements.set(id, st);
      evict();
      const defaults = { catalog: input.catalog || DEFAULT_CATALOG, schema: input.schema || DEFAULT_SCHEMA };
      let text: string;
      try {
        text = singleStatement(substituteParameters(input.statement, input.parameters ?? []));
        text = convertBackticks(text, maskSql(text));
      } catch (err) {
        const e = err instanceof SqlError ? err : toSqlError(err);
        st.state = 'FAILED';
        st.error = { error_code: e.errorCode, message: e.message };
        st.finishedAt = now();
        resolveDone();
        return response(st, origin);
      }
      void run(st, principal, text, defaults, input.row_limit).finally(() => {
        st.finishedAt = now();
        resolveDone();
      });
      if (wait > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([st.done, new Promise<void>((r) => (timer = setTimeout(r, wait * 1000)))]);
        clearTimeout(timer);
        if (st.finishedAt === undefined && input.on_wait_timeout === 'CANCEL') {
          st.state = 'CANCELED';
          st.con?.interrupt();
        }
      }
      return response(st, origin);
    },
    /** GET .../statements/{id} */
    get(principal: Principal, id: string, origin: string) {
      return response(find(principal, id), origin);
    },
    /** GET .../statements/{id}/result/chunks/{n} */
    chunk(principal: Principal, id: string, index: number, origin: string) {
      const st = find(principal, id);
      if (st.state !== 'SUCCEEDED' || !st.outcome) throw new AppError('INVALID_PARAMETER_VALUE', `Statement ${id} has no result (state ${st.state}).`);
      const c = st.outcome.chunks[index];
      if (!c) throw new AppError('INVALID_PARAMETER_VALUE', `Chunk ${index} does not exist (the result has ${st.outcome.chunks.length}).`);
      return chunkWire(st, c, origin);
    },
    /**
     * GET .../chunks/{n}/download?expires=&signature=: the bytes behind an external link. The signature stands in for
     * the caller's token (clients fetch external links without Databricks credentials) and expires like Databricks' links.
     */
    download(id: string, index: number, expires: number, signature: string): { bytes: Uint8Array; contentType: string } {
      const st = statements.get(id);
      const given = Buffer.from(signature);
      const expected = Buffer.from(st ? linkSignature(st, index, expires) : '');
      const valid = st !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
      if (!st || !valid || st.disposition !== 'EXTERNAL_LINKS')
        throw new AppError('RESOURCE_DOES_NOT_EXIST', `External link for statement '${id.slice(0, 100)}' does not exist.`);
      if (now() > expires) throw new AppError('PERMISSION_DENIED', 'The external link has expired; fetch the chunk again for a fresh link.');
      const c = st.outcome?.chunks[index];
      if (st.state !== 'SUCCEEDED' || !c?.bytes)
        throw new AppError('RESOURCE_DOES_NOT_EXIST', `Chunk ${index} of statement '${id.slice(0, 100)}' does not exist.`);
      return { bytes: c.bytes, contentType: st.format === 'ARROW_STREAM' ? 'application/vnd.apache.arrow.stream' : 'application/json' };
    },
    /** POST .../statements/{id}/cancel */
    cancel(principal: Principal, id: string) {
      const st = find(principal, id);
      if (st.state === 'PENDING' || st.state === 'RUNNING') {
        st.state = 'CANCELED';
        st.con?.interrupt();
      }
      return {};
    },
    /** Runs a statement to completion and returns its rows (the CLI and tests use the HTTP API; this serves other domains). */
    async query(principal: Principal, statement: string): Promise<Outcome> {
      const st = (await this.execute(principal, { statement, wait_timeout: '50s' })) as { statement_id: string };
      const held = statements.get(st.statement_id) as Statement;
      await held.done;
      if (held.state !== 'SUCCEEDED' || !held.outcome) throw new AppError('INVALID_PARAMETER_VALUE', held.error?.message ?? `Statement ${held.state}`);
      return { columns: held.outcome.columns, rows: held.outcome.chunks.flatMap((c) => c.data_array) };
    },
    close(): void {
      engine.close();
    },
  };
}
