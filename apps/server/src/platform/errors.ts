import { ERROR_STATUS, type ErrorCode } from '@weir/contracts';

/** The one error type services throw; the HTTP layer turns it into `{error_code, message}` with its status. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown[] | undefined;
  constructor(code: ErrorCode, message: string, details?: unknown[]) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Shorthand for the most common client error. */
export const invalidParameter = (message: string): AppError => new AppError('INVALID_PARAMETER_VALUE', message);
/** Shorthand for a missing resource. */
export const notFound = (message: string): AppError => new AppError('RESOURCE_DOES_NOT_EXIST', message);
