import { Op } from 'sequelize';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  jobWebhookPayload,
  type CleanupBatchInput,
  type CleanupBatchOutput,
  type ReconcileJobsInput,
  type ReconcileJobsOutput,
  type ReconciledJob,
  type SweepOrphanUploadsOutput,
} from '../core/contracts.js';
import type { AppModels, Job } from '../core/db/models.js';
import type { FailureCode } from '../core/failures.js';
import type { JobStore } from '../core/job-store.js';
import { ACTIVE_STATUSES, FINISHED_STATUSES, type FinishedStatus } from '../core/lifecycle.js';
import {
  DOCUMENTS_PREFIX,
  jobIdOfDocumentKey,
  searchablePdfKey,
  type DocumentStorage,
} from '../core/storage/storage.js';
import type { UploadStore } from '../core/uploads/upload-store.js';
import {
  jobWebhookSettings,
  startBatchAnnouncement,
  startDocumentWorkflow,
  startWebhookDelivery,
  type DocumentRunSettings,
} from '../core/workflow-client.js';
import { BatchStore } from '../core/batch-store.js';
import { createHash } from 'node:crypto';

/** What the maintenance activities need. */
export interface MaintenanceActivityDeps {
  models: AppModels;
  jobs: JobStore;
  storage: DocumentStorage;
  /** Unfinished resumable uploads (tus): the sweep removes those past their expiry. */
  uploads?: Pick<UploadStore, 'deleteExpired'>;
  /** To look up workflows and start those that never started; absent, the maintenance activities refuse to run. */
  temporal?: Client;
  /** Where and how document workflows run: a queued job whose workflow never started gets it here. */
  run?: DocumentRunSettings;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A job's end, decided by the reconciler. */
interface ReconciledEnd {
  status: FinishedStatus;
  code: FailureCode;
  message: string;
}

/** How a closed workflow maps to a job's end, for jobs whose own bookkeeping never recorded it. */
const closedOutcome: Record<string, ReconciledEnd | undefined> = {
  TERMINATED: { status: 'failed', code: 'WORKFLOW_TERMINATED', message: 'The workflow was terminated outside Folio.' },
  TIMED_OUT: { status: 'failed', code: 'WORKFLOW_TIMED_OUT', message: 'The workflow timed out.' },
  FAILED: { status: 'failed', code: 'WORKFLOW_FAILED', message: 'The workflow failed.' },
};

/** Builds the activities of the maintenance schedules. */
export function createMaintenanceActivities(deps: MaintenanceActivityDeps) {
  const { models, jobs, storage } = deps;
  const { Job } = models;
  const batches = new BatchStore(models);

  /**
   * A job the reconciler ended may have been its batch's last document in flight: end the batch and announce
   * it, as the document's workflow would have. The decision and the delivery's webhook-id are keyed by the
   * job, so a retried run finds the same batch and starts the same delivery (a no-op), never a second one.
   */
  async function concludeBatchesOf(jobId: string, client: Client, run: DocumentRunSettings): Promise<void> {
    const endedBy = `reconcile:${jobId}`;
    for (const batch of await batches.concludeFor(jobId, endedBy)) {
      const digest = createHash('sha256').update(`${batch.batchId}/${endedBy}`).digest('hex').slice(0, 32);
      await startBatchAnnouncement(client, run.taskQueue, { jobId, webhookId: `msg_${digest}`, batch });
    }
  }
  /**
   * The webhook a job's workflow would have sent had it ended the job itself: job.failed, with the reconciler's
   * code, to the job's callback URL. Its webhook-id derives from the job, so a retried or repeated reconcile
   * starts the same delivery (a no-op), never a second event.
   */
  async function announceReconciledEnd(
    job: Job,
    end: ReconciledEnd,
    client: Client,
    run: DocumentRunSettings,
  ): Promise<void> {
    const webhook = jobWebhookSettings(job, run);
    if (!webhook) return;
    const counts = { pageCount: job.pageCount ?? 0, ...(await jobs.pageCounts(job.id)) };
    const digest = createHash('sha256').update(`job.${end.status}/reconcile:${job.id}`).digest('hex').slice(0, 32);
    await startWebhookDelivery(client, run.taskQueue, {
      webhookId: `msg_${digest}`,
      jobId: job.id,
      url: webhook.url,
      payload: jobWebhookPayload(
        job.id,
        `job.${end.status}`,
        { status: end.status, ...counts, error: { code: end.code, message: end.message } },
        new Date().toISOString(),
        webhook.baseUrl,
      ),
      retryInitialMs: webhook.retryInitialMs,
      retryMaxMs: webhook.retryMaxMs,
    });
  }
  const temporal = (): { client: Client; run: DocumentRunSettings } => {
    if (!deps.temporal || !deps.run)
      throw new Error('This worker was built without a Temporal client: it cannot reconcile.');
    return { client: deps.temporal, run: deps.run };
  };

  /** Archives one batch of expired jobs: their stored file goes, the row and its results stay. */
  async function cleanupExpiredJobsBatch(input: CleanupBatchInput): Promise<CleanupBatchOutput> {
    const cutoff = new Date(Date.now() - input.retentionDays * DAY_MS);
    const expired = await Job.findAll({
      // A job's own retention date (set by an operator) wins over the schedule's, earlier or later.
      where: {
        archivedAt: null,
        status: { [Op.in]: [...FINISHED_STATUSES] },
        [Op.or]: [{ retainUntil: null, finishedAt: { [Op.lt]: cutoff } }, { retainUntil: { [Op.lt]: new Date() } }],
      },
      order: [['finishedAt', 'ASC']],
      limit: input.limit,
    });
    let filesRemoved = 0;
    let bytesFreed = 0;
    for (const job of expired) {
      // The upload, and the searchable PDF built from it.
      for (const key of [job.storageKey, searchablePdfKey(job.id)]) {
        const size = await storage.sizeOf(key);
        if (size === undefined) continue;
        await storage.remove(key);
        filesRemoved++;
        bytesFreed += size;
      }
      // Marked after the file is gone: a crash in between leaves the job to the next run, never a lost mark.
      await jobs.markArchived(job.id);
    }
    return { archived: expired.length, filesRemoved, bytesFreed };
  }

  /** Finds jobs stuck as queued/processing/needs_password whose workflow is closed or missing, and records their true end. */
  async function reconcileJobs(input: ReconcileJobsInput): Promise<ReconcileJobsOutput> {
    const { client, run } = temporal();
    const stale = await Job.findAll({
      where: {
        status: { [Op.in]: [...ACTIVE_STATUSES] },
        updatedAt: { [Op.lt]: new Date(Date.now() - input.graceSeconds * 1000) },
      },
      order: [['updatedAt', 'ASC']],
      limit: 500,
    });
    const reconciled: ReconciledJob[] = [];
    for (const job of stale) {
      let state: string;
      try {
        state = (await client.workflow.getHandle(job.workflowId).describe()).status.name;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        state = 'MISSING';
      }
      if (state === 'RUNNING' || state === 'CONTINUED_AS_NEW') continue;
      if (state === 'MISSING' && job.status === 'queued' && (await storage.exists(job.storageKey))) {
        // The API stopped (or Temporal refused the start) between recording the job and starting its
        // workflow: start it now. The id is the job's own, so a start that raced another reconcile (or the
        // API itself) is a no-op.
        await startDocumentWorkflow(client, job, run);
        reconciled.push({ jobId: job.id, status: 'queued', code: 'WORKFLOW_STARTED' });
        continue;
      }
      if (state === 'COMPLETED' || state === 'CANCELLED') {
        // The workflow ended its own way but its last bookkeeping never landed: derive it from the pages.
        const final = await jobs.finalize(job.id, { cancelled: state === 'CANCELLED' });
        reconciled.push({ jobId: job.id, status: final.status, code: 'RECONCILED' });
        await concludeBatchesOf(job.id, client, run);
        continue;
      }
      const outcome: ReconciledEnd = closedOutcome[state] ?? {
        status: 'failed',
        code: 'WORKFLOW_MISSING',
        message: 'The job has no workflow; submit the document again.',
      };
      if (await jobs.closeAsReconciled(job.id, outcome)) {
        reconciled.push({ jobId: job.id, status: outcome.status, code: outcome.code });
      }
      // Also when another run closed it first: its job.failed delivery has an id fixed by the job.
      await announceReconciledEnd(job, outcome, client, run);
      // Also when another run closed it first: its batch may not have been ended yet.
      await concludeBatchesOf(job.id, client, run);
    }
    return { checked: stale.length, reconciled };
  }

  /**
   * Removes uploads no job row owns, older than the grace: files an API stored before it died (before
   * recording the job) and unfinished writes of uploads cut off mid-stream. Newer ones may belong to an
   * upload still in progress, so they wait for a later run. Resumable uploads left unfinished past their
   * expiry (UPLOAD_EXPIRY_HOURS) go too.
   */
  async function sweepOrphanUploads(input: ReconcileJobsInput): Promise<SweepOrphanUploadsOutput> {
    const cutoff = Date.now() - input.graceSeconds * 1000;
    const candidates: { key: string; jobId: string | null }[] = [];
    for await (const entry of storage.list(DOCUMENTS_PREFIX)) {
      if (entry.modifiedAt.getTime() >= cutoff) continue;
      if (entry.partial) {
        candidates.push({ key: entry.key, jobId: null });
        continue;
      }
      const jobId = jobIdOfDocumentKey(entry.key);
      if (jobId) candidates.push({ key: entry.key, jobId });
    }
    const ids = candidates.flatMap((c) => (c.jobId ? [c.jobId] : []));
    const owned = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await Job.findAll({ attributes: ['id'], where: { id: { [Op.in]: ids.slice(i, i + 1000) } } });
      for (const row of rows) owned.add(row.id);
    }
    const removed: string[] = [];
    for (const c of candidates) {
      if (c.jobId && owned.has(c.jobId)) continue;
      await storage.remove(c.key);
      removed.push(c.key);
    }
    if (!deps.uploads) return { removed };
    return { removed, expiredUploads: await deps.uploads.deleteExpired() };
  }

  return { cleanupExpiredJobsBatch, reconcileJobs, sweepOrphanUploads };
}

/** The maintenance activities' type, for proxyActivities in workflows. */
export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
