/** concludeBatches: after a document's final status, ends the batches it was the last in-flight document of. */
import { Context } from '@temporalio/activity';
import type { ConcludeBatchesInput, ConcludeBatchesOutput } from '../core/contracts.js';
import type { AppModels } from '../core/db/models.js';
import { BatchStore } from '../core/batch-store.js';

/** The batch activities, built with the app models. */
export function createBatchActivities(deps: { models: Pick<AppModels, 'Batch' | 'BatchDocument' | 'Job'> }) {
  const batches = new BatchStore(deps.models);
  return {
    /**
     * Ends every sealed batch holding the job in which no document is in flight any more and returns each
     * with its batch.completed payload; a batch already ended (or another document's call that won) is
     * not returned, so the workflow announces each batch end exactly once.
     */
    async concludeBatches(input: ConcludeBatchesInput): Promise<ConcludeBatchesOutput> {
      // The run's id: a retry of this activity (its answer lost) finds the batches it ended, and no others.
      const run = Context.current().info.workflowExecution;
      const endedBy = run ? `${run.workflowId}/${run.runId}` : `job:${input.jobId}`;
      return { ended: await batches.concludeFor(input.jobId, endedBy) };
    },
  };
}
