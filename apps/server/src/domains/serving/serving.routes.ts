import type { Readable } from 'node:stream';
import { serving, servingPermissions } from '@weir/contracts';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { parseCsvScoringBody, parseJsonScoringBody } from './serving.scoring.ts';
import type { ServingService } from './serving.service.ts';

/** Largest scoring request body, as Databricks Model Serving allows. */
export const MAX_INVOCATION_BYTES = 16 * 1024 * 1024;

/** The response header naming the served entity that answered. */
export const SERVED_ENTITY_HEADER = 'x-weir-served-entity';

const BASE = '/api/2.0/serving-endpoints';
const PERMISSIONS = '/api/2.0/permissions/serving-endpoints';

/** Reads a body up to `limit` bytes; returns null when it is larger (the rest is drained, never buffered). */
async function readLimited(stream: Readable | undefined, limit: number): Promise<Buffer | null> {
  if (!stream || typeof stream.on !== 'function') return Buffer.alloc(0);
  const body = stream;
  // Listeners rather than `for await`: leaving an async iterator early destroys the socket before the 413 can be sent.
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
    body.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    body.on('error', (err) => {
      if (!over) reject(err);
    });
  });
}

/**
 * Reads an invocation body as the MLflow scoring server does: JSON or CSV only (415 otherwise), at most 16 MB (413).
 * Answers the refusal itself and returns `{ sent }`, or returns the body text.
 */
export async function readInvocationBody(reply: FastifyReply, rawBody: Readable | undefined): Promise<{ text: string; csv: boolean } | { sent: FastifyReply }> {
  const type = String(reply.request.headers['content-type'] ?? 'application/json').toLowerCase();
  const [mime, ...paramsPart] = type.split(';').map((x) => x.trim());
  const json = mime === 'application/json' && paramsPart.every((p) => p === '' || p === 'charset=utf-8');
  const csv = mime === 'text/csv';
  if (!json && !csv) {
    rawBody?.resume();
    return {
      sent: reply
        .code(415)
        .type('application/json')
        .send({
          error_code: 'BAD_REQUEST',
          message: `This predictor only supports the following content types: application/json, text/csv. Got '${type.slice(0, 100)}'.`,
        }),
    };
  }
  const buf = await readLimited(rawBody, MAX_INVOCATION_BYTES);
  if (buf === null) {
    return {
      sent: reply
        .code(413)
        .type('application/json')
        .send({ error_code: 'BAD_REQUEST', message: `The request body exceeds the limit of ${MAX_INVOCATION_BYTES} bytes (16 MB).` }),
    };
  }
  const text = buf.toString('utf8');
  if (text.includes('\0')) throw new AppError('INVALID_PARAMETER_VALUE', 'Request body must not contain NUL characters.');
  return { text, csv };
}

/** The `client_request_id` a JSON body carries, recorded in the inference table; null when absent or unreadable. */
function clientRequestIdOf(csv: boolean, text: string): string | null {
  // A second parse of the body only when it can hold the field (a key spelled with \u escapes is not looked for).
  if (csv || !text.includes('"client_request_id"')) return null;
  try {
    const body = JSON.parse(text) as { client_request_id?: unknown };
    return typeof body?.client_request_id === 'string' ? body.client_request_id.slice(0, 1000) : null;
  } catch {
    return null;
  }
}

/** The serving routes: the Databricks endpoints API and the scoring route at the host root. */
export function servingRoutes(service: ServingService): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      paths: [BASE],
      summary: 'Create a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.CreateServingEndpoint,
      handler: (input, { principal }) => service.create(principal, input),
    }),
    defineRoute({
      method: 'GET',
      paths: [BASE],
      summary: 'List serving endpoints',
      tag: 'serving',
      auth: 'authenticated',
      input: z.object({}),
      handler: (_input, { principal }) => service.list(principal),
    }),
    defineRoute({
      method: 'GET',
      paths: [`${BASE}/:name`],
      summary: 'Get a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.ServingEndpointName,
      handler: (input, { principal }) => service.get(principal, input.name),
    }),
    defineRoute({
      method: 'DELETE',
      paths: [`${BASE}/:name`],
      summary: 'Delete a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.ServingEndpointName,
      handler: (input, { principal }) => service.remove(principal, input.name),
    }),
    defineRoute({
      method: 'PUT',
      paths: [`${BASE}/:name/config`],
      summary: "Update a serving endpoint's served entities, traffic and capture config",
      tag: 'serving',
      auth: 'authenticated',
      input: serving.UpdateServingEndpointConfig,
      handler: (input, { principal }) => {
        const { name, ...config } = input;
        return service.updateConfig(principal, name, config);
      },
    }),
    defineRoute({
      method: 'GET',
      paths: [`${BASE}/:name/served-models/:served_model_name/build-logs`, `${BASE}/:name/served-models/:served_model_name/logs`],
      summary: "A served entity's load state and reasons",
      tag: 'serving',
      auth: 'authenticated',
      input: z.object({ name: z.string().min(1).max(1000), served_model_name: z.string().min(1).max(1000) }),
      handler: (input, { principal }) => service.buildLogs(principal, input.name, input.served_model_name),
    }),
    // Serving endpoints have their own permission level names, so their permissions API lives here rather than in the
    // generic workspace-object one (the router prefers this static segment over `:object_type`).
    defineRoute({
      method: 'GET',
      paths: [`${PERMISSIONS}/:serving_endpoint_id`],
      summary: 'Permissions of a serving endpoint (CAN_VIEW, CAN_QUERY, CAN_MANAGE)',
      tag: 'serving',
      auth: 'authenticated',
      input: servingPermissions.ServingEndpointPermissionsTarget,
      handler: (input, { principal }) => service.getPermissions(principal, input.serving_endpoint_id),
    }),
    ...(['PUT', 'PATCH'] as const).map((method) =>
      defineRoute({
        method,
        paths: [`${PERMISSIONS}/:serving_endpoint_id`],
        summary: method === 'PUT' ? 'Replace the permissions of a serving endpoint' : 'Add or update permissions of a serving endpoint',
        tag: 'serving',
        auth: 'authenticated',
        input: servingPermissions.SetServingEndpointPermissions,
        handler: (input, { principal }) => service.setPermissions(principal, input.serving_endpoint_id, input.access_control_list, method === 'PUT'),
      }),
    ),
    defineRoute({
      method: 'GET',
      paths: [`${PERMISSIONS}/:serving_endpoint_id/permissionLevels`],
      summary: 'Permission levels of a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: servingPermissions.ServingEndpointPermissionsTarget,
      handler: (input, { principal }) => service.permissionLevels(principal, input.serving_endpoint_id),
    }),
    defineRoute({
      method: 'POST',
      paths: ['/serving-endpoints/:name/invocations'],
      summary: 'Score with a serving endpoint (MLflow scoring protocol: JSON or CSV)',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.InvokeServingEndpoint,
      body: 'raw',
      handler: async (input, { principal, reply, rawBody }) => {
        const endpoint = await service.authorizeQuery(principal, input.name);
        const body = await readInvocationBody(reply, rawBody);
        if ('sent' in body) return body.sent;
        const { text, csv } = body;
        const clientRequestId = clientRequestIdOf(csv, text);
        const result = await service.queryAuthorized(endpoint, () => (csv ? parseCsvScoringBody(text) : parseJsonScoringBody(text)), {
          requestId: String(reply.request.id),
          clientRequestId,
          body: text,
          csv,
        });
        reply.header(SERVED_ENTITY_HEADER, result.servedEntity);
        // Databricks' own header, which its SDKs read into `served_model_name`.
        reply.header('served-model-name', result.servedEntity);
        return reply
          .code(200)
          .type('application/json')
          .send(result.json ?? JSON.stringify({ predictions: result.predictions }));
      },
    }),
  ] as unknown as RouteSpec[];
}
