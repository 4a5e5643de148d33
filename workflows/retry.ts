/** A retry of a finished job's failed pages, in the same job, as a run of its own. */
import { CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import type { DocumentProgress, DocumentWorkflowOutput, RetryPagesWorkflowInput } from '../core/contracts.js';
import { bookkeepingFor } from './activity-options.js';
import { progressQuery } from './document.js';
import { runAllPages } from './pages.js';
import { priorityOf, show, summaryOf, trackPriority } from './priority.js';
import { buildSearchablePdfStep } from './searchable-pdf.js';
import { announceEnd } from './webhooks.js';
import { concludeBatches } from './batches.js';

/**
 * Re-runs a finished job's failed pages (the API has reset them to pending and reopened the job), then
 * rebuilds the searchable PDF and derives the job's status again from all its pages. Cancellable like documentWorkflow.
 */
export async function retryPagesWorkflow(input: RetryPagesWorkflowInput): Promise<DocumentWorkflowOutput> {
  const { jobId } = input;
  const bookkeeping = bookkeepingFor();
  const run = trackPriority(input.priority);
  const progress: DocumentProgress = {
    step: 'processing-pages',
    pageCount: input.pageNumbers.length,
    pagesDone: 0,
    pagesFailed: 0,
  };
  setHandler(progressQuery, () => progress);
  try {
    await runAllPages(input, progress, bookkeeping, run);
    progress.step = 'finalizing';
    await bookkeeping.updateJob({ jobId, step: 'finalizing' });
    // Pages read by this retry join the searchable PDF: it is built again, over the same key.
    await buildSearchablePdfStep(
      { jobId, storageKey: input.storageKey, password: input.password },
      progress.pagesDone,
      {
        ...priorityOf(run),
        ...summaryOf(run, 'searchable PDF'),
      },
    );
    const final = await bookkeeping.finalizeDocument({ jobId });
    show(run, { status: final.status });
    progress.step = 'done';
    await announceEnd(input, final, final.pagesDone + final.pagesFailed);
    await concludeBatches(jobId, bookkeeping);
    return { jobId, pageCount: input.pageNumbers.length, ...final };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        const final = await bookkeeping.finalizeDocument({ jobId, cancelled: true });
        await announceEnd(input, final, final.pagesDone + final.pagesFailed);
        await concludeBatches(jobId, bookkeeping);
      });
    }
    throw err;
  }
}
