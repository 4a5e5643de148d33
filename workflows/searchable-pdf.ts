/** The searchable PDF step: built once after a run's pages, before the job is finalized. */
import { isCancellation, log, patched } from '@temporalio/workflow';
import type { BuildSearchablePdfInput } from '../core/contracts.js';
import { failureOf, searchablePdfBuild, type CallOptions } from './activity-options.js';

/** The patch that added the step: runs whose history began before it finalize straight after their pages. */
export const SEARCHABLE_PDF_PATCH = 'searchable-pdf';

/**
 * Builds the job's searchable PDF when this run read at least one page. The job is finished only once it is
 * built, so a client that sees `completed` can fetch it. A build that fails after its retries leaves the
 * job's text as it is: the job ends as its pages say, and ?format=pdf answers SEARCHABLE_PDF_UNAVAILABLE.
 */
export async function buildSearchablePdfStep(
  input: BuildSearchablePdfInput,
  pagesDone: number,
  call: CallOptions = {},
): Promise<void> {
  if (!patched(SEARCHABLE_PDF_PATCH) || pagesDone === 0) return;
  try {
    await searchablePdfBuild(call).buildSearchablePdf(input);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('Searchable PDF not built', failureOf(err, 'document'));
  }
}
