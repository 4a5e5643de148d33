import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { Request } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { webhookRunSettings } from '../config/webhooks.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels, Job } from '../../core/db/models.js';
import { JobStore, type NewJob } from '../../core/job-store.js';
import { DEFAULT_OCR_MODE, IN_FLIGHT_STATUSES } from '../../core/lifecycle.js';
import { startDocumentWorkflow } from '../../core/workflow-client.js';
import { STORAGE } from '../storage/storage.module.js';
import { documentKey, type DocumentStorage, type StoredObject } from '../../core/storage/storage.js';
import { TEMPORAL_CLIENT, TEMPORAL_SEARCH_ATTRIBUTES } from '../temporal/temporal.module.js';
import { ApiError } from '../common/errors.js';
import { validated } from '../common/validation.js';
import { DocumentOptionsDto } from './documents.dto.js';
import { AUTO_LANGUAGES, installCommand, installedLanguages } from '../../core/languages.js';
import {
  DEFAULT_PRIORITY,
  documentWorkflowId,
  type DocumentOptions,
  type SealedPassword,
} from '../../core/contracts.js';
import type { Principal } from '../auth/api-keys.service.js';
import { receiveUpload, storedDocumentType, type ReceivedUpload } from './upload.js';
import type { DocumentMediaType } from '../../core/document-type.js';
import { sealDocumentPassword } from '../jobs/passwords.js';
import { JobControlService } from '../jobs/job-control.service.js';
import { MalwareScanner } from '../malware/malware-scanner.js';

/** What a submission led to: a new job, the job an Idempotency-Key already made, or a live identical job. */
export interface Submission {
  job: Job;
  /** Set when the document joined an existing job with the same content and options. */
  duplicateOf?: string;
  /** True when the Idempotency-Key had already been used: nothing new was done. */
  replayed?: boolean;
}

/** Options as a stable string: with the content hash and the owner, what makes two submissions the same work. */
export function optionsKey(options: DocumentOptions): string {
  return JSON.stringify([options.ocrMode, options.languages, options.pages ?? null]);
}

/** Keys are opaque to us; bounded and printable so they index well and log safely. */
export function checkIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(raw)) {
    throw new ApiError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1–200 printable ASCII characters.');
  }
  return raw;
}

/**
 * Tries at starting a document's workflow before leaving it to the reconciler, each bounded (the client
 * would otherwise keep retrying an absent server for long), 0.5 s then 1 s apart.
 */
const START_ATTEMPTS = 3;
const START_DEADLINE_MS = 8_000;
/**
 * Workflow starts this API process has in flight at once. A burst of uploads (a thousand at once, say) then
 * queues here, each start quick, instead of all of them reaching Temporal together and timing out.
 */
const START_CONCURRENCY = 16;
const START_BACKOFF_MS = 500;

/** Accepts documents: stream to storage, record the job, start its workflow. */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);
  private languages: Set<string>;
  private readonly starts = pLimit(START_CONCURRENCY);

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(TEMPORAL_SEARCH_ATTRIBUTES) private readonly searchAttributes: readonly string[],
    private readonly store: JobStore,
    private readonly control: JobControlService,
    private readonly scanner: MalwareScanner,
  ) {
    // The languages the workers can read: the API and the workers share OCR_MODEL and OCR_TESSDATA_DIR.
    this.languages = new Set(installedLanguages(config.pipeline.models));
  }

  /**
   * Fault tests (FAULT_PAUSE_AT, refused in production) stall an upload here for good and say so, so the
   * test can SIGKILL the API at exactly this point. A no-op otherwise.
   */
  private async faultPause(point: NonNullable<Config['faultPauseAt']>, jobId: string): Promise<void> {
    if (this.config.faultPauseAt !== point) return;
    this.logger.warn(`FAULT_PAUSE_AT ${point}: job ${jobId} stalls here`);
    await new Promise<never>(() => undefined);
  }

  /** Validates the client's options; each problem has its own code and says what to send instead. */
  async parseOptions(fields: Record<string, string>): Promise<DocumentOptions> {
    const dto = await validated(DocumentOptionsDto, fields, 'VALIDATION_FAILED');
    const languages = dto.languages
      ? dto.languages
          .split(/[+,\s]+/)
          .map((l) => l.trim())
          .filter(Boolean)
      : this.config.pipeline.defaultLanguages;
    if (languages.includes(AUTO_LANGUAGES)) {
      if (languages.length > 1) {
        throw new ApiError(
          'LANGUAGES_INVALID',
          `languages=auto picks each page's languages from its script and cannot be combined with others; send auto alone, or name the languages (e.g. eng+kor).`,
        );
      }
      return this.options(dto, [AUTO_LANGUAGES]);
    }
    // A model installed since this process started (scripts/install-languages.sh) counts without a restart.
    if (languages.some((l) => !this.languages.has(l))) {
      this.languages = new Set(installedLanguages(this.config.pipeline.models));
    }
    const missing = languages.filter((l) => !this.languages.has(l));
    if (languages.length === 0 || missing.length > 0) {
      const install =
        missing.length > 0
          ? ` Install ${missing.length > 1 ? 'them' : 'it'} with \`${installCommand(missing, this.config.pipeline.models)}\` on the API and the workers (or bake it into the image: docker build --build-arg OCR_LANGUAGES="${[...this.languages, ...missing].join(' ')}"), or send languages=auto.`
          : '';
      throw new ApiError(
        'LANGUAGE_UNAVAILABLE',
        `No OCR model is installed for ${missing.join(', ') || '(none given)'}; installed: ${[...this.languages].join(', ')}.${install}`,
        {
          installed: [...this.languages],
          ...(missing.length > 0 ? { install: installCommand(missing, this.config.pipeline.models) } : {}),
        },
      );
    }
    return this.options(dto, languages);
  }

  private options(dto: DocumentOptionsDto, languages: string[]): DocumentOptions {
    const pages = dto.pages?.replace(/\s+/g, '');
    return { ocrMode: dto.ocrMode ?? DEFAULT_OCR_MODE, languages, ...(pages ? { pages } : {}) };
  }

  /**
   * Where the job's webhooks go: the callbackUrl sent (checked by the DTO in parseOptions), else the key's
   * default; null for none. A URL needs a key with a signing secret, or nothing could sign its webhooks.
   */
  async callbackUrlFor(owner: string | null, sent: string | undefined): Promise<string | null> {
    const key = owner === null ? null : await this.models.ApiKey.findByPk(owner);
    const url = sent ?? key?.webhookUrl ?? null;
    if (url !== null && !key?.webhookSecretSealed) {
      throw new ApiError(
        'WEBHOOK_INVALID',
        key
          ? `This API key has no webhook signing secret, so callbackUrl cannot be signed; have an operator run \`npm run api-key -- --rotate-webhook-secret ${key.id}\`, or leave callbackUrl out.`
          : "callbackUrl needs an API key (API_AUTH=required): webhooks are signed with the key's secret; leave callbackUrl out.",
      );
    }
    return url;
  }

  /**
   * A key may have at most MAX_IN_FLIGHT_PER_KEY jobs not yet finished; past that, 429 with
   * Retry-After. Load never refuses work by itself: bursts under the cap queue in Temporal.
   */
  async checkInFlight(owner: string | null, transaction?: Transaction): Promise<void> {
    if (owner === null) return;
    const cap = this.config.rateLimit.maxDocumentsInFlightPerKey;
    const inFlight = await this.models.Job.count({
      where: { apiKeyId: owner, status: { [Op.in]: [...IN_FLIGHT_STATUSES] } },
      transaction,
    });
    if (inFlight >= cap) {
      throw new ApiError(
        'DOCUMENTS_IN_FLIGHT_LIMIT',
        `This API key already has ${inFlight} documents queued or processing (the limit is ${cap}); submit more once some finish.`,
        { inFlight, limit: cap },
        { 'Retry-After': '30' },
      );
    }
  }

  /**
   * Inserts the job under the owner's transaction-scoped advisory lock, counting again: uploads of one key
   * racing past the early check (made before their bodies were read) cannot pass the cap together.
   */
  private async createWithinCap(owner: string | null, values: NewJob): Promise<Job> {
    if (owner === null) return this.store.accept(values);
    const db = this.models.Job.sequelize!;
    return db.transaction(async (transaction) => {
      await db.query('SELECT pg_advisory_xact_lock(hashtext(:owner))', { replacements: { owner }, transaction });
      await this.checkInFlight(owner, transaction);
      return this.store.accept(values, transaction);
    });
  }

  private async byIdempotencyKey(apiKeyId: string | null, idempotencyKey: string): Promise<Job | null> {
    return this.models.Job.findOne({ where: { apiKeyId, idempotencyKey } });
  }

  private async liveDuplicate(apiKeyId: string | null, sha256: string, key: string): Promise<Job | null> {
    return this.models.Job.findOne({
      where: { apiKeyId, sha256, optionsKey: key, status: { [Op.notIn]: ['failed', 'cancelled'] } },
    });
  }

  /**
   * Receives an upload and starts its workflow, unless the Idempotency-Key was seen before (the same job
   * again) or a live job of the same owner has the same content and options (the document joins it).
   * Both are decided by unique indexes, so two racing requests cannot both start work.
   */
  async submit(req: Request, principal: Principal, idempotencyKey?: string): Promise<Submission> {
    const owner = principal.apiKeyId;
    if (idempotencyKey) {
      const seen = await this.byIdempotencyKey(owner, idempotencyKey);
      if (seen) return { job: seen, replayed: true };
    }
    // Before a byte of the body is read, so a refused upload is never stored.
    await this.checkInFlight(owner);
    const jobId = randomUUID();
    // With the scanner away the upload is refused before its body is read.
    const scan = this.scanner.start();
    await scan?.ready();
    let upload: ReceivedUpload;
    try {
      upload = await receiveUpload(req, this.storage, documentKey(jobId), this.config.limits.maxUploadBytes, scan);
    } catch (err) {
      scan?.abort();
      throw err;
    }
    return this.accept(principal, jobId, upload, idempotencyKey);
  }

  /**
   * Submits a document that arrived some other way than a multipart body (a finished resumable upload):
   * streams it into storage under the job's key, checks its type by content, then goes on as submit does.
   * `fields` are the same options the multipart form takes.
   */
  async submitStream(
    principal: Principal,
    jobId: string,
    source: Readable,
    filename: string | null,
    fields: Record<string, string>,
  ): Promise<Submission> {
    // Finished before (its answer lost, the upload not yet removed): the job it already became.
    const made = await this.models.Job.findByPk(jobId);
    if (made) return { job: made, replayed: true };
    await this.checkInFlight(principal.apiKeyId);
    const storageKey = documentKey(jobId);
    const scan = this.scanner.start();
    try {
      await scan?.ready();
    } catch (err) {
      source.destroy();
      throw err;
    }
    let stored: StoredObject;
    try {
      stored = await this.storage.put(storageKey, scan ? scan.through(source) : source);
    } catch (err) {
      scan?.abort();
      throw err;
    }
    let mediaType: DocumentMediaType;
    try {
      await scan?.confirm();
      mediaType = storedDocumentType(stored);
    } catch (err) {
      await this.storage.remove(storageKey);
      throw err;
    }
    return this.accept(principal, jobId, { stored, filename, mediaType, fields });
  }

  /**
   * A stored upload becomes a job (or joins an identical live one, or is the Idempotency-Key's job again);
   * its workflow starts. The stored object is removed whenever no new job keeps it. `batchId`: the batch
   * (POST /v1/batches) the new job belongs to.
   */
  async accept(
    principal: Principal,
    jobId: string,
    upload: Pick<ReceivedUpload, 'stored' | 'filename' | 'mediaType' | 'fields'>,
    idempotencyKey?: string,
    batchId?: string,
  ): Promise<Submission> {
    const owner = principal.apiKeyId;
    const storageKey = upload.stored.key;
    await this.faultPause('upload-stored', jobId);
    let options: DocumentOptions;
    let password: SealedPassword | undefined;
    let callbackUrl: string | null;
    let priority: number;
    try {
      options = await this.parseOptions(upload.fields);
      // Checked with the options (PRIORITY_INVALID); not part of them, so it never splits duplicates.
      priority = upload.fields.priority?.trim() ? Number(upload.fields.priority.trim()) : DEFAULT_PRIORITY;
      callbackUrl = await this.callbackUrlFor(owner, upload.fields.callbackUrl?.trim() || undefined);
      // An empty password is no password: a PDF's empty user password opens it without one. An image has
      // none to open: a password sent with one (a client sending one for every file) is ignored, never stored.
      if (upload.fields.password && upload.mediaType === 'application/pdf')
        password = sealDocumentPassword(this.config, jobId, upload.fields.password);
    } catch (err) {
      await this.storage.remove(storageKey);
      throw err;
    }
    const workflowId = documentWorkflowId(jobId);
    const dedupeKey = optionsKey(options);
    let job: Job | undefined;
    // Two rounds: a duplicate found by the index may finish as failed before we read it; then insert again.
    for (let round = 0; round < 2 && !job; round++) {
      try {
        job = await this.createWithinCap(owner, {
          id: jobId,
          filename: upload.filename,
          // What the content is, by its first bytes; the type the client declared is not to be trusted.
          contentType: upload.mediaType,
          sizeBytes: upload.stored.bytes,
          sha256: upload.stored.sha256,
          storageKey,
          options,
          workflowId,
          apiKeyId: owner,
          idempotencyKey: idempotencyKey ?? null,
          optionsKey: dedupeKey,
          passwordSealed: password ?? null,
          callbackUrl,
          priority,
          batchId: batchId ?? null,
        });
      } catch (err) {
        if (!(err instanceof UniqueConstraintError)) {
          await this.storage.remove(storageKey);
          throw err;
        }
        const seen = idempotencyKey ? await this.byIdempotencyKey(owner, idempotencyKey) : null;
        const existing = seen ?? (await this.liveDuplicate(owner, upload.stored.sha256, dedupeKey));
        if (existing) {
          await this.storage.remove(storageKey);
          if (seen) return { job: seen, replayed: true };
          if (password && upload.fields.password && existing.status === 'needs_password') {
            // The same document again, now with its password: deliver it to the waiting job, never drop it.
            await this.control.providePassword(existing.id, upload.fields.password);
            return { job: await existing.reload(), duplicateOf: existing.id };
          }
          return { job: existing, duplicateOf: existing.id };
        }
      }
    }
    if (!job) {
      await this.storage.remove(storageKey);
      throw new ApiError('SERVICE_UNAVAILABLE', 'The document collided with a changing duplicate; submit it again.');
    }
    await this.faultPause('job-recorded', jobId);
    await this.startWorkflow(job);
    return { job };
  }
  /**
   * Starts the job's workflow, retrying briefly. A document already stored and recorded is never refused
   * because Temporal is busy or briefly away: if every try fails, the job stays queued and the reconcile
   * schedule starts its workflow later under the same id (so a start that did go through is not doubled).
   */
  private async startWorkflow(job: Job): Promise<void> {
    const settings = {
      taskQueue: this.config.temporal.taskQueue,
      passwordWaitSeconds: this.config.documentPasswords.waitSeconds,
      webhooks: webhookRunSettings(this.config),
      searchAttributes: this.searchAttributes,
      legacyMirror: this.config.legacyMirror,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        // A start that went through although its answer came late is found by the next try (same id).
        await this.starts(() =>
          this.temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
            startDocumentWorkflow(this.temporal, job, settings),
          ),
        );
        return;
      } catch (err) {
        if (attempt >= START_ATTEMPTS) {
          this.logger.warn(
            `Could not start the workflow of job ${job.id} (${err instanceof Error ? err.message : String(err)}); it stays queued for the reconciler`,
          );
          return;
        }
        await setTimeout(START_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }
}
