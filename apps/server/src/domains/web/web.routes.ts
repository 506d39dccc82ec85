import fs from 'node:fs';
import path from 'node:path';
import { web } from '@weir/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type Principal, type RouteSpec } from '../../platform/http.ts';
import { readCookie, SESSION_COOKIE, type WebSessionService } from './web.service.ts';

function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  // Secure only over TLS, so that the embedded server on http://localhost still keeps its session.
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function describe(principal: Principal, via: 'cookie' | 'header', csrfToken?: string): web.WebSession {
  return { user_name: principal.userName, is_admin: principal.isAdmin, kind: principal.kind, via, ...(csrfToken ? { csrf_token: csrfToken } : {}) };
}

/** Session login, logout and who-am-I routes for the web UI. */
export function webSessionRoutes(sessions: WebSessionService): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      paths: ['/api/weir/v1/auth/login'],
      summary: 'Sign in to the web UI with a user name and password; sets an HttpOnly session cookie',
      tag: 'web',
      auth: 'public',
      input: web.WebLogin,
      async handler(input, { request, reply }) {
        const { sessionId, csrfToken, principal, maxAgeSeconds } = await sessions.login(input.username, input.password);
        reply.header('set-cookie', sessionCookie(request, sessionId, maxAgeSeconds));
        reply.header('cache-control', 'no-store');
        return describe(principal, 'cookie', csrfToken);
      },
    }),
    defineRoute({
      method: 'POST',
      paths: ['/api/weir/v1/auth/logout'],
      summary: 'End the web UI session named by the cookie',
      tag: 'web',
      auth: 'public',
      input: z.object({}),
      async handler(_input, { request, reply }) {
        const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (sessionId && sessionId.length <= 200 && (await sessions.sessionPrincipal(sessionId))) {
          // A live session is ended only with its CSRF token, so another site cannot sign the user out.
          await sessions.authenticate(request);
          await sessions.logout(sessionId);
        }
        reply.header('set-cookie', sessionCookie(request, '', 0));
        return {};
      },
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/weir/v1/auth/session'],
      summary: 'Who is signed in (and the CSRF token of a cookie session)',
      tag: 'web',
      auth: 'authenticated',
      input: z.object({}),
      handler(_input, { principal, request, reply }) {
        reply.header('cache-control', 'no-store');
        if (request.headers.authorization) return describe(principal, 'header');
        const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE) ?? '';
        return describe(principal, 'cookie', sessions.csrfFor(sessionId));
      },
    }),
  ];
}

/** Paths owned by APIs and operations endpoints: the UI fallback must never answer them. */
export const RESERVED_PREFIXES = ['/api', '/ajax-api', '/health', '/metrics', '/version', '/get-artifact', '/serving-endpoints'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Weir</title></head><body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">
<h1>Weir is running</h1><p>The web UI has not been built yet. From the repository root run:</p><pre>npm run build -w @weir/web</pre>
<p>then reload this page. (<code>npm start</code> builds it for you.) The APIs are available meanwhile, for example <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>`;

function isReserved(urlPath: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => urlPath === prefix || urlPath.startsWith(`${prefix}/`));
}

/** Serves the built UI from `distDir`: real files as they are, any other non-API path gets index.html (client routing). */
export function webUiRoutes(opts: { distDir: string }): RouteSpec[] {
  const root = path.resolve(opts.distDir);
  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const rawPath = String(request.url).split('?')[0] ?? '/';
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(rawPath);
    } catch {
      throw new AppError('INVALID_PARAMETER_VALUE', 'Malformed path.');
    }
    if (isReserved(urlPath) || isReserved(rawPath)) throw new AppError('ENDPOINT_NOT_FOUND', `No API found for '${request.method} ${rawPath}'`);
    const indexFile = path.join(root, 'index.html');
    if (!fs.existsSync(indexFile)) return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_PAGE);
    const candidate = path.resolve(root, `.${path.posix.normalize(`/${urlPath}`)}`);
    const inside = candidate.startsWith(`${root}${path.sep}`);
    const stat = inside ? fs.statSync(candidate, { throwIfNoEntry: false }) : undefined;
    if (stat?.isFile()) {
      const type = CONTENT_TYPES[path.extname(candidate).toLowerCase()] ?? 'application/octet-stream';
      // Vite puts a content hash in every asset name, so those can be cached for good; index.html never is.
      const immutable = candidate.startsWith(path.join(root, 'assets') + path.sep);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      return reply.code(200).type(type).send(fs.createReadStream(candidate));
    }
    if (/\.[a-z0-9]{1,8}$/i.test(urlPath)) throw new AppError('ENDPOINT_NOT_FOUND', `No file '${rawPath}' in the web UI.`);
    reply.header('cache-control', 'no-cache');
    reply.header('x-frame-options', 'DENY');
    return reply.code(200).type('text/html; charset=utf-8').send(fs.createReadStream(indexFile));
  }
  return [
    defineRoute({
      method: 'GET',
      paths: ['/', '/*'],
      summary: 'The web UI (index.html for client routes)',
      tag: 'web',
      auth: 'public',
      input: z.object({}),
      handler: (_input, { request, reply }) => serve(request, reply),
    }) as unknown as RouteSpec,
  ];
}
