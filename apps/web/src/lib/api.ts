import { createWeirClient, WeirApiError, type WeirClient } from '@weir/api-client';

const TOKEN_KEY = 'weir.token';
let csrfToken: string | undefined;

/** Remembers the CSRF token of the cookie session so every write repeats it in `X-CSRF-Token`. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** The token pasted at login, kept per browser tab (sessionStorage) so it dies with the tab. */
export function pastedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Stores or forgets the pasted token. */
export function setPastedToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The headers that carry the signed-in user's credential (a bearer token, or the session's CSRF token for writes). */
export function authHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const token = pastedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  else if (csrfToken) headers['x-csrf-token'] = csrfToken;
  return headers;
}

/** A same-origin client carrying whichever credential the user signed in with. */
export function api(): WeirClient {
  return createWeirClient({ host: '', headers: authHeaders() });
}

/** Fetches a file (an artifact) as a Blob with the same credentials; errors carry the server's message. */
export async function fetchBlob(path: string, query: Record<string, string>): Promise<Blob> {
  const res = await fetch(`${path}?${new URLSearchParams(query)}`, { headers: authHeaders(), credentials: 'same-origin' });
  if (!res.ok) {
    const text = await res.text();
    let message = text.slice(0, 500) || res.statusText;
    let code = `HTTP_${res.status}`;
    try {
      const body = JSON.parse(text) as { error_code?: string; message?: string };
      message = body.message ?? message;
      code = body.error_code ?? code;
    } catch {
      // not JSON: keep the text
    }
    throw new WeirApiError(code, message, res.status);
  }
  return res.blob();
}

/** The server's message for any error, as users should see it. */
export function errorMessage(err: unknown): string {
  if (err instanceof WeirApiError) return `${err.message} (${err.errorCode})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export { WeirApiError };
