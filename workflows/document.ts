/** The document workflow: one per job, from inspection to the job's final status. */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  defineQuery,
  isCancellation,
  setHandler,
} from '@temporalio/workflow';
import {
  documentProgressQueryName,
  type DocumentProgress,
  type DocumentWorkflowInput,
  type DocumentWorkflowOutput,
  type InspectDocumentOutput,
} from '../core/contracts.js';
import { isPasswordFailure } from '../core/failures.js';
import { bookkeepingFor, failureOf, inspectionWith } from './activity-options.js';
import { runAllPages } from './pages.js';
import { priorityOf, show, summaryOf, trackPriority } from './priority.js';
import { buildSearchablePdfStep } from './searchable-pdf.js';
import { announce, announceEnd } from './webhooks.js';
import { concludeBatches } from './batches.js';
import { startLegacyMirror, type LegacyMirror } from './legacy-mirror.js';
import {
  DEFAULT_PASSWORD_WAIT_SECONDS,
  handlePasswordUpdates,
  waitForPassword,
  type PasswordGate,
} from './password.js';

/** The document's step and page counts, readable from the Temporal UI and CLI. */
export const progressQuery = defineQuery<DocumentProgress>(documentProgressQueryName);

/**
 * One document: inspect (waiting in `needs_password` for a password when the file needs one) → pages
 * (sliding window; child workflows for long documents) → the searchable PDF → finalize.
 * Progress and results are written to the app DB by activities; the API reads the DB.
 */
export async function documentWorkflow(input: DocumentWorkflowInput): Promise<DocumentWorkflowOutput> {
  const { jobId, storageKey, options } = input;
  const bookkeeping = bookkeepingFor();
  const run = trackPriority(input.priority);
  let { password } = input;
  const progress: DocumentProgress = { step: 'inspecting', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
  setHandler(progressQuery, () => progress);
  const gate: PasswordGate = { waiting: false };
  handlePasswordUpdates(jobId, storageKey, gate);
  // The job's legacy_jobs row (LEGACY_MIRROR): written by a child this run only signals, never waits for.
  let mirror: LegacyMirror | undefined;

  try {
    mirror = await startLegacyMirror(input);
    await bookkeeping.updateJob({ jobId, status: 'processing', step: 'inspecting' });
    show(run, { status: 'processing' });
    await mirror?.note();

    let inspected: InspectDocumentOutput | undefined;
    while (!inspected) {
      try {
        inspected = await inspectionWith({ ...priorityOf(run), ...summaryOf(run, 'inspect') }).inspectDocument({
          jobId,
          storageKey,
          pages: options.pages,
          password,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        const error = failureOf(err, 'document');
        if (isPasswordFailure(error.code)) {
          progress.step = 'waiting-for-password';
          const waitSeconds = input.passwordWaitSeconds ?? DEFAULT_PASSWORD_WAIT_SECONDS;
          show(run, { status: 'needs_password' });
          password = await waitForPassword(
            jobId,
            gate,
            { code: error.code, message: error.message },
            waitSeconds,
            bookkeeping,
            async (reason) => {
              await announce(input, 'job.needs_password', {
                status: 'needs_password',
                pageCount: 0,
                pagesDone: 0,
                pagesFailed: 0,
                error: reason,
              });
              await mirror?.note();
            },
          );
          if (password !== undefined) {
            progress.step = 'inspecting';
            await bookkeeping.updateJob({ jobId, status: 'processing', step: 'inspecting', error: null });
            show(run, { status: 'processing' });
            await mirror?.note();
            continue;
          }
          const deadline = {
            code: 'PASSWORD_DEADLINE_EXCEEDED',
            message: `No password that opens the document arrived within ${waitSeconds} s; submit the document again with its password in the \`password\` field.`,
          };
          await bookkeeping.updateJob({ jobId, status: 'failed', step: 'done', error: deadline });
          await announce(input, 'job.failed', { ...NO_PAGES, status: 'failed', error: deadline });
        } else {
          await bookkeeping.updateJob({ jobId, status: 'failed', step: 'done', error });
          await announce(input, 'job.failed', { ...NO_PAGES, status: 'failed', error });
        }
        show(run, { status: 'failed' });
        await mirror?.end();
        await concludeBatches(jobId, bookkeeping);
        progress.step = 'done';
        // A password update still being checked is answered before the run closes.
        await condition(allHandlersFinished);
        return { jobId, status: 'failed', pageCount: 0, pagesDone: 0, pagesFailed: 0 };
      }
    }

    const { pageNumbers, runOrder, plan } = inspected;
    progress.pageCount = pageNumbers.length;
    show(run, { pageCount: inspected.pageCount });
    progress.step = 'processing-pages';
    await bookkeeping.updateJob({ jobId, step: 'processing-pages' });
    await mirror?.note();
    mirror?.follow(progress);

    await runAllPages(
      { jobId, storageKey, options, pageNumbers, runOrder, plan, password },
      progress,
      bookkeeping,
      run,
    );

    progress.step = 'finalizing';
    await bookkeeping.updateJob({ jobId, step: 'finalizing' });
    await mirror?.note();
    await buildSearchablePdfStep({ jobId, storageKey, password }, progress.pagesDone, {
      ...priorityOf(run),
      ...summaryOf(run, 'searchable PDF'),
    });
    const final = await bookkeeping.finalizeDocument({ jobId });
    show(run, { status: final.status });
    progress.step = 'done';
    await mirror?.end();
    await announceEnd(input, final, inspected.pageCount);
    await concludeBatches(jobId, bookkeeping);
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
      await CancellationScope.nonCancellable(async () => {
        const final = await bookkeeping.finalizeDocument({ jobId, cancelled: true });
        show(run, { status: final.status });
        await mirror?.end();
        await announceEnd(input, final, progress.pageCount);
        await concludeBatches(jobId, bookkeeping);
      });
    }
    throw err;
  }
}

const NO_PAGES = { pageCount: 0, pagesDone: 0, pagesFailed: 0 } as const;
