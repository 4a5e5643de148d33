import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RepairLegacyRowsOutput } from '../activities/legacy.js';
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
  const legacyRowsRepaired = patched(LEGACY_MIRROR_PATCH) ? await repairLegacyRows() : undefined;
  return {
    ...jobs,
    orphanUploadsRemoved: orphans.removed.length,
    ...(legacyRowsRepaired === undefined ? {} : { legacyRowsRepaired }),
  };
}

/** The patch that added the legacy repair to the reconciler (the document workflow's patch of the same name). */
const LEGACY_MIRROR_PATCH = 'legacy-mirror';
/** Folio jobs compared with their legacy rows per activity. */
const LEGACY_BATCH = 500;

/**
 * Rewrites the legacy rows of Folio's jobs that drifted (a mirror write that never landed, a row changed by
 * hand), LEGACY_BATCH jobs per activity in id order. A legacy DB that is away ends the repair, not the run:
 * the next run starts again.
 */
async function repairLegacyRows(): Promise<number | undefined> {
  let afterJobId: string | null = null;
  let repaired = 0;
  try {
    for (;;) {
      const batch: RepairLegacyRowsOutput = await maintenance.repairLegacyRows({ afterJobId, limit: LEGACY_BATCH });
      if (!batch.enabled) return undefined;
      repaired += batch.repaired.length;
      if (batch.checked < LEGACY_BATCH || batch.lastJobId === null) return repaired;
      afterJobId = batch.lastJobId;
    }
  } catch (err) {
    log.warn('legacy repair stopped; the next reconcile run tries again', { error: String(err), repaired });
    return undefined;
  }
}
