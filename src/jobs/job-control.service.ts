import { Inject, Injectable } from '@nestjs/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApiError } from '../common/errors.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import type { OcrMode } from '../../workflows/contracts.js';
import { JobsService } from './jobs.service.js';

/** Options for re-running a job's failed pages. */
export interface RetryOptions {
  ocrMode?: OcrMode;
  pages?: string;
}

/** Operations that change a job's course: used by the HTTP API and by the admin panel's job actions. */
@Injectable()
export class JobControlService {
  constructor(
    private readonly jobs: JobsService,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {}

  /** Requests cancellation of a queued or processing job; running pages stop, finished pages are kept. */
  async cancel(jobId: string): Promise<void> {
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
  }

  /** Re-runs only the failed pages of a partial or failed job, in the same job. */
  // eslint-disable-next-line @typescript-eslint/require-await
  async retry(jobId: string, _options: RetryOptions = {}): Promise<void> {
    throw new ApiError('NOT_IMPLEMENTED', `Retrying job ${jobId} is not available yet.`);
  }
}
