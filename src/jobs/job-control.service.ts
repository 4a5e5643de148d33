import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { UniqueConstraintError } from 'sequelize';
import { ApiError } from '../common/errors.js';
import type { FailureCode } from '../../core/failures.js';
import { parsePageRange, spansInclude } from '../../core/page-range.js';
import { JobStore } from '../../core/job-store.js';
import { isOcrMode, isRetryable, OCR_MODES, type OcrMode } from '../../core/lifecycle.js';
import { pagePlanOf } from '../../core/page-plan.js';
import { providePassword, startRetryWorkflow } from '../../core/workflow-client.js';
import { webhookRunSettings } from '../config/webhooks.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import { TEMPORAL_CLIENT, TEMPORAL_SEARCH_ATTRIBUTES } from '../temporal/temporal.module.js';
import { sealDocumentPassword } from './passwords.js';
import { retryWorkflowIdPrefix } from '../../core/contracts.js';
import { JobsService } from './jobs.service.js';
import { recordAudit, type AuditActor } from '../../core/audit.js';

/** Options for re-running a job's failed pages. */
export interface RetryOptions {
  ocrMode?: OcrMode;
  pages?: string;
}

/** What a retry started. */
export interface RetryStarted {
  workflowId: string;
  pages: number[];
}

/** Operations that change a job's course: used by the HTTP API and by the admin panel's job actions. */
@Injectable()
export class JobControlService {
  private readonly logger = new Logger(JobControlService.name);

  constructor(
    private readonly jobs: JobsService,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_MODELS) private readonly models: AppModels,
    private readonly store: JobStore,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(TEMPORAL_SEARCH_ATTRIBUTES) private readonly searchAttributes: readonly string[],
  ) {}

  /**
   * Requests cancellation of a queued or processing job. The workflow cancels its page activities, which
   * learn of it at their next heartbeat and abort their pdf.js/OCR work; finished pages are kept and the
   * job ends `cancelled`.
   */
  async cancel(jobId: string, actor?: AuditActor): Promise<void> {
    const job = await this.jobs.get(jobId);
    if (this.jobs.isFinished(job)) {
      throw new ApiError(
        'JOB_FINISHED',
        `Job ${jobId} is already ${job.status}; only queued or processing jobs can be cancelled.`,
      );
    }
    try {
      await this.temporal.workflow.getHandle(job.workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new ApiError('JOB_FINISHED', `Job ${jobId} has no running workflow to cancel.`);
      }
      throw err;
    }
    if (actor) {
      await recordAudit(this.models, actor, {
        action: 'job.cancel',
        targetType: 'job',
        targetId: jobId,
        before: { status: job.status },
        after: { cancelRequested: true },
      });
    }
  }

  /**
   * Delivers the password of a job waiting in `needs_password` through the workflow's providePassword
   * update and answers when the workflow has checked it: resolves when the password opens the document
   * (processing resumes), PDF_PASSWORD_INCORRECT when it does not (the job keeps waiting),
   * JOB_NOT_WAITING_FOR_PASSWORD when the job is not waiting for one. Only the sealed password leaves here.
   */
  async providePassword(jobId: string, password: string, actor?: AuditActor): Promise<void> {
    const job = await this.jobs.get(jobId);
    const notWaiting = (status: string) =>
      new ApiError(
        'JOB_NOT_WAITING_FOR_PASSWORD',
        `Job ${jobId} is not waiting for a password (it is ${status}); only needs_password jobs take one.`,
      );
    if (job.status !== 'needs_password') throw notWaiting(job.status);
    if (password === '') throw new ApiError('PASSWORD_INVALID', 'The password is empty; send the document password.');
    const sealed = sealDocumentPassword(this.config, jobId, password);
    try {
      await providePassword(this.temporal, job.workflowId, sealed);
    } catch (err) {
      // The job moved on between the status read and the update: say what it is now.
      const now = async () => notWaiting((await this.jobs.get(jobId)).status);
      if (err instanceof WorkflowNotFoundError) throw await now();
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        if (err.cause.type === 'PDF_PASSWORD_INCORRECT') {
          throw new ApiError('PDF_PASSWORD_INCORRECT', err.cause.message);
        }
        if (err.cause.type === ('NOT_WAITING_FOR_PASSWORD' satisfies FailureCode)) throw await now();
      }
      throw err;
    }
    await this.store.keepSealedPassword(jobId, sealed);
    // That a password was given and opened the document; never the password.
    if (actor) {
      await recordAudit(this.models, actor, {
        action: 'job.password',
        targetType: 'job',
        targetId: jobId,
        before: { status: 'needs_password' },
        after: { passwordAccepted: true },
      });
    }
  }

  /**
   * Re-runs only the failed pages of a partial or failed job, in the same job, as a new workflow run
   * `document-<jobId>-retry-<n>` (earlier runs stay in Temporal). `pages` narrows the failed pages;
   * `ocrMode` replaces the job's mode for this run.
   */
  async retry(jobId: string, options: RetryOptions = {}, actor?: AuditActor): Promise<RetryStarted> {
    if (options.ocrMode !== undefined && !isOcrMode(options.ocrMode)) {
      throw new ApiError('INVALID_OCR_MODE', `ocrMode must be one of ${OCR_MODES.join(', ')}.`);
    }
    const spans = options.pages === undefined ? undefined : parsePageRange(options.pages);
    if (spans && 'error' in spans) throw new ApiError('PAGE_RANGE_INVALID', spans.error);

    const job = await this.jobs.get(jobId);
    if (!isRetryable(job.status)) {
      throw new ApiError(
        'JOB_NOT_RETRYABLE',
        `Job ${jobId} is ${job.status}; only partial or failed jobs have failed pages to retry.`,
      );
    }
    const failed = await this.models.JobPage.findAll({
      where: { jobId, status: 'failed' },
      attributes: ['pageNumber'],
      order: [['pageNumber', 'ASC']],
    });
    const pages = failed.map((p) => p.pageNumber).filter((n) => !spans || spansInclude(spans.spans, n));
    if (pages.length === 0) {
      throw new ApiError(
        'NO_FAILED_PAGES',
        failed.length === 0
          ? `Job ${jobId} has no failed pages (it failed as a whole: ${job.errorCode ?? 'unknown'}); submit the document again.`
          : `None of job ${jobId}'s failed pages (${failed.map((p) => p.pageNumber).join(', ')}) is in "${options.pages}".`,
      );
    }

    // Reopen the job and its pages in one transaction; the status condition lets one concurrent retry win.
    let n: number | undefined;
    try {
      n = await this.store.reopenForRetry(jobId, pages, retryWorkflowIdPrefix(jobId));
    } catch (err) {
      if (err instanceof UniqueConstraintError) {
        throw new ApiError(
          'JOB_NOT_RETRYABLE',
          `Another live job of yours has the same document and options; use it instead of retrying ${jobId}.`,
        );
      }
      throw err;
    }
    if (n === undefined) {
      throw new ApiError('JOB_NOT_RETRYABLE', `Job ${jobId} changed while the retry was prepared; look again.`);
    }

    let workflowId: string;
    try {
      ({ workflowId } = await startRetryWorkflow(
        this.temporal,
        { job, n, pageNumbers: pages, ocrMode: options.ocrMode, plan: pagePlanOf(this.config.pipeline) },
        {
          taskQueue: this.config.temporal.taskQueue,
          webhooks: webhookRunSettings(this.config),
          searchAttributes: this.searchAttributes,
        },
      ));
    } catch (err) {
      // Put the job back as it was (`job` still holds the values read before the reopening), so the retry
      // can be asked for again.
      this.logger.error(`Could not start the retry of job ${jobId}`, err instanceof Error ? err.stack : err);
      await this.store.restoreAfterFailedRetry(jobId, job, pages);
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        'The processing service is unavailable; retry in a few seconds.',
        undefined,
        { 'Retry-After': '10' },
      );
    }
    if (actor) {
      await recordAudit(this.models, actor, {
        action: 'job.retry',
        targetType: 'job',
        targetId: jobId,
        before: { status: job.status, failedPages: pages },
        after: { workflowId, ...options },
      });
    }
    return { workflowId, pages };
  }
}
