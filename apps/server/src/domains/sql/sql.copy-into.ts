import fs from 'node:fs';
import path from 'node:path';
import { DeltaError, type DeltaTable } from '@weir/delta';
import type { ResolvedTable } from '../tables/index.ts';
import { SqlCursor, splitTopLevel } from './sql.cursor.ts';
import { volumeFile } from './sql.resolve.ts';
import type { ExecContext, Outcome } from './sql.statements.ts';
import { sqlIdent, sqlInvalid, sqlString } from './sql.text.ts';

const READERS: Record<string, string> = { CSV: 'read_csv', PARQUET: 'read_parquet', JSON: 'read_json' };

function options(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitTopLevel(text)) {
    const c = new SqlCursor(item);
    c.skip();
    const key = c.sql[c.pos] === "'" ? c.string() : c.name().join('.');
    if (!c.punct('=')) throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Expected '=' in option '${item}'.`);
    c.skip();
    out[key.toLowerCase()] = c.sql[c.pos] === "'" ? c.string() : c.rest();
  }
  return out;
}

function listFiles(target: string): string[] {
  if (!fs.existsSync(target)) throw sqlInvalid(`No file or directory at the COPY INTO source.`);
  const stat = fs.statSync(target);
  if (stat.isFile()) return [target];
  const out: string[] = [];
  for (const e of fs.readdirSync(target, { withFileTypes: true, recursive: true })) {
    // Hidden and underscore files are metadata by Spark's convention (_SUCCESS, .crc).
    if (e.isFile() && !e.name.startsWith('.') && !e.name.startsWith('_')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

/** COPY INTO table FROM '/Volumes/...' FILEFORMAT = CSV|PARQUET|JSON: loads each file once, matching columns by name. */
export async function runCopyInto(ctx: ExecContext, c: SqlCursor, target: { table: ResolvedTable; delta: DeltaTable }): Promise<Outcome> {
  c.expect('FROM');
  const source = c.string();
  c.expect('FILEFORMAT');
  c.punct('=');
  const format = c.name().join('.').toUpperCase();
  const reader = READERS[format];
  if (!reader) throw sqlInvalid(`FILEFORMAT ${format} is not supported (CSV, PARQUET or JSON).`);
  let formatOptions: Record<string, string> = {};
  let copyOptions: Record<string, string> = {};
  while (!c.atEnd()) {
    if (c.keyword('FORMAT_OPTIONS')) formatOptions = options(c.group());
    else if (c.keyword('COPY_OPTIONS')) copyOptions = options(c.group());
    else throw sqlInvalid(`[PARSE_SYNTAX_ERROR] Unexpected '${c.sql.slice(c.pos, c.pos + 40).trim()}' in COPY INTO.`);
  }
  const real = await volumeFile(ctx, source);
  const files = listFiles(real);
  const force = (copyOptions.force ?? 'false').toLowerCase() === 'true';
  const loaded = force ? new Set<string>() : await ctx.copyLoads.loaded(target.table.id, files);
  const fresh = files.filter((f) => !loaded.has(f));
  const count = (n: number, skipped: number): Outcome => ({
    columns: [
      { name: 'num_affected_rows', type_name: 'LONG', type_text: 'bigint', position: 0 },
      { name: 'num_inserted_rows', type_name: 'LONG', type_text: 'bigint', position: 1 },
      { name: 'num_skipped_files', type_name: 'LONG', type_text: 'bigint', position: 2 },
    ],
    rows: [[String(n), String(n), String(skipped)]],
  });
  if (fresh.length === 0) return count(0, files.length);
  const args = [`[${fresh.map(sqlString).join(', ')}]`];
  if (format === 'CSV') {
    const header = (formatOptions.header ?? 'true').toLowerCase() === 'true';
    args.push(`header = ${header}`);
    const sep = formatOptions.sep ?? formatOptions.delimiter;
    if (sep !== undefined) args.push(`delim = ${sqlString(sep)}`);
  }
  if (format !== 'JSON') args.push('union_by_name = true');
  const select = `SELECT * FROM ${reader}(${args.join(', ')})`;
  let rows: number;
  try {
    const snap = await target.delta.snapshot({ connection: ctx.con });
    // Columns match by name; a table column the files lack is written as NULL.
    const fileColumns = (await ctx.con.runAndReadAll(`SELECT * FROM (${select}) LIMIT 0`)).columnNames();
    const mergeSchema = (copyOptions.mergeschema ?? 'false').toLowerCase() === 'true';
    const unknown = fileColumns.filter((n) => !snap.schema.fields.some((f) => f.name.toLowerCase() === n.toLowerCase()));
    if (unknown.length > 0 && !mergeSchema)
      throw sqlInvalid(
        `[UNRESOLVED_COLUMN] The files have column(s) ${unknown.join(', ')} that ${target.table.name} lacks (use COPY_OPTIONS ('mergeSchema' = 'true')).`,
      );
    const present = snap.schema.fields.filter((f) => fileColumns.some((n) => n.toLowerCase() === f.name.toLowerCase()));
    const cols = [...present.map((f) => sqlIdent(f.name)), ...unknown.map(sqlIdent)];
    const commit = await target.delta.write(`SELECT ${cols.join(', ')} FROM (${select})`, { mode: 'append', mergeSchema, connection: ctx.con });
    // The row count comes from the commit's own metrics: counting first would parse every file twice.
    const entry = (await target.delta.history(8)).find((h) => h.version === commit.version);
    rows = Number((entry?.commitInfo.operationMetrics as Record<string, string> | undefined)?.numOutputRows ?? 0);
  } catch (err) {
    if (err instanceof DeltaError) throw sqlInvalid(err.message);
    throw err;
  }
  ctx.lineage?.push({
    operation: 'COPY_INTO',
    target: { catalog: target.table.catalog, schema: target.table.schema, name: target.table.name },
    paths: [source],
  });
  await ctx.copyLoads.record(
    target.table.id,
    fresh.map((f) => {
      const st = fs.statSync(f);
      return { path: f, size: st.size, modified: st.mtimeMs };
    }),
  );
  return count(rows, files.length - fresh.length);
}
