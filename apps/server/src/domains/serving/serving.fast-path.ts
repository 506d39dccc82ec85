// The invocation fast path: `POST /serving-endpoints/{name}/invocations` answered straight from the HTTP server's
// request event, before Fastify sees it (docs/adr/0006-serving-fast-path.md). It does what the generic route layer and
// the server's hooks do for this one route — authentication, the CAN_QUERY check, request id, the durable audit event,
// capture, metrics, the request log line — with the same shared functions, and skips what this route does not need
// (routing, the parameter merge and schema, four hooks, the request scope). Requests it does not recognise exactly
// (other paths, a query string, an unusual content type, shutdown begun) go to Fastify unchanged.

import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AppError } from '../../platform/errors.ts';
import { errorResponse, internalError, type Principal, type RequestFacts, type RouteSpec, unauthenticatedError } from '../../platform/http.ts';
import { answerInvocation, type InvocationAnswer, SERVED_ENTITY_HEADER, SERVED_MODEL_NAME_HEADER } from './serving.invocation.ts';
import type { ServingService } from './serving.service.ts';

/** What the audit log needs of a request answered here (the same facts the generic route layer records). */
export interface FastPathAuditRequest {
  id: string;
  url: string;
  ip: string | undefined;
  headers: IncomingHttpHeaders;
  facts: RequestFacts;
}

/** What the fast path is given by the composition root. */
export interface InvocationFastPathDeps {
  service: Pick<ServingService, 'authorizeQuery' | 'queryAuthorized'>;
  /** The generic invocation route, as registered: the audit event names its service and action from it. */
  route: RouteSpec;
  /** Resolves the caller exactly as the generic route layer does; null without valid credentials. */
  authenticate(request: { headers: IncomingHttpHeaders; method: string }): Promise<Principal | null>;
  /** The request's id: a valid incoming `x-request-id`, else a new one (as the server's genReqId). */
  requestId(headers: IncomingHttpHeaders): string;
  /** Makes the request's audit event durable; rejects when it cannot be stored. */
  audit(request: FastPathAuditRequest, statusCode: number, body: string): Promise<void>;
  /** The body answered (with 503) instead of a response whose audit event could not be stored. */
  auditFailureBody: string;
  /** After the response is handed to the socket: HTTP metrics and the request log line. */
  finished(request: { method: string; route: string; id: string; url: string }, statusCode: number, elapsedMs: number): void;
  /** True once graceful shutdown began: new requests go to Fastify (which refuses them), answers close the connection. */
  closing(): boolean;
  logError(err: unknown, requestId: string, message: string): void;
}

/** A fast path over one HTTP server. */
export interface InvocationFastPath {
  /** Answers the request and returns true when it is an invocation the fast path takes; false leaves it untouched. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Resolves when no request the fast path took is still being answered (graceful shutdown waits for it). */
  idle(): Promise<void>;
  /** Requests the fast path has taken so far (tests check that scoring requests really come this way). */
  taken(): number;
}

/** Endpoint names as `create` admits them; any other path shape (encoded, too long, a query) is left to the router. */
const INVOCATION_URL = /^\/serving-endpoints\/([A-Za-z0-9_-]{1,63})\/invocations$/;
/** Content types every part of the stack reads alike; others go to Fastify, which parses and refuses them as it always did. */
const PLAIN_CONTENT_TYPE = /^(?:application\/json|text\/csv)(?:; ?charset=utf-8)?$/i;
const JSON_TYPE = 'application/json; charset=utf-8';

/** Counts requests taken and in flight, so shutdown can wait for the last one. */
function inFlightTracker() {
  let inFlight = 0;
  let taken = 0;
  let waiters: (() => void)[] = [];
  return {
    begin(): void {
      inFlight++;
      taken++;
    },
    end(): void {
      inFlight--;
      if (inFlight === 0 && waiters.length > 0) {
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake();
      }
    },
    idle(): Promise<void> {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    taken: () => taken,
  };
}

/** Writes an answer as Fastify would (same headers); `connection: close` once shutdown began. */
function writeAnswer(response: ServerResponse, headers: Record<string, string | number>, answer: InvocationAnswer, closing: boolean): void {
  if (answer.servedEntity !== null) {
    headers[SERVED_ENTITY_HEADER] = answer.servedEntity;
    headers[SERVED_MODEL_NAME_HEADER] = answer.servedEntity;
  }
  headers['content-type'] = JSON_TYPE;
  headers['content-length'] = Buffer.byteLength(answer.body);
  // An answer finished after shutdown began closes its keep-alive connection, so the server's close is not held.
  if (closing) headers.connection = 'close';
  response.writeHead(answer.status, headers);
  response.end(answer.body);
}

/** An error as the generic route layer answers it: AppErrors in their own words, anything else as an internal error. */
function refusal(err: unknown): InvocationAnswer {
  const answer = errorResponse(err instanceof AppError ? err : internalError());
  return { status: answer.status, body: answer.body, servedEntity: null };
}

/** Creates the fast path; install it on a server with {@link interceptInvocations}. */
export function createInvocationFastPath(deps: InvocationFastPathDeps): InvocationFastPath {
  const routeUrl = deps.route.paths[0] ?? '';
  const tracker = inFlightTracker();

  async function answer(request: IncomingMessage, id: string, facts: RequestFacts, name: string, contentType: string): Promise<InvocationAnswer> {
    try {
      const principal = await deps.authenticate({ headers: request.headers, method: 'POST' });
      facts.principal = principal;
      if (!principal) throw unauthenticatedError();
      return await answerInvocation(deps.service, principal, name, contentType, request, id);
    } catch (err) {
      // The unread rest of a refused body is discarded so the connection can carry the next request.
      if (!request.readableEnded) request.resume();
      if (!(err instanceof AppError)) deps.logError(err, id, 'unhandled error');
      return refusal(err);
    }
  }

  async function serve(request: IncomingMessage, response: ServerResponse, name: string, contentType: string): Promise<void> {
    const began = performance.now();
    const url = request.url as string;
    const id = deps.requestId(request.headers);
    const facts: RequestFacts = { route: deps.route, principal: null, params: { name } };
    let result = await answer(request, id, facts, name, contentType);
    try {
      await deps.audit({ id, url, ip: request.socket.remoteAddress, headers: request.headers, facts }, result.status, result.body);
    } catch (err) {
      // An unaudited request is not acknowledged: its answer becomes 503 (the headers stay, as on the Fastify path).
      deps.logError(err instanceof Error ? err.message : String(err), id, 'audit event could not be stored');
      result = { status: 503, body: deps.auditFailureBody, servedEntity: result.servedEntity };
    }
    writeAnswer(response, { 'x-request-id': id }, result, deps.closing());
    deps.finished({ method: 'POST', route: routeUrl, id, url }, result.status, performance.now() - began);
  }

  return {
    handle(request, response) {
      if (request.method !== 'POST' || deps.closing()) return false;
      const url = request.url;
      if (url === undefined || !url.startsWith('/serving-endpoints/')) return false;
      const match = INVOCATION_URL.exec(url);
      const contentType = request.headers['content-type'];
      if (!match || contentType === undefined || !PLAIN_CONTENT_TYPE.test(contentType)) return false;
      tracker.begin();
      serve(request, response, match[1] as string, contentType).then(tracker.end, (err: unknown) => {
        // Only writing the response can fail here (the socket went away); nothing is left to answer.
        deps.logError(err, '', 'invocation response could not be written');
        if (!response.headersSent) response.destroy();
        tracker.end();
      });
      return true;
    },
    idle: tracker.idle,
    taken: tracker.taken,
  };
}

/**
 * Puts the fast path in front of a server's request listeners (Fastify's): what it does not take reaches them
 * unchanged. Fastify keeps building its own server (timeouts, keep-alive, binding every address of a host name).
 */
export function interceptInvocations(server: Server, fastPath: Pick<InvocationFastPath, 'handle'>): void {
  const listeners = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (fastPath.handle(request, response)) return;
    for (const listener of listeners) listener.call(server, request, response);
  });
}

/**
 * The fast path of `weir serve`: `POST /invocations` (public, unaudited there) answered by `score`, which the
 * standalone's Fastify route calls too. `closing` is true once the server stopped listening.
 */
export function createStandaloneFastPath(
  score: (contentType: string | undefined, body: IncomingMessage) => Promise<InvocationAnswer>,
  closing: () => boolean,
): InvocationFastPath {
  const tracker = inFlightTracker();
  async function serve(request: IncomingMessage, response: ServerResponse, contentType: string): Promise<void> {
    let answer: InvocationAnswer;
    try {
      answer = await score(contentType, request);
    } catch (err) {
      if (!request.readableEnded) request.resume();
      answer = refusal(err);
    }
    writeAnswer(response, {}, answer, closing());
  }
  return {
    handle(request, response) {
      const contentType = request.headers['content-type'];
      if (request.method !== 'POST' || request.url !== '/invocations' || closing()) return false;
      if (contentType === undefined || !PLAIN_CONTENT_TYPE.test(contentType)) return false;
      tracker.begin();
      serve(request, response, contentType).then(tracker.end, () => {
        if (!response.headersSent) response.destroy();
        tracker.end();
      });
      return true;
    },
    idle: tracker.idle,
    taken: tracker.taken,
  };
}
