import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type AddFile, encodeAddPath } from './actions.ts';
import { DeltaError } from './errors.ts';
import type { ObjectStore } from './object-store.ts';
import { type DeltaDataType, findField, quoteIdent, quoteLiteral, type StructType } from './schema.ts';
import { computeFileStats, parseCopyStats } from './stats.ts';

/** What to write: a SELECT yielding the table's columns by name, already cast to their DuckDB types. */
export interface DataFilesInput {
  con: DuckDBConnection;
  store: ObjectStore;
  schema: StructType;
  partitionColumns: string[];
  configuration: Record<string, string>;
  sourceSql: string;
  /** `add.dataChange` (false for OPTIMIZE rewrites). */
  dataChange: boolean;
}

/** The SQL that serializes a partition column the way Delta stores it in `partitionValues` ("" becomes null). */
function partitionValueSql(expr: string, type: DeltaDataType): string {
  switch (type) {
    case 'string':
      return `NULLIF(${expr}, '')`;
    case 'date':
      return `strftime(${expr}, '%Y-%m-%d')`;
    // ISO-8601 UTC is what current Spark writes; it is unambiguous, unlike the legacy session-zone form.
    case 'timestamp':
      return `strftime(timezone('UTC', ${expr}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
    case 'timestamp_ntz':
      return `strftime(${expr}, '%Y-%m-%d %H:%M:%S.%f')`;
    case 'binary':
      return `decode(${expr})`;
    default:
      if (typeof type !== 'string') throw new DeltaError(`cannot partition by a column of type ${JSON.stringify(type)}`);
      return `CAST(${expr} AS VARCHAR)`;
  }
}

/**
 * Writes the rows of `sourceSql` as Parquet data files (one per partition, Hive-style directories),
 * copies them into the store and returns their `add` actions with exact sizes and Spark-format stats.
 * Files become visible only when a commit references them.
 */
export async function writeDataFiles(input: DataFilesInput): Promise<AddFile[]> {
  const { con, store, schema, partitionColumns } = input;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'weir-delta-'));
  try {
    const parts = partitionColumns.map((name) => {
      const f = findField(schema, name);
      if (!f) throw new DeltaError(`partition column ${name} is not in the schema`);
      return f;
    });
    const partSet = new Set(parts.map((f) => f.name));
    const dataFields = schema.fields.filter((f) => !partSet.has(f.name));
    const select = [
      ...dataFields.map((f) => quoteIdent(f.name)),
      ...parts.map((f) => `${partitionValueSql(quoteIdent(f.name), f.type)} AS ${quoteIdent(f.name)}`),
    ];
    const query = `SELECT ${select.join(', ')} FROM (${input.sourceSql})`;
    const pattern = `part-00000-{uuid}-c000.snappy`;
    let copySql: string;
    // Unpartitioned files go straight to their place in a local store: copying a large file out of
    // a temp dir costs as much as a fair share of writing it. Until a commit names it, it is an
    // orphan that VACUUM removes, exactly like a file left by a writer that died.
    const direct = parts.length === 0 && store.localPath !== undefined ? `part-00000-${randomUUID()}-c000.snappy.parquet` : undefined;
    if (direct !== undefined && store.localPath) {
      const file = store.localPath(direct);
      await fs.mkdir(path.dirname(file), { recursive: true });
      copySql = `COPY (${query}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION snappy, RETURN_STATS true)`;
    } else if (parts.length > 0) {
      copySql = `COPY (${query}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${parts.map((f) => quoteIdent(f.name)).join(', ')}), FILENAME_PATTERN ${quoteLiteral(pattern)}, RETURN_STATS true)`;
    } else {
      const file = path.join(tmp, `part-00000-${randomUUID()}-c000.snappy.parquet`);
      copySql = `COPY (${query}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION snappy, RETURN_STATS true)`;
    }
    const reader = await con.runAndReadAll(copySql);
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    const adds: AddFile[] = [];
    for (const r of rows) {
      const local = String(r.filename);
      const count = Number(r.count);
      if (count === 0) {
        if (direct !== undefined) await fs.unlink(local).catch(() => undefined);
        continue;
      }
      const rel = direct ?? path.relative(tmp, local).split(path.sep).join('/');
      const partitionValues: Record<string, string | null> = {};
      const keys = (r.partition_keys as { key: string; value: string | null }[] | null) ?? [];
      for (const f of parts) {
        const kv = keys.find((k) => k.key === f.name);
        partitionValues[f.name] = kv?.value ?? null;
      }
      // add.size must be the exact byte length: readers seek the footer from it.
      const size = (await fs.stat(local)).size;
      const { stats } = await computeFileStats(con, local, dataFields, input.configuration, parseCopyStats(count, r.column_statistics));
      if (direct === undefined) await store.putFile(rel, local);
      adds.push({
        path: encodeAddPath(rel),
        partitionValues,
        size,
        modificationTime: Date.now(),
        dataChange: input.dataChange,
        stats,
      });
    }
    return adds;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
