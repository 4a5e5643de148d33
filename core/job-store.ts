/**
 * The one writer of job and page states. Every status a job or a page takes — accepted, started, waiting for
 * a password, each page read or failed, finished, reopened for a retry, closed by the reconciler, archived —
 * is recorded here, each write guarded by the state it may come from (core/lifecycle.ts), so a late retry of
 * an earlier step never moves a job backwards. Used by the API, the activities and the panel alike.
 */
import { Op, QueryTypes, type CreationAttributes, type Transaction } from 'sequelize';
import type { FinalizeDocumentOutput, PageLanguages, PageLayout, Word } from './contracts.js';
import type { AppModels, Job } from './db/models.js';
import {
  ACTIVE_STATUSES,
  RETRYABLE_STATUSES,
  UNFINISHED_PAGE_STATUSES,
  statusesMovingTo,
  type FinishedStatus,
  type JobStatus,
  type JobStep,
  type ReadMethod,
} from './lifecycle.js';

/** A job's error as recorded: a stable code, a message saying what to do, the page when one is at fault. */
export interface JobError {
  code: string;
  message: string;
  page?: number;
}

/** A page of a job. */
export interface PageKey {
  jobId: string;
  pageNumber: number;
}

/** A page's size, as inspection found it. */
export interface InspectedPage {
  number: number;
  width: number;
  height: number;
}

/** An OCR'd page as the searchable PDF needs it: its size as displayed and its words. */
export interface OcrPageWords {
  pageNumber: number;
  width: number;
  height: number;
  words: Word[];
}

/** What reading a page produced. */
export interface PageRead {
  method: ReadMethod;
  text: string;
  confidence: number;
  words: Word[];
  /** Blocks, paragraphs and lines with their boxes, and the image read (hOCR, ALTO and TSV are made from it). */
  layout?: PageLayout | null;
  renderDpi: number | null;
  hasTextLayer: boolean | null;
  /** OCR pages: the languages they were read in (and with languages=auto, the script that chose them). */
  languages?: PageLanguages | null;
}

/** The values a new job is accepted with; its state is the store's to set. */
export type NewJob = Omit<CreationAttributes<Job>, 'status' | 'step'>;

/** What a job was before a retry reopened it, so a retry that cannot start puts it back. */
export type JobBeforeRetry = Pick<
  Job,
  'status' | 'errorCode' | 'errorMessage' | 'errorPage' | 'finishedAt' | 'workflowId'
>;

/** Rows inserted per statement when a long document's pages are recorded. */
const PAGE_INSERT_BATCH = 1000;

export class JobStore {
  constructor(private readonly models: Pick<AppModels, 'Job' | 'JobPage'>) {}

  /** Records an accepted document as a queued job. */
  accept(values: NewJob, transaction?: Transaction): Promise<Job> {
    return this.models.Job.create({ ...values, status: 'queued', step: 'queued' }, { transaction });
  }

  /**
   * Records a state change the document workflow decided. Only an active job moves: a finished job is never
   * reopened by a late retry of an earlier step.
   */
  async advance(jobId: string, change: { status?: JobStatus; step?: JobStep; error?: JobError | null }): Promise<void> {
    const patch: Record<string, unknown> = {};
    if (change.step) patch.step = change.step;
    if (change.status) {
      patch.status = change.status;
      if (change.status === 'processing') patch.startedAt = new Date();
      if (change.status === 'failed' || change.status === 'completed' || change.status === 'partial') {
        patch.finishedAt = new Date();
      }
    }
    if (change.error !== undefined) Object.assign(patch, errorColumns(change.error));
    const from = change.status ? statusesMovingTo(change.status, ACTIVE_STATUSES) : [...ACTIVE_STATUSES];
    await this.models.Job.update(patch, { where: { id: jobId, status: { [Op.in]: from } } });
  }

  /** Records what inspection found: the page count, and one pending row per selected page. Idempotent. */
  async recordInspection(
    jobId: string,
    found: { pageCount: number; encrypted: boolean; pages: InspectedPage[] },
  ): Promise<void> {
    const rows = found.pages.map((p) => ({
      jobId,
      pageNumber: p.number,
      status: 'pending' as const,
      width: p.width,
      height: p.height,
    }));
    // A retried inspect leaves pages that already finished as they are.
    for (let i = 0; i < rows.length; i += PAGE_INSERT_BATCH) {
      await this.models.JobPage.bulkCreate(rows.slice(i, i + PAGE_INSERT_BATCH), { ignoreDuplicates: true });
    }
    await this.models.Job.update(
      { pageCount: found.pageCount, pagesSelected: found.pages.length, encrypted: found.encrypted },
      { where: { id: jobId } },
    );
  }

  /** A page attempt began; a page already read stays read. */
  async pageStarted(page: PageKey, attempt: number): Promise<void> {
    await this.models.JobPage.update(
      { status: 'processing', attempts: attempt },
      { where: { jobId: page.jobId, pageNumber: page.pageNumber, status: { [Op.ne]: 'done' } } },
    );
  }

  /** A page was read: its text and how it was obtained. */
  async pageRead(page: PageKey, read: PageRead, attempt: number, durationMs: number): Promise<void> {
    await this.models.JobPage.upsert({
      jobId: page.jobId,
      pageNumber: page.pageNumber,
      status: 'done',
      method: read.method,
      text: read.text,
      confidence: read.confidence,
      words: read.words,
      layout: read.layout ?? null,
      renderDpi: read.renderDpi,
      hasTextLayer: read.hasTextLayer,
      languages: read.languages ?? null,
      attempts: attempt,
      durationMs,
      errorCode: null,
      errorMessage: null,
    });
  }

  /**
   * The job's pages read by OCR, in page order, `limit` of them after page `after`: a long document's words
   * are read a batch at a time, never all at once.
   */
  async ocrPagesAfter(jobId: string, after: number, limit: number): Promise<OcrPageWords[]> {
    const rows = await this.models.JobPage.findAll({
      where: { jobId, status: 'done', method: 'ocr', pageNumber: { [Op.gt]: after } },
      attributes: ['pageNumber', 'width', 'height', 'words'],
      order: [['pageNumber', 'ASC']],
      limit,
      // Plain rows: a model instance per page would hold its words twice (values and previous values).
      raw: true,
    });
    return rows.map((r) => ({
      pageNumber: r.pageNumber,
      width: r.width ?? 0,
      height: r.height ?? 0,
      words: r.words ?? [],
    }));
  }

  /** A page's retries are spent. True when this call recorded it (a repeated call changes nothing). */
  async pageFailed(page: PageKey, error: { code: string; message: string }): Promise<boolean> {
    const [changed] = await this.models.JobPage.update(
      { status: 'failed', errorCode: error.code, errorMessage: error.message },
      { where: { jobId: page.jobId, pageNumber: page.pageNumber, status: { [Op.notIn]: ['done', 'failed'] } } },
    );
    return changed > 0;
  }

  /** How many of a job's pages are done and failed. */
  async pageCounts(jobId: string): Promise<{ pagesDone: number; pagesFailed: number }> {
    return (await this.pageCountsOf([jobId])).get(jobId)!;
  }

  /** How many pages of each job are done and failed, in one query. */
  async pageCountsOf(jobIds: string[]): Promise<Map<string, { pagesDone: number; pagesFailed: number }>> {
    const rows = (await this.models.JobPage.count({
      where: { jobId: { [Op.in]: jobIds }, status: { [Op.in]: ['done', 'failed'] } },
      group: ['jobId', 'status'],
      attributes: ['jobId', 'status'],
    })) as unknown as { jobId: string; status: string; count: number }[];
    const counts = new Map(jobIds.map((id) => [id, { pagesDone: 0, pagesFailed: 0 }]));
    for (const r of rows) {
      const c = counts.get(r.jobId)!;
      if (r.status === 'done') c.pagesDone = Number(r.count);
      else c.pagesFailed = Number(r.count);
    }
    return counts;
  }

  /**
   * Ends a job with the status its pages give: completed, partial or failed — or cancelled, when its
   * workflow was, in which case pages that never ran are marked skipped and finished pages keep their text.
   */
  async finalize(jobId: string, options: { cancelled?: boolean } = {}): Promise<FinalizeDocumentOutput> {
    const { Job, JobPage } = this.models;
    if (options.cancelled) {
      await JobPage.update(
        { status: 'skipped' },
        { where: { jobId, status: { [Op.in]: [...UNFINISHED_PAGE_STATUSES] } } },
      );
    }
    const { pagesDone, pagesFailed } = await this.pageCounts(jobId);
    const status: FinishedStatus = options.cancelled
      ? 'cancelled'
      : pagesFailed === 0
        ? 'completed'
        : pagesDone === 0
          ? 'failed'
          : 'partial';

    let error: JobError | null = null;
    if (pagesFailed > 0 && !options.cancelled) {
      const first = await JobPage.findOne({ where: { jobId, status: 'failed' }, order: [['pageNumber', 'ASC']] });
      if (first) {
        error = {
          code: first.errorCode ?? 'PAGE_FAILED',
          message: `${pagesFailed} page(s) failed; page ${first.pageNumber}: ${first.errorMessage ?? 'failed'}`,
          page: first.pageNumber,
        };
      }
    }
    await Job.update(
      { status, step: 'done', finishedAt: new Date(), ...errorColumns(error) },
      { where: { id: jobId, status: { [Op.in]: statusesMovingTo(status, ACTIVE_STATUSES) } } },
    );
    return { status, pagesDone, pagesFailed };
  }

  /**
   * Reopens a partial or failed job for a retry of `pages` (its failed pages), in one transaction: the job
   * is processing again under the next retry workflow's id, the pages pending. Returns the retry's number;
   * undefined when the job was no longer retryable (a concurrent retry won).
   */
  async reopenForRetry(jobId: string, pages: number[], retryWorkflowIdPrefix: string): Promise<number | undefined> {
    const { Job, JobPage } = this.models;
    const db = Job.sequelize!;
    return db.transaction(async (transaction) => {
      const rows = await db.query<{ retry_count: number }>(
        `UPDATE jobs SET status = 'processing', step = 'processing-pages', retry_count = retry_count + 1,
            error_code = NULL, error_message = NULL, error_page = NULL, finished_at = NULL, updated_at = now(),
            workflow_id = :prefix || (retry_count + 1)
          WHERE id = :jobId AND status IN (:from)
          RETURNING retry_count`,
        {
          replacements: {
            jobId,
            prefix: retryWorkflowIdPrefix,
            from: statusesMovingTo('processing', RETRYABLE_STATUSES),
          },
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      const count = rows[0]?.retry_count;
      if (count === undefined) return undefined;
      await JobPage.update(
        { status: 'pending', errorCode: null, errorMessage: null },
        { where: { jobId, pageNumber: { [Op.in]: pages }, status: 'failed' }, transaction },
      );
      return count;
    });
  }

  /** Puts a job reopened for a retry back as it was, when the retry's workflow could not start. */
  async restoreAfterFailedRetry(jobId: string, before: JobBeforeRetry, pages: number[]): Promise<void> {
    const { Job, JobPage } = this.models;
    await JobPage.update(
      { status: 'failed', errorCode: 'PAGE_FAILED', errorMessage: 'The retry could not start.' },
      { where: { jobId, pageNumber: { [Op.in]: pages }, status: 'pending' } },
    );
    await Job.update(
      {
        status: before.status,
        step: 'done',
        errorCode: before.errorCode,
        errorMessage: before.errorMessage,
        errorPage: before.errorPage,
        finishedAt: before.finishedAt,
        workflowId: before.workflowId,
      },
      { where: { id: jobId, status: 'processing' } },
    );
  }

  /**
   * Ends an active job whose workflow ended without recording it (terminated, timed out, failed, missing).
   * True when this call ended it.
   */
  async closeAsReconciled(
    jobId: string,
    end: { status: FinishedStatus; code: string; message: string },
  ): Promise<boolean> {
    const [updated] = await this.models.Job.update(
      { status: end.status, step: 'done', errorCode: end.code, errorMessage: end.message, finishedAt: new Date() },
      { where: { id: jobId, status: { [Op.in]: statusesMovingTo(end.status, ACTIVE_STATUSES) } } },
    );
    return updated > 0;
  }

  /** Keeps a job's password, sealed, for retries of its failed pages (its workflow already has it). */
  async keepSealedPassword(jobId: string, sealed: string): Promise<void> {
    await this.models.Job.update({ passwordSealed: sealed }, { where: { id: jobId } });
  }

  /** A finished job whose stored file is gone: its rows and results stay. */
  async markArchived(jobId: string): Promise<void> {
    await this.models.Job.update({ archivedAt: new Date() }, { where: { id: jobId } });
  }
}

function errorColumns(error: JobError | null): Record<string, unknown> {
  return { errorCode: error?.code ?? null, errorMessage: error?.message ?? null, errorPage: error?.page ?? null };
}
