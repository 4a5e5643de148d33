import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Config } from '../config/config.js';
import { ScheduleIds } from '../../core/contracts.js';
import type { WorkflowName } from '../../core/workflow-client.js';

/** A schedule Folio declares in code: upserted at start, never duplicated. */
export interface DeclaredSchedule {
  scheduleId: string;
  workflowType: WorkflowName;
  cron: string;
  args: unknown[];
  description: string;
}

/** The periodic work Folio runs, from configuration. Replaces the old scheduled_jobs table. */
export function declaredSchedules(config: Config): DeclaredSchedule[] {
  const s = config.schedules;
  return [
    {
      scheduleId: ScheduleIds.cleanupExpiredJobs,
      workflowType: 'cleanupExpiredJobsWorkflow',
      cron: s.cleanupCron,
      args: [{ retentionDays: s.retentionDays }],
      description: `Remove stored files of jobs finished more than ${s.retentionDays} days ago and archive them.`,
    },
    {
      scheduleId: ScheduleIds.reconcileJobs,
      workflowType: 'reconcileJobsWorkflow',
      cron: s.reconcileCron,
      args: [{ graceSeconds: s.reconcileGraceSeconds }],
      description: 'Set jobs whose workflow closed or vanished to their true final state.',
    },
  ];
}

/** What upsertSchedules did to each schedule. */
export interface UpsertReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/**
 * The declared spec and arguments, kept in the scheduled workflow's memo: Temporal returns cron specs as
 * calendars, so this is how a later start tells whether the configuration changed.
 */
function fingerprint(d: DeclaredSchedule, timezone: string): string {
  return JSON.stringify({ cron: d.cron, timezone, args: d.args, workflowType: d.workflowType });
}

function action(d: DeclaredSchedule, taskQueue: string, timezone: string): ScheduleOptionsStartWorkflowAction<never> {
  return {
    type: 'startWorkflow',
    workflowType: d.workflowType,
    workflowId: d.scheduleId,
    taskQueue,
    args: d.args as never,
    memo: { folioDeclared: fingerprint(d, timezone) },
  };
}

/**
 * Creates missing schedules and updates those whose declared spec or arguments changed; leaves
 * operators' state (paused, note) alone. Safe to run from every process at every start.
 */
export async function upsertSchedules(
  client: Client,
  taskQueue: string,
  timezone: string,
  declared: DeclaredSchedule[],
): Promise<UpsertReport> {
  const report: UpsertReport = { created: [], updated: [], unchanged: [] };
  for (const d of declared) {
    const spec = { cronExpressions: [d.cron], timezone };
    const handle = client.schedule.getHandle(d.scheduleId);
    let current: Awaited<ReturnType<typeof handle.describe>> | undefined;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!current) {
      try {
        await client.schedule.create({
          scheduleId: d.scheduleId,
          spec,
          action: action(d, taskQueue, timezone),
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
          state: { note: d.description },
        });
        report.created.push(d.scheduleId);
        continue;
      } catch (err) {
        // Another process created it a moment ago: fall through and compare.
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        current = await handle.describe();
      }
    }
    const declaredPrint = fingerprint(d, timezone);
    const currentAction = current.action as { memo?: Record<string, unknown>; taskQueue?: string };
    if (currentAction.memo?.folioDeclared === declaredPrint && currentAction.taskQueue === taskQueue) {
      report.unchanged.push(d.scheduleId);
      continue;
    }
    await handle.update((prev) => ({ ...prev, spec, action: action(d, taskQueue, timezone) }));
    report.updated.push(d.scheduleId);
  }
  return report;
}
