import { HttpException } from '@nestjs/common';
import { httpStatusOf, type ApiErrorCode } from '../../core/failures.js';

export type { ApiErrorCode } from '../../core/failures.js';

/** The body of every error response. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * An error with a stable code (core/failures.ts, which gives its HTTP status); the global filter renders it
 * as `{ error: { code, message } }`.
 */
export class ApiError extends HttpException {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: { code, message, ...(details === undefined ? {} : { details }) } }, httpStatusOf(code));
    this.message = message;
  }
}
