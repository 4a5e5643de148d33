import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  INPUT_FAILURE_CODES,
  isInputFailure,
  isPasswordFailure,
  type FailureCode,
  type PasswordFailureCode,
} from '../core/failures.js';
import {
  documentProgressQueryName,
  providePasswordUpdateName,
  type DocumentProgress,
  type DocumentWorkflowInput,
  type DocumentWorkflowOutput,
  type InspectDocumentOutput,
  type PageCounts,
  type PagePlan,
  type PageRangeWorkflowInput,
  type PageRangeWorkflowOutput,
  type ProvidePasswordInput,
  type ProvidePasswordOutput,
  type RetryPagesWorkflowInput,
  type SealedPassword,
} from '../core/contracts.js';

const nonRetryableErrorTypes = [...INPUT_FAILURE_CODES];

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

/** Delivers a sealed password to a job in `needs_password`; fails with PDF_PASSWORD_INCORRECT if it does not open the file. */
export const providePasswordUpdate = defineUpdate<ProvidePasswordOutput, [ProvidePasswordInput]>(
  providePasswordUpdateName,
);

/** Default wait for a password when the input names none (inputs from before the setting existed). */
const DEFAULT_PASSWORD_WAIT_SECONDS = 24 * 3600;

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
  const { jobId, storageKey, options, pageNumbers, password } = input;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pageNumbers.length) {
      const pageNumber = pageNumbers[next++]!;
      try {
        await pages.processPage({ jobId, pageNumber, storageKey, options, password });
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

/** The state behind the providePassword update: open only while the job waits in `needs_password`. */
interface PasswordGate {
  waiting: boolean;
  accepted?: SealedPassword;
}

/**
 * Registers the providePassword update from the workflow's start, so an early or late update is rejected
 * by the validator at once (409 at the API) rather than buffered. The handler has the password checked by
 * an activity: a wrong one fails only its update (the client hears of it at once) and the job keeps waiting.
 */
function handlePasswordUpdates(jobId: string, storageKey: string, gate: PasswordGate): void {
  const notWaiting = (message: string) =>
    ApplicationFailure.create({ type: 'NOT_WAITING_FOR_PASSWORD' satisfies FailureCode, message });
  setHandler(
    providePasswordUpdate,
    async ({ password }) => {
      const checked = await inspection.checkDocumentPassword({ jobId, storageKey, password });
      if (!checked.opens) throw ApplicationFailure.create({ type: checked.code, message: checked.message });
      if (!gate.waiting) throw notWaiting('The job stopped waiting for a password while this one was checked.');
      gate.accepted = password;
      gate.waiting = false;
      return { accepted: true };
    },
    {
      validator: (arg: ProvidePasswordInput | undefined) => {
        if (!gate.waiting) throw notWaiting('The job is not waiting for a password.');
        if (typeof arg?.password !== 'string' || arg.password === '') throw new Error('password is required');
      },
    },
  );
}

/**
 * Waits, durably, for a password that opens the document: the job shows `needs_password` with the reason
 * (`PDF_PASSWORD_REQUIRED` or `PDF_PASSWORD_INCORRECT`) until the providePassword update delivers one, or
 * until `waitSeconds` pass (then undefined). Cancellation ends the wait like any other step.
 */
async function waitForPassword(
  jobId: string,
  gate: PasswordGate,
  reason: { code: PasswordFailureCode; message: string },
  waitSeconds: number,
): Promise<SealedPassword | undefined> {
  const message =
    `${reason.message} POST it as {"password": "…"} to /v1/jobs/${jobId}/password within ` +
    `${waitSeconds} s, or the job fails with PASSWORD_DEADLINE_EXCEEDED.`;
  // Open before the job shows needs_password: a client that sees the status may send the password at once.
  gate.accepted = undefined;
  gate.waiting = true;
  try {
    await bookkeeping.updateJob({
      jobId,
      status: 'needs_password',
      step: 'waiting-for-password',
      error: { code: reason.code, message },
    });
    await condition(() => gate.accepted !== undefined, waitSeconds * 1000);
  } finally {
    gate.waiting = false;
  }
  return gate.accepted;
}

/**
 * One document: inspect (waiting in `needs_password` for a password when the file needs one) → pages
 * (sliding window; child workflows for long documents) → finalize.
 * Progress and results are written to the app DB by activities; the API reads the DB.
 */
export async function documentWorkflow(input: DocumentWorkflowInput): Promise<DocumentWorkflowOutput> {
  const { jobId, storageKey, options } = input;
  let { password } = input;
  const progress: DocumentProgress = { step: 'inspecting', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
  setHandler(progressQuery, () => progress);
  const gate: PasswordGate = { waiting: false };
  handlePasswordUpdates(jobId, storageKey, gate);

  try {
    await bookkeeping.updateJob({ jobId, status: 'processing', step: 'inspecting' });

    let inspected: InspectDocumentOutput | undefined;
    while (!inspected) {
      try {
        inspected = await inspection.inspectDocument({ jobId, storageKey, pages: options.pages, password });
      } catch (err) {
        if (isCancellation(err)) throw err;
        const error = failureOf(err, 'document');
        if (isPasswordFailure(error.code)) {
          progress.step = 'waiting-for-password';
          const waitSeconds = input.passwordWaitSeconds ?? DEFAULT_PASSWORD_WAIT_SECONDS;
          password = await waitForPassword(jobId, gate, { code: error.code, message: error.message }, waitSeconds);
          if (password !== undefined) {
            progress.step = 'inspecting';
            await bookkeeping.updateJob({ jobId, status: 'processing', step: 'inspecting', error: null });
            continue;
          }
          const deadline = {
            code: 'PASSWORD_DEADLINE_EXCEEDED',
            message: `No password that opens the document arrived within ${waitSeconds} s; submit the document again with its password in the \`password\` field.`,
          };
          await bookkeeping.updateJob({ jobId, status: 'failed', step: 'done', error: deadline });
        } else {
          await bookkeeping.updateJob({ jobId, status: 'failed', step: 'done', error });
        }
        progress.step = 'done';
        // A password update still being checked is answered before the run closes.
        await condition(allHandlersFinished);
        return { jobId, status: 'failed', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
      }
    }

    const { pageNumbers, plan } = inspected;
    progress.pageCount = pageNumbers.length;
    progress.step = 'processing-pages';
    await bookkeeping.updateJob({ jobId, step: 'processing-pages' });

    await runAllPages({ jobId, storageKey, options, pageNumbers, plan, password }, progress);

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
