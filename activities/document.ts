/**
 * The document workflow's activities around its pages: recording the job's state, opening and checking the
 * document once (inspect), checking a password, recording a page whose retries are spent, and finalizing.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type {
  CheckDocumentPasswordInput,
  CheckDocumentPasswordOutput,
  FinalizeDocumentInput,
  FinalizeDocumentOutput,
  InspectDocumentInput,
  InspectDocumentOutput,
  PagePlan,
  RecordPageFailureInput,
  UpdateJobInput,
} from '../core/contracts.js';
import type { JobStore } from '../core/job-store.js';
import { runOrder } from '../core/page-plan.js';
import { selectPages } from '../core/page-range.js';
import { documentKey, type DocumentStorage, type LocalLease } from '../core/storage/storage.js';
import { InputError, type ImageEngine, type PdfEngine, type PdfInspection } from './adapters/types.js';
import { asFailure, imageTypeOfFile, localCopy, withHeartbeat, type PasswordOpener } from './common.js';
import { imagePageSize } from './image-render.js';
import type { PageMetrics } from './page-metrics.js';

export interface DocumentActivityDeps {
  jobs: JobStore;
  storage: DocumentStorage;
  pdf: PdfEngine;
  /** Reads image documents (PNG, JPEG, TIFF, WebP): one page per frame. */
  images: ImageEngine;
  metrics: PageMetrics;
  openPassword: PasswordOpener;
  /** MAX_PAGES: longer documents fail with TOO_MANY_PAGES before any page is opened. */
  maxPages: number;
  /** How the document's pages are run (core/page-plan.ts), recorded in history by inspect. */
  plan: PagePlan;
  /** How often inspect and the password check heartbeat while they work (default 5 s). */
  heartbeatIntervalMs?: number;
}

export function createDocumentActivities(deps: DocumentActivityDeps) {
  const { jobs, storage, pdf, metrics, openPassword } = deps;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 5_000;

  /** Records a job state change decided by the workflow. */
  async function updateJob(input: UpdateJobInput): Promise<void> {
    await jobs.advance(input.jobId, input);
  }

  /** Opens the document once: validates it, counts and sizes its pages, and records one row per selected page. */
  async function inspectDocument(input: InspectDocumentInput): Promise<InspectDocumentOutput> {
    // Alive by its heartbeats (the workflow gives inspect a heartbeat timeout): an attempt whose task never
    // reached this worker, or whose worker died, is retried within that timeout instead of its 5 minutes.
    return withHeartbeat(heartbeatIntervalMs, (signal) => inspect(input, signal));
  }

  async function inspect(input: InspectDocumentInput, signal: AbortSignal): Promise<InspectDocumentOutput> {
    let copy: LocalLease | undefined;
    try {
      copy = await localCopy(storage, input.storageKey);
      const { path } = copy;
      const inspection = (await imageTypeOfFile(path))
        ? await inspectImage(path, signal)
        : await pdf.inspect(path, {
            password: openPassword(input.jobId, input.password),
            maxPages: deps.maxPages,
            signal,
          });
      if (inspection.pageCount > deps.maxPages) {
        throw ApplicationFailure.nonRetryable(
          `The document has ${inspection.pageCount} pages; this service accepts at most ${deps.maxPages}. Split it and upload the parts.`,
          'TOO_MANY_PAGES',
        );
      }
      const selection = selectPages(input.pages, inspection.pageCount);
      if ('error' in selection) throw ApplicationFailure.nonRetryable(selection.error, 'PAGE_RANGE_INVALID');
      const selected = new Set(selection.pages);
      const pages = inspection.pages.filter((p) => selected.has(p.number));
      await jobs.recordInspection(input.jobId, {
        pageCount: inspection.pageCount,
        encrypted: inspection.encrypted,
        pages,
      });
      const order = runOrder(pages);
      return {
        pageCount: inspection.pageCount,
        encrypted: inspection.encrypted,
        pageNumbers: selection.pages,
        ...(order ? { runOrder: order } : {}),
        plan: deps.plan,
      };
    } catch (err) {
      throw asFailure(err);
    } finally {
      await copy?.release();
    }
  }

  /**
   * An image document as the PDF engine would describe it: a page per frame, sized in points at the image's
   * own resolution. Images carry no password and no encryption.
   */
  async function inspectImage(path: string, signal: AbortSignal): Promise<PdfInspection> {
    const { pageCount, frames } = await deps.images.inspect(path, { maxPages: deps.maxPages, signal });
    const pages = frames.map((frame, i) => ({ number: i + 1, ...imagePageSize(frame), rotation: 0 }));
    return { pageCount, encrypted: false, pages };
  }

  /** Tells whether a sealed password opens the document; a wrong one is an answer, not a failure. */
  function checkDocumentPassword(input: CheckDocumentPasswordInput): Promise<CheckDocumentPasswordOutput> {
    return withHeartbeat(heartbeatIntervalMs, (signal) => checkPassword(input, signal));
  }

  async function checkPassword(
    input: CheckDocumentPasswordInput,
    signal: AbortSignal,
  ): Promise<CheckDocumentPasswordOutput> {
    let copy: LocalLease | undefined;
    try {
      copy = await localCopy(storage, input.storageKey);
      const { path } = copy;
      const password = openPassword(input.jobId, input.password);
      await pdf.inspect(path, { password, signal });
      return { opens: true };
    } catch (err) {
      if (
        err instanceof InputError &&
        (err.code === 'PDF_PASSWORD_INCORRECT' || err.code === 'PDF_PASSWORD_REQUIRED')
      ) {
        const message = 'The password does not open the document. Check it and POST it again; the job keeps waiting.';
        return { opens: false, code: 'PDF_PASSWORD_INCORRECT', message };
      }
      throw asFailure(err);
    } finally {
      await copy?.release();
    }
  }

  /** Marks a page failed once its retries are spent; the other pages carry on. */
  async function recordPageFailure(input: RecordPageFailureInput): Promise<void> {
    const { jobId, pageNumber, code, message } = input;
    const recorded = await jobs.pageFailed({ jobId, pageNumber }, { code, message });
    // Counted once per page, even when this activity is retried after its update landed.
    if (recorded) {
      metrics.pageFailed(input.code);
      Context.current().log.warn('Page failed', { code: input.code });
    }
  }

  /** Derives the job's final status from its page rows and records it; this worker's copy of the document goes. */
  async function finalizeDocument(input: FinalizeDocumentInput): Promise<FinalizeDocumentOutput> {
    const final = await jobs.finalize(input.jobId, { cancelled: input.cancelled });
    // Other workers' copies age out of their caches (least recently used first).
    await storage.release(documentKey(input.jobId));
    return final;
  }

  return { updateJob, inspectDocument, checkDocumentPassword, recordPageFailure, finalizeDocument };
}
