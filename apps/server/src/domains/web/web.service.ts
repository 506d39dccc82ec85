import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdentityService } from '../identity/index.ts';
import type { WebTables } from './web.tables.ts';

/** Name of the HttpOnly cookie that carries the session id. */
export const SESSION_COOKIE = 'weir_session';
/** Header that every cookie-authenticated non-GET request must carry. */
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
/** The CSRF token is derived from the secret session id, so it needs no storage and cannot be computed without the cookie. */
const csrfFor = (sessionId: string) => sha256(`weir-csrf:${sessionId}`);

/** Reads one cookie from a Cookie header without pulling in a parser. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Web UI sessions: password login, cookie authentication with a CSRF check, logout. */
export type WebSessionService = ReturnType<typeof createWebSessionService>;

/** Creates the session service; it reads principals only through the identity service. */
export function createWebSessionService(deps: { db: Kysely<WebTables>; identity: Pick<IdentityService, 'login' | 'principalById'>; now?: () => number }) {
  const { db, identity } = deps;
  const now = deps.now ?? Date.now;

  /** A deleted or deactivated principal loses its sessions at once, as it loses its tokens. */
  const principalFor = (principalId: number): Promise<Principal | null> => identity.principalById(principalId);

  async function sessionPrincipal(sessionId: string): Promise<Principal | null> {
    const row = await db.selectFrom('web_sessions').select(['principal_id', 'expires_at']).where('id_hash', '=', sha256(sessionId)).executeTakeFirst();
    if (!row || row.expires_at < now()) return null;
    return principalFor(row.principal_id);
  }

  return {
    /** Checks the password and opens a session; returns the raw id (for the cookie) and its CSRF token. */
    async login(userName: string, password: string) {
      const principal = await identity.login(userName, password);
      if (!principal) throw new AppError('UNAUTHENTICATED', 'Invalid user name or password.');
      const sessionId = randomBytes(32).toString('base64url');
      const created = now();
      await db.deleteFrom('web_sessions').where('expires_at', '<', created).execute();
      await db
        .insertInto('web_sessions')
        .values({ id_hash: sha256(sessionId), principal_id: principal.id, created_at: created, expires_at: created + SESSION_TTL_MS })
        .execute();
      return { sessionId, csrfToken: csrfFor(sessionId), principal, maxAgeSeconds: SESSION_TTL_MS / 1000 };
    },

    /** Ends the session named by the cookie, if any. */
    async logout(sessionId: string | undefined): Promise<void> {
      if (sessionId) await db.deleteFrom('web_sessions').where('id_hash', '=', sha256(sessionId)).execute();
    },

    /** The CSRF token that belongs to a session id. */
    csrfFor,

    /**
     * Authenticates a request by its session cookie. Requests that change state must repeat the session's CSRF token
     * in a header: a cross-site page can make the browser send the cookie but cannot read the token.
     */
    // Only the headers and method are read, so the invocation fast path can pass its raw request.
    async authenticate(request: Pick<FastifyRequest, 'headers' | 'method'>): Promise<Principal | null> {
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (!sessionId || sessionId.length > 200) return null;
      const principal = await sessionPrincipal(sessionId);
      if (!principal) return null;
      if (!SAFE_METHODS.has(request.method)) {
        const given = request.headers[CSRF_HEADER];
        if (typeof given !== 'string' || !sameSecret(given, csrfFor(sessionId))) {
          throw new AppError('PERMISSION_DENIED', 'Missing or invalid X-CSRF-Token header for a cookie-authenticated request.');
        }
      }
      return principal;
    },

    /** The session's principal without the CSRF check (for reading who is signed in). */
    sessionPrincipal,
  };
}
