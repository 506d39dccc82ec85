import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWeirClient, WeirApiError } from '@weir/api-client';

/** Where the CLI sends requests and with which token. */
export interface Connection {
  host: string;
  token: string | undefined;
}

/** Reads WEIR_HOST / WEIR_TOKEN, falling back to a profile in ~/.weirrc (`[profile]` sections with host= and token=). */
export function resolveConnection(
  opts: { profile?: string | undefined; host?: string | undefined; token?: string | undefined },
  env = process.env,
): Connection {
  const profile = opts.profile ?? env.WEIR_PROFILE ?? 'default';
  const fromFile: Record<string, string> = {};
  const rc = env.WEIR_CONFIG_FILE ?? path.join(os.homedir(), '.weirrc');
  if (fs.existsSync(rc)) {
    let section = 'default';
    for (const raw of fs.readFileSync(rc, 'utf8').split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        section = (header[1] ?? '').trim();
        continue;
      }
      const eq = line.indexOf('=');
      if (eq > 0 && section === profile) fromFile[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  return {
    host: (opts.host || env.WEIR_HOST || fromFile.host || 'http://localhost:8080').replace(/\/+$/, ''),
    token: opts.token || env.WEIR_TOKEN || fromFile.token,
  };
}

/** Calls the Weir API and returns parsed JSON; errors carry the server's `error_code: message`. */
export async function callApi(conn: Connection, method: string, apiPath: string, body?: unknown): Promise<Record<string, unknown>> {
  try {
    return await createWeirClient({ host: conn.host, token: conn.token }).request(method, apiPath, body);
  } catch (err) {
    if (err instanceof WeirApiError) throw new Error(err.status === 0 ? err.message : `${err.errorCode}: ${err.message}`);
    throw err;
  }
}

/** Renders rows as an aligned text table. */
export function formatTable(columns: string[], rows: (string | number | undefined | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
