/**
 * The one way Folio's processes start its workflows and message them: a typed starter per workflow, used by
 * the API, the reconciler and the panel. Workflows are named by their function's type (a misspelt name or a
 * wrong input does not compile), inputs are built here and nowhere else, and workflow ids derive from job
 * ids, so starting an already-started workflow is an answer, not an error.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair, Workflow } from '@temporalio/common';
import type * as workflows from '../workflows/index.js';
import {
  DEFAULT_PRIORITY,
  FolioSearchAttributes,
  documentWorkflowId,
  searchAttributeCreateCommand,
  setPrioritySignalName,
  type SetPriorityInput,
  webhookWorkflowId,
  type ConcludedBatch,
  providePasswordUpdateName,
  retryWorkflowId,
  type DocumentOptions,
  type DocumentWorkflowInput,
  type PagePlan,
  type ProvidePasswordInput,
  type ProvidePasswordOutput,
  type RetryPagesWorkflowInput,
  type SealedPassword,
  type WebhookDeliveryWorkflowInput,
  type WebhookSettings,
} from './contracts.js';

type Workflows = typeof workflows;

/** The name of a workflow the worker registers (workflows/index.ts). */
export type WorkflowName = { [K in keyof Workflows]: Workflows[K] extends Workflow ? K : never }[keyof Workflows];

/** Whether a start began a run, or found the run of that id already there. */
export type StartOutcome = 'started' | 'already-started';

/** Starts workflow `name` with input and options checked against its function's type. */
export async function startWorkflow<K extends WorkflowName>(
  client: Client,
  name: K,
  options: WorkflowStartOptions<Workflows[K]>,
): Promise<StartOutcome> {
  try {
    await client.workflow.start<Workflows[K]>(name, options);
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
    throw err;
  }
}

/** The job fields a document workflow starts from. */
export interface JobToStart {
  id: string;
  storageKey: string;
  options: DocumentOptions;
  /** Still sealed: the row keeps the password only in the form the workflow carries. */
  passwordSealed: SealedPassword | null;
  /** Where the job's webhooks go; null or absent: none. */
  callbackUrl?: string | null;
  /** 1 (most urgent) … 5; absent: the default (3). */
  priority?: number;
  /** For the Temporal UI: the uploaded file's name, the submitting key, the batch. */
  filename?: string | null;
  apiKeyId?: string | null;
  batchId?: string | null;
}

/** Where and how documents are run. */
export interface DocumentRunSettings {
  taskQueue: string;
  /** How long a job waits in `needs_password` (PASSWORD_WAIT_SECONDS). */
  passwordWaitSeconds: number;
  /** Webhook delivery backoff and link base (WEBHOOK_RETRY_*, PUBLIC_BASE_URL); absent: defaults. */
  webhooks?: Omit<WebhookSettings, 'url'>;
  /** The Folio search attributes the cluster has registered (checkSearchAttributes); absent: none is set. */
  searchAttributes?: readonly string[];
  /** LEGACY_MIRROR: the workflow keeps the job's legacy_jobs row true. */
  legacyMirror?: boolean;
}

/** 5 s doubling up to 1 h: what deliveries use when the settings name no backoff. */
const DEFAULT_WEBHOOK_BACKOFF = { retryInitialMs: 5_000, retryMaxMs: 3_600_000 };

/** The input of a job's document workflow. */
export function documentWorkflowInput(job: JobToStart, settings: DocumentRunSettings): DocumentWorkflowInput {
  return {
    jobId: job.id,
    storageKey: job.storageKey,
    options: job.options,
    ...(job.passwordSealed ? { password: job.passwordSealed } : {}),
    passwordWaitSeconds: settings.passwordWaitSeconds,
    ...webhookOf(job, settings),
    priority: job.priority ?? DEFAULT_PRIORITY,
    ...(settings.legacyMirror ? { legacyMirror: true } : {}),
  };
}

/**
 * The search attributes a job's workflow starts with (those of FolioSearchAttributes the cluster has):
 * the workflow keeps FolioStatus, FolioPageCount and FolioPriority current from there.
 */
export function searchAttributesOf(
  job: JobToStart,
  registered: readonly string[] = [],
  status = 'queued',
): SearchAttributePair[] {
  const a = FolioSearchAttributes;
  const pairs: SearchAttributePair[] = [
    { key: a.status, value: status },
    { key: a.pageCount, value: 0 },
    { key: a.priority, value: job.priority ?? DEFAULT_PRIORITY },
  ];
  // A Keyword holds at most a few hundred bytes usefully; a file name is cut to stay well inside the limits.
  if (job.filename) pairs.push({ key: a.fileName, value: job.filename.slice(0, 255) });
  if (job.apiKeyId) pairs.push({ key: a.clientKeyId, value: job.apiKeyId });
  if (job.batchId) pairs.push({ key: a.batchId, value: job.batchId });
  return pairs.filter((p) => registered.includes(p.key.name));
}

/** What a job's workflow carries for the Temporal UI: its priority, search attributes and summary. */
function presentationOf(job: JobToStart, settings: Pick<DocumentRunSettings, 'searchAttributes'>, status: string) {
  const priority = job.priority ?? DEFAULT_PRIORITY;
  return {
    priority: { priorityKey: priority },
    typedSearchAttributes: searchAttributesOf(job, settings.searchAttributes, status),
    staticSummary: `${job.filename ?? 'document'} · priority ${priority}`,
    staticDetails:
      `job ${job.id}; OCR ${job.options.ocrMode}, languages ${job.options.languages.join('+')}` +
      (job.options.pages ? `, pages ${job.options.pages}` : ''),
  };
}

/** Which of Folio's search attributes the namespace has, which it lacks, and the command that adds those. */
export async function checkSearchAttributes(
  client: Client,
  namespace: string,
): Promise<{ registered: string[]; missing: string[]; command: string | null }> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const present = new Set(Object.keys(customAttributes ?? {}));
  const names = Object.values(FolioSearchAttributes).map((a) => a.name);
  const missing = names.filter((n) => !present.has(n));
  return {
    registered: names.filter((n) => present.has(n)),
    missing,
    command: missing.length > 0 ? searchAttributeCreateCommand(missing, namespace) : null,
  };
}

/** Where and how a job's webhooks are delivered: null when the job has no callback URL. */
export function jobWebhookSettings(
  job: Pick<JobToStart, 'callbackUrl'>,
  settings: Pick<DocumentRunSettings, 'webhooks'>,
): WebhookSettings | null {
  return job.callbackUrl ? { ...DEFAULT_WEBHOOK_BACKOFF, ...settings.webhooks, url: job.callbackUrl } : null;
}

/** The `webhook` part of a workflow input: present when the job has a callback URL. */
function webhookOf(job: JobToStart, settings: Pick<DocumentRunSettings, 'webhooks'>): { webhook?: WebhookSettings } {
  const webhook = jobWebhookSettings(job, settings);
  return webhook ? { webhook } : {};
}

/** Starts a job's document workflow, `document-<jobId>`. */
export function startDocumentWorkflow(
  client: Client,
  job: JobToStart,
  settings: DocumentRunSettings,
): Promise<StartOutcome> {
  return startWorkflow(client, 'documentWorkflow', {
    workflowId: documentWorkflowId(job.id),
    taskQueue: settings.taskQueue,
    args: [documentWorkflowInput(job, settings)],
    ...presentationOf(job, settings, 'queued'),
  });
}

/**
 * Tells a running document its job's new priority: the pages it schedules from now on (and the page-range
 * child it runs) take it. Pages already waiting in the task queue keep theirs unless the server allows
 * changing them (setPendingActivitiesPriority).
 */
export async function signalPriority(client: Client, workflowId: string, priority: number): Promise<void> {
  await client.workflow.getHandle(workflowId).signal<[SetPriorityInput]>(setPrioritySignalName, { priority });
}

/**
 * Moves a run (UpdateWorkflowExecutionOptions) and the activities it has already scheduled (pages waiting in
 * the task queue; UpdateActivityOptions) to a new priority; the run's later pages learn it from the
 * setPriority signal. Resolves to
 * false when the server refuses (an older server, or its activity API switched off).
 */
export async function setPendingActivitiesPriority(
  client: Client,
  workflowId: string,
  priority: number,
): Promise<boolean> {
  const { namespace, identity } = client.options;
  const updateMask = { paths: ['priority'] };
  try {
    // The run's own priority too: its workflow tasks, and what it starts without a priority of its own.
    await client.workflowService.updateWorkflowExecutionOptions({
      namespace,
      workflowExecution: { workflowId },
      identity,
      workflowExecutionOptions: { priority: { priorityKey: priority } },
      updateMask,
    });
  } catch {
    // Older servers: the signal and the activities below still carry the change.
  }
  try {
    // Only the pages still waiting in the queue (scheduled, not started): a page a worker is running is left
    // alone, so its completion is never answered against options changed under it.
    const { raw } = await client.workflow.getHandle(workflowId).describe();
    const waiting = (raw.pendingActivities ?? [])
      .filter((a) => Number(a.state) === PENDING_ACTIVITY_STATE_SCHEDULED)
      .flatMap((a) => (a.activityId ? [a.activityId] : []));
    await Promise.all(
      waiting.map((id) =>
        client.workflowService.updateActivityOptions({
          namespace,
          execution: { workflowId },
          identity,
          id,
          activityOptions: { priority: { priorityKey: priority } },
          updateMask,
        }),
      ),
    );
    return true;
  } catch {
    return false;
  }
}

/** temporal.api.enums.v1.PendingActivityState: scheduled, not yet started by a worker. */
const PENDING_ACTIVITY_STATE_SCHEDULED = 1;

/** A retry of a finished job's failed pages. */
export interface RetryToStart {
  job: JobToStart;
  /** The retry's number (the job's retry count after reopening it): names its workflow. */
  n: number;
  /** The failed pages to run again, ascending. */
  pageNumbers: number[];
  /** The OCR mode this run uses instead of the job's, if any. */
  ocrMode?: DocumentOptions['ocrMode'];
  plan: PagePlan;
}

/** Starts `document-<jobId>-retry-<n>`, which runs the given pages again in the same job. */
export async function startRetryWorkflow(
  client: Client,
  retry: RetryToStart,
  settings: Pick<DocumentRunSettings, 'taskQueue' | 'webhooks' | 'searchAttributes'>,
): Promise<{ workflowId: string; outcome: StartOutcome }> {
  const { job } = retry;
  const input: RetryPagesWorkflowInput = {
    jobId: job.id,
    storageKey: job.storageKey,
    options: { ...job.options, ...(retry.ocrMode ? { ocrMode: retry.ocrMode } : {}) },
    pageNumbers: retry.pageNumbers,
    plan: retry.plan,
    ...(job.passwordSealed ? { password: job.passwordSealed } : {}),
    ...webhookOf(job, settings),
    priority: job.priority ?? DEFAULT_PRIORITY,
  };
  const workflowId = retryWorkflowId(job.id, retry.n);
  const outcome = await startWorkflow(client, 'retryPagesWorkflow', {
    workflowId,
    taskQueue: settings.taskQueue,
    args: [input],
    ...presentationOf(job, settings, 'processing'),
  });
  return { workflowId, outcome };
}

/**
 * Delivers a sealed password to a job waiting in `needs_password` (the document workflow's providePassword
 * update) and resolves once the workflow has checked it opens the document.
 */
export function providePassword(
  client: Client,
  workflowId: string,
  password: SealedPassword,
): Promise<ProvidePasswordOutput> {
  return client.workflow
    .getHandle(workflowId)
    .executeUpdate<ProvidePasswordOutput, [ProvidePasswordInput]>(providePasswordUpdateName, {
      args: [{ password }],
    });
}

/**
 * Starts one webhook's delivery outside a document workflow (the API at a batch's seal, the reconciler).
 * `input.webhookId` fixes the delivery: starting it again with the same id (a retried caller) is a no-op.
 */
export function startWebhookDelivery(
  client: Client,
  taskQueue: string,
  input: WebhookDeliveryWorkflowInput,
): Promise<StartOutcome> {
  return startWorkflow(client, 'webhookDeliveryWorkflow', {
    workflowId: webhookWorkflowId(input.webhookId),
    taskQueue,
    args: [input],
  });
}

/**
 * Starts the batch.completed delivery of a batch that something other than a document workflow ended (the
 * API at the batch's seal, the reconciler), signed with the key of `jobId`, one of the batch's documents.
 */
export async function startBatchAnnouncement(
  client: Client,
  taskQueue: string,
  announcement: { jobId: string; webhookId: string; batch: ConcludedBatch },
): Promise<StartOutcome | 'no-webhook'> {
  const { jobId, webhookId, batch } = announcement;
  if (!batch.webhook) return 'no-webhook';
  return startWebhookDelivery(client, taskQueue, {
    webhookId,
    jobId,
    url: batch.webhook.url,
    payload: batch.payload,
    retryInitialMs: batch.webhook.retryInitialMs,
    retryMaxMs: batch.webhook.retryMaxMs,
  });
}
