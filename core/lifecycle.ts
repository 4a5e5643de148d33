/**
 * The life of a job and of its pages: every state, which state may follow which, and the OCR modes a client
 * chooses from. The one definition the API, the workflows, the activities and the panel use; the only code
 * that writes these states is core/job-store.ts. Pure constants and functions: workflow code imports it.
 */

/** How a document's pages are read: `auto` uses a page's own text layer where it has real text. */
export const OCR_MODES = ['auto', 'force', 'skip'] as const;
export type OcrMode = (typeof OCR_MODES)[number];
export const DEFAULT_OCR_MODE: OcrMode = 'auto';

export function isOcrMode(value: unknown): value is OcrMode {
  return (OCR_MODES as readonly unknown[]).includes(value);
}

/** Job states as stored in the app DB and returned by the API. */
export const JOB_STATUSES = [
  'queued',
  'processing',
  'needs_password',
  'completed',
  'partial',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job whose workflow has not ended: its status still moves. */
export const ACTIVE_STATUSES = ['queued', 'processing', 'needs_password'] as const satisfies readonly JobStatus[];
/** A job that ended; only a retry of its failed pages (from `partial` or `failed`) reopens it. */
export const FINISHED_STATUSES = [
  'completed',
  'partial',
  'failed',
  'cancelled',
] as const satisfies readonly JobStatus[];
/**
 * Jobs that hold or wait for a worker: what MAX_IN_FLIGHT_PER_KEY and the in-flight gauge count. A job
 * waiting for its password holds nothing until the password comes.
 */
export const IN_FLIGHT_STATUSES = ['queued', 'processing'] as const satisfies readonly JobStatus[];
/** Ended with failed pages: POST /v1/jobs/{id}/retry runs them again. */
export const RETRYABLE_STATUSES = ['partial', 'failed'] as const satisfies readonly JobStatus[];

export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];
export type RetryableStatus = (typeof RETRYABLE_STATUSES)[number];

export function isJobStatus(value: unknown): value is JobStatus {
  return (JOB_STATUSES as readonly unknown[]).includes(value);
}

export function isFinished(status: JobStatus): status is FinishedStatus {
  return (FINISHED_STATUSES as readonly JobStatus[]).includes(status);
}

export function isActive(status: JobStatus): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly JobStatus[]).includes(status);
}

export function isRetryable(status: JobStatus): status is RetryableStatus {
  return (RETRYABLE_STATUSES as readonly JobStatus[]).includes(status);
}

/**
 * Which status may follow which. An active job moves on as its workflow decides (or as the reconciler
 * finds its workflow ended); a finished job stays as it is, except that a retry reopens `partial` and
 * `failed` jobs (and puts them back if the retry cannot start).
 */
export const JOB_TRANSITIONS: { readonly [S in JobStatus]: readonly JobStatus[] } = {
  queued: ['processing', 'completed', 'partial', 'failed', 'cancelled'],
  processing: ['processing', 'needs_password', 'completed', 'partial', 'failed', 'cancelled'],
  needs_password: ['processing', 'needs_password', 'completed', 'partial', 'failed', 'cancelled'],
  completed: [],
  partial: ['processing'],
  failed: ['processing'],
  cancelled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** The statuses among `from` that may move to `to`: the WHERE of a status write. */
export function statusesMovingTo(to: JobStatus, from: readonly JobStatus[] = JOB_STATUSES): JobStatus[] {
  return from.filter((s) => canTransition(s, to));
}

/** What the document workflow is doing, as shown in job status. */
export const JOB_STEPS = [
  'queued',
  'inspecting',
  'waiting-for-password',
  'processing-pages',
  'finalizing',
  'done',
] as const;
export type JobStep = (typeof JOB_STEPS)[number];

/** Page states as stored in the app DB. */
export const PAGE_STATUSES = ['pending', 'processing', 'done', 'failed', 'skipped'] as const;
export type PageStatus = (typeof PAGE_STATUSES)[number];
/** Pages that have not ended: a cancelled job marks them `skipped`. */
export const UNFINISHED_PAGE_STATUSES = ['pending', 'processing'] as const satisfies readonly PageStatus[];

/** How a page's text was obtained; `none` for a page that was never read. */
export const PAGE_METHODS = ['text-layer', 'ocr', 'none'] as const;
export type PageMethod = (typeof PAGE_METHODS)[number];
/** The two ways a page is read. */
export const READ_METHODS = ['text-layer', 'ocr'] as const satisfies readonly PageMethod[];
export type ReadMethod = (typeof READ_METHODS)[number];

/**
 * The previous document service's status names (its /extract and /api/v1/jobs routes and its legacy_jobs
 * table): `pending` is `queued`; `completed` covers `partial`; a job waiting for a password is still
 * `processing` to its clients (its error says why).
 */
export const SEED_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type SeedStatus = (typeof SEED_STATUSES)[number];

export const SEED_STATUS_OF: { readonly [S in JobStatus]: SeedStatus } = {
  queued: 'pending',
  processing: 'processing',
  needs_password: 'processing',
  completed: 'completed',
  partial: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function isSeedStatus(value: unknown): value is SeedStatus {
  return (SEED_STATUSES as readonly unknown[]).includes(value);
}

/** The job statuses a seed status name stands for. */
export function statusesOfSeed(seed: SeedStatus): JobStatus[] {
  return JOB_STATUSES.filter((s) => SEED_STATUS_OF[s] === seed);
}
