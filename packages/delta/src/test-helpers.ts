import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sharedDuckDB } from './duck.ts';

/** A fresh directory under the OS temp dir; removed by cleanupTempDirs. */
export function tempDir(prefix = 'weir-delta-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
const created: string[] = [];

/** Removes every directory made by tempDir. */
export function cleanupTempDirs(): void {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Writes NDJSON commit `version` into `<table>/_delta_log/`. */
export function writeCommitFile(table: string, version: number, actions: object[], raw?: string): void {
  fs.mkdirSync(path.join(table, '_delta_log'), { recursive: true });
  fs.writeFileSync(path.join(table, '_delta_log', `${String(version).padStart(20, '0')}.json`), raw ?? `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`);
}

/** A connection on the shared instance, for test fixtures. */
export async function testConnection(): Promise<DuckDBConnection> {
  const con = await (await sharedDuckDB()).connect();
  await con.run(`SET TimeZone = 'UTC'`);
  return con;
}

/** Runs SQL and returns rows with BIGINT as bigint. */
export async function rows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A StructType with nullable fields of the given types. */
export function schemaOf(fields: Record<string, string>, notNull: string[] = []) {
  return { type: 'struct' as const, fields: Object.entries(fields).map(([name, type]) => ({ name, type, nullable: !notNull.includes(name), metadata: {} })) };
}

/** The metaData and protocol actions of a version-0 commit. */
export function headerActions(
  schema: object,
  partitionColumns: string[] = [],
  configuration: Record<string, string> = {},
  protocol: object = { minReaderVersion: 1, minWriterVersion: 2 },
) {
  return [
    { protocol },
    {
      metaData: {
        id: 'test-id',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify(schema),
        partitionColumns,
        configuration,
        createdTime: 0,
      },
    },
  ];
}
