/**
 * The one way Folio's processes start its workflows and message them: a typed starter per workflow, used by
 * the API, the reconciler and the panel. Workflows are named by their function's type (a misspelt name or a
 * wrong input does not compile), inputs are built here and nowhere else, and workflow ids derive from job
 * ids, so starting an already-started workflow is an answer, not an error.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type * as workflows from '../workflows/index.js';
import {
  documentWorkflowId,
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
}

/** Where and how documents are run. */
export interface DocumentRunSettings {
  taskQueue: string;
  /** How long a job waits in `needs_password` (PASSWORD_WAIT_SECONDS). */
  passwordWaitSeconds: number;
  /** Webhook delivery backoff and link base (WEBHOOK_RETRY_*, PUBLIC_BASE_URL); absent: defaults. */
  webhooks?: Omit<WebhookSettings, 'url'>;
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
  };
}

/** The `webhook` part of a workflow input: present when the job has a callback URL. */
function webhookOf(job: JobToStart, settings: Pick<DocumentRunSettings, 'webhooks'>): { webhook?: WebhookSettings } {
  return job.callbackUrl ? { webhook: { ...DEFAULT_WEBHOOK_BACKOFF, ...settings.webhooks, url: job.callbackUrl } } : {};
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
  });
}

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
  settings: Pick<DocumentRunSettings, 'taskQueue' | 'webhooks'>,
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
  };
  const workflowId = retryWorkflowId(job.id, retry.n);
  const outcome = await startWorkflow(client, 'retryPagesWorkflow', {
    workflowId,
    taskQueue: settings.taskQueue,
    args: [input],
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
 * Starts the batch.completed delivery of a batch that something other than a document workflow ended (the
 * API at the batch's seal, the reconciler), signed with the key of `jobId`, one of the batch's documents.
 * `webhookId` fixes the delivery: starting it again with the same id (a retried caller) is a no-op.
 */
export async function startBatchAnnouncement(
  client: Client,
  taskQueue: string,
  announcement: { jobId: string; webhookId: string; batch: ConcludedBatch },
): Promise<StartOutcome | 'no-webhook'> {
  const { jobId, webhookId, batch } = announcement;
  if (!batch.webhook) return 'no-webhook';
  return startWorkflow(client, 'webhookDeliveryWorkflow', {
    workflowId: webhookWorkflowId(webhookId),
    taskQueue,
    args: [
      {
        webhookId,
        jobId,
        url: batch.webhook.url,
        payload: batch.payload,
        retryInitialMs: batch.webhook.retryInitialMs,
        retryMaxMs: batch.webhook.retryMaxMs,
      },
    ],
  });
}
