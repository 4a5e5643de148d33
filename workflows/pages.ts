/** A document's pages: a sliding window of page activities, and child workflows for long documents. */
import { executeChild, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { PageCounts, PageRangeWorkflowInput, PageRangeWorkflowOutput } from '../core/contracts.js';
import { bookkeepingFor, failureOf, pageActivities, type Bookkeeping } from './activity-options.js';
import { pageSummary, priorityOf, summaryOf, trackPriority, type RunPriority } from './priority.js';

/**
 * Runs page activities through a sliding window: `plan.window` lanes, each taking the next page as
 * soon as its last one finished. A page that fails after its retries is recorded and never stops the rest.
 */
async function runPages(
  input: PageRangeWorkflowInput,
  counts: PageCounts,
  bookkeeping: Bookkeeping,
  run: RunPriority,
): Promise<void> {
  const { jobId, storageKey, options, pageNumbers, password } = input;
  // Each page is scheduled with the run's priority at that moment: a setPriority signal reaches the next page.
  const pagesFor = (pageNumber: number) =>
    pageActivities(input.plan, { ...priorityOf(run), ...summaryOf(run, pageSummary(pageNumber, options)) });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pageNumbers.length) {
      const pageNumber = pageNumbers[next++]!;
      try {
        await pagesFor(pageNumber).processPage({ jobId, pageNumber, storageKey, options, password });
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
  const bookkeeping = bookkeepingFor();
  await runPages(input, counts, bookkeeping, trackPriority(input.priority));
  return counts;
}

/**
 * Runs a document's pages: in this workflow, or in child workflows of plan.pagesPerChild consecutive pages
 * (named by their first and last). Each run takes its pages in `runOrder` (the largest first) when given,
 * else in page order.
 */
export async function runAllPages(
  input: PageRangeWorkflowInput & { runOrder?: number[] },
  counts: PageCounts,
  bookkeeping: Bookkeeping,
  run: RunPriority,
): Promise<void> {
  const { runOrder, ...pages } = input;
  const { pageNumbers, plan } = pages;
  const rank = new Map(runOrder?.map((page, i) => [page, i]));
  const ordered = (slice: number[]) =>
    runOrder ? [...slice].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0)) : slice;
  if (pageNumbers.length <= plan.pagesPerChild) {
    await runPages({ ...pages, pageNumbers: ordered(pageNumbers) }, counts, bookkeeping, run);
    return;
  }
  for (let start = 0; start < pageNumbers.length; start += plan.pagesPerChild) {
    const slice = pageNumbers.slice(start, start + plan.pagesPerChild);
    const first = slice[0]!;
    const last = slice[slice.length - 1]!;
    const workflowId = `${workflowInfo().workflowId}-pages-${first}-${last}`;
    run.child = workflowId;
    const result = await executeChild(pageRangeWorkflow, {
      workflowId,
      args: [{ ...pages, pageNumbers: ordered(slice), ...(run.key === undefined ? {} : { priority: run.key }) }],
      ...priorityOf(run),
      ...(run.tracked ? { staticSummary: `pages ${first}–${last}` } : {}),
    }).finally(() => {
      run.child = undefined;
    });
    counts.pagesDone += result.pagesDone;
    counts.pagesFailed += result.pagesFailed;
  }
}
