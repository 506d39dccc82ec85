import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp, type WeirApp } from '../app.ts';
import { resolveConfig } from '../platform/config.ts';

/** A metadata backend the suites run on: SQLite always, PostgreSQL when WEIR_TEST_POSTGRES_URL is set. */
export interface TestBackend {
  name: 'sqlite' | 'postgres';
}

/** The backends every server suite runs against. */
export const testBackends: TestBackend[] = [{ name: 'sqlite' }, ...(process.env.WEIR_TEST_POSTGRES_URL ? [{ name: 'postgres' as const }] : [])];

/** A running Weir server on loopback with a fresh store. */
export interface TestServer {
  url: string;
  adminToken: string;
  dataDir: string;
  weir: WeirApp;
  logs: string[];
  /** JSON request; returns status and parsed body (or text). */
  call(method: string, apiPath: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; text: string }>;
  /** Creates a user through SCIM (password `correct horse battery`) and a personal access token of theirs. */
  createUser(userName: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/** A Unity Catalog `FunctionInfo` for `POST /functions`: a SQL scalar function returning 1, no parameters. */
export function sqlFunctionInfo(catalog: string, schema: string, name: string) {
  return {
    name,
    catalog_name: catalog,
    schema_name: schema,
    input_params: { parameters: [] },
    data_type: 'INT',
    full_data_type: 'int',
    routine_body: 'SQL',
    routine_definition: '1',
    parameter_style: 'S',
    is_deterministic: true,
    sql_data_access: 'CONTAINS_SQL',
    is_null_call: false,
    security_type: 'DEFINER',
    specific_name: name,
  };
}

/** A Statement Execution response as the tests read it. */
export interface StatementBody {
  statement_id: string;
  status: { state: string; error?: { error_code: string; message: string } };
  result?: { data_array?: (string | null)[][] };
}

/**
 * Statement Execution helpers for SQL tests: `run` answers the response body (expecting HTTP 200), `ok` the rows of a
 * statement that must succeed. Both run as the admin unless given a token.
 */
export function statementRunner(s: Pick<TestServer, 'call'>) {
  async function run(statement: string, token?: string): Promise<StatementBody> {
    const res = await s.call('POST', '/api/2.0/sql/statements', { statement, warehouse_id: 'any', wait_timeout: '30s' }, token);
    if (res.status !== 200) throw new Error(`${statement}: HTTP ${res.status} ${res.text}`);
    return res.body as StatementBody;
  }
  async function ok(statement: string, token?: string): Promise<(string | null)[][]> {
    const body = await run(statement, token);
    if (body.status.state !== 'SUCCEEDED') throw new Error(`${statement}: ${JSON.stringify(body.status)}`);
    return body.result?.data_array ?? [];
  }
  return { run, ok };
}

/**
 * Leaves the server's audit log unable to store events: on SQLite the journal file the next event would open cannot be
 * opened (a directory stands in its place); on PostgreSQL the staging table is gone. `again()` blocks anew after a
 * refused event (on SQLite the failed open moved the journal to the next file); `restore()` undoes it.
 */
export async function breakAuditStorage(s: Pick<TestServer, 'weir'>): Promise<{ again(): void; restore(): Promise<void> }> {
  const journal = s.weir.audit.writer.journal;
  const db = s.weir.store.db;
  if (!journal) {
    await sql`alter table audit_events rename to audit_events_away`.execute(db);
    return {
      again() {},
      async restore() {
        await sql`alter table audit_events_away rename to audit_events`.execute(db);
      },
    };
  }
  // Compaction seals the file taking appends, so the next event opens `nextFile()`.
  await s.weir.audit.compactor.compact();
  let blocked = journal.nextFile();
  fs.mkdirSync(blocked);
  return {
    again() {
      fs.rmdirSync(blocked);
      blocked = journal.nextFile();
      fs.mkdirSync(blocked);
    },
    async restore() {
      fs.rmdirSync(blocked);
    },
  };
}

/** Creates an empty PostgreSQL database next to WEIR_TEST_POSTGRES_URL; `drop()` removes it. */
export async function createTestPostgresDatabase(prefix = 'weir_t'): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.WEIR_TEST_POSTGRES_URL as string;
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Starts a server on a temp data dir (and a temp PostgreSQL database for the postgres backend). */
export async function startTestServer(backend: TestBackend = { name: 'sqlite' }, opts: { dataDir?: string; metadataUrl?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'weir-test-'));
  let metadataUrl = opts.metadataUrl;
  let drop: (() => Promise<void>) | undefined;
  if (backend.name === 'postgres' && !metadataUrl) {
    const db = await createTestPostgresDatabase();
    metadataUrl = db.url;
    drop = db.drop;
  }
  const adminToken = `dapi${randomBytes(16).toString('hex')}`;
  const logs: string[] = [];
  const logStream = new (await import('node:stream')).Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const weir = await buildApp(resolveConfig({ port: 0, host: '127.0.0.1', dataDir, metadataUrl, adminToken, logLevel: 'info' }, {}), {
    logStream,
    announce: () => {},
  });
  const address = await weir.app.listen({ host: '127.0.0.1', port: 0 });
  const server: TestServer = {
    url: address,
    adminToken,
    dataDir,
    weir,
    logs,
    async call(method, apiPath, body, token) {
      const headers: Record<string, string> = {};
      const auth = token === undefined ? adminToken : token;
      if (auth) headers.authorization = `Bearer ${auth}`;
      let url = `${address}${apiPath}`;
      let payload: string | undefined;
      if (body !== undefined && (method === 'GET' || method === 'DELETE') && typeof body === 'object' && body !== null) {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
          if (v === undefined) continue;
          for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
        }
        url += `${url.includes('?') ? '&' : '?'}${qs}`;
      } else if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const res = await fetch(url, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, text };
    },
    async createUser(userName) {
      const created = await server.call('POST', '/api/2.0/preview/scim/v2/Users', { userName, password: 'correct horse battery' });
      if (created.status !== 201) throw new Error(`creating ${userName}: HTTP ${created.status} ${created.text}`);
      const basic = Buffer.from(`${userName}:correct horse battery`).toString('base64');
      const res = await fetch(`${address}/api/2.0/token/create`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: '{}' });
      if (res.status !== 200) throw new Error(`token for ${userName}: HTTP ${res.status} ${await res.text()}`);
      return { id: String(created.body.id), token: ((await res.json()) as { token_value: string }).token_value };
    },
    async close() {
      await weir.close(1000);
      if (drop) await drop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
