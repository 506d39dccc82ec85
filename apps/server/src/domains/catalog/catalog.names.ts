import type { ErrorCode } from '@weir/contracts';
import { AppError } from '../../platform/errors.ts';

const NAME_PATTERN = /^[A-Za-z0-9_@-]{1,255}$/;

/** An error in Unity Catalog's envelope: Databricks code plus an ErrorInfo detail (the JS SDK needs `metadata`). */
export function ucError(code: ErrorCode, message: string): AppError {
  return new AppError(code, message, [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'unity-catalog.databricks.com', metadata: {} },
  ]);
}

/** The object-specific code Unity Catalog answers for a missing object of these kinds. */
const SPECIFIC_NOT_FOUND: Record<string, ErrorCode> = {
  Catalog: 'CATALOG_DOES_NOT_EXIST',
  Schema: 'SCHEMA_DOES_NOT_EXIST',
  Table: 'TABLE_DOES_NOT_EXIST',
};

/**
 * A missing catalog object. Inside Weir it is a plain RESOURCE_DOES_NOT_EXIST (other domains test for that code);
 * the UC routes answer with `ucCode`, the object-specific code Databricks sends.
 */
export class UcNotFoundError extends AppError {
  readonly ucCode: ErrorCode;
  constructor(kind: string, name: string) {
    super('RESOURCE_DOES_NOT_EXIST', `${kind} '${name}' does not exist.`, [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RESOURCE_DOES_NOT_EXIST', domain: 'unity-catalog.databricks.com', metadata: {} },
    ]);
    this.ucCode = SPECIFIC_NOT_FOUND[kind] ?? 'RESOURCE_DOES_NOT_EXIST';
  }
}

/** Missing object, in UC's words. */
export const ucNotFound = (kind: string, name: string): AppError => new UcNotFoundError(kind, name);

/** Wraps a UC route handler so a missing catalog, schema or table answers with its object-specific error code. */
export function withUcErrorCodes<A extends unknown[]>(handler: (...args: A) => unknown): (...args: A) => Promise<unknown> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (err) {
      if (err instanceof UcNotFoundError && err.ucCode !== err.code) throw ucError(err.ucCode, err.message);
      throw err;
    }
  };
}
/** Name clash, in UC's words. */
export const ucExists = (kind: string, name: string): AppError => ucError('RESOURCE_ALREADY_EXISTS', `${kind} '${name}' already exists.`);
/** Bad argument, in UC's words. */
export const ucInvalid = (message: string): AppError => ucError('INVALID_PARAMETER_VALUE', message);

/** Refuses names UC refuses: empty, longer than 255, or with anything but letters, digits, `_`, `@`, `-`. */
export function validateName(kind: string, name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw ucInvalid(
      `Invalid ${kind} name '${name.slice(0, 300)}': names are 1-255 characters of letters, digits, '_', '@' or '-' (no dots, spaces or slashes).`,
    );
  }
  return name;
}

/** Splits `a.b` or `a.b.c` into its parts, refusing any other shape. */
export function splitFullName(fullName: string, parts: 2 | 3, kind: string): string[] {
  const split = fullName.split('.');
  if (split.length !== parts || split.some((p) => !NAME_PATTERN.test(p))) {
    throw ucInvalid(`Invalid ${kind} full name '${fullName.slice(0, 300)}': expected ${parts === 2 ? 'catalog.schema' : 'catalog.schema.name'}.`);
  }
  return split;
}

/** Parses UC `max_results`: negative refused, 0 or absent means every row (no silent truncation). */
export function pageLimit(maxResults: number | undefined, serverMax: number): number | undefined {
  if (maxResults === undefined || maxResults === 0) return undefined;
  if (maxResults < 0) throw ucInvalid(`max_results must be zero or positive, got ${maxResults}.`);
  return Math.min(maxResults, serverMax);
}

/** Cuts a name-ordered row list (fetched with limit+1) into a page and its `next_page_token` (the last name). */
export function toPage<T extends { name: string }>(rows: T[], limit: number | undefined): { rows: T[]; next_page_token?: string } {
  if (limit === undefined || rows.length <= limit) return { rows };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return last ? { rows: page, next_page_token: last.name } : { rows: page };
}

/** Parses a stored JSON properties column. */
export function parseProperties(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}
