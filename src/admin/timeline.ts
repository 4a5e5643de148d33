/**
 * A job's timeline for the panel, read from Temporal's own record: the document workflow's history, its
 * child workflows' (long documents) and its retry runs'. Each activity is one row: which page, how many
 * attempts it took, the failure an earlier attempt met (Temporal keeps it as the last attempt's
 * `lastFailure`), how it ended and how long it took from scheduling to its end.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { retryWorkflowIdPrefix } from '../../core/contracts.js';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** One activity in a workflow run, as the panel's timeline shows it. */
export interface TimelineActivity {
  workflowId: string;
  activity: string;
  /** The page it worked on, when its input names one. */
  page: number | null;
  attempts: number;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'running';
  /** The final failure's message, when it failed. */
  failure: string | null;
  /** The failure of the attempt before the last, when it was retried. */
  retriedAfter: string | null;
  scheduledAt: string;
  endedAt: string | null;
  durationMs: number | null;
}

/** One workflow run of the job (the document, a child slice of pages, a retry). */
export interface TimelineWorkflow {
  workflowId: string;
  type: string;
  status: string;
  startedAt: string | null;
  closedAt: string | null;
  durationMs: number | null;
}

export interface JobTimeline {
  workflows: TimelineWorkflow[];
  activities: TimelineActivity[];
}

const iso = (d: Date | undefined | null): string | null => (d ? d.toISOString() : null);

/** An event's time: seconds arrive as a Long from the client, as a number or string from a JSON history. */
function eventDate(ts: HistoryEvent['eventTime']): Date | undefined {
  if (!ts) return undefined;
  const seconds = Number(String(ts.seconds ?? 0));
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

/** The page number in an activity's first argument ({ pageNumber } or { jobId, pageNumber, … }), if any. */
function pageOf(event: HistoryEvent): number | null {
  const payload = event.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  try {
    const input = defaultPayloadConverter.fromPayload<{ pageNumber?: unknown }>(payload);
    return typeof input?.pageNumber === 'number' ? input.pageNumber : null;
  } catch {
    return null;
  }
}

/** The activities of one workflow history, and the child workflows it started. */
export function activitiesOf(
  workflowId: string,
  events: HistoryEvent[],
): { rows: TimelineActivity[]; children: string[] } {
  const rows = new Map<string, TimelineActivity>();
  const children: string[] = [];
  for (const e of events) {
    const id = String(e.eventId ?? '');
    const at = eventDate(e.eventTime);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      rows.set(id, {
        workflowId,
        activity: scheduled.activityType?.name ?? '?',
        page: pageOf(e),
        attempts: 0,
        outcome: 'running',
        failure: null,
        retriedAfter: null,
        scheduledAt: iso(at) ?? '',
        endedAt: null,
        durationMs: null,
      });
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const row = rows.get(String(started.scheduledEventId ?? ''));
      if (row) {
        row.attempts = started.attempt ?? 1;
        row.retriedAfter = started.lastFailure?.message ?? null;
      }
      continue;
    }
    const ended =
      (e.activityTaskCompletedEventAttributes && (['completed', e.activityTaskCompletedEventAttributes] as const)) ||
      (e.activityTaskFailedEventAttributes && (['failed', e.activityTaskFailedEventAttributes] as const)) ||
      (e.activityTaskTimedOutEventAttributes && (['timed out', e.activityTaskTimedOutEventAttributes] as const)) ||
      (e.activityTaskCanceledEventAttributes && (['cancelled', e.activityTaskCanceledEventAttributes] as const));
    if (ended) {
      const [outcome, attrs] = ended;
      const row = rows.get(String(attrs.scheduledEventId ?? ''));
      if (!row) continue;
      row.outcome = outcome;
      if ('failure' in attrs && attrs.failure) {
        row.failure = attrs.failure.cause?.message
          ? `${attrs.failure.message ?? ''}: ${attrs.failure.cause.message}`
          : (attrs.failure.message ?? null);
      }
      row.endedAt = iso(at);
      row.durationMs = at ? at.getTime() - new Date(row.scheduledAt).getTime() : null;
      // Started is written only for the last attempt; an activity that never started still took one.
      if (row.attempts === 0) row.attempts = 1;
      continue;
    }
    const child = e.childWorkflowExecutionStartedEventAttributes;
    if (child?.workflowExecution?.workflowId) children.push(child.workflowExecution.workflowId);
  }
  return { rows: [...rows.values()], children };
}

/**
 * The whole timeline of a job: its document workflow, every child it started (recursively) and its retry
 * runs (`document-<job>-retry-<n>`, up to the job's retry count). A run Temporal no longer has (past the
 * namespace's retention) is left out.
 */
export async function jobTimeline(
  client: Client,
  job: { id: string; workflowId: string; retryCount: number },
): Promise<JobTimeline> {
  const queue = [job.workflowId];
  for (let n = 1; n <= job.retryCount; n++) queue.push(`${retryWorkflowIdPrefix(job.id)}${n}`);
  const workflows: TimelineWorkflow[] = [];
  const activities: TimelineActivity[] = [];
  for (let i = 0; i < queue.length && i < 500; i++) {
    const workflowId = queue[i]!;
    const handle = client.workflow.getHandle(workflowId);
    try {
      const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
      const started = description.startTime;
      const closed = description.closeTime;
      workflows.push({
        workflowId,
        type: description.type,
        status: description.status.name,
        startedAt: iso(started),
        closedAt: iso(closed),
        durationMs: closed ? closed.getTime() - started.getTime() : null,
      });
      const { rows, children } = activitiesOf(workflowId, history.events ?? []);
      activities.push(...rows);
      queue.push(...children);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) continue;
      throw err;
    }
  }
  return { workflows, activities };
}
