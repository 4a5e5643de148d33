/**
 * Every stable failure code Folio gives, from the engine adapters to the HTTP answer, in one table: what it
 * means for a retry, and the one HTTP status it is answered with when the API answers with it. Pure:
 * workflow code imports it for its non-retryable types.
 */

interface FailureSpec {
  /** The HTTP status of an API answer carrying this code; absent for codes only found in job and page bodies. */
  readonly http?: number;
  /**
   * A problem with the document itself, raised by an activity as a non-retryable ApplicationFailure of this
   * type: retrying cannot help.
   */
  readonly input?: true;
  /** The code of its HTTP status for errors raised outside Folio's own code (Nest's 404 for an unknown route). */
  readonly generic?: true;
}

export const FAILURES = {
  // The document: found by the activities (pdf.js, tesseract, the stored file, the sealed password).
  PDF_PASSWORD_REQUIRED: { input: true },
  PDF_PASSWORD_INCORRECT: { input: true, http: 422 },
  PDF_CORRUPT: { input: true },
  PDF_NO_PAGES: { input: true },
  /** An image document (PNG, JPEG, TIFF, WebP) whose header cannot be read. */
  IMAGE_CORRUPT: { input: true },
  PAGE_RANGE_INVALID: { input: true, http: 400 },
  TOO_MANY_PAGES: { input: true },
  PAGE_UNREADABLE: { input: true },
  PAGE_TOO_LARGE: { input: true },
  PAGE_RESOURCE_LIMIT: { input: true },
  OCR_LANGUAGE_UNAVAILABLE: { input: true },
  FILE_MISSING: { input: true },
  PASSWORD_KEY_MISSING: { input: true },
  PASSWORD_KEY_MISMATCH: { input: true },
  /** qpdf could not open or write the document: the job's text stands, its searchable PDF is not built. */
  SEARCHABLE_PDF_FAILED: { input: true },

  // A page or document that outlasted its retries or its time (decided by the workflow).
  PAGE_TIMEOUT: {},
  PAGE_FAILED: {},
  DOCUMENT_TIMEOUT: {},
  DOCUMENT_FAILED: {},
  PASSWORD_DEADLINE_EXCEEDED: {},
  /** A providePassword update sent while the job is not waiting for one (the API answers 409). */
  NOT_WAITING_FOR_PASSWORD: {},

  // A job whose workflow ended outside its own bookkeeping (decided by the reconciler).
  WORKFLOW_TERMINATED: {},
  WORKFLOW_TIMED_OUT: {},
  WORKFLOW_FAILED: {},
  WORKFLOW_MISSING: {},

  // Requests.
  BAD_REQUEST: { http: 400, generic: true },
  VALIDATION_FAILED: { http: 400 },
  INVALID_QUERY: { http: 400 },
  MULTIPART_REQUIRED: { http: 415 },
  FILE_REQUIRED: { http: 400 },
  TOO_MANY_FILES: { http: 400 },
  EMPTY_FILE: { http: 400 },
  NOT_PDF: { http: 415 },
  UPLOAD_TOO_LARGE: { http: 413, generic: true },
  UPLOAD_ABORTED: { http: 400 },
  INVALID_OCR_MODE: { http: 400 },
  LANGUAGE_UNAVAILABLE: { http: 400 },
  LANGUAGES_INVALID: { http: 400 },
  INVALID_CURSOR: { http: 400 },
  IDEMPOTENCY_KEY_INVALID: { http: 400 },
  PASSWORD_INVALID: { http: 400 },
  WEBHOOK_INVALID: { http: 400 },
  PRIORITY_INVALID: { http: 400 },
  // Job edits (PATCH /v1/jobs/{id}, the panel).
  TAGS_INVALID: { http: 400 },
  NOTE_TOO_LONG: { http: 400 },
  RETAIN_UNTIL_INVALID: { http: 400 },
  UNAUTHORIZED: { http: 401, generic: true },
  FORBIDDEN: { http: 403, generic: true },
  JOB_NOT_FOUND: { http: 404 },
  NOT_FOUND: { http: 404, generic: true },
  METHOD_NOT_ALLOWED: { http: 405, generic: true },
  NOT_ACCEPTABLE: { http: 406, generic: true },
  JOB_FINISHED: { http: 409 },
  JOB_NOT_RETRYABLE: { http: 409 },
  /** A priority change for a job with no page left to start. */
  JOB_NOT_QUEUED: { http: 409 },
  NO_FAILED_PAGES: { http: 409 },
  // Batches (POST /v1/batches and /v1/batches/{id}/…).
  BATCH_TOO_MANY_FILES: { http: 400 },
  BATCH_NO_VALID_FILES: { http: 422 },
  BATCH_NOT_FOUND: { http: 404 },
  BATCH_FINISHED: { http: 409 },
  BATCH_NOTHING_TO_RETRY: { http: 409 },
  JOB_NOT_WAITING_FOR_PASSWORD: { http: 409 },
  /** ?format=pdf of a job still running: its searchable PDF is built after its pages. */
  JOB_NOT_FINISHED: { http: 409 },
  /** ?format=pdf of a finished job that has no searchable PDF (switched off, failed, or the job predates it). */
  SEARCHABLE_PDF_UNAVAILABLE: { http: 409 },
  CONFLICT: { http: 409, generic: true },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, generic: true },
  UNPROCESSABLE: { http: 422, generic: true },
  /** The malware scan (MALWARE_SCAN=clamav) found a signature in the upload: it was not stored. */
  MALWARE_FOUND: { http: 422 },
  RATE_LIMITED: { http: 429, generic: true },
  DOCUMENTS_IN_FLIGHT_LIMIT: { http: 429 },
  // Resumable uploads (tus, /v1/uploads): the protocol's own refusals, with its status codes.
  TUS_RESUMABLE_REQUIRED: { http: 412 },
  UPLOAD_HEADERS_INVALID: { http: 400 },
  UPLOAD_METADATA_INVALID: { http: 400 },
  UPLOAD_NOT_FOUND: { http: 404 },
  UPLOAD_OFFSET_MISMATCH: { http: 409 },
  UPLOAD_EXPIRED: { http: 410 },
  // The original document (GET /v1/jobs/{id}/document).
  DOCUMENT_NOT_FOUND: { http: 404 },
  DOCUMENT_ARCHIVED: { http: 410 },
  INTERNAL_ERROR: { http: 500, generic: true },
  NOT_IMPLEMENTED: { http: 501, generic: true },
  SERVICE_UNAVAILABLE: { http: 503, generic: true },
  DATABASE_UNAVAILABLE: { http: 503 },
  PASSWORDS_UNAVAILABLE: { http: 503 },
  /** The document store (folder or bucket) cannot be reached: nothing was recorded; send the document again later. */
  STORAGE_UNAVAILABLE: { http: 503 },
  /** The malware scanner (clamd) cannot be reached or did not answer: nothing was stored; send it again later. */
  SCANNER_UNAVAILABLE: { http: 503 },
} as const satisfies Record<string, FailureSpec>;

export type FailureCode = keyof typeof FAILURES;

type CodesWhere<P extends keyof FailureSpec> = {
  [C in FailureCode]: (typeof FAILURES)[C] extends { readonly [K in P]: unknown } ? C : never;
}[FailureCode];

/** Codes of problems in the document: activities raise them as non-retryable failures of this type. */
export type InputFailureCode = CodesWhere<'input'>;
/** Codes the HTTP API answers with. */
export type ApiErrorCode = CodesWhere<'http'>;

const codes = Object.keys(FAILURES) as FailureCode[];

export const INPUT_FAILURE_CODES = codes.filter((c) => 'input' in FAILURES[c]) as InputFailureCode[];
export const API_ERROR_CODES = codes.filter((c) => 'http' in FAILURES[c]) as ApiErrorCode[];

/** The two input failures that put a job in `needs_password` instead of failing it. */
export const PASSWORD_FAILURE_CODES = [
  'PDF_PASSWORD_REQUIRED',
  'PDF_PASSWORD_INCORRECT',
] as const satisfies readonly InputFailureCode[];
export type PasswordFailureCode = (typeof PASSWORD_FAILURE_CODES)[number];

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === 'string' && Object.hasOwn(FAILURES, value);
}

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return (API_ERROR_CODES as readonly unknown[]).includes(value);
}

export function isInputFailure(value: unknown): value is InputFailureCode {
  return (INPUT_FAILURE_CODES as readonly unknown[]).includes(value);
}

export function isPasswordFailure(value: unknown): value is PasswordFailureCode {
  return (PASSWORD_FAILURE_CODES as readonly unknown[]).includes(value);
}

/** The HTTP status an API error with this code is answered with. */
export function httpStatusOf(code: ApiErrorCode): number {
  return FAILURES[code].http;
}

/** The code for an HTTP status raised outside Folio's code (a framework 404 or 405); HTTP_ERROR if none. */
export function genericCodeOf(status: number): string {
  return API_ERROR_CODES.find((c) => httpStatusOf(c) === status && 'generic' in FAILURES[c]) ?? 'HTTP_ERROR';
}

/** The codes the API answers with under one HTTP status, for the OpenAPI document. */
export function apiCodesWithStatus(status: number): ApiErrorCode[] {
  return API_ERROR_CODES.filter((c) => httpStatusOf(c) === status);
}
