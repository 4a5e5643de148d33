import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  InputFailureTypes,
  documentProgressQueryName,
  type DocumentProgress,
  type DocumentWorkflowInput,
  type DocumentWorkflowOutput,
  type InputFailureType,
  type InspectDocumentOutput,
  type PageCounts,
  type PagePlan,
  type PageRangeWorkflowInput,
  type PageRangeWorkflowOutput,
  type RetryPagesWorkflowInput,
} from './contracts.js';

const nonRetryableErrorTypes = [...InputFailureTypes];

/** Small DB writes: retried with backoff for as long as the database is away. */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Opening and checking the whole document once. */
const inspection = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes },
});

/** Page activities: timeouts and attempts come from the worker's configuration, recorded by inspect. */
function pageActivities(plan: PagePlan) {
  return proxyActivities<Activities>({
    startToCloseTimeout: plan.pageTimeoutSeconds * 1000,
    heartbeatTimeout: (plan.heartbeatTimeoutSeconds ?? 30) * 1000,
    // Explicit: left unset, the SDK sends TRY_CANCEL, and a cancelled job would be finalized while its
    // pages still run. This way each page acknowledges (heartbeat → abort → throw) before the workflow goes on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: plan.pageMaxAttempts,
      nonRetryableErrorTypes,
    },
  });
}

/** The document's step and page counts, readable from the Temporal UI and CLI. */
export const progressQuery = defineQuery<DocumentProgress>(documentProgressQueryName);

function isInputFailure(type: string | undefined | null): type is InputFailureType {
  return (InputFailureTypes as readonly string[]).includes(type ?? '');
}

/** Classifies a failed activity into a stable code and a message for the client. */
function failureOf(err: unknown, what: 'page' | 'document' = 'page'): { code: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && isInputFailure(cause.type)) {
    return { code: cause.type, message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    const code = what === 'page' ? 'PAGE_TIMEOUT' : 'DOCUMENT_TIMEOUT';
    return { code, message: `The ${what} did not finish in time (${cause.timeoutType}).` };
  }
  // Anything else outlasted its retries: say so without leaking internals as a code.
  const detail = cause instanceof Error ? cause.message : String(cause);
  const code = what === 'page' ? 'PAGE_FAILED' : 'DOCUMENT_FAILED';
  return { code, message: `The ${what} failed after its retries: ${detail}` };
}

/**
 * Runs page activities through a sliding window: `plan.window` lanes, each taking the next page as
 * soon as its last one finished. A page that fails after its retries is recorded and never stops the rest.
 */
async function runPages(input: PageRangeWorkflowInput, counts: PageCounts): Promise<void> {
  const pages = pageActivities(input.plan);
  const { jobId, storageKey, options, pageNumbers } = input;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pageNumbers.length) {
      const pageNumber = pageNumbers[next++]!;
      try {
        await pages.processPage({ jobId, pageNumber, storageKey, options });
        counts.pagesDone++;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const { code, message } = failureOf(err);
        await bookkeeping.recordPageFailure({ jobId, pageNumber, code, message });
        counts.pagesFailed++;
      }
    }
  };
  // Every lane settles before this returns, also on cancellation: a lane that was about to start its next
  // page rejects at once, and Promise.all would let the job be finalized while the other lanes' activities
  // still run. Waiting for them (their cancellation type is WAIT_CANCELLATION_COMPLETED) means
  // every page in flight has stopped at its heartbeat before the job says `cancelled`.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(input.plan.window, pageNumbers.length) }, lane),
  );
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A slice of a long document's pages, run as a child workflow so no single history grows too long. */
export async function pageRangeWorkflow(input: PageRangeWorkflowInput): Promise<PageRangeWorkflowOutput> {
  const counts: PageCounts = { pagesDone: 0, pagesFailed: 0 };
  await runPages(input, counts);
  return counts;
}

/** Runs a document's pages: in this workflow, or in child workflows of plan.pagesPerChild pages. */
async function runAllPages(input: PageRangeWorkflowInput, counts: PageCounts): Promise<void> {
  const { pageNumbers, plan } = input;
  if (pageNumbers.length <= plan.pagesPerChild) {
    await runPages(input, counts);
    return;
  }
  for (let start = 0; start < pageNumbers.length; start += plan.pagesPerChild) {
    const slice = pageNumbers.slice(start, start + plan.pagesPerChild);
    const result = await executeChild(pageRangeWorkflow, {
      workflowId: `${workflowInfo().workflowId}-pages-${slice[0]}-${slice[slice.length - 1]}`,
      args: [{ ...input, pageNumbers: slice }],
    });
    counts.pagesDone += result.pagesDone;
    counts.pagesFailed += result.pagesFailed;
  }
}

/**
 * Re-runs a finished job's failed pages (the API has reset them to pending and reopened the job), then
 * derives the job's status again from all its pages. Cancellable like documentWorkflow.
 */
export async function retryPagesWorkflow(input: RetryPagesWorkflowInput): Promise<DocumentWorkflowOutput> {
  const { jobId } = input;
  const progress: DocumentProgress = {
    step: 'processing-pages',
    pageCount: input.pageNumbers.length,
    pagesDone: 0,
    pagesFailed: 0,
  };
  setHandler(progressQuery, () => progress);
  try {
    await runAllPages(input, progress);
    progress.step = 'finalizing';
    await bookkeeping.updateJob({ jobId, step: 'finalizing' });
    const final = await bookkeeping.finalizeDocument({ jobId });
    progress.step = 'done';
    return { jobId, pageCount: input.pageNumbers.length, ...final };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => bookkeeping.finalizeDocument({ jobId, cancelled: true }));
    }
    throw err;
  }
}

/**
 * One document: inspect → pages (sliding window; child workflows for long documents) → finalize.
 * Progress and results are written to the app DB by activities; the API reads the DB.
 */
export async function documentWorkflow(input: DocumentWorkflowInput): Promise<DocumentWorkflowOutput> {
  const { jobId, storageKey, options } = input;
  const progress: DocumentProgress = { step: 'inspecting', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
  setHandler(progressQuery, () => progress);

  try {
    await bookkeeping.updateJob({ jobId, status: 'processing', step: 'inspecting' });

    let inspected: InspectDocumentOutput;
    try {
      inspected = await inspection.inspectDocument({ jobId, storageKey, pages: options.pages });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const error = failureOf(err, 'document');
      await bookkeeping.updateJob({ jobId, status: 'failed', step: 'done', error });
      progress.step = 'done';
      return { jobId, status: 'failed', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
    }

    const { pageNumbers, plan } = inspected;
    progress.pageCount = pageNumbers.length;
    progress.step = 'processing-pages';
    await bookkeeping.updateJob({ jobId, step: 'processing-pages' });

    await runAllPages({ jobId, storageKey, options, pageNumbers, plan }, progress);

    progress.step = 'finalizing';
    await bookkeeping.updateJob({ jobId, step: 'finalizing' });
    const final = await bookkeeping.finalizeDocument({ jobId });
    progress.step = 'done';
    return {
      jobId,
      status: final.status,
      pageCount: inspected.pageCount,
      pagesDone: final.pagesDone,
      pagesFailed: final.pagesFailed,
    };
  } catch (err) {
    if (isCancellation(err)) {
      // Keep what was done: the pages stay, the job says it was cancelled.
      await CancellationScope.nonCancellable(() => bookkeeping.finalizeDocument({ jobId, cancelled: true }));
    }
    throw err;
  }
}
