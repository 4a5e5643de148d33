import fs from 'node:fs/promises';
import { Op } from 'sequelize';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AppModels } from '../src/database/models.js';
import type { DocumentStorage } from '../src/storage/storage.js';
import type {
  CleanupBatchInput,
  CleanupBatchOutput,
  FinalizeDocumentInput,
  FinalizeDocumentOutput,
  JobStatus,
  ReconcileJobsInput,
  ReconcileJobsOutput,
  ReconciledJob,
} from '../workflows/contracts.js';

/** What the maintenance activities need. */
export interface MaintenanceDeps {
  models: AppModels;
  storage: DocumentStorage;
  temporal: Client;
  /** The document activities' finalize, for jobs whose workflow completed without recording it. */
  finalizeDocument(input: FinalizeDocumentInput): Promise<FinalizeDocumentOutput>;
}

const FINISHED: JobStatus[] = ['completed', 'partial', 'failed', 'cancelled'];
const DAY_MS = 24 * 60 * 60 * 1000;

/** How a closed workflow maps to a job's end, for jobs whose own bookkeeping never recorded it. */
const closedOutcome: Record<string, { status: JobStatus; code: string; message: string } | undefined> = {
  TERMINATED: { status: 'failed', code: 'WORKFLOW_TERMINATED', message: 'The workflow was terminated outside Folio.' },
  TIMED_OUT: { status: 'failed', code: 'WORKFLOW_TIMED_OUT', message: 'The workflow timed out.' },
  FAILED: { status: 'failed', code: 'WORKFLOW_FAILED', message: 'The workflow failed.' },
};

/** Builds the activities of the maintenance schedules. */
export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const { models, storage, temporal } = deps;
  const { Job } = models;

  /** Archives one batch of expired jobs: their stored file goes, the row and its results stay. */
  async function cleanupExpiredJobsBatch(input: CleanupBatchInput): Promise<CleanupBatchOutput> {
    const cutoff = new Date(Date.now() - input.retentionDays * DAY_MS);
    const jobs = await Job.findAll({
      where: { archivedAt: null, status: { [Op.in]: FINISHED }, finishedAt: { [Op.lt]: cutoff } },
      order: [['finishedAt', 'ASC']],
      limit: input.limit,
    });
    let filesRemoved = 0;
    let bytesFreed = 0;
    for (const job of jobs) {
      if (await storage.exists(job.storageKey)) {
        const size = await fs
          .stat(await storage.localPath(job.storageKey))
          .then((s) => s.size)
          .catch(() => 0);
        await storage.remove(job.storageKey);
        filesRemoved++;
        bytesFreed += size;
      }
      // Marked after the file is gone: a crash in between leaves the job to the next run, never a lost mark.
      await job.update({ archivedAt: new Date() });
    }
    return { archived: jobs.length, filesRemoved, bytesFreed };
  }

  /** Finds jobs stuck as queued/processing/needs_password whose workflow is closed or missing, and records their true end. */
  async function reconcileJobs(input: ReconcileJobsInput): Promise<ReconcileJobsOutput> {
    const stale = await Job.findAll({
      where: {
        status: { [Op.in]: ['queued', 'processing', 'needs_password'] },
        updatedAt: { [Op.lt]: new Date(Date.now() - input.graceSeconds * 1000) },
      },
      order: [['updatedAt', 'ASC']],
      limit: 500,
    });
    const reconciled: ReconciledJob[] = [];
    for (const job of stale) {
      let state: string;
      try {
        state = (await temporal.workflow.getHandle(job.workflowId).describe()).status.name;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        state = 'MISSING';
      }
      if (state === 'RUNNING' || state === 'CONTINUED_AS_NEW') continue;
      if (state === 'COMPLETED' || state === 'CANCELLED') {
        // The workflow ended its own way but its last bookkeeping never landed: derive it from the pages.
        const final = await deps.finalizeDocument({ jobId: job.id, cancelled: state === 'CANCELLED' });
        reconciled.push({ jobId: job.id, status: final.status, code: 'RECONCILED' });
        continue;
      }
      const outcome = closedOutcome[state] ?? {
        status: 'failed' as const,
        code: 'WORKFLOW_MISSING',
        message: 'The job has no workflow; submit the document again.',
      };
      const [updated] = await Job.update(
        {
          status: outcome.status,
          step: 'done',
          errorCode: outcome.code,
          errorMessage: outcome.message,
          finishedAt: new Date(),
        },
        { where: { id: job.id, status: { [Op.in]: ['queued', 'processing', 'needs_password'] } } },
      );
      if (updated) reconciled.push({ jobId: job.id, status: outcome.status, code: outcome.code });
    }
    return { checked: stale.length, reconciled };
  }

  return { cleanupExpiredJobsBatch, reconcileJobs };
}

/** The maintenance activities' type, for proxyActivities in workflows. */
export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
