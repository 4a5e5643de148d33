/**
 * Webhooks: the document workflow announces a job's state (completed, partial, failed, cancelled,
 * needs_password) by starting one child workflow per event, abandoned when the parent closes, so the job's
 * status is final and its workflow done while the delivery keeps trying (up to 25 h) on its own.
 */
import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  jobWebhookPayload,
  webhookWorkflowId,
  type JobWebhookFacts,
  type ConcludedBatch,
  type DeliverWebhookOutput,
  type DocumentWorkflowInput,
  type WebhookDeliveryWorkflowInput,
  type WebhookEvent,
} from '../core/contracts.js';
import type { JobStatus } from '../core/lifecycle.js';

/** The patch that added webhooks: histories from before it replay without the child starts. */
export const WEBHOOKS_PATCH = 'webhooks';

/** Permanent refusals: retrying cannot help (the URL or its address is refused, or there is no secret). */
const WEBHOOK_NON_RETRYABLE = ['WEBHOOK_REFUSED', 'WEBHOOK_NO_SECRET'];

/**
 * Delivers one webhook: attempts with exponential backoff (WEBHOOK_RETRY_INITIAL_MS doubling up to
 * WEBHOOK_RETRY_MAX_MS) for 25 h, each attempt recorded in webhook_deliveries by the activity. Ends with
 * the attempt that was answered 2xx (delivered) or 410 (gone: the receiver wants no more).
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryWorkflowInput): Promise<DeliverWebhookOutput> {
  const { deliverWebhook } = proxyActivities<Activities>({
    // An attempt is bounded by WEBHOOK_TIMEOUT_MS in the activity; this only catches a lost worker.
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: '25 hours',
    retry: {
      initialInterval: input.retryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: input.retryMaxMs,
      nonRetryableErrorTypes: WEBHOOK_NON_RETRYABLE,
    },
  });
  const { webhookId, jobId, url, payload } = input;
  return deliverWebhook({ webhookId, jobId, url, payload });
}

/** What the event says about the job. */
export type WebhookFacts = JobWebhookFacts;

/**
 * Starts the delivery of `event` for the job when it has a callback URL (behind the `webhooks` patch) and
 * returns once the child has started, not once it is delivered. The webhook-id is fixed here, in history,
 * so every attempt (and a replay) carries the same one.
 */
export async function announce(
  input: Pick<DocumentWorkflowInput, 'jobId' | 'webhook'>,
  event: WebhookEvent,
  facts: WebhookFacts,
): Promise<void> {
  const settings = input.webhook;
  if (!settings || !patched(WEBHOOKS_PATCH)) return;
  const webhookId = `msg_${uuid4().replaceAll('-', '')}`;
  const payload = jobWebhookPayload(input.jobId, event, facts, new Date().toISOString(), settings.baseUrl);
  await startChild(webhookDeliveryWorkflow, {
    workflowId: webhookWorkflowId(webhookId),
    args: [
      {
        webhookId,
        jobId: input.jobId,
        url: settings.url,
        payload,
        retryInitialMs: settings.retryInitialMs,
        retryMaxMs: settings.retryMaxMs,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    cancellationType: ChildWorkflowCancellationType.ABANDON,
  });
}

/**
 * Starts the delivery of a batch's batch.completed (decided once by the concludeBatches activity, whose
 * answer carries the payload) to the batch's callback URL, signed with the key of `jobId`, the batch's
 * document that ended it. Returns once the child has started.
 */
export async function announceBatch(jobId: string, batch: ConcludedBatch): Promise<void> {
  if (!batch.webhook) return;
  const webhookId = `msg_${uuid4().replaceAll('-', '')}`;
  await startChild(webhookDeliveryWorkflow, {
    workflowId: webhookWorkflowId(webhookId),
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
    parentClosePolicy: ParentClosePolicy.ABANDON,
    cancellationType: ChildWorkflowCancellationType.ABANDON,
  });
}

/** Announces a job's final status (job.completed, job.partial, job.failed or job.cancelled). */
export async function announceEnd(
  input: Pick<DocumentWorkflowInput, 'jobId' | 'webhook'>,
  final: { status: JobStatus; pagesDone: number; pagesFailed: number },
  pageCount: number,
): Promise<void> {
  const { status, pagesDone, pagesFailed } = final;
  if (status !== 'completed' && status !== 'partial' && status !== 'failed' && status !== 'cancelled') return;
  await announce(input, `job.${status}`, { status, pageCount, pagesDone, pagesFailed });
}
