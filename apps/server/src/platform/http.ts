import type { Readable } from 'node:stream';
import { ERROR_STATUS } from '@weir/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** Who is calling: resolved from the request's token or password. */
export interface Principal {
  id: number;
  userName: string;
  kind: 'user' | 'service_principal';
  isAdmin: boolean;
}

/** What a handler gets besides its validated input. */
export interface RouteContext {
  principal: Principal;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The raw request body stream, for routes declared with `body: 'raw'`. */
  rawBody: Readable | undefined;
}

/** One Unity Catalog check: the caller must hold `privilege` on the securable (inherited grants and ownership count). */
export interface UcCheck {
  privilege: string;
  securable: { type: string; fullName: string };
}

/** A workspace object kind that carries Databricks permission levels (checked by its service through identity). */
export type WorkspaceObjectType = 'experiments' | 'registered-models' | 'serving-endpoints';

/**
 * What a route requires of its caller, declared on every route (docs/adr/0004-authorization.md):
 * - `'public'`: anyone, no credentials.
 * - `'admin'`: members of the `admins` group.
 * - `{ scope: 'self' }`: any authenticated caller; it acts on the caller's own things (tokens, session, Me).
 * - `{ scope: 'filtered-list' }`: any authenticated caller; the answer holds only what the caller may see.
 * - `{ scope: 'create' }`: any authenticated caller may create one (experiments, endpoints); the creator manages it.
 * - `{ uc: (input) => checks }`: every Unity Catalog check must hold; evaluated here, before the handler.
 * - `{ ucService: privilege }`: a Unity Catalog privilege the service checks itself, because it must first resolve
 *   the object (e.g. `function` naming a model in the permissions API).
 * - `{ workspace, level }`: the caller needs this permission level on the workspace object named in the input; the
 *   object's service checks it (it resolves runs to experiments, versions to models). `input` means the object type
 *   is itself a parameter (`/api/2.0/permissions/{type}/{id}`).
 * - `'authenticated'`: legacy, undeclared; the authorization matrix test refuses routes that still say it.
 */
export type AuthRequirement =
  | 'public'
  | 'authenticated'
  | 'admin'
  | { scope: 'self' | 'filtered-list' | 'create' }
  // The input is the route's own schema output, not known here.
  | { uc: (input: any) => UcCheck[] }
  | { ucService: string }
  | { workspace: WorkspaceObjectType | 'input'; level: 'CAN_READ' | 'CAN_VIEW' | 'CAN_EDIT' | 'CAN_QUERY' | 'CAN_MANAGE' };

/** Evaluates the Unity Catalog checks of `uc` requirements; throws PERMISSION_DENIED when one does not hold. */
export type UcGate = (principal: Principal, checks: UcCheck[]) => Promise<void>;

/** A route as every domain declares it: the schema is mandatory (OpenAPI and the fuzz test read it). */
export interface RouteSpec<S extends z.ZodObject = z.ZodObject> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify-style paths (`/a/:id`, `/files/*`); the first is the canonical one. */
  paths: string[];
  summary: string;
  tag: string;
  auth: AuthRequirement;
  input: S;
  /** `json` (default for bodies), `raw` (handler streams it), `none`. */
  body?: 'json' | 'raw' | 'none';
  maxBodyBytes?: number;
  /** Error body dialect: MLflow/Databricks (default) or SCIM. */
  errorFormat?: 'default' | 'scim';
  handler(input: z.output<S>, ctx: RouteContext): Promise<unknown> | unknown;
}

/** Identity check used by the HTTP layer; returns null when the request carries no valid credentials. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | null>;

/** What the HTTP layer learned about a request: its route, the authenticated caller, the decoded parameters. */
export interface RequestFacts {
  route: RouteSpec;
  principal: Principal | null;
  /** Query, body and path parameters merged, once decoded (unset when decoding failed). */
  params: Record<string, unknown> | undefined;
}

const requestFacts = new WeakMap<FastifyRequest, RequestFacts>();

/** The facts recorded for a request (undefined for paths no route matched); the audit hook reads them. */
export function factsOf(request: FastifyRequest): RequestFacts | undefined {
  return requestFacts.get(request);
}

/** Defines a route with its input type inferred from the schema. */
export function defineRoute<S extends z.ZodObject>(spec: RouteSpec<S>): RouteSpec<S> {
  return spec;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

/** Python's name for a JSON value's type, as MLflow prints it in validation messages. */
function pythonType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    default:
      return 'dict';
  }
}

const API_DOCS_HINT = 'See the API docs for more information about request parameters.';

/** Turns the first schema violation into MLflow's wording ("Missing value for required parameter 'x'"). */
export function describeValidationError(error: z.ZodError, input: Record<string, unknown>): AppError {
  const issue = error.issues[0];
  const pathParts = issue?.path ?? [];
  let name = '';
  let value: unknown = input;
  for (const part of pathParts) {
    name += typeof part === 'number' ? `[${part}]` : name ? `.${String(part)}` : String(part);
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[part as string] : undefined;
  }
  if (!name) return new AppError('INVALID_PARAMETER_VALUE', `Invalid request body. ${API_DOCS_HINT}`);
  if (value === undefined || value === null || value === '') {
    return new AppError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. ${API_DOCS_HINT}`);
  }
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 200) shown = `${shown.slice(0, 200)}...`;
  return new AppError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${shown} for parameter '${name}' supplied. Hint: Value was of type '${pythonType(value)}'. ${API_DOCS_HINT}`,
  );
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}

/** GET query strings arrive as strings: wrap repeated fields into lists and read `true`/`false` as booleans. */
function coerceQuery(schema: z.ZodObject, query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query)) {
    const field = schema.shape[key] as z.ZodType | undefined;
    const inner = field ? unwrap(field) : undefined;
    if (inner instanceof z.ZodArray) {
      out[key] = Array.isArray(raw) ? raw : [raw];
      continue;
    }
    const single = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (inner instanceof z.ZodBoolean && typeof single === 'string') {
      const lower = single.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        out[key] = lower === 'true';
        continue;
      }
      throw new AppError('INVALID_PARAMETER_VALUE', `Invalid value '${single}' for parameter '${key}': expected true or false.`);
    }
    out[key] = single;
  }
  return out;
}

/**
 * Reads a request body of at most `limit` bytes; answers null when it is larger (the rest is drained, never buffered,
 * so a refusal still reaches the client). Listeners rather than `for await`: the async iterator costs a promise per
 * chunk, and leaving it early destroys the socket before the refusal can be sent.
 */
export function readLimited(stream: Readable | undefined, limit: number): Promise<Buffer | null> {
  if (!stream || typeof stream.on !== 'function' || stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  const body = stream;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    body.on('data', (chunk: Buffer | string) => {
      if (over) return;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(buf);
    });
    body.once('end', () => {
      if (!over) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    body.once('error', (err) => {
      if (!over) reject(err);
    });
  });
}

async function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const body = await readLimited(stream, limit);
  if (body === null) throw new AppError('INVALID_PARAMETER_VALUE', `Request body exceeds the limit of ${limit} bytes.`);
  return body;
}

function parseJsonBody(buf: Buffer): Record<string, unknown> {
  const text = buf.toString('utf8').trim();
  if (!text) return {};
  // JSON can only carry NUL escaped; checking the text is far cheaper than walking every parsed value.
  if (text.includes('\\u0000') || text.includes('\0')) {
    throw new AppError('INVALID_PARAMETER_VALUE', 'Request parameters must not contain NUL characters.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    // Legacy clients double-encode the body as a JSON string.
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'Malformed JSON in request body.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('MALFORMED_REQUEST', 'Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** True when any string in the value holds a NUL character (PostgreSQL cannot store them; no API needs them). */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v, depth + 1));
}

/**
 * RFC 7644's `scimType` for a SCIM error: what the thrower named in the details (invalidFilter, invalidPath, ...), else
 * uniqueness for a 409, invalidSyntax for unreadable JSON and invalidValue for any other 400; none for other statuses.
 */
function scimTypeOf(err: AppError, status: number): string | undefined {
  for (const d of err.details ?? []) {
    const named = (d as { scimType?: unknown } | null)?.scimType;
    if (typeof named === 'string') return named;
  }
  if (status === 409) return 'uniqueness';
  if (err.code === 'MALFORMED_REQUEST') return 'invalidSyntax';
  return status === 400 ? 'invalidValue' : undefined;
}

/** Serializes an error in the route's dialect. */
export function sendError(reply: FastifyReply, err: AppError, format: 'default' | 'scim' = 'default'): FastifyReply {
  const status = ERROR_STATUS[err.code];
  if (format === 'scim') {
    const scimType = scimTypeOf(err, status);
    return reply
      .code(status)
      .type('application/json')
      .send({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        detail: err.message,
        status: String(status),
        ...(scimType ? { scimType } : {}),
        error_code: err.code,
        message: err.message,
      });
  }
  return reply.code(status).type('application/json').send(errorResponse(err).body);
}

/** The status and JSON text of an error in the default (MLflow/Databricks) dialect; the invocation fast path sends it too. */
export function errorResponse(err: AppError): { status: number; body: string } {
  const body: Record<string, unknown> = { error_code: err.code, message: err.message };
  if (err.details) body.details = err.details;
  return { status: ERROR_STATUS[err.code], body: JSON.stringify(body) };
}

/** The refusal of a request that carries no valid credentials. */
export function unauthenticatedError(): AppError {
  return new AppError('UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');
}

/** What a caller is told of an unexpected error (the details go to the server log only). */
export function internalError(): AppError {
  return new AppError('INTERNAL_ERROR', 'Internal error. See the server log for details.');
}

/** Registers routes on fastify: authentication, body decoding, validation, error mapping. */
export function registerRoutes(app: FastifyInstance, routes: RouteSpec[], authenticate: Authenticator, ucGate?: UcGate): void {
  for (const route of routes) {
    const bodyMode = route.body ?? (route.method === 'GET' ? 'none' : 'json');
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const format = route.errorFormat ?? 'default';
      const facts: RequestFacts = { route, principal: null, params: undefined };
      requestFacts.set(request, facts);
      try {
        let principal: Principal | null = null;
        if (route.auth !== 'public') {
          principal = await authenticate(request);
          facts.principal = principal;
          if (!principal) {
            throw unauthenticatedError();
          }
          if (route.auth === 'admin' && !principal.isAdmin) {
            throw new AppError('PERMISSION_DENIED', 'Only workspace admins may do this.');
          }
        }
        // Fastify parses no GET body; a GET route that declares `body: 'json'` (the lineage API, which Databricks SDKs call
        // with a JSON body) reads it from the raw request when one was sent.
        const getBody =
          route.method === 'GET' &&
          bodyMode === 'json' &&
          (request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0);
        const stream = (getBody ? request.raw : request.body) as Readable | undefined;
        let body: Record<string, unknown> = {};
        if (bodyMode === 'json' && stream && typeof stream.on === 'function') {
          body = parseJsonBody(await readBody(stream, route.maxBodyBytes ?? DEFAULT_MAX_BODY));
        }
        const query = coerceQuery(route.input, (request.query ?? {}) as Record<string, unknown>);
        const params = (request.params ?? {}) as Record<string, unknown>;
        const merged = { ...query, ...body, ...params };
        facts.params = merged;
        if (containsNul(query) || containsNul(params)) throw new AppError('INVALID_PARAMETER_VALUE', 'Request parameters must not contain NUL characters.');
        const parsed = route.input.safeParse(merged);
        if (!parsed.success) throw describeValidationError(parsed.error, merged);
        const ctx: RouteContext = {
          principal: principal ?? { id: 0, userName: 'anonymous', kind: 'user', isAdmin: false },
          request,
          reply,
          rawBody: bodyMode === 'raw' ? stream : undefined,
        };
        if (typeof route.auth === 'object' && 'uc' in route.auth) {
          // Declared Unity Catalog requirements are checked here, once, before the handler can touch anything.
          if (!ucGate) throw new AppError('PERMISSION_DENIED', 'Unity Catalog authorization is not configured.');
          await ucGate(ctx.principal, route.auth.uc(parsed.data));
        }
        const result = await route.handler(parsed.data, ctx);
        if (result === reply || reply.sent) return reply;
        return reply
          .code(200)
          .type('application/json')
          .send(JSON.stringify(result ?? {}));
      } catch (err) {
        const stream = request.body as Readable | undefined;
        if (stream && typeof stream.resume === 'function' && !stream.readableEnded) stream.resume();
        if (err instanceof AppError) return sendError(reply, err, format);
        request.log.error({ err }, 'unhandled error');
        return sendError(reply, internalError(), format);
      }
    };
    for (const url of route.paths) {
      app.route({ method: route.method, url, handler });
    }
  }
}

/** Builds the OpenAPI document from the route table. */
export function buildOpenApi(routes: RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const schema = z.toJSONSchema(route.input, { io: 'input', unrepresentable: 'any' });
    for (const url of route.paths) {
      const openApiPath = url.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\*$/, '{path}');
      const op: Record<string, unknown> = {
        summary: route.summary,
        tags: [route.tag],
        security: route.auth === 'public' ? [] : [{ bearer: [] }, { basic: [] }],
        responses: {
          '200': { description: 'OK' },
          default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      };
      if (route.method === 'GET' || route.method === 'DELETE') op['x-weir-query'] = schema;
      if (route.method !== 'GET' && route.body !== 'raw') {
        op.requestBody = { content: { 'application/json': { schema } } };
      }
      if (route.body === 'raw') op.requestBody = { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
      paths[openApiPath] ??= {};
      (paths[openApiPath] as Record<string, unknown>)[route.method.toLowerCase()] = op;
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Weir API', version },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error_code', 'message'],
          properties: { error_code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  };
}
