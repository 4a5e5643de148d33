/**
 * Batches: several documents in one request with shared options, each still a job with a document workflow
 * of its own. A batch is recorded unsealed, its documents accepted one by one through the documents service
 * (dedupe, in-flight cap, options, callback URL — exactly as POST /v1/documents), then sealed: from then on
 * the end of its last document ends it (core/batch-store.ts), announced once as batch.completed.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { Inject, Injectable, Logger, StreamableFile } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import { Op, QueryTypes } from 'sequelize';
import yazl from 'yazl';
import { BatchStore, batchStatusOf, type BatchSummary } from '../../core/batch-store.js';
import type { ConcludedBatch, WebhookSettings } from '../../core/contracts.js';
import type { AppModels, Batch } from '../../core/db/models.js';
import { ACTIVE_STATUSES, RETRYABLE_STATUSES, type OcrMode } from '../../core/lifecycle.js';
import { startBatchAnnouncement } from '../../core/workflow-client.js';
import type { Principal } from '../auth/api-keys.service.js';
import { ApiError, type ApiErrorCode } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { webhookRunSettings } from '../config/webhooks.js';
import { APP_MODELS } from '../database/database.module.js';
import { DocumentsService } from '../documents/documents.service.js';
import { JobControlService } from '../jobs/job-control.service.js';
import { STORAGE } from '../storage/storage.module.js';
import { MalwareScanner, SCANNER_RETRY_AFTER_SECONDS } from '../malware/malware-scanner.js';
import type { DocumentStorage } from '../../core/storage/storage.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { receiveBatch, type BatchFile } from './batch-upload.js';
import { entryName, uniqueName } from './zip-names.js';
import type {
  BatchCancelView,
  BatchDocumentView,
  BatchFileView,
  BatchRetryView,
  BatchSubmittedView,
  BatchView,
} from './batches.dto.js';

/** Files of one batch accepted at once. */
const ACCEPT_CONCURRENCY = 8;
/** Jobs cancelled or retried at once by one batch request. */
const CONTROL_CONCURRENCY = 8;
/** 5 s doubling up to 1 h, as a job's deliveries use when the configuration names no backoff. */
const DEFAULT_WEBHOOK_BACKOFF = { retryInitialMs: 5_000, retryMaxMs: 3_600_000 };
/** Pages read per query when a document's text is written into the ZIP. */
const TEXT_PAGE_BATCH = 50;

@Injectable()
export class BatchesService {
  private readonly logger = new Logger(BatchesService.name);
  private readonly store: BatchStore;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    private readonly documents: DocumentsService,
    private readonly control: JobControlService,
    private readonly scanner: MalwareScanner,
  ) {
    this.store = new BatchStore(models);
  }

  /**
   * Receives the files (each stored and checked as it arrives), checks the shared options once, then
   * accepts each good file as a job of the batch. A bad file is listed with its error and the others go
   * on; when no file became a document the request fails: with the files' common code (e.g. 429
   * DOCUMENTS_IN_FLIGHT_LIMIT, 415 NOT_PDF) when they share one, else 422 BATCH_NO_VALID_FILES.
   */
  async submit(req: Request, principal: Principal): Promise<BatchSubmittedView> {
    const owner = principal.apiKeyId;
    // Before a byte of the body is read, so a key at its cap stores nothing.
    await this.documents.checkInFlight(owner);
    // With the malware scanner away the batch is refused before its body is read (503 SCANNER_UNAVAILABLE).
    await this.scanner.ensureReachable();
    const started = Date.now();
    const { files, fields } = await receiveBatch(
      req,
      this.storage,
      { maxBytes: this.config.limits.maxUploadBytes, maxFiles: this.config.limits.maxBatchFiles },
      this.scanner,
    );
    const good = files.filter((f) => f.stored && f.mediaType);
    let callbackUrl: string | null;
    let options: Batch['options'];
    try {
      options = await this.documents.parseOptions(fields);
      callbackUrl = await this.documents.callbackUrlFor(owner, fields.callbackUrl?.trim() || undefined);
      if (good.length === 0) throw noDocument(files);
    } catch (err) {
      await Promise.all(good.map((f) => this.storage.remove(f.stored!.key).catch(() => undefined)));
      throw err;
    }

    const received = Date.now();
    const batchId = randomUUID();
    const webhook: WebhookSettings | null = callbackUrl
      ? { ...DEFAULT_WEBHOOK_BACKOFF, ...webhookRunSettings(this.config), url: callbackUrl }
      : null;
    await this.models.Batch.create({
      id: batchId,
      apiKeyId: owner,
      options,
      callbackUrl,
      webhook,
      fileCount: files.length,
    });
    // A few at once (each is a short transaction and a workflow start), answered in upload order.
    const accepting = pLimit(ACCEPT_CONCURRENCY);
    const answers = await Promise.all(
      files.map((file) => accepting(() => this.acceptFile(principal, batchId, file, fields))),
    );
    await this.models.BatchDocument.bulkCreate(
      answers.map((a) => ({
        batchId,
        position: a.position,
        fileName: a.fileName,
        jobId: a.jobId ?? null,
        errorCode: a.error?.code ?? null,
        errorMessage: a.error?.message ?? null,
      })),
    );
    const concluded = await this.store.sealAndConclude(batchId, `api:${randomUUID()}`);
    const accepted = answers.filter((a) => a.jobId);
    this.logger.log(
      `Batch ${batchId}: ${files.length} files received in ${received - started} ms, ${accepted.length} accepted in ${Date.now() - received} ms`,
    );
    if (accepted.length === 0)
      throw noDocument(
        answers.map((a) => ({ error: a.error })),
        batchId,
      );
    if (concluded) await this.announce(concluded, accepted[0]!.jobId!);
    const summary = await this.store.summary(batchId);
    return {
      batchId,
      status: batchStatusOf(summary.documents, { sealed: true, cancelled: false }),
      jobs: answers,
      links: linksOf(batchId),
    };
  }

  /** One file of the batch becomes a job (or joins a live identical one), or says why it could not. */
  private async acceptFile(
    principal: Principal,
    batchId: string,
    file: BatchFile,
    fields: Record<string, string>,
  ): Promise<BatchFileView> {
    const base = { position: file.position, fileName: file.filename };
    if (!file.stored || !file.mediaType) return { ...base, error: file.error };
    try {
      const { job, duplicateOf } = await this.documents.accept(
        principal,
        file.jobId,
        { stored: file.stored, filename: file.filename, mediaType: file.mediaType, fields },
        undefined,
        batchId,
      );
      return { ...base, jobId: job.id, status: job.status, ...(duplicateOf ? { duplicateOf } : {}) };
    } catch (err) {
      // accept() removed the stored file; the batch goes on with the next one.
      if (err instanceof ApiError) return { ...base, error: { code: err.code, message: err.message } };
      this.logger.error(`Batch ${batchId}: file ${file.position} failed`, err instanceof Error ? err.stack : err);
      return {
        ...base,
        error: { code: 'SERVICE_UNAVAILABLE', message: 'The document could not be recorded; submit it again.' },
      };
    }
  }

  /** Starts the batch.completed delivery the API decided (the batch ended before or at its seal). */
  private async announce(batch: ConcludedBatch, jobId: string): Promise<void> {
    const webhookId = `msg_${randomUUID().replaceAll('-', '')}`;
    await startBatchAnnouncement(this.temporal, this.config.temporal.taskQueue, { jobId, webhookId, batch });
  }

  /** The batch if this caller may see it: clients only their own (403 otherwise), admins every batch. */
  async getFor(principal: Principal, id: string): Promise<Batch> {
    const batch = await this.models.Batch.findByPk(id);
    if (!batch) throw new ApiError('BATCH_NOT_FOUND', `No batch has the id ${id}.`);
    if (principal.role !== 'admin' && batch.apiKeyId !== principal.apiKeyId) {
      throw new ApiError('FORBIDDEN', `Batch ${id} belongs to another API client.`);
    }
    return batch;
  }

  private statusOf(batch: Batch, summary: BatchSummary) {
    return batchStatusOf(summary.documents, { sealed: batch.sealedAt !== null, cancelled: batch.cancelledAt !== null });
  }

  /** The batch's status, counts and a page of its documents in upload order. */
  async view(principal: Principal, id: string, page: { limit: number; offset: number }): Promise<BatchView> {
    const batch = await this.getFor(principal, id);
    const summary = await this.store.summary(id);
    const rows = await this.models.Batch.sequelize!.query<{
      position: number;
      file_name: string | null;
      job_id: string | null;
      error_code: string | null;
      error_message: string | null;
      status: string | null;
      pages_selected: number | null;
      job_error_code: string | null;
      job_error_message: string | null;
      pages_done: number;
      pages_failed: number;
    }>(
      `SELECT d.position, d.file_name, d.job_id, d.error_code, d.error_message, j.status, j.pages_selected,
              j.error_code AS job_error_code, j.error_message AS job_error_message,
              (SELECT count(*) FROM job_pages p WHERE p.job_id = d.job_id AND p.status = 'done')::int AS pages_done,
              (SELECT count(*) FROM job_pages p WHERE p.job_id = d.job_id AND p.status = 'failed')::int AS pages_failed
         FROM batch_documents d LEFT JOIN jobs j ON j.id = d.job_id
        WHERE d.batch_id = :id
        ORDER BY d.position
        LIMIT :limit OFFSET :offset`,
      { replacements: { id, limit: page.limit, offset: page.offset }, type: QueryTypes.SELECT },
    );
    const jobs: BatchDocumentView[] = rows.map((r) => {
      const code = r.job_error_code ?? r.error_code;
      return {
        position: r.position,
        fileName: r.file_name,
        jobId: r.job_id,
        status: r.status,
        pageCount: r.pages_selected,
        pagesDone: r.pages_done,
        pagesFailed: r.pages_failed,
        error: code ? { code, message: r.job_error_message ?? r.error_message ?? '' } : null,
      };
    });
    const next = page.offset + rows.length;
    return {
      batchId: id,
      status: this.statusOf(batch, summary),
      documents: summary.documents,
      rejected: summary.rejected,
      pages: summary.pages,
      createdAt: batch.createdAt.toISOString(),
      endedAt: batch.endedAt?.toISOString() ?? null,
      cancelledAt: batch.cancelledAt?.toISOString() ?? null,
      jobs,
      limit: page.limit,
      offset: page.offset,
      nextOffset: rows.length === page.limit && next < batch.fileCount ? next : null,
      links: linksOf(id),
    };
  }

  /** The distinct jobs of the batch in one of `statuses`. */
  private async jobIds(batchId: string, statuses: readonly string[]): Promise<string[]> {
    const rows = await this.models.BatchDocument.findAll({
      where: { batchId, jobId: { [Op.ne]: null } },
      attributes: ['jobId'],
    });
    const ids = [...new Set(rows.map((r) => r.jobId!))];
    const jobs = await this.models.Job.findAll({
      where: { id: { [Op.in]: ids }, status: { [Op.in]: [...statuses] } },
      attributes: ['id'],
    });
    return jobs.map((j) => j.id);
  }

  /**
   * Cancels every document of the batch still in flight (each through the job's own cancel: finished pages
   * are kept); the batch ends `cancelled` once the last of them has stopped, and batch.completed says so.
   */
  async cancel(principal: Principal, id: string): Promise<BatchCancelView> {
    const batch = await this.getFor(principal, id);
    const status = this.statusOf(batch, await this.store.summary(id));
    if (status !== 'in_progress') {
      throw new ApiError(
        'BATCH_FINISHED',
        `Batch ${id} is already ${status}; only a batch in progress can be cancelled.`,
      );
    }
    await this.models.Batch.update({ cancelledAt: new Date() }, { where: { id, cancelledAt: null } });
    const limit = pLimit(CONTROL_CONCURRENCY);
    const results = await Promise.all(
      (await this.jobIds(id, ACTIVE_STATUSES)).map((jobId) =>
        limit(async () => {
          try {
            await this.control.cancel(jobId);
            return true;
          } catch (err) {
            // Finished meanwhile, or its workflow not started yet (the reconciler starts it): nothing to cancel.
            if (err instanceof ApiError) return false;
            throw err;
          }
        }),
      ),
    );
    return { batchId: id, cancelling: results.filter(Boolean).length };
  }

  /**
   * Re-runs the failed pages of every partial or failed document (each through the job's own retry). The
   * batch is reopened first and sealed again once every retry has started, so it ends — and batch.completed
   * is sent again — only when the last retried document has ended.
   */
  async retryFailed(principal: Principal, id: string, ocrMode?: OcrMode): Promise<BatchRetryView> {
    await this.getFor(principal, id);
    const candidates = await this.jobIds(id, RETRYABLE_STATUSES);
    if (candidates.length === 0) {
      throw new ApiError('BATCH_NOTHING_TO_RETRY', `Batch ${id} has no partial or failed documents to retry.`);
    }
    await this.store.reopen(id);
    const retried: BatchRetryView['retried'] = [];
    const skipped: BatchRetryView['skipped'] = [];
    const limit = pLimit(CONTROL_CONCURRENCY);
    try {
      await Promise.all(
        candidates.map((jobId) =>
          limit(async () => {
            try {
              const started = await this.control.retry(jobId, ocrMode ? { ocrMode } : {});
              retried.push({ jobId, ...started });
            } catch (err) {
              if (!(err instanceof ApiError)) throw err;
              skipped.push({ jobId, error: { code: err.code, message: err.message } });
            }
          }),
        ),
      );
    } finally {
      const concluded = await this.store.sealAndConclude(id, `api:${randomUUID()}`);
      // Nothing was retried: the batch ended as before and was announced then.
      if (concluded && retried.length > 0) await this.announce(concluded, retried[0]!.jobId);
    }
    if (retried.length === 0) {
      throw new ApiError(
        'BATCH_NOTHING_TO_RETRY',
        `None of batch ${id}'s failed documents could be retried (${skipped.map((s) => s.error.code).join(', ')}).`,
        { skipped },
      );
    }
    return { batchId: id, retried, skipped };
  }

  /**
   * The text of every document of the batch as a ZIP, streamed: one `.txt` per document named after its
   * upload (made unique within the archive), each read from the database a few pages at a time.
   */
  async results(principal: Principal, id: string, res: Response): Promise<StreamableFile> {
    await this.getFor(principal, id);
    const docs = await this.models.BatchDocument.findAll({
      where: { batchId: id, jobId: { [Op.ne]: null } },
      attributes: ['position', 'fileName', 'jobId'],
      order: [['position', 'ASC']],
    });
    const zip = new yazl.ZipFile();
    const names = new Set<string>();
    for (const d of docs) {
      const name = uniqueName(entryName(d.fileName, d.position), names);
      zip.addReadStream(Readable.from(this.textOf(d.jobId!), { objectMode: false }), name);
    }
    zip.end();
    zip.outputStream.on('error', (err: Error) => this.logger.warn(`Batch ${id}: ZIP stream failed: ${err.message}`));
    res.attachment(`batch-${id}.zip`);
    res.type('application/zip');
    return new StreamableFile(zip.outputStream as unknown as Readable);
  }

  /** A job's text as GET /v1/jobs/{id}/result?format=txt gives it: read pages, form feeds between them. */
  private async *textOf(jobId: string): AsyncGenerator<Buffer> {
    let after = 0;
    let first = true;
    for (;;) {
      const rows = await this.models.JobPage.findAll({
        where: { jobId, pageNumber: { [Op.gt]: after } },
        attributes: ['pageNumber', 'status', 'text'],
        order: [['pageNumber', 'ASC']],
        limit: TEXT_PAGE_BATCH,
        raw: true,
      });
      for (const r of rows) {
        if (r.status !== 'done') continue;
        yield Buffer.from(`${first ? '' : '\n\f'}${r.text ?? ''}`, 'utf8');
        first = false;
      }
      if (rows.length < TEXT_PAGE_BATCH) return;
      after = rows[rows.length - 1]!.pageNumber;
    }
  }
}

/** When a batch refused for one passing reason may come back, as the single upload says for that reason. */
const RETRY_AFTER_SECONDS: Partial<Record<ApiErrorCode, number>> = {
  DOCUMENTS_IN_FLIGHT_LIMIT: 30,
  SERVICE_UNAVAILABLE: 30,
  SCANNER_UNAVAILABLE: SCANNER_RETRY_AFTER_SECONDS,
};

/** The refusal of a request of which no file became a document. */
function noDocument(files: { error?: { code: string; message: string } }[], batchId?: string): ApiError {
  const errors = files.map((f) => f.error).filter((e) => e !== undefined);
  const codes = new Set(errors.map((e) => e.code));
  const details = { ...(batchId ? { batchId } : {}), files: errors };
  const [only] = codes;
  if (codes.size === 1 && only && errors[0]) {
    const retryAfter = RETRY_AFTER_SECONDS[only as ApiErrorCode];
    const wait: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
    return new ApiError(only as ApiErrorCode, `No file of the batch was accepted: ${errors[0].message}`, details, wait);
  }
  return new ApiError(
    'BATCH_NO_VALID_FILES',
    `No file of the batch was accepted (${[...codes].join(', ')}); see details.files for each file's error.`,
    details,
  );
}

function linksOf(batchId: string) {
  const self = `/v1/batches/${batchId}`;
  return { self, results: `${self}/results?format=txt` };
}
