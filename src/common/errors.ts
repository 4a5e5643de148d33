import { HttpException, HttpStatus } from '@nestjs/common';

/** Every error code the HTTP API answers with, and the one HTTP status each maps to. */
export const ApiErrorStatus = {
  BAD_REQUEST: HttpStatus.BAD_REQUEST,
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  MULTIPART_REQUIRED: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  FILE_REQUIRED: HttpStatus.BAD_REQUEST,
  TOO_MANY_FILES: HttpStatus.BAD_REQUEST,
  EMPTY_FILE: HttpStatus.BAD_REQUEST,
  NOT_PDF: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  UPLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  INVALID_OCR_MODE: HttpStatus.BAD_REQUEST,
  LANGUAGE_UNAVAILABLE: HttpStatus.BAD_REQUEST,
  PAGE_RANGE_INVALID: HttpStatus.BAD_REQUEST,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  JOB_FINISHED: HttpStatus.CONFLICT,
  JOB_NOT_RETRYABLE: HttpStatus.CONFLICT,
  NO_FAILED_PAGES: HttpStatus.CONFLICT,
  INVALID_QUERY: HttpStatus.BAD_REQUEST,
  INVALID_CURSOR: HttpStatus.BAD_REQUEST,
  IDEMPOTENCY_KEY_INVALID: HttpStatus.BAD_REQUEST,
  PASSWORD_INVALID: HttpStatus.BAD_REQUEST,
  PDF_PASSWORD_INCORRECT: HttpStatus.UNPROCESSABLE_ENTITY,
  JOB_NOT_WAITING_FOR_PASSWORD: HttpStatus.CONFLICT,
  PASSWORDS_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  UNAUTHORIZED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  DOCUMENTS_IN_FLIGHT_LIMIT: HttpStatus.TOO_MANY_REQUESTS,
  NOT_IMPLEMENTED: HttpStatus.NOT_IMPLEMENTED,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  UPLOAD_ABORTED: HttpStatus.BAD_REQUEST,
  SERVICE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  DATABASE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
} as const;

export type ApiErrorCode = keyof typeof ApiErrorStatus;

/** The body of every error response. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error with a stable code; the global filter renders it as `{ error: { code, message } }`. */
export class ApiError extends HttpException {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: { code, message, ...(details === undefined ? {} : { details }) } }, ApiErrorStatus[code]);
    this.message = message;
  }
}
