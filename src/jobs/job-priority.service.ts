import { Inject, Injectable, Logger } from '@nestjs/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { QueryTypes } from 'sequelize';
import { ApiError } from '../common/errors.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import { recordAudit, type AuditActor } from '../../core/audit.js';
import { ACTIVE_STATUSES } from '../../core/lifecycle.js';
import { MAX_PRIORITY, MIN_PRIORITY, isPriority } from '../../core/contracts.js';
import { setPendingActivitiesPriority, signalPriority } from '../../core/workflow-client.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { JobsService } from './jobs.service.js';

/** What a priority change did: the value before and after (for the audit log), and how far it reached. */
export interface PriorityChange {
  jobId: string;
  before: number;
  after: number;
  /** Whether the running workflow was told (false: its workflow had not started or had just ended). */
  workflowTold: boolean;
  /** Whether pages already waiting in Temporal's task queue were moved too (the server's activity API). */
  waitingPagesMoved: boolean;
}

/**
 * The job's priority changes only while it has work not yet started: queued, waiting for a password, or
 * processing with at least one page still `pending` (or not yet inspected, so no page rows). One statement
 * checks and writes, so a page starting meanwhile cannot slip between them.
 */
const SET_PRIORITY = `
  UPDATE jobs j SET priority = :priority, updated_at = now()
   WHERE j.id = :id
     AND j.status IN (:active)
     AND (NOT EXISTS (SELECT 1 FROM job_pages p WHERE p.job_id = j.id)
          OR EXISTS (SELECT 1 FROM job_pages p WHERE p.job_id = j.id AND p.status = 'pending'))
  RETURNING j.priority`;

/** Changing a job's priority while it waits: used by PATCH /v1/jobs/{id} and by the admin panel. */
@Injectable()
export class JobPriorityService {
  private readonly logger = new Logger(JobPriorityService.name);

  constructor(
    private readonly jobs: JobsService,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_MODELS) private readonly models: AppModels,
  ) {}

  /**
   * Sets the job's priority (1 most urgent … 5) — the row, then the running workflow (setPriority signal: the
   * pages it schedules from now on, and its page-range child's), then the pages already waiting in the task
   * queue where the server allows it. `actor` (an API key or an operator) goes to the audit log as `job.priority`.
   * PRIORITY_INVALID for a value out of range; JOB_NOT_QUEUED once no page is left to start.
   */
  async setPriority(jobId: string, priority: number, actor: AuditActor): Promise<PriorityChange> {
    if (!isPriority(priority)) {
      throw new ApiError(
        'PRIORITY_INVALID',
        `priority must be a whole number from ${MIN_PRIORITY} (most urgent) to ${MAX_PRIORITY} (least urgent); got ${JSON.stringify(priority)}.`,
      );
    }
    const job = await this.jobs.get(jobId);
    const before = job.priority;
    const rows = await this.models.Job.sequelize!.query<{ priority: number }>(SET_PRIORITY, {
      replacements: { id: jobId, priority, active: [...ACTIVE_STATUSES] },
      type: QueryTypes.SELECT,
    });
    if (rows.length === 0) {
      const now = await this.jobs.get(jobId);
      throw new ApiError(
        'JOB_NOT_QUEUED',
        `Job ${jobId} is ${now.status} with no page left to start, so its priority (${now.priority}) can no longer ` +
          'change anything; priority changes while a job is queued, waiting for a password, or has pages pending.',
      );
    }
    let workflowTold = false;
    let waitingPagesMoved = false;
    if (before !== priority) {
      try {
        await signalPriority(this.temporal, job.workflowId, priority);
        workflowTold = true;
      } catch (err) {
        // Not started yet: the reconciler starts it from the row, with the new priority.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      if (workflowTold) waitingPagesMoved = await this.moveWaitingPages(job.workflowId, priority);
    }
    if (before !== priority) {
      await recordAudit(this.models, actor, {
        action: 'job.priority',
        targetType: 'job',
        targetId: jobId,
        before: { priority: before },
        after: { priority },
      });
    }
    this.logger.log(`Job ${jobId}: priority ${before} → ${priority} by ${actor.type} ${actor.name}`);
    return { jobId, before, after: priority, workflowTold, waitingPagesMoved };
  }

  /** The run's scheduled pages and those of its running page-range children, moved to the new priority. */
  private async moveWaitingPages(workflowId: string, priority: number): Promise<boolean> {
    const ids = [workflowId];
    try {
      for await (const child of this.temporal.workflow.list({
        query: `ParentWorkflowId = "${workflowId}" AND ExecutionStatus = "Running"`,
      })) {
        ids.push(child.workflowId);
      }
    } catch (err) {
      this.logger.warn(
        `Could not list the children of ${workflowId}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const moved = await Promise.all(ids.map((id) => setPendingActivitiesPriority(this.temporal, id, priority)));
    return moved.every(Boolean);
  }
}
