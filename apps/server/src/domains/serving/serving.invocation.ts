// One scoring request, whichever transport carries it: the generic route (serving.routes.ts), the invocation fast path
// (serving.fast-path.ts) and `weir serve` all read the body and build the answer here, so refusals, error bodies and
// predictions cannot drift apart between them.

import type { Readable } from 'node:stream';
import { AppError } from '../../platform/errors.ts';
import { type Principal, readLimited } from '../../platform/http.ts';
import { parseCsvScoringBody, parseJsonScoringBody } from './serving.scoring.ts';
import type { ServingService } from './serving.service.ts';

/** Largest scoring request body, as Databricks Model Serving allows. */
export const MAX_INVOCATION_BYTES = 16 * 1024 * 1024;

/** The response header naming the served entity that answered. */
export const SERVED_ENTITY_HEADER = 'x-weir-served-entity';

/** Databricks' own header naming the served entity, which its SDKs read into `served_model_name`. */
export const SERVED_MODEL_NAME_HEADER = 'served-model-name';

/** An invocation's answer: the status, the JSON text to send and the served entity that answered (on success). */
export interface InvocationAnswer {
  status: number;
  body: string;
  servedEntity: string | null;
}

/** A body the scoring protocol accepts, or the refusal to send instead. */
export type InvocationBody = { text: string; csv: boolean } | { refused: InvocationAnswer };

/** The two content types the MLflow scoring server reads; null for anything else (answered 415). */
export function invocationContentType(header: string | undefined): { csv: boolean } | null {
  const type = String(header ?? 'application/json').toLowerCase();
  const [mime, ...paramsPart] = type.split(';').map((x) => x.trim());
  if (mime === 'application/json' && paramsPart.every((p) => p === '' || p === 'charset=utf-8')) return { csv: false };
  return mime === 'text/csv' ? { csv: true } : null;
}

/**
 * Reads an invocation body as the MLflow scoring server does: JSON or CSV only (415 otherwise), at most 16 MB (413).
 * Returns the body text, or the refusal to answer.
 */
export async function readInvocation(contentType: string | undefined, stream: Readable | undefined): Promise<InvocationBody> {
  const kind = invocationContentType(contentType);
  if (!kind) {
    stream?.resume();
    const type = String(contentType ?? 'application/json').toLowerCase();
    return {
      refused: {
        status: 415,
        body: JSON.stringify({
          error_code: 'BAD_REQUEST',
          message: `This predictor only supports the following content types: application/json, text/csv. Got '${type.slice(0, 100)}'.`,
        }),
        servedEntity: null,
      },
    };
  }
  const buf = await readLimited(stream, MAX_INVOCATION_BYTES);
  if (buf === null) {
    return {
      refused: {
        status: 413,
        body: JSON.stringify({ error_code: 'BAD_REQUEST', message: `The request body exceeds the limit of ${MAX_INVOCATION_BYTES} bytes (16 MB).` }),
        servedEntity: null,
      },
    };
  }
  const text = buf.toString('utf8');
  if (text.includes('\0')) throw new AppError('INVALID_PARAMETER_VALUE', 'Request body must not contain NUL characters.');
  return { text, csv: kind.csv };
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

/**
 * Answers `POST /serving-endpoints/{name}/invocations` for an authenticated caller: the endpoint permission check (before
 * the body is read), the body, scoring and capture. Throws AppError for refusals the generic error body carries.
 */
export async function answerInvocation(
  service: Pick<ServingService, 'authorizeQuery' | 'queryAuthorized'>,
  principal: Principal,
  name: string,
  contentType: string | undefined,
  stream: Readable | undefined,
  requestId: string,
): Promise<InvocationAnswer> {
  const endpoint = await service.authorizeQuery(principal, name);
  const body = await readInvocation(contentType, stream);
  if ('refused' in body) return body.refused;
  const { text, csv } = body;
  const result = await service.queryAuthorized(endpoint, () => (csv ? parseCsvScoringBody(text) : parseJsonScoringBody(text)), {
    requestId,
    clientRequestId: clientRequestIdOf(csv, text),
    body: text,
    csv,
  });
  return { status: 200, body: result.json ?? JSON.stringify({ predictions: result.predictions }), servedEntity: result.servedEntity };
}
