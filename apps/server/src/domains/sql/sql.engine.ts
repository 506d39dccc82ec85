import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { isWithin } from '../catalog/index.ts';

/** The DuckDB that runs user SQL: no extensions, no files outside Weir's data and registered external locations. */
export interface SqlEngine {
  /** A connection for one statement: fresh, or one a previous statement left with nothing of its own behind (see `release`). */
  connect(): Promise<DuckDBConnection>;
  /**
   * Gives a connection back. `reusable` only when the statement left no session state (no temp view, macro or table,
   * no seed): then the next statement, whoever runs it, gets a connection as clean as a fresh one. Otherwise it is closed.
   */
  release(con: DuckDBConnection, reusable: boolean): void;
  /** Makes sure the engine may read and write `dir`; builds a wider instance when it may not yet (then answers true). */
  allow(dir: string): Promise<boolean>;
  close(): void;
}

/** Clean connections kept between statements (the engine runs two threads, so more rarely help). */
const MAX_IDLE_CONNECTIONS = 4;

function quoteList(dirs: string[]): string {
  return `[${dirs.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ')}]`;
}

/**
 * Creates the engine. `enable_external_access = false` with `allowed_directories` is instance-wide and cannot be
 * widened later, so a new external location gets a new instance (about 13 ms, only when one is first used).
 */
export function createSqlEngine(opts: { dataDir: string; stagingDirs?: string[]; threads?: number }): SqlEngine {
  const allowed = new Set<string>([path.resolve(opts.dataDir), ...(opts.stagingDirs ?? []).map((d) => path.resolve(d))]);
  let current: Promise<DuckDBInstance> | undefined;
  const retired: DuckDBInstance[] = [];
  // Opening a connection costs about 0.5 ms of the event loop; clean ones are kept for the next statement.
  const idle: DuckDBConnection[] = [];
  const instanceOf = new WeakMap<DuckDBConnection, DuckDBInstance>();

  async function build(): Promise<DuckDBInstance> {
    // Loaded on first use: the native library costs about 27 MB of memory, which a server that never runs SQL saves.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', { threads: String(opts.threads ?? 2) });
    const con = await instance.connect();
    try {
      await con.run(`SET allowed_directories = ${quoteList([...allowed].map((d) => `${d}/`))}`);
      // Casts between naive and zoned timestamps inside nested types use the session zone.
      await con.run(`SET TimeZone = 'UTC'`);
      await con.run('SET autoinstall_known_extensions = false');
      await con.run('SET autoload_known_extensions = false');
      await con.run('SET enable_external_access = false');
      await con.run('SET lock_configuration = true');
    } finally {
      con.closeSync();
    }
    return instance;
  }

  return {
    async connect() {
      current ??= build();
      const instance = await current;
      for (let con = idle.pop(); con; con = idle.pop()) {
        if (instanceOf.get(con) === instance) return con;
        con.closeSync();
      }
      const con = await instance.connect();
      instanceOf.set(con, instance);
      return con;
    },
    release(con, reusable) {
      if (reusable && idle.length < MAX_IDLE_CONNECTIONS) idle.push(con);
      else con.closeSync();
    },
    async allow(dir: string) {
      const resolved = path.resolve(dir);
      for (const d of allowed) if (isWithin(d, resolved)) return false;
      allowed.add(resolved);
      if (current) retired.push(await current);
      current = build();
      await current;
      return true;
    },
    close() {
      for (const con of idle.splice(0)) con.closeSync();
      for (const i of retired) i.closeSync();
      void current?.then((i) => i.closeSync()).catch(() => undefined);
    },
  };
}
