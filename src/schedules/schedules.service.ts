import { Inject, Injectable } from '@nestjs/common';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { z } from 'zod';
import { ApiError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import type { WorkflowName } from '../../core/workflow-client.js';
import { recordAudit } from '../../core/audit.js';

/** Workflows a schedule may run, each with the arguments it accepts: never arbitrary code. */
export const scheduleRegistry = {
  cleanupExpiredJobsWorkflow: z.object({ retentionDays: z.number().positive() }).strict(),
  reconcileJobsWorkflow: z.object({ graceSeconds: z.number().int().positive() }).strict(),
} as const satisfies Partial<Record<WorkflowName, z.ZodType>>;
export type ScheduledWorkflowType = keyof typeof scheduleRegistry;

/** A schedule as operators see it. */
export interface ScheduleView {
  scheduleId: string;
  workflowType: string;
  cron: string | null;
  args: unknown;
  paused: boolean;
  note: string | null;
  nextRunTimes: string[];
  lastRun: { scheduledAt: string; workflowId: string; status: string } | null;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{2,62}$/;

/** Manages Temporal Schedules for operators; every change is recorded in schedule_audit. */
@Injectable()
export class SchedulesService {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async list(): Promise<ScheduleView[]> {
    const views: ScheduleView[] = [];
    for await (const summary of this.client.schedule.list()) views.push(await this.get(summary.scheduleId));
    return views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  }

  async get(scheduleId: string): Promise<ScheduleView> {
    const d = await this.describe(scheduleId);
    const action = d.action as { workflowType?: string; args?: unknown[]; memo?: Record<string, unknown> };
    const recent = d.info.recentActions.at(-1);
    let lastRun: ScheduleView['lastRun'] = null;
    if (recent && 'workflow' in recent.action) {
      const workflowId = recent.action.workflow.workflowId;
      const status = await this.client.workflow
        .getHandle(workflowId, recent.action.workflow.firstExecutionRunId)
        .describe()
        .then((w) => w.status.name as string)
        .catch(() => 'UNKNOWN');
      lastRun = { scheduledAt: recent.scheduledAt.toISOString(), workflowId, status };
    }
    return {
      scheduleId,
      workflowType: action.workflowType ?? '',
      cron: cronOf(action.memo),
      args: action.args?.[0] ?? null,
      paused: d.state.paused,
      note: d.state.note ?? null,
      nextRunTimes: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
      lastRun,
    };
  }

  /** Creates a schedule for a registered workflow type. */
  async create(actor: string, input: { scheduleId: string; workflowType: string; cron: string; args: unknown }) {
    if (!ID_PATTERN.test(input.scheduleId)) {
      throw new ApiError('VALIDATION_FAILED', 'scheduleId: 3–63 lowercase letters, digits and dashes.');
    }
    const args = this.validateArgs(input.workflowType, input.args);
    await this.client.schedule.create({
      scheduleId: input.scheduleId,
      spec: { cronExpressions: [input.cron], timezone: this.config.schedules.timezone },
      action: this.action(input.scheduleId, input.workflowType, args, { cron: input.cron }),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      state: { note: `Created by ${actor}` },
    });
    await this.audit(input.scheduleId, 'create', actor, { workflowType: input.workflowType, cron: input.cron, args });
    return this.get(input.scheduleId);
  }

  /**
   * Changes the cron spec and/or arguments. The schedule keeps the fingerprint of its declared
   * configuration, so a restart re-applies configuration only when the configuration itself changed.
   */
  async update(actor: string, scheduleId: string, input: { cron?: string; args?: unknown }) {
    const current = await this.describe(scheduleId);
    const action = current.action as { workflowType: string; args?: unknown[]; memo?: Record<string, unknown> };
    const args = input.args === undefined ? action.args?.[0] : this.validateArgs(action.workflowType, input.args);
    const cron = input.cron ?? cronOf(action.memo);
    await this.client.schedule.getHandle(scheduleId).update((prev) => ({
      ...prev,
      ...(input.cron ? { spec: { cronExpressions: [input.cron], timezone: this.config.schedules.timezone } } : {}),
      action: this.action(scheduleId, action.workflowType, args, { ...action.memo, cron }),
    }));
    await this.audit(scheduleId, 'update', actor, { cron: input.cron, args: input.args });
    return this.get(scheduleId);
  }

  /** Pausing is how a schedule is retired: there is no delete. */
  async pause(actor: string, scheduleId: string, note: string) {
    await this.handle(scheduleId).pause(note || `Paused by ${actor}`);
    await this.audit(scheduleId, 'pause', actor, { note });
    return this.get(scheduleId);
  }

  async unpause(actor: string, scheduleId: string, note: string) {
    await this.handle(scheduleId).unpause(note || `Unpaused by ${actor}`);
    await this.audit(scheduleId, 'unpause', actor, { note });
    return this.get(scheduleId);
  }

  /** Runs the schedule's action now (the old "run now"). */
  async trigger(actor: string, scheduleId: string) {
    await this.describe(scheduleId);
    await this.handle(scheduleId).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    await this.audit(scheduleId, 'trigger', actor, null);
  }

  /** Takes the actions the schedule would have taken in a past time range. */
  async backfill(actor: string, scheduleId: string, start: Date, end: Date) {
    if (!(start < end)) throw new ApiError('VALIDATION_FAILED', 'backfill: start must be before end.');
    await this.describe(scheduleId);
    await this.handle(scheduleId).backfill({ start, end, overlap: ScheduleOverlapPolicy.ALLOW_ALL });
    await this.audit(scheduleId, 'backfill', actor, { start: start.toISOString(), end: end.toISOString() });
  }

  private handle(scheduleId: string) {
    return this.client.schedule.getHandle(scheduleId);
  }

  private async describe(scheduleId: string): Promise<ScheduleDescription> {
    try {
      return await this.handle(scheduleId).describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new ApiError('NOT_FOUND', `No schedule ${scheduleId}.`);
      throw err;
    }
  }

  private validateArgs(workflowType: string, args: unknown): unknown {
    const schema = scheduleRegistry[workflowType as ScheduledWorkflowType] as z.ZodType | undefined;
    if (!schema) {
      throw new ApiError(
        'VALIDATION_FAILED',
        `workflowType must be one of ${Object.keys(scheduleRegistry).join(', ')}; got "${workflowType}".`,
      );
    }
    const parsed = schema.safeParse(args);
    if (!parsed.success) {
      throw new ApiError(
        'VALIDATION_FAILED',
        `Arguments for ${workflowType}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      );
    }
    return parsed.data;
  }

  private action(
    scheduleId: string,
    workflowType: string,
    args: unknown,
    memo: Record<string, unknown>,
  ): ScheduleOptionsStartWorkflowAction<never> {
    return {
      type: 'startWorkflow',
      workflowType,
      workflowId: scheduleId,
      taskQueue: this.config.temporal.taskQueue,
      args: [args] as never,
      memo,
    };
  }

  private async audit(scheduleId: string, action: string, actor: string, details: Record<string, unknown> | null) {
    await this.models.ScheduleAudit.create({ scheduleId, action, actor, details });
    // The same change in the one audit log of every operator action (audit_events), as schedule.<action>.
    await recordAudit(
      this.models,
      { type: 'operator', id: null, name: actor },
      { action: `schedule.${action}`, targetType: 'schedule', targetId: scheduleId, after: details },
    );
  }
}

/** The cron spec a schedule was declared or edited with (Temporal itself returns calendars). */
function cronOf(memo: Record<string, unknown> | undefined): string | null {
  if (typeof memo?.cron === 'string') return memo.cron;
  if (typeof memo?.folioDeclared === 'string') {
    const declared = JSON.parse(memo.folioDeclared) as { cron?: unknown };
    return typeof declared.cron === 'string' ? declared.cron : null;
  }
  return null;
}
