/**
 * How the workflows call their activities: named groups of options with explicit timeouts and retry
 * policies, and how a failed activity becomes a stable code for the job (core/failures.ts).
 */
import type { ActivityOptions } from '@temporalio/common';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PagePlan } from '../core/contracts.js';
import { INPUT_FAILURE_CODES, isInputFailure } from '../core/failures.js';

const nonRetryableErrorTypes = [...INPUT_FAILURE_CODES];

/** Small DB writes (the job's state, a failed page, the end): retried for as long as the database is away. */
const bookkeepingOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;

/**
 * The patch that made the bookkeeping local activities. Before it, each was an activity on the task
 * queue: a trip through matching, a slot taken beside the pages (a finished document's last write waited
 * behind other documents' pages), and a workflow task of its own when it finished.
 */
export const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';

/**
 * The bookkeeping activities of this run: local activities — run by the worker that runs the workflow
 * task, within that task — unless the run's history began before they were (it replays them queued).
 * Called once at the start of each workflow.
 */
export function bookkeepingFor(): Bookkeeping {
  return patched(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : queuedBookkeeping;
}

const queuedBookkeeping = proxyActivities<Activities>(bookkeepingOptions);
const localBookkeeping = proxyLocalActivities<Activities>(bookkeepingOptions);

/** The bookkeeping activities a workflow was handed (bookkeepingFor). */
export type Bookkeeping = typeof queuedBookkeeping;

/** What a call adds to its group's options: its priority and its summary in the history (workflows/priority.ts). */
export type CallOptions = Pick<ActivityOptions, 'priority' | 'summary'>;

/**
 * Opening the whole document: minutes for a long one, alive by its heartbeats meanwhile. The heartbeat timeout
 * also bounds an attempt whose task was lost between the server and the worker (seen under load: the task shows
 * Started on a worker that never ran it) or whose worker died: 30 s, not the 5 minutes of the whole attempt.
 */
const inspectionOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes },
};

/** Opening and checking the whole document once. */
export const inspection = proxyActivities<Activities>(inspectionOptions);

/** The inspection group with a call's priority and summary. */
export function inspectionWith(call: CallOptions) {
  return proxyActivities<Activities>({ ...inspectionOptions, ...call });
}

/**
 * Building the searchable PDF: minutes for a long document (qpdf copies the whole file), alive by its
 * heartbeats; a damaged file qpdf cannot write is not retried (SEARCHABLE_PDF_FAILED).
 */
export function searchablePdfBuild(call: CallOptions = {}) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes },
    ...call,
  });
}

/** Page activities: timeouts and attempts come from the worker's configuration, recorded by inspect. */
export function pageActivities(plan: PagePlan, call: CallOptions = {}) {
  return proxyActivities<Activities>({
    ...call,
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

/** Classifies a failed activity into a stable code and a message for the client. */
export function failureOf(err: unknown, what: 'page' | 'document' = 'page'): { code: string; message: string } {
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
