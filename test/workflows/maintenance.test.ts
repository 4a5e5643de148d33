/**
 * The maintenance schedules' workflows in the Temporal test environment with mocked activities: cleanup runs
 * its batch activity until a batch comes back short and adds the batches up; reconciliation fixes the jobs,
 * then sweeps orphan uploads, and reports both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { MaintenanceActivities } from '../../activities/maintenance.js';
import type { LegacyActivities, RepairLegacyRowsInput, RepairLegacyRowsOutput } from '../../activities/legacy.js';
import type {
  CleanupBatchInput,
  CleanupBatchOutput,
  ReconcileJobsInput,
  ReconcileJobsOutput,
} from '../../core/contracts.js';
import type { cleanupExpiredJobsWorkflow, reconcileJobsWorkflow } from '../../workflows/index.js';
import { startTestTemporal, workflowBundle } from '../support/temporal.js';

describe('maintenance workflows with mocked activities', () => {
  const taskQueue = 'maintenance-workflow-tests';
  /** What each call of the mocked activities was asked, in order. */
  const calls: [string, unknown][] = [];
  /** The batches cleanupExpiredJobsBatch hands out, one per call. */
  let batches: CleanupBatchOutput[] = [];
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  const activities: MaintenanceActivities & Pick<LegacyActivities, 'repairLegacyRows'> = {
    cleanupExpiredJobsBatch(input: CleanupBatchInput) {
      calls.push(['cleanupExpiredJobsBatch', input]);
      const batch = batches.shift();
      assert.ok(batch, 'asked for one batch too many');
      return Promise.resolve(batch);
    },
    reconcileJobs(input: ReconcileJobsInput): Promise<ReconcileJobsOutput> {
      calls.push(['reconcileJobs', input]);
      return Promise.resolve({
        checked: 3,
        reconciled: [{ jobId: 'a', status: 'failed', code: 'WORKFLOW_MISSING' }],
      });
    },
    sweepOrphanUploads(input: ReconcileJobsInput) {
      calls.push(['sweepOrphanUploads', input]);
      return Promise.resolve({ removed: ['documents/x', 'documents/y.partial'] });
    },
    repairLegacyRows(input: RepairLegacyRowsInput): Promise<RepairLegacyRowsOutput> {
      calls.push(['repairLegacyRows', input]);
      // A full batch, then a short one: the repair stops there.
      return Promise.resolve(
        input.afterJobId === null
          ? { checked: 500, repaired: ['j7'], lastJobId: 'j500', enabled: true }
          : { checked: 2, repaired: ['j501', 'j502'], lastJobId: 'j502', enabled: true },
      );
    },
  };

  before(async () => {
    env = await startTestTemporal();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const batch = (archived: number): CleanupBatchOutput => ({
    archived,
    filesRemoved: archived,
    bytesFreed: 1000 * archived,
  });

  it('cleans up in batches of 200 until a batch comes back short, and adds them up', async () => {
    calls.length = 0;
    batches = [batch(200), batch(200), batch(7)];
    const total = await env.client.workflow.execute<typeof cleanupExpiredJobsWorkflow>('cleanupExpiredJobsWorkflow', {
      taskQueue,
      workflowId: 'cleanup-batches',
      args: [{ retentionDays: 30 }],
    });
    assert.deepEqual(total, { archived: 407, filesRemoved: 407, bytesFreed: 407_000 });
    assert.deepEqual(calls, Array(3).fill(['cleanupExpiredJobsBatch', { retentionDays: 30, limit: 200 }]));
  });

  it('stops after one empty batch', async () => {
    calls.length = 0;
    batches = [batch(0)];
    const total = await env.client.workflow.execute<typeof cleanupExpiredJobsWorkflow>('cleanupExpiredJobsWorkflow', {
      taskQueue,
      workflowId: 'cleanup-nothing',
      args: [{ retentionDays: 7 }],
    });
    assert.deepEqual(total, { archived: 0, filesRemoved: 0, bytesFreed: 0 });
    assert.equal(calls.length, 1);
  });

  it('reconciles the jobs, then sweeps orphan uploads, and reports both', async () => {
    calls.length = 0;
    const out = await env.client.workflow.execute<typeof reconcileJobsWorkflow>('reconcileJobsWorkflow', {
      taskQueue,
      workflowId: 'reconcile',
      args: [{ graceSeconds: 60 }],
    });
    assert.deepEqual(out, {
      checked: 3,
      reconciled: [{ jobId: 'a', status: 'failed', code: 'WORKFLOW_MISSING' }],
      orphanUploadsRemoved: 2,
      legacyRowsRepaired: 3,
    });
    assert.deepEqual(calls, [
      ['reconcileJobs', { graceSeconds: 60 }],
      ['sweepOrphanUploads', { graceSeconds: 60 }],
      // The legacy mirror's repair (legacy-mirror patch): batches of 500 in job id order until a short one.
      ['repairLegacyRows', { afterJobId: null, limit: 500 }],
      ['repairLegacyRows', { afterJobId: 'j500', limit: 500 }],
    ]);
  });
});
