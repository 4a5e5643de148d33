/**
 * The legacy mirror (LEGACY_MIRROR): how a Folio job reads as a row of the previous service's legacy_jobs
 * table, and the one upsert that writes such rows — idempotent, insert and update only, and monotonic: a
 * row never moves back to an older state, whatever order retries arrive in.
 */
import type { Sequelize, Transaction } from 'sequelize';
import { SEED_STATUS_OF, type JobStatus, type JobStep } from '../lifecycle.js';

/** The previous service's status names as its table holds them (it had no partial, cancelled or password wait). */
export const LEGACY_ROW_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type LegacyRowStatus = (typeof LEGACY_ROW_STATUSES)[number];

/**
 * Nearest old status of a Folio status: the previous service's own names (SEED_STATUS_OF, as its routes answer),
 * except that its table never held `cancelled` — a cancelled job's row is `failed`, the detail in current_step
 * and error_message (legacyRowOf).
 */
export function legacyRowStatusOf(status: JobStatus): LegacyRowStatus {
  const seed = SEED_STATUS_OF[status];
  return seed === 'cancelled' ? 'failed' : seed;
}

/** A legacy_jobs row, column for column. */
export interface LegacyJobRow {
  job_id: string;
  filename: string | null;
  status: LegacyRowStatus;
  current_step: string | null;
  progress_percentage: number;
  error_message: string | null;
  content_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What the mirror reads of a Folio job. */
export interface MirroredJob {
  id: string;
  status: JobStatus;
  step: JobStep;
  filename: string | null;
  sha256: string;
  pageCount: number | null;
  pagesSelected: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** legacy_jobs.current_step is varchar(64). */
const STEP_LENGTH = 64;

/** Percent of the job's pages that have ended, as the /v1 progress (100 once completed or partial). */
export function progressOf(job: MirroredJob, pages: { pagesDone: number; pagesFailed: number }): number {
  if (job.status === 'completed' || job.status === 'partial') return 100;
  const total = job.pagesSelected ?? job.pageCount ?? 0;
  if (total === 0) return 0;
  return Math.min(100, Math.floor(((pages.pagesDone + pages.pagesFailed) / total) * 100));
}

/**
 * The legacy row of a Folio job: job_id = Folio's id, content_id = the document's sha256, the status in the
 * old vocabulary; a partial, cancelled or password-waiting job says so in current_step and error_message.
 */
export function legacyRowOf(job: MirroredJob, pages: { pagesDone: number; pagesFailed: number }): LegacyJobRow {
  const total = job.pagesSelected ?? job.pageCount ?? 0;
  const error = job.errorMessage ? `${job.errorCode ? `${job.errorCode}: ` : ''}${job.errorMessage}` : null;
  let step: string = job.step;
  let message = error;
  if (job.status === 'partial') {
    step = 'partial';
    message = `partial: ${pages.pagesFailed} of ${total} pages failed`;
  } else if (job.status === 'cancelled') {
    step = 'cancelled';
    message = `cancelled: ${pages.pagesDone} of ${total} pages were done`;
  } else if (job.status === 'needs_password') {
    step = 'needs_password';
    message = error ?? 'needs_password: the document needs a password';
  }
  return {
    job_id: job.id,
    filename: job.filename,
    status: legacyRowStatusOf(job.status),
    current_step: step.slice(0, STEP_LENGTH),
    progress_percentage: progressOf(job, pages),
    error_message: message,
    content_id: job.sha256,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
  };
}

const COLUMNS = [
  'job_id',
  'filename',
  'status',
  'current_step',
  'progress_percentage',
  'error_message',
  'content_id',
  'created_at',
  'updated_at',
] as const;

/**
 * Inserts or updates the rows (one statement). A row already there changes only when the new state is not
 * older — (updated_at, progress_percentage) not behind the stored one — and differs from it, so a late
 * retry never moves a row backwards and a repeated write changes nothing. Returns the job ids written.
 */
export async function upsertLegacyRows(
  legacy: Sequelize,
  rows: readonly LegacyJobRow[],
  transaction?: Transaction,
): Promise<string[]> {
  if (rows.length === 0) return [];
  const values = rows.map((_, i) => `(${COLUMNS.map((c) => `:${c}_${i}`).join(', ')})`).join(',\n');
  const replacements = Object.fromEntries(rows.flatMap((row, i) => COLUMNS.map((c) => [`${c}_${i}`, row[c]] as const)));
  const updated = COLUMNS.filter((c) => c !== 'job_id' && c !== 'created_at');
  const [written] = await legacy.query(
    `INSERT INTO legacy_jobs (${COLUMNS.join(', ')}) VALUES ${values}
     ON CONFLICT (job_id) DO UPDATE SET ${updated.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
     WHERE (legacy_jobs.updated_at, legacy_jobs.progress_percentage)
             <= (EXCLUDED.updated_at, EXCLUDED.progress_percentage)
       AND (${updated.map((c) => `legacy_jobs.${c}`).join(', ')})
             IS DISTINCT FROM (${updated.map((c) => `EXCLUDED.${c}`).join(', ')})
     RETURNING job_id`,
    { replacements, transaction },
  );
  return (written as { job_id: string }[]).map((r) => r.job_id);
}

/** The stored legacy rows of these job ids (for the reconciler's comparison). */
export async function legacyRowsOf(legacy: Sequelize, jobIds: readonly string[]): Promise<Map<string, LegacyJobRow>> {
  if (jobIds.length === 0) return new Map();
  const [rows] = await legacy.query(`SELECT ${COLUMNS.join(', ')} FROM legacy_jobs WHERE job_id IN (:jobIds)`, {
    replacements: { jobIds },
  });
  return new Map((rows as LegacyJobRow[]).map((r) => [r.job_id, r]));
}

/** Whether the stored row says what the mirror would write (dates compared to the millisecond). */
export function sameLegacyRow(stored: LegacyJobRow | undefined, wanted: LegacyJobRow): boolean {
  if (!stored) return false;
  return COLUMNS.every((c) => {
    const a = stored[c];
    const b = wanted[c];
    return a instanceof Date || b instanceof Date
      ? new Date(a as Date).getTime() === new Date(b as Date).getTime()
      : a === b;
  });
}
