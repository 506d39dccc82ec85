import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Compilable, CompiledQuery, Kysely, PostgresDialect, type RawBuilder, SqliteDialect, sql } from 'kysely';
import pg from 'pg';

/** Which SQL engine holds the metadata. */
export type DialectName = 'sqlite' | 'postgres';

/** The metadata store: a Kysely handle plus what differs between SQLite and PostgreSQL. */
export interface MetadataDb {
  /** Untyped handle; each domain narrows it to its own tables. */
  db: Kysely<any>;
  dialect: DialectName;
  /** Inserts many rows in as few statements as the engine allows (see {@link createBulkInserter}). */
  bulkInsert: BulkInserter;
  /** The SQLite connection behind `db` (absent on PostgreSQL), for hot paths that run a cached prepared statement. */
  sqlite?: Database.Database;
  close(): Promise<void>;
}

/** Inserts rows (each an array in `columns` order) into `table`, skipping rows whose key already exists. */
export type BulkInserter = (q: Kysely<any>, table: string, columns: BulkColumn[], rows: unknown[][]) => Promise<void>;

/** A column of a bulk insert and its PostgreSQL array type. */
export interface BulkColumn {
  name: string;
  pgType: 'text' | 'bigint' | 'float8' | 'smallint' | 'integer';
}

const SQLITE_ROWS_PER_STATEMENT = 200;

/**
 * The hot path of metric logging. SQLite: a cached prepared multi-row INSERT run on the same connection (so it joins
 * the caller's Kysely transaction) — preparing a fresh 6,000-parameter statement per batch cost more than the insert.
 * PostgreSQL: one INSERT ... SELECT FROM unnest(arrays), six parameters whatever the row count.
 */
export function createBulkInserter(dialect: DialectName, sqlite?: Database.Database): BulkInserter {
  const statements = new Map<string, Database.Statement>();
  return async (q, table, columns, rows) => {
    if (rows.length === 0) return;
    const names = columns.map((c) => `"${c.name}"`).join(', ');
    if (dialect === 'postgres' || !sqlite) {
      const arrays = columns.map((_, i) => rows.map((r) => r[i]));
      const selects = columns.map((c, i) => sql`${arrays[i]}::${sql.raw(c.pgType)}[]`);
      await sql`insert into ${sql.table(table)} (${sql.raw(names)}) select * from unnest(${sql.join(selects)}) on conflict do nothing`.execute(q);
      return;
    }
    const one = `(${columns.map(() => '?').join(', ')})`;
    for (let start = 0; start < rows.length; start += SQLITE_ROWS_PER_STATEMENT) {
      const part = rows.slice(start, start + SQLITE_ROWS_PER_STATEMENT);
      const key = `${table}:${names}:${part.length}`;
      let stmt = statements.get(key);
      if (!stmt) {
        stmt = sqlite.prepare(`insert or ignore into "${table}" (${names}) values ${Array.from({ length: part.length }, () => one).join(', ')}`);
        statements.set(key, stmt);
      }
      stmt.run(part.flat());
    }
  };
}

/** One schema change, owned by a domain. Ids sort in the order they must run. */
export interface Migration {
  id: string;
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

/** Opens SQLite at `<dataDir>/weir.db` (WAL) or PostgreSQL when a URL is given. */
export function openMetadataDb(opts: { dataDir: string; metadataUrl?: string | undefined }): MetadataDb {
  if (opts.metadataUrl) {
    const pool = new pg.Pool({
      connectionString: opts.metadataUrl,
      max: 10,
      types: {
        getTypeParser(oid: number, format?: 'text' | 'binary') {
          // int8 and numeric come back as strings by default; Weir's int64 values are ms timestamps and steps.
          if (oid === 20) return (v: string) => Number(v);
          return pg.types.getTypeParser(oid, format);
        },
      },
    });
    // An idle connection the server drops (a restart, an admin terminating it) is emitted on the pool; without a
    // listener node-postgres would take the whole process down. The pool replaces the connection on next use.
    pool.on('error', (err) => {
      process.emitWarning(`PostgreSQL connection lost: ${err.message}`);
    });
    const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', bulkInsert: createBulkInserter('postgres'), close: () => db.destroy() };
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = new Database(path.join(opts.dataDir, 'weir.db'));
  file.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a killed process loses nothing committed; only an OS crash could drop the last commits.
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('cache_size = -16384');
  const db = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(file) }) });
  return { db, dialect: 'sqlite', bulkInsert: createBulkInserter('sqlite', file), sqlite: file, close: () => db.destroy() };
}

/** How many distinct SQL texts keep their prepared statement (Kysely's texts repeat; `in (...)` lists vary). */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * The SQLite connection as Kysely sees it, with prepared statements kept by SQL text. Kysely prepares every query
 * afresh (about 50–100 µs each, several per request); a statement is reusable once it has run (better-sqlite3 runs
 * one query at a time per connection), and SQLite re-prepares it by itself after a schema change.
 */
function withStatementCache(file: Database.Database): { prepare(sql: string): Database.Statement; close(): void } {
  const cache = new Map<string, Database.Statement>();
  return {
    prepare(text) {
      const hit = cache.get(text);
      if (hit) return hit;
      const statement = file.prepare(text);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(text, statement);
      return statement;
    },
    close() {
      cache.clear();
      file.close();
    },
  };
}

/**
 * A query built and compiled once per database, then run with new values. Building and compiling a Kysely query costs
 * more than SQLite takes to run it, which shows on paths every request takes (resolving a table for each statement).
 * `build` receives marker values in place of the named ones; the compiled parameters are matched back to the names.
 */
export function reusableQuery<K extends string, O>(names: readonly K[], build: (db: Kysely<any>, values: Record<K, string>) => Compilable<O>) {
  const compiled = new WeakMap<Kysely<any>, { sql: string; slots: K[] }>();
  return async (db: Kysely<any>, values: Record<K, string>): Promise<O[]> => {
    let query = compiled.get(db);
    if (!query) {
      const markers = Object.fromEntries(names.map((n) => [n, `\0${n}\0`])) as Record<K, string>;
      const c = build(db, markers).compile();
      const slots = c.parameters.map((p) => {
        const name = names.find((n) => markers[n] === p);
        if (name === undefined) throw new Error(`reusableQuery: parameter ${String(p)} is not one of ${names.join(', ')}`);
        return name;
      });
      query = { sql: c.sql, slots };
      compiled.set(db, query);
    }
    const result = await db.executeQuery<O>(
      CompiledQuery.raw(
        query.sql,
        query.slots.map((n) => values[n]),
      ),
    );
    return result.rows;
  };
}

/** Runs every migration not yet applied, each in its own transaction; replicas serialize on a lock. */
export async function migrate(store: MetadataDb, migrations: Migration[]): Promise<void> {
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  await store.db.connection().execute(async (conn) => {
    if (store.dialect === 'postgres') await sql`select pg_advisory_lock(727365)`.execute(conn);
    try {
      await conn.schema
        .createTable('weir_migrations')
        .ifNotExists()
        .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
      const done = new Set((await conn.selectFrom('weir_migrations').select('id').execute()).map((r: { id: string }) => r.id));
      for (const m of sorted) {
        if (done.has(m.id)) continue;
        await conn.transaction().execute(async (trx) => {
          await m.up(trx, store.dialect);
          await trx.insertInto('weir_migrations').values({ id: m.id, applied_at: Date.now() }).execute();
        });
      }
    } finally {
      if (store.dialect === 'postgres') await sql`select pg_advisory_unlock(727365)`.execute(conn);
    }
  });
}

/** Text ordered byte-wise on both engines (PostgreSQL otherwise follows the database locale). */
export function binaryText(dialect: DialectName, column: string): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`${sql.ref(column)} collate "C"` : sql<string>`${sql.ref(column)}`;
}

/** Case-sensitive LIKE (SQLite's LIKE ignores ASCII case, so GLOB with a translated pattern is used there). */
export function likeExpr(dialect: DialectName, column: RawBuilder<unknown> | string, pattern: string, caseInsensitive: boolean): RawBuilder<boolean> {
  const col = typeof column === 'string' ? sql.ref(column) : column;
  if (dialect === 'postgres') {
    const escaped = pattern.replace(/\\/g, '\\\\');
    return caseInsensitive ? sql<boolean>`${col} ilike ${escaped}` : sql<boolean>`${col} like ${escaped}`;
  }
  let glob = '';
  for (const ch of caseInsensitive ? pattern.toLowerCase() : pattern) {
    if (ch === '%') glob += '*';
    else if (ch === '_') glob += '?';
    else if (ch === '*' || ch === '?' || ch === '[') glob += `[${ch}]`;
    else glob += ch;
  }
  return caseInsensitive ? sql<boolean>`lower(${col}) glob ${glob}` : sql<boolean>`${col} glob ${glob}`;
}
