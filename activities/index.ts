import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { Registry } from 'prom-client';
import { Op } from 'sequelize';
import type { AppModels } from '../src/database/models.js';
import { NotFoundInStorage, type DocumentStorage } from '../src/storage/storage.js';
import { parsePageRange, resolvePageRange } from '../src/common/page-range.js';
import { open as openSealed, SealedSecretError } from '../src/common/sealed-secret.js';
import type {
  CheckDocumentPasswordInput,
  CheckDocumentPasswordOutput,
  FinalizeDocumentInput,
  FinalizeDocumentOutput,
  InspectDocumentInput,
  InspectDocumentOutput,
  JobStatus,
  PagePlan,
  ProcessPageInput,
  ProcessPageOutput,
  RecordPageFailureInput,
  SealedPassword,
  UpdateJobInput,
} from '../workflows/contracts.js';
import { InputError, type OcrEngine, type PdfEngine, type QuarterTurn, type Word } from './adapters/types.js';
import { createPageMetrics, type PageMetrics, type PagePhase, type PageReadMethod } from '../src/telemetry/metrics.js';

/** What the activities need from the process that hosts them. */
export interface ActivityDeps {
  models: AppModels;
  storage: DocumentStorage;
  pdf: PdfEngine;
  ocr: OcrEngine;
  /** Where page metrics go; the worker passes the set on its /metrics registry. Default: a private registry. */
  metrics?: PageMetrics;
  /** Opens the sealed document passwords the workflows carry (DOCUMENT_SECRET_KEY). */
  documentSecretKey?: Buffer;
  settings: {
    dpi: number;
    renderMaxPixels: number;
    maxPages: number;
    /**
     * Turn pages scanned sideways or upside down upright before OCR, when tesseract's orientation
     * detection leads by at least `minConfidence`. Absent: pages are read as rendered.
     */
    orientation?: { minConfidence: number };
    plan: PagePlan;
    /** How often a long page activity reports liveness. */
    heartbeatIntervalMs?: number;
  };
}

/** Turns an adapter's input problem into a non-retryable failure with its stable type. */
function asFailure(err: unknown): unknown {
  if (err instanceof InputError) return ApplicationFailure.nonRetryable(err.message, err.code);
  if (err instanceof NotFoundInStorage) {
    return ApplicationFailure.nonRetryable(
      'The uploaded file is no longer in storage; upload it again.',
      'FILE_MISSING',
    );
  }
  return err;
}

/** Seconds since `startedMs`. */
function since(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

/** Runs one timed part of a page attempt and records its duration, whether it succeeds or not. */
async function timed<T>(record: (seconds: number) => void, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    record(since(started));
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * A word box from a page image in PDF points of the page as it is displayed (after /Rotate), like the
 * text layer's, whatever resolution the page was rendered at and whichever way it was turned to be read.
 */
function toPageBox(
  bbox: Word['bbox'],
  image: { width: number; height: number; dpi: number },
  turn: QuarterTurn,
): Word['bbox'] {
  const toPoints = 72 / image.dpi;
  const { width: w, height: h } = image;
  // Undo the clockwise turn: where each corner of the upright image lay on the page as displayed.
  const back = (x: number, y: number): [number, number] =>
    turn === 90 ? [y, w - x] : turn === 180 ? [w - x, h - y] : turn === 270 ? [h - y, x] : [x, y];
  const [ax, ay] = back(bbox.x0, bbox.y0);
  const [bx, by] = back(bbox.x1, bbox.y1);
  return {
    x0: round2(Math.min(ax, bx) * toPoints),
    y0: round2(Math.min(ay, by) * toPoints),
    x1: round2(Math.max(ax, bx) * toPoints),
    y1: round2(Math.max(ay, by) * toPoints),
  };
}

/** Heartbeats on a timer while `work` runs, so a long OCR call is seen alive and learns of cancellation. */
async function withHeartbeat<T>(intervalMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/** Builds the activities with their dependencies; the worker registers the returned object. */
export function createActivities(deps: ActivityDeps) {
  const { models, storage, pdf, ocr, settings } = deps;
  const { Job, JobPage } = models;
  const heartbeatIntervalMs = settings.heartbeatIntervalMs ?? 5_000;
  const metrics = deps.metrics ?? createPageMetrics(new Registry());

  /** The clear password for pdf.js, opened at the last moment; it never leaves this process. */
  function openPassword(jobId: string, sealed: SealedPassword | undefined): string | undefined {
    if (sealed === undefined) return undefined;
    if (!deps.documentSecretKey) {
      throw ApplicationFailure.nonRetryable(
        'This worker has no DOCUMENT_SECRET_KEY, so it cannot open the document password.',
        'PASSWORD_KEY_MISSING',
      );
    }
    try {
      return openSealed(deps.documentSecretKey, jobId, sealed);
    } catch (err) {
      if (!(err instanceof SealedSecretError)) throw err;
      throw ApplicationFailure.nonRetryable(
        'The document password was sealed with another DOCUMENT_SECRET_KEY; every API and worker process must share one.',
        'PASSWORD_KEY_MISMATCH',
      );
    }
  }

  /** Records a job state change decided by the workflow. */
  async function updateJob(input: UpdateJobInput): Promise<void> {
    const patch: Record<string, unknown> = {};
    if (input.step) patch.step = input.step;
    if (input.status) {
      patch.status = input.status;
      if (input.status === 'processing') patch.startedAt = new Date();
      if (input.status === 'failed' || input.status === 'completed' || input.status === 'partial') {
        patch.finishedAt = new Date();
      }
    }
    if (input.error !== undefined) {
      patch.errorCode = input.error?.code ?? null;
      patch.errorMessage = input.error?.message ?? null;
      patch.errorPage = input.error?.page ?? null;
    }
    // A finished job is never reopened by a late retry of an earlier step.
    await Job.update(patch, {
      where: { id: input.jobId, status: { [Op.notIn]: ['completed', 'partial', 'failed', 'cancelled'] } },
    });
  }

  /** Opens the document once: validates it, counts and sizes its pages, and records one row per selected page. */
  async function inspectDocument(input: InspectDocumentInput): Promise<InspectDocumentOutput> {
    try {
      const path = await storage.localPath(input.storageKey);
      const password = openPassword(input.jobId, input.password);
      const inspection = await pdf.inspect(path, {
        password,
        maxPages: settings.maxPages,
        signal: Context.current().cancellationSignal,
      });
      if (inspection.pageCount > settings.maxPages) {
        throw ApplicationFailure.nonRetryable(
          `The document has ${inspection.pageCount} pages; this service accepts at most ${settings.maxPages}. Split it and upload the parts.`,
          'TOO_MANY_PAGES',
        );
      }
      let pageNumbers = inspection.pages.map((p) => p.number);
      if (input.pages) {
        const parsed = parsePageRange(input.pages);
        const resolved = 'spans' in parsed ? resolvePageRange(parsed.spans, inspection.pageCount) : parsed;
        if ('error' in resolved) throw ApplicationFailure.nonRetryable(resolved.error, 'PAGE_RANGE_INVALID');
        pageNumbers = resolved.pages;
      }
      const selected = new Set(pageNumbers);
      const rows = inspection.pages
        .filter((p) => selected.has(p.number))
        .map((p) => ({
          jobId: input.jobId,
          pageNumber: p.number,
          status: 'pending' as const,
          width: p.width,
          height: p.height,
        }));
      // Idempotent: a retried inspect leaves pages that already finished as they are.
      for (let i = 0; i < rows.length; i += 1000) {
        await JobPage.bulkCreate(rows.slice(i, i + 1000), { ignoreDuplicates: true });
      }
      await Job.update(
        { pageCount: inspection.pageCount, pagesSelected: pageNumbers.length, encrypted: inspection.encrypted },
        { where: { id: input.jobId } },
      );
      return { pageCount: inspection.pageCount, encrypted: inspection.encrypted, pageNumbers, plan: settings.plan };
    } catch (err) {
      throw asFailure(err);
    }
  }

  /** Tells whether a sealed password opens the document; a wrong one is an answer, not a failure. */
  async function checkDocumentPassword(input: CheckDocumentPasswordInput): Promise<CheckDocumentPasswordOutput> {
    try {
      const path = await storage.localPath(input.storageKey);
      const password = openPassword(input.jobId, input.password);
      await pdf.inspect(path, { password, signal: Context.current().cancellationSignal });
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
    }
  }

  /** Reads one page: its own text layer where it has real text (per ocrMode), else render and OCR. */
  async function processPage(input: ProcessPageInput): Promise<ProcessPageOutput> {
    const startedMs = performance.now();
    const { attempt } = Context.current().info;
    const log = Context.current().log;
    const key = { jobId: input.jobId, pageNumber: input.pageNumber };
    // The method this attempt is on so far: a failure is counted against the path it failed in.
    const progress: { method: PageReadMethod } = {
      method: input.options.ocrMode === 'force' ? 'ocr' : 'text-layer',
    };
    const ended = metrics.started();
    if (attempt > 1) metrics.retried();
    try {
      // The DB writes are inside the heartbeat too: with the database restarting they wait (see
      // createSequelize's waitForDatabase) while the attempt stays alive, instead of timing out.
      const result = await withHeartbeat(heartbeatIntervalMs, async (signal) => {
        await JobPage.update(
          { status: 'processing', attempts: attempt },
          { where: { ...key, status: { [Op.ne]: 'done' } } },
        );
        const read = await readPage(input, signal, progress);
        // Work that finished just as the job was cancelled is not recorded: the job is being finalized.
        signal.throwIfAborted();
        await JobPage.upsert({
          ...key,
          status: 'done',
          method: read.method,
          text: read.text,
          confidence: read.confidence,
          words: read.words,
          renderDpi: read.renderDpi,
          hasTextLayer: read.hasTextLayer,
          attempts: attempt,
          durationMs: Math.round(performance.now() - startedMs),
          errorCode: null,
          errorMessage: null,
        });
        return read;
      });
      const seconds = since(startedMs);
      metrics.attemptEnded(result.method, 'done', seconds);
      log.info('Page read', {
        method: result.method,
        characters: result.text.length,
        confidence: result.confidence,
        durationMs: Math.round(seconds * 1000),
      });
      return { pageNumber: input.pageNumber, method: result.method, characters: result.text.length };
    } catch (err) {
      const { method } = progress;
      if (err instanceof CancelledFailure || Context.current().cancellationSignal.aborted) {
        metrics.attemptEnded(method, 'cancelled', since(startedMs));
        log.info('Page attempt cancelled', { method });
        throw err;
      }
      const failure = asFailure(err);
      metrics.attemptEnded(method, 'error', since(startedMs));
      log.warn('Page attempt failed', {
        method,
        code: failure instanceof ApplicationFailure ? failure.type : undefined,
        error: failure instanceof Error ? failure.message : String(failure),
      });
      throw failure;
    } finally {
      ended();
    }
  }

  /** The page's text: its own text layer where usable (per ocrMode), else render and OCR. */
  async function readPage(input: ProcessPageInput, signal: AbortSignal, progress: { method: PageReadMethod }) {
    const path = await storage.localPath(input.storageKey);
    const password = openPassword(input.jobId, input.password);
    const { ocrMode, languages } = input.options;
    const phase = <T>(name: PagePhase, work: () => Promise<T>) => timed((t) => metrics.phase(name, t), work);
    // Whether the page has a usable text layer: known once it has been read (not when OCR is forced).
    let hasTextLayer: boolean | null = null;
    if (ocrMode !== 'force') {
      const layer = await phase('text-layer', () => pdf.extractText(path, input.pageNumber, { password, signal }));
      hasTextLayer = layer.usable;
      if (ocrMode === 'skip' || layer.usable) {
        return {
          method: 'text-layer' as const,
          text: layer.text,
          confidence: 100,
          words: layer.words,
          renderDpi: null,
          hasTextLayer,
        };
      }
    }
    progress.method = 'ocr';
    const renderOptions = { dpi: settings.dpi, maxPixels: settings.renderMaxPixels, password, signal };
    let image = await phase('render', () => pdf.render(path, input.pageNumber, renderOptions));
    let turn: QuarterTurn = 0;
    if (settings.orientation && ocr.detectOrientation) {
      const { pgm, dpi } = image;
      const found = await phase('orientation', () => ocr.detectOrientation!(pgm, { dpi, signal }));
      if (found.turn !== 0 && found.confidence >= settings.orientation.minConfidence) {
        // Drawn again turned, rather than the bitmap rotated: same cost as a render, no second copy. At the
        // resolution the first render settled on, so a scan's own resolution is not worked out again.
        turn = found.turn;
        const again = { ...renderOptions, dpi: image.dpi, rotation: turn };
        image = await phase('render', () => pdf.render(path, input.pageNumber, again));
      }
    }
    const page = image;
    const ocrResult = await phase('ocr', () => ocr.recognize(page.pgm, { languages, dpi: page.dpi, signal }));
    const words = ocrResult.words.map((w) => ({ ...w, bbox: toPageBox(w.bbox, page, turn) }));
    // The column holds whole dpi; a capped render has a fractional one.
    return { method: 'ocr' as const, ...ocrResult, words, renderDpi: Math.round(page.dpi), hasTextLayer };
  }

  /** Marks a page failed once its retries are spent; the other pages carry on. */
  async function recordPageFailure(input: RecordPageFailureInput): Promise<void> {
    const [changed] = await JobPage.update(
      { status: 'failed', errorCode: input.code, errorMessage: input.message },
      {
        where: {
          jobId: input.jobId,
          pageNumber: input.pageNumber,
          status: { [Op.notIn]: ['done', 'failed'] },
        },
      },
    );
    // Counted once per page, even when this activity is retried after its update landed.
    if (changed > 0) {
      metrics.pageFailed(input.code);
      Context.current().log.warn('Page failed', { code: input.code });
    }
  }

  /** Derives the job's final status from its page rows and records it. */
  async function finalizeDocument(input: FinalizeDocumentInput): Promise<FinalizeDocumentOutput> {
    if (input.cancelled) {
      // Pages that never ran say so; finished pages and their text stay.
      await JobPage.update(
        { status: 'skipped' },
        { where: { jobId: input.jobId, status: { [Op.in]: ['pending', 'processing'] } } },
      );
    }
    const counts = (await JobPage.count({
      where: { jobId: input.jobId },
      group: ['status'],
      attributes: ['status'],
    })) as unknown as { status: string; count: number }[];
    const countOf = (s: string) => Number(counts.find((c) => c.status === s)?.count ?? 0);
    const pagesDone = countOf('done');
    const pagesFailed = countOf('failed');
    let status: JobStatus;
    if (input.cancelled) status = 'cancelled';
    else if (pagesFailed === 0) status = 'completed';
    else if (pagesDone === 0) status = 'failed';
    else status = 'partial';

    let error: { code: string; message: string; page: number } | undefined;
    if (pagesFailed > 0 && !input.cancelled) {
      const first = await JobPage.findOne({
        where: { jobId: input.jobId, status: 'failed' },
        order: [['pageNumber', 'ASC']],
      });
      if (first) {
        error = {
          code: first.errorCode ?? 'PAGE_FAILED',
          message: `${pagesFailed} page(s) failed; page ${first.pageNumber}: ${first.errorMessage ?? 'failed'}`,
          page: first.pageNumber,
        };
      }
    }
    await Job.update(
      {
        status,
        step: 'done',
        finishedAt: new Date(),
        errorCode: error?.code ?? null,
        errorMessage: error?.message ?? null,
        errorPage: error?.page ?? null,
      },
      { where: { id: input.jobId } },
    );
    return { status, pagesDone, pagesFailed };
  }

  return { updateJob, inspectDocument, checkDocumentPassword, processPage, recordPageFailure, finalizeDocument };
}

/** The activities' type, for proxyActivities in workflows (imported as a type only). */
export type Activities = ReturnType<typeof createActivities>;
