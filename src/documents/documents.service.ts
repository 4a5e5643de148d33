import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Request } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels, Job } from '../database/models.js';
import { STORAGE } from '../storage/storage.module.js';
import { documentKey, type DocumentStorage } from '../storage/storage.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { ApiError } from '../common/errors.js';
import { parsePageRange } from '../common/page-range.js';
import { installedLanguages } from '../../activities/adapters/languages.js';
import { documentWorkflowId, type DocumentOptions, type OcrMode } from '../../workflows/contracts.js';
import { receiveUpload } from './upload.js';

const OCR_MODES: readonly OcrMode[] = ['auto', 'force', 'skip'];

/** Accepts documents: stream to storage, record the job, start its workflow. */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);
  private readonly languages = new Set(installedLanguages());

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {}

  /** Validates the client's options; each problem has its own code and says what to send instead. */
  parseOptions(fields: Record<string, string>): DocumentOptions {
    const ocrMode = (fields.ocrMode ?? 'auto').trim() as OcrMode;
    if (!OCR_MODES.includes(ocrMode)) {
      throw new ApiError(
        'INVALID_OCR_MODE',
        `ocrMode must be one of ${OCR_MODES.join(', ')}; got "${fields.ocrMode}".`,
      );
    }
    const languages = fields.languages
      ? fields.languages
          .split(/[+,\s]+/)
          .map((l) => l.trim())
          .filter(Boolean)
      : this.config.pipeline.defaultLanguages;
    const missing = languages.filter((l) => !this.languages.has(l));
    if (languages.length === 0 || missing.length > 0) {
      throw new ApiError(
        'LANGUAGE_UNAVAILABLE',
        `No OCR model is installed for ${missing.join(', ') || '(none given)'}; installed: ${[...this.languages].join(', ')}.`,
        { installed: [...this.languages] },
      );
    }
    let pages: string | undefined;
    if (fields.pages !== undefined && fields.pages.trim() !== '') {
      const parsed = parsePageRange(fields.pages);
      if ('error' in parsed) throw new ApiError('PAGE_RANGE_INVALID', parsed.error);
      pages = fields.pages.replace(/\s+/g, '');
    }
    return { ocrMode, languages, ...(pages ? { pages } : {}) };
  }

  /** Receives an upload and starts its workflow. The job exists only once its file is stored. */
  async submit(req: Request): Promise<Job> {
    const jobId = randomUUID();
    const storageKey = documentKey(jobId);
    const upload = await receiveUpload(req, this.storage, storageKey, this.config.limits.maxUploadBytes);
    let options: DocumentOptions;
    try {
      options = this.parseOptions(upload.fields);
    } catch (err) {
      await this.storage.remove(storageKey);
      throw err;
    }
    const workflowId = documentWorkflowId(jobId);
    const job = await this.models.Job.create({
      id: jobId,
      status: 'queued',
      step: 'queued',
      filename: upload.filename,
      contentType: upload.contentType,
      sizeBytes: upload.stored.bytes,
      sha256: upload.stored.sha256,
      storageKey,
      options,
      workflowId,
    });
    try {
      await this.temporal.workflow.start('documentWorkflow', {
        workflowId,
        taskQueue: this.config.temporal.taskQueue,
        args: [{ jobId, storageKey, options }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        this.logger.error(`Could not start the workflow of job ${jobId}`, err instanceof Error ? err.stack : err);
        await job.update({
          status: 'failed',
          step: 'done',
          errorCode: 'WORKFLOW_START_FAILED',
          errorMessage: 'The processing service was unavailable when the document arrived; submit it again.',
          finishedAt: new Date(),
        });
        throw new ApiError(
          'SERVICE_UNAVAILABLE',
          'The processing service is unavailable; retry in a few seconds.',
          undefined,
          { 'Retry-After': '10' },
        );
      }
    }
    return job;
  }
}
