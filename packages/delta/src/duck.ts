import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

let shared: Promise<DuckDBInstance> | undefined;

/** The process-wide in-memory DuckDB this package uses when the caller passes no connection. */
export function sharedDuckDB(): Promise<DuckDBInstance> {
  // Loaded on first use: the native library costs about 27 MB resident, which a process that never scans saves.
  shared ??= import('@duckdb/node-api').then(({ DuckDBInstance }) => DuckDBInstance.create(':memory:', { threads: '2' }));
  return shared;
}

/**
 * Runs `fn` with a connection: the caller's when given, else a fresh one on the shared instance
 * (a fresh connection per operation keeps temp tables private and lets operations overlap).
 */
export async function withConnection<T>(given: DuckDBConnection | undefined, fn: (con: DuckDBConnection) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  const con = await (await sharedDuckDB()).connect();
  try {
    // Casts between naive and zoned timestamps inside nested types use the session zone.
    await con.run(`SET TimeZone = 'UTC'`);
    return await fn(con);
  } finally {
    con.closeSync();
  }
}

/** Runs a query and returns rows as objects with DuckDB's JS conversions (BIGINT as bigint). */
export async function queryRows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** A name for temp objects that cannot clash with the caller's. */
export function tempName(prefix: string): string {
  return `__weir_${prefix}_${Math.random().toString(36).slice(2, 10)}`;
}
