/** Where a client sends requests and how it authenticates. */
export interface WeirClientOptions {
  /** Base URL, e.g. `http://localhost:8080` (empty string for same-origin in the browser). */
  host: string;
  /** Bearer token; omit to rely on a session cookie. */
  token?: string | undefined;
  /** Extra headers on every request (e.g. a CSRF token). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/** An error answered by the API, carrying its `error_code`, message and HTTP status. */
export class WeirApiError extends Error {
  readonly errorCode: string;
  readonly status: number;
  constructor(errorCode: string, message: string, status: number) {
    super(message);
    this.name = 'WeirApiError';
    this.errorCode = errorCode;
    this.status = status;
  }
}

type Query = Record<string, string | number | boolean | undefined | (string | number)[]>;

/** A typed fetch client for Weir's APIs, shared by the CLI and the web UI. */
export interface WeirClient {
  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  get<T = Record<string, unknown>>(path: string, query?: Query): Promise<T>;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
}

/** Creates a client; GET bodies become repeated query parameters, others are JSON. */
export function createWeirClient(options: WeirClientOptions): WeirClient {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = options.host.replace(/\/+$/, '');
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let url = `${base}${path}`;
    let payload: string | undefined;
    if (body !== undefined && (method === 'GET' || method === 'DELETE')) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Query)) {
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
      }
      const s = qs.toString();
      if (s) url += `${url.includes('?') ? '&' : '?'}${s}`;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, body: payload, credentials: 'same-origin' });
    } catch (err) {
      throw new WeirApiError('UNREACHABLE', `Cannot reach Weir at ${base || 'this origin'}: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    let json: unknown = {};
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!res.ok) {
      const obj = (json ?? {}) as Record<string, unknown>;
      const code = typeof obj.error_code === 'string' ? obj.error_code : `HTTP_${res.status}`;
      const message = typeof obj.message === 'string' ? obj.message : typeof obj.detail === 'string' ? obj.detail : text.slice(0, 500) || res.statusText;
      throw new WeirApiError(code, message, res.status);
    }
    return (json ?? {}) as T;
  }
  return {
    request,
    get: (path, query) => request('GET', path, query),
    post: (path, body) => request('POST', path, body ?? {}),
  };
}
