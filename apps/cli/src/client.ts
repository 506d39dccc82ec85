import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
    host: (opts.host ?? env.WEIR_HOST ?? fromFile.host ?? 'http://localhost:8080').replace(/\/+$/, ''),
    token: opts.token ?? env.WEIR_TOKEN ?? fromFile.token,
  };
}

/** An API failure, carrying the server's message. */
export class CliApiError extends Error {}

/** Calls the Weir API and returns parsed JSON, or throws with the server's error message. */
export async function callApi(conn: Connection, method: string, apiPath: string, body?: unknown): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  let url = `${conn.host}${apiPath}`;
  let payload: string | undefined;
  if (body !== undefined && method === 'GET') {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
    }
    url += `?${qs}`;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload });
  } catch (err) {
    throw new CliApiError(`Cannot reach Weir at ${conn.host}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    if (!res.ok) throw new CliApiError(`HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok) {
    const code = typeof json.error_code === 'string' ? json.error_code : `HTTP ${res.status}`;
    const message = typeof json.message === 'string' ? json.message : typeof json.detail === 'string' ? json.detail : text.slice(0, 500);
    throw new CliApiError(`${code}: ${message}`);
  }
  return json;
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
