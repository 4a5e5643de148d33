import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type {
  CleanupExpiredJobsInput,
  CleanupExpiredJobsOutput,
  ReconcileJobsInput,
  ReconcileJobsOutput,
} from '../core/contracts.js';

const BATCH = 200;

const maintenance = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Removes the stored files of jobs finished longer ago than the retention and marks them archived; rows
 * and results stay. Batches until a batch comes back short; idempotent, so an overlapping run is harmless.
 */
export async function cleanupExpiredJobsWorkflow(input: CleanupExpiredJobsInput): Promise<CleanupExpiredJobsOutput> {
  const total: CleanupExpiredJobsOutput = { archived: 0, filesRemoved: 0, bytesFreed: 0 };
  for (;;) {
    const batch = await maintenance.cleanupExpiredJobsBatch({ ...input, limit: BATCH });
    total.archived += batch.archived;
    total.filesRemoved += batch.filesRemoved;
    total.bytesFreed += batch.bytesFreed;
    if (batch.archived < BATCH) return total;
  }
}

/**
 * Sets jobs the DB shows as queued or processing, but whose workflow is closed or missing, to their true end
 * (or starts the workflow of a queued job that never got one), then removes uploads no job owns.
 */
export async function reconcileJobsWorkflow(input: ReconcileJobsInput): Promise<ReconcileJobsOutput> {
  const jobs = await maintenance.reconcileJobs(input);
  const orphans = await maintenance.sweepOrphanUploads(input);
  return { ...jobs, orphanUploadsRemoved: orphans.removed.length };
}
