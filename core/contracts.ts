/**
 * Names and shapes shared by the API, the workflows and the activities: every workflow's and activity's
 * input and output, workflow ids, update and query names. Imported by workflow code, so it holds only types
 * and plain constants.
 */
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import type { PasswordFailureCode } from './failures.js';
import type { JobStatus, JobStep, OcrMode, PageMethod } from './lifecycle.js';

/** A box, top-left origin: x0, y0 its top-left corner, x1, y1 its bottom-right. (A type, not an interface: plain records of numbers take it.) */
export type Box = { x0: number; y0: number; x1: number; y1: number };

/** One word with its box, top-left origin: PDF points from the text layer, pixels of the image from OCR (activities convert those to points). */
export interface Word {
  text: string;
  bbox: Box;
  /** 0–100; 100 for text-layer words. */
  confidence: number;
  /**
   * The index of the word's text line in its page's `PageLayout.lines`, in reading order (0 first). Set on
   * OCR words and, since page layouts were stored, on text-layer words too.
   */
  line?: number;
}

/**
 * A page's text structure, as hOCR, ALTO and TSV need it: blocks hold paragraphs, paragraphs hold lines, lines
 * hold words (`Word.line`), each with its box in the same space as the words' (PDF points of the page as
 * displayed). Each list is in reading order; an entry names its parent by index. OCR pages get tesseract's
 * own blocks, paragraphs and lines; text-layer pages the lines of the PDF's text, grouped into paragraphs by
 * the gaps between them. Every box encloses its children's.
 */
export interface PageLayout {
  blocks: { bbox: Box }[];
  paragraphs: { bbox: Box; block: number }[];
  lines: { bbox: Box; paragraph: number }[];
  /**
   * The page image the words were read from, as displayed (a page turned to be read is turned back): its size
   * in pixels and its exact resolution. Null for text-layer pages, which have no image.
   */
  image: { width: number; height: number; dpi: number } | null;
}

/**
 * The languages a page was read in. With `languages=auto` also the script tesseract's OSD detected on the
 * page and, when no installed language is written in it (or none was found), why the defaults were used.
 */
export interface PageLanguages {
  used: string[];
  /** True when the languages were picked from the detected script (`languages=auto`). */
  auto: boolean;
  /** OSD's name for the page's script (Latin, Hangul, Han, Cyrillic, …); null when none was found. */
  script?: string | null;
  /** How far that script led the next one. */
  scriptConfidence?: number | null;
  /** Set when the page was read in the default languages instead of the detected script's: why. */
  fallback?: string;
  /**
   * True when the read in the detected script's languages was weak and a read in every installed script's
   * language did better: a page mixing scripts (OSD names only the leading one).
   */
  mixed?: boolean;
}

/** Options a client chose for one document. */
export interface DocumentOptions {
  ocrMode: OcrMode;
  /** Tesseract's codes, or `['auto']`: each page's languages picked from the script detected on it. */
  languages: string[];
  /** Page selection such as "1-3,7"; undefined for every page. */
  pages?: string;
}

/**
 * A document password sealed with AES-256-GCM for one job (core/sealed-secret.ts): the only form in
 * which a password travels through Temporal. Only activities open it.
 */
export type SealedPassword = string;

/** Input of documentWorkflow. */
export interface DocumentWorkflowInput {
  jobId: string;
  storageKey: string;
  options: DocumentOptions;
  /** The password the client sent with the document, sealed. */
  password?: SealedPassword;
  /** How long the job waits in `needs_password` for a password (PASSWORD_WAIT_SECONDS of the API). */
  passwordWaitSeconds?: number;
  /** Where the job's webhooks go and how their delivery is retried; absent: no webhooks (and older inputs). */
  webhook?: WebhookSettings;
  /** The job's priority (1 most urgent … 5); absent in older inputs (the default, 3). */
  priority?: number;
  /** What the Temporal UI shows in its search attributes; absent in older inputs. */
  display?: DocumentDisplay;
  /** LEGACY_MIRROR of the API that started it: the job's legacy_jobs row is kept true; absent: off. */
  legacyMirror?: boolean;
}

/** Most urgent priority: Temporal's priority keys run lowest first. */
export const MIN_PRIORITY = 1;
/** Least urgent priority: the server's default maximum priority key. */
export const MAX_PRIORITY = 5;
/** A job submitted without a priority: the middle of the range, as Temporal's own default. */
export const DEFAULT_PRIORITY = 3;

/** Whether `value` is a priority a job may have: an integer from 1 to 5. */
export function isPriority(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= MIN_PRIORITY && value <= MAX_PRIORITY;
}

/** Name of the signal that tells a document workflow its job's new priority. */
export const setPrioritySignalName = 'setPriority';

/** Argument of the setPriority signal. */
export interface SetPriorityInput {
  priority: number;
}

/** What a document's workflow carries only to show it in the Temporal UI (search attributes, summaries). */
export interface DocumentDisplay {
  fileName: string | null;
  clientKeyId: string | null;
  batchId: string | null;
}

/**
 * Folio's custom search attributes: how an engineer filters documents in the Temporal UI
 * (`FolioStatus = "completed" AND FolioPriority = 1`). Each must be registered on the cluster (the dev
 * server gets them at start; production: `temporal operator search-attribute create`, see
 * searchAttributeCreateCommand). Set when a document's workflow starts and kept current by it.
 */
export const FolioSearchAttributes = {
  fileName: { name: 'FolioFileName', type: 'KEYWORD' },
  clientKeyId: { name: 'FolioClientKeyId', type: 'KEYWORD' },
  status: { name: 'FolioStatus', type: 'KEYWORD' },
  pageCount: { name: 'FolioPageCount', type: 'INT' },
  priority: { name: 'FolioPriority', type: 'INT' },
  batchId: { name: 'FolioBatchId', type: 'KEYWORD' },
} as const satisfies Record<string, SearchAttributeKey<'KEYWORD' | 'INT'>>;

/** The `temporal` CLI's name for a search attribute type (Keyword, Int). */
export function cliSearchAttributeType(type: 'KEYWORD' | 'INT'): string {
  return type === 'KEYWORD' ? 'Keyword' : 'Int';
}

/** The commands (one per type: the CLI takes one --type) that register the named search attributes. */
export function searchAttributeCreateCommand(names: string[], namespace: string): string {
  const wanted = Object.values(FolioSearchAttributes).filter((a) => names.includes(a.name));
  return (['KEYWORD', 'INT'] as const)
    .map((type) => wanted.filter((a) => a.type === type).map((a) => `--name ${a.name}`))
    .map((flags, i) =>
      flags.length === 0
        ? ''
        : `temporal operator search-attribute create --namespace ${namespace} ${flags.join(' ')} --type ${cliSearchAttributeType(i === 0 ? 'KEYWORD' : 'INT')}`,
    )
    .filter(Boolean)
    .join(' && ');
}

/** The events a job's callback URL hears; `batch.completed` goes to a batch's (POST /v1/batches). */
export const WEBHOOK_EVENTS = [
  'job.completed',
  'job.partial',
  'job.failed',
  'job.cancelled',
  'job.needs_password',
  'batch.completed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** A job's webhook target and delivery backoff, as the API starts its workflow with them. */
export interface WebhookSettings {
  url: string;
  /** The backoff of the delivery retries (WEBHOOK_RETRY_INITIAL_MS, WEBHOOK_RETRY_MAX_MS). */
  retryInitialMs: number;
  retryMaxMs: number;
  /** PUBLIC_BASE_URL, to make the payload's links absolute; relative links without it. */
  baseUrl?: string;
}

/** The JSON body of a webhook: Standard Webhooks' `{ type, timestamp, data }`. */
export interface WebhookPayload {
  type: WebhookEvent;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: {
    jobId: string;
    status: JobStatus;
    pageCount: number;
    pagesDone: number;
    pagesFailed: number;
    error: { code: string; message: string } | null;
    links: { self: string; result: string; deliveries: string };
  };
}

/** What a job event says about the job (the payload's `data`, without its links). */
export interface JobWebhookFacts {
  status: JobStatus;
  pageCount: number;
  pagesDone: number;
  pagesFailed: number;
  error?: { code: string; message: string } | null;
}

/**
 * A job event's body, for the document workflow and the reconciler alike: links are absolute under
 * `baseUrl` (PUBLIC_BASE_URL) when it is set. Pure: the caller gives the event's time.
 */
export function jobWebhookPayload(
  jobId: string,
  event: WebhookEvent,
  facts: JobWebhookFacts,
  timestamp: string,
  baseUrl?: string,
): WebhookPayload {
  const self = `${baseUrl?.replace(/\/+$/, '') ?? ''}/v1/jobs/${jobId}`;
  return {
    type: event,
    timestamp,
    data: {
      jobId,
      status: facts.status,
      pageCount: facts.pageCount,
      pagesDone: facts.pagesDone,
      pagesFailed: facts.pagesFailed,
      error: facts.error ?? null,
      links: { self, result: `${self}/result`, deliveries: `${self}/deliveries` },
    },
  };
}

/** How many of a batch's documents are in each state. */
export interface BatchDocumentCounts {
  total: number;
  completed: number;
  partial: number;
  failed: number;
  cancelled: number;
  /** Queued, processing or waiting for a password. */
  inFlight: number;
}

/** The JSON body of batch.completed: sent once when a batch's last document ends. */
export interface BatchWebhookPayload {
  type: 'batch.completed';
  timestamp: string;
  data: {
    batchId: string;
    /** completed, partial, failed or cancelled (GET /v1/batches/{id}). */
    status: string;
    documents: BatchDocumentCounts;
    /** File parts refused at submit (never documents). */
    rejected: number;
    pages: { total: number; done: number; failed: number };
    links: { self: string; results: string };
  };
}

/** Input of concludeBatches: a job has just reached its final state. */
export interface ConcludeBatchesInput {
  jobId: string;
}

/** A batch that ended with this job, decided once (the conditional update won), and where to announce it. */
export interface ConcludedBatch {
  batchId: string;
  /** Null: the batch has no callback URL. */
  webhook: WebhookSettings | null;
  payload: BatchWebhookPayload;
}

/** Output of concludeBatches: the batches this job's end ended (usually none; one for a batch's last document). */
export interface ConcludeBatchesOutput {
  ended: ConcludedBatch[];
}

/** Input of webhookDeliveryWorkflow: one event to one URL, until delivered, gone, refused or 25 h passed. */
export interface WebhookDeliveryWorkflowInput {
  /** Standard Webhooks' webhook-id, fixed by the document workflow: the same for every attempt. */
  webhookId: string;
  /** The job the event is about (for batch.completed: the batch's document that ended it, whose key signs). */
  jobId: string;
  url: string;
  payload: WebhookPayload | BatchWebhookPayload;
  retryInitialMs: number;
  retryMaxMs: number;
}

/** Input of deliverWebhook: one attempt. */
export type DeliverWebhookInput = Omit<WebhookDeliveryWorkflowInput, 'retryInitialMs' | 'retryMaxMs'>;

/** Output of deliverWebhook (and of its workflow): the attempt that ended the delivery. */
export interface DeliverWebhookOutput {
  outcome: 'delivered' | 'gone';
  statusCode: number;
  attempt: number;
}

/** The workflow delivering one webhook: `webhook-<webhookId>`. */
export function webhookWorkflowId(webhookId: string): string {
  return `webhook-${webhookId}`;
}

/** Name of the update that delivers a password to a job waiting in `needs_password`. */
export const providePasswordUpdateName = 'providePassword';

/** Argument of the providePassword update. */
export interface ProvidePasswordInput {
  password: SealedPassword;
}

/** Result of the providePassword update: the password opened the document and processing resumes. */
export interface ProvidePasswordOutput {
  accepted: true;
}

/** Input of checkDocumentPassword. */
export interface CheckDocumentPasswordInput {
  jobId: string;
  storageKey: string;
  password: SealedPassword;
}

/** Output of checkDocumentPassword: whether the password opens the document, and if not, why. */
export type CheckDocumentPasswordOutput =
  { opens: true } | { opens: false; code: PasswordFailureCode; message: string };

/** Output of documentWorkflow. */
export interface DocumentWorkflowOutput {
  jobId: string;
  status: JobStatus;
  pageCount: number;
  pagesDone: number;
  pagesFailed: number;
}

/** How the worker that inspected a document wants its pages run; recorded in history, so replay-safe. */
export interface PagePlan {
  /** Pages in flight at once for one document. */
  window: number;
  /** Longer documents run their pages in child workflows of this many pages. */
  pagesPerChild: number;
  pageTimeoutSeconds: number;
  pageMaxAttempts: number;
  /** A page attempt whose worker stops heartbeating for this long is retried elsewhere; absent in older histories (30). */
  heartbeatTimeoutSeconds?: number;
}

/** Input of pageRangeWorkflow: a slice of a long document, run as a child to keep each history small. */
export interface PageRangeWorkflowInput {
  jobId: string;
  storageKey: string;
  options: DocumentOptions;
  /** The pages, in the order they are run. */
  pageNumbers: number[];
  plan: PagePlan;
  password?: SealedPassword;
  /** The priority the pages start with (the document's, as the run began this slice); absent: inherited. */
  priority?: number;
}

/** Pages finished so far: counted by the workflow as page activities end. */
export interface PageCounts {
  pagesDone: number;
  pagesFailed: number;
}

/** Output of pageRangeWorkflow. */
export type PageRangeWorkflowOutput = PageCounts;

/** Input of inspectDocument. */
export interface InspectDocumentInput {
  jobId: string;
  storageKey: string;
  pages?: string;
  password?: SealedPassword;
}

/** Output of inspectDocument: the numbers the workflow plans with; per-page facts go to the DB. */
export interface InspectDocumentOutput {
  pageCount: number;
  encrypted: boolean;
  /** Selected pages in ascending order. */
  pageNumbers: number[];
  /**
   * The selected pages in the order to run them, the largest first (core/page-plan.ts); absent when that is
   * page order, and in histories from before it existed (which ran their pages in page order).
   */
  runOrder?: number[];
  plan: PagePlan;
}

/** A page of a document: how pages travel through Temporal (a key, never bytes). */
export interface PageRef {
  jobId: string;
  pageNumber: number;
  storageKey: string;
}

/** Input of processPage. */
export interface ProcessPageInput extends PageRef {
  options: DocumentOptions;
  password?: SealedPassword;
}

/** Output of processPage: a summary only; the text is in the DB. */
export interface ProcessPageOutput {
  pageNumber: number;
  method: PageMethod;
  characters: number;
}

/** Input of recordPageFailure. */
export interface RecordPageFailureInput {
  jobId: string;
  pageNumber: number;
  code: string;
  message: string;
}

/** Input of updateJob: a state change the workflow decides. */
export interface UpdateJobInput {
  jobId: string;
  status?: JobStatus;
  step?: JobStep;
  error?: { code: string; message: string; page?: number } | null;
}

/** Input of finalizeDocument. */
export interface FinalizeDocumentInput {
  jobId: string;
  cancelled?: boolean;
}

/** Output of finalizeDocument: the status it derived from the page rows. */
export interface FinalizeDocumentOutput {
  status: JobStatus;
  pagesDone: number;
  pagesFailed: number;
}

/** Input of buildSearchablePdf. */
export interface BuildSearchablePdfInput {
  jobId: string;
  storageKey: string;
  password?: SealedPassword;
}

/** Output of buildSearchablePdf: where the PDF was stored and what went into it; `built: false` when switched off. */
export type BuildSearchablePdfOutput =
  | { built: true; storageKey: string; bytes: number; pagesWithTextLayer: number }
  | { built: false; reason: 'disabled' | 'image' };

/** Progress as the workflow sees it, for the Temporal UI and tools. */
export interface DocumentProgress extends PageCounts {
  step: JobStep;
  pageCount: number;
}

export const documentProgressQueryName = 'progress';

/** Input of retryPagesWorkflow: the failed pages of a finished job, run again in the same job. */
export interface RetryPagesWorkflowInput {
  jobId: string;
  storageKey: string;
  /** The job's options, with the OCR mode the retry asked for. */
  options: DocumentOptions;
  /** The failed pages to run again, ascending. */
  pageNumbers: number[];
  plan: PagePlan;
  password?: SealedPassword;
  /** Where the job's webhooks go; absent: none (and older inputs). */
  webhook?: WebhookSettings;
  /** The job's priority (1 most urgent … 5); absent in older inputs (inherited). */
  priority?: number;
}

/** Workflow id of a job's n-th retry: a run of its own, so every attempt's history stays in Temporal. */
export function retryWorkflowId(jobId: string, n: number): string {
  return `${retryWorkflowIdPrefix(jobId)}${n}`;
}

/** What every retry workflow id of a job starts with (the retry's number follows). */
export function retryWorkflowIdPrefix(jobId: string): string {
  return `${documentWorkflowId(jobId)}-retry-`;
}

/** Workflow id for a job: one workflow per document, derived from the job id. */
export function documentWorkflowId(jobId: string): string {
  return `document-${jobId}`;
}

/** Input of cleanupExpiredJobsWorkflow (run by the cleanup-expired-jobs schedule). */
export interface CleanupExpiredJobsInput {
  /** Jobs finished longer ago than this lose their stored file and are marked archived. */
  retentionDays: number;
}

/** What one cleanup run did; the workflow's result, visible in the Temporal UI. */
export interface CleanupExpiredJobsOutput {
  archived: number;
  filesRemoved: number;
  bytesFreed: number;
}

/** Input of one cleanup batch activity. */
export interface CleanupBatchInput extends CleanupExpiredJobsInput {
  limit: number;
}

/** Output of one cleanup batch: a full batch means there may be more. */
export type CleanupBatchOutput = CleanupExpiredJobsOutput;

/** Input of reconcileJobsWorkflow (run by the reconcile-jobs schedule). */
export interface ReconcileJobsInput {
  /** Jobs untouched for less than this are left alone: their workflow may just be starting. */
  graceSeconds: number;
}

/** One job set to its true final state by reconciliation. */
export interface ReconciledJob {
  jobId: string;
  status: JobStatus;
  code: string;
}

/** What one reconcile run did. */
export interface ReconcileJobsOutput {
  checked: number;
  /** Jobs set to their end, and queued jobs whose workflow never started and now has (WORKFLOW_STARTED). */
  reconciled: ReconciledJob[];
  /** Stored uploads (complete or partial) that no job row owns, left by an API that died mid-upload. */
  orphanUploadsRemoved?: number;
  /** Legacy rows of Folio's jobs rewritten because they had drifted (LEGACY_MIRROR; absent: off or unreachable). */
  legacyRowsRepaired?: number;
}

/** Output of sweepOrphanUploads. */
export interface SweepOrphanUploadsOutput {
  removed: string[];
  /** Resumable uploads left unfinished past UPLOAD_EXPIRY_HOURS and removed (absent: no upload store). */
  expiredUploads?: number;
}

/** Stable ids of the schedules Folio declares. */
export const ScheduleIds = {
  cleanupExpiredJobs: 'cleanup-expired-jobs',
  reconcileJobs: 'reconcile-jobs',
} as const;
