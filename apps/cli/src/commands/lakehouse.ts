import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { type Connection, callApi, formatTable, resolveConnection } from '../client.ts';

type Opts = { json?: boolean; profile?: string; host?: string; token?: string };

function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--host <url>', 'Weir URL (default: WEIR_HOST, ~/.weirrc, http://localhost:8080)')
    .option('--token <token>', 'access token (default: WEIR_TOKEN or ~/.weirrc)')
    .option('--profile <name>', 'profile in ~/.weirrc');
}

/** A statement's final answer: columns and every row, gathered across chunks. */
interface SqlResult {
  statementId: string;
  columns: string[];
  rows: (string | null)[][];
}

/** Runs one statement through the Statement Execution API, polling (with a progress line on stderr) until it ends. */
export async function runStatement(
  conn: Connection,
  statement: string,
  opts: { catalog?: string | undefined; schema?: string | undefined; quiet?: boolean } = {},
): Promise<SqlResult> {
  let res = await callApi(conn, 'POST', '/api/2.0/sql/statements', {
    statement,
    wait_timeout: '10s',
    ...(opts.catalog ? { catalog: opts.catalog } : {}),
    ...(opts.schema ? { schema: opts.schema } : {}),
  });
  const id = String(res.statement_id);
  const started = Date.now();
  let state = (res.status as { state: string }).state;
  while (state === 'PENDING' || state === 'RUNNING') {
    if (!opts.quiet && process.stderr.isTTY) process.stderr.write(`\rrunning ${id} … ${Math.round((Date.now() - started) / 1000)}s`);
    else if (!opts.quiet) process.stderr.write(`running ${id} (${Math.round((Date.now() - started) / 1000)}s)\n`);
    await new Promise((r) => setTimeout(r, 1000));
    res = await callApi(conn, 'GET', `/api/2.0/sql/statements/${id}`);
    state = (res.status as { state: string }).state;
  }
  if (!opts.quiet && process.stderr.isTTY && Date.now() - started > 1000) process.stderr.write('\n');
  if (state !== 'SUCCEEDED') {
    const error = (res.status as { error?: { error_code?: string; message?: string } }).error;
    throw new Error(`${error?.error_code ?? state}: ${error?.message ?? `statement ${state}`}`);
  }
  const manifest = (res.manifest ?? { schema: { columns: [] } }) as { schema: { columns?: { name: string }[] } };
  const columns = (manifest.schema.columns ?? []).map((c) => c.name);
  const rows: (string | null)[][] = [];
  let chunk = res.result as { data_array?: (string | null)[][]; next_chunk_internal_link?: string } | undefined;
  while (chunk) {
    rows.push(...(chunk.data_array ?? []));
    chunk = chunk.next_chunk_internal_link ? ((await callApi(conn, 'GET', chunk.next_chunk_internal_link)) as typeof chunk) : undefined;
  }
  return { statementId: id, columns, rows };
}

/** A progress bar on stderr for byte transfers (silent when stderr is not a terminal, except the final line). */
function progress(label: string, total: number | undefined) {
  let done = 0;
  let last = 0;
  const draw = (final: boolean) => {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    if (total) {
      const pct = Math.min(100, Math.floor((done / total) * 100));
      const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, ' ');
      process.stderr.write(`\r${label} [${bar}] ${String(pct).padStart(3)}% ${mb(done)}/${mb(total)}${final ? '\n' : ''}`);
    } else process.stderr.write(`\r${label} ${mb(done)}${final ? '\n' : ''}`);
  };
  return {
    stream: new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        if (process.stderr.isTTY && Date.now() - last > 100) {
          last = Date.now();
          draw(false);
        }
        cb(null, chunk);
      },
    }),
    finish: () => draw(true),
  };
}

function volumePath(p: string): string | undefined {
  const stripped = p.replace(/^dbfs:/, '');
  return stripped.startsWith('/Volumes/') ? stripped : undefined;
}

async function fsError(res: Response): Promise<Error> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    return new Error(`${body.error_code ?? res.status}: ${body.message ?? text}`);
  } catch {
    return new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
}

/** Streams a local file into a volume path through the Files API. */
export async function uploadFile(conn: Connection, local: string, target: string, overwrite: boolean, label = 'upload'): Promise<void> {
  const size = fs.statSync(local).size;
  const bar = progress(label, size);
  const body = Readable.toWeb(fs.createReadStream(local).pipe(bar.stream)) as unknown as RequestInit['body'];
  const res = await fetch(`${conn.host}/api/2.0/fs/files${encodeURI(target)}${overwrite ? '?overwrite=true' : ''}`, {
    method: 'PUT',
    headers: { ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}), 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
    duplex: 'half',
  } as RequestInit);
  bar.finish();
  if (!res.ok) throw await fsError(res);
}

async function downloadFile(conn: Connection, source: string, local: string): Promise<void> {
  const res = await fetch(`${conn.host}/api/2.0/fs/files${encodeURI(source)}`, { headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {} });
  if (!res.ok || !res.body) throw await fsError(res);
  const size = Number(res.headers.get('content-length') ?? 0) || undefined;
  const bar = progress('download', size);
  const tmp = `${local}.weir-part`;
  await pipeline(Readable.fromWeb(res.body as never), bar.stream, fs.createWriteStream(tmp));
  fs.renameSync(tmp, local);
  bar.finish();
}

const READERS: Record<string, string> = { '.csv': 'read_csv', '.parquet': 'read_parquet', '.json': 'read_json', '.ndjson': 'read_json', '.jsonl': 'read_json' };

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Adds `weir sql`, `weir tables load` and `weir volumes cp`. */
export function registerLakehouseCommands(program: Command): void {
  connectionOptions(program.command('sql').description('Run a SQL statement (DuckDB dialect plus Databricks statements) and print the result'))
    .argument('[statement]', 'the SQL text')
    .option('--file <path>', 'read the statement from a file')
    .option('--catalog <name>', 'catalog for one- and two-part names (default main)')
    .option('--schema <name>', 'schema for one-part names (default default)')
    .option('--json', 'print the rows as JSON objects')
    .action(async (statement: string | undefined, o: Opts & { file?: string; catalog?: string; schema?: string }) => {
      const text = o.file ? fs.readFileSync(o.file, 'utf8') : statement;
      if (!text?.trim()) throw new Error('give a statement or --file');
      const result = await runStatement(resolveConnection(o), text, { catalog: o.catalog, schema: o.schema });
      if (o.json) {
        const objects = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i] ?? null])));
        process.stdout.write(`${JSON.stringify(objects, null, 2)}\n`);
      } else if (result.columns.length > 0) {
        process.stdout.write(`${formatTable(result.columns, result.rows)}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`);
      } else process.stdout.write('OK\n');
    });

  const tables = program.command('tables').description('Catalog tables');
  connectionOptions(tables.command('load').description('Load a CSV, Parquet or JSON file into a table (created when absent)'))
    .argument('<table>', 'catalog.schema.table')
    .argument('<file>', 'local .csv, .parquet or .json file')
    .option('--mode <mode>', 'append or overwrite', 'append')
    .action(async (table: string, file: string, o: Opts & { mode: string }) => {
      const parts = table.split('.');
      if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_@-]+$/.test(p))) throw new Error('table must be catalog.schema.table');
      if (o.mode !== 'append' && o.mode !== 'overwrite') throw new Error('--mode is append or overwrite');
      const reader = READERS[path.extname(file).toLowerCase()];
      if (!reader) throw new Error('the file must end in .csv, .parquet or .json');
      if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
      const conn = resolveConnection(o);
      const [catalog, schema] = parts as [string, string, string];
      // The file travels through a staging volume in the same schema, then SQL moves it into the table.
      const volume = `${catalog}.${schema}.weir_staging`;
      await callApi(conn, 'GET', `/api/2.1/unity-catalog/volumes/${volume}`).catch(() =>
        callApi(conn, 'POST', '/api/2.1/unity-catalog/volumes', { catalog_name: catalog, schema_name: schema, name: 'weir_staging', volume_type: 'MANAGED' }),
      );
      const staged = `/Volumes/${catalog}/${schema}/weir_staging/${Date.now()}-${process.pid}${path.extname(file).toLowerCase()}`;
      await uploadFile(conn, file, staged, false, 'upload');
      try {
        const source = `${reader}('${staged.replaceAll("'", "''")}')`;
        const target = parts.map(quoteIdent).join('.');
        const existing = await callApi(conn, 'GET', `/api/2.1/unity-catalog/tables/${table}`).catch(() => undefined);
        let result: SqlResult;
        if (!existing) result = await runStatement(conn, `CREATE TABLE ${target} AS SELECT * FROM ${source}`);
        else {
          const probe = await runStatement(conn, `SELECT * FROM ${source} LIMIT 0`, { quiet: true });
          const tableColumns = ((existing.columns ?? []) as { name: string }[]).map((c) => c.name);
          const shared = probe.columns.filter((c) => tableColumns.some((t) => t.toLowerCase() === c.toLowerCase()));
          const extra = probe.columns.filter((c) => !shared.includes(c));
          if (extra.length > 0) throw new Error(`the file has column(s) ${extra.join(', ')} that ${table} lacks`);
          const cols = shared.map(quoteIdent).join(', ');
          result = await runStatement(conn, `INSERT ${o.mode === 'overwrite' ? 'OVERWRITE' : 'INTO'} ${target} (${cols}) SELECT ${cols} FROM ${source}`);
        }
        const count = result.rows[0]?.[0];
        process.stdout.write(
          `${existing ? (o.mode === 'overwrite' ? 'replaced' : 'appended') : 'created'} ${table}${count !== undefined ? ` (${count} rows)` : ''}\n`,
        );
      } finally {
        await fetch(`${conn.host}/api/2.0/fs/files${encodeURI(staged)}`, {
          method: 'DELETE',
          headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {},
        }).catch(() => undefined);
      }
    });

  const volumes = program.command('volumes').description('Files in volumes');
  connectionOptions(volumes.command('cp').description('Copy a file to or from a volume (/Volumes/<catalog>/<schema>/<volume>/...)'))
    .argument('<source>', 'local path or /Volumes/... path')
    .argument('<target>', 'local path or /Volumes/... path')
    .option('--overwrite', 'replace an existing file in the volume')
    .action(async (source: string, target: string, o: Opts & { overwrite?: boolean }) => {
      const conn = resolveConnection(o);
      const from = volumePath(source);
      const to = volumePath(target);
      if (from && to) throw new Error('copy between two volume paths is not supported; copy through a local file');
      if (!from && !to) throw new Error('one side must be a /Volumes/... path');
      if (to) {
        const dest = to.endsWith('/') ? `${to}${path.basename(source)}` : to;
        await uploadFile(conn, source, dest, o.overwrite === true);
        process.stdout.write(`copied ${source} to ${dest}\n`);
      } else {
        const local = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, path.basename(from as string)) : target;
        await downloadFile(conn, from as string, local);
        process.stdout.write(`copied ${from} to ${local}\n`);
      }
    });
}
