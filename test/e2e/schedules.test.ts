/**
 * Temporal Schedules replace the cron table: declared at start (once, never duplicated), cleanup archives
 * exactly the expired jobs, reconciliation fixes jobs whose workflow ended behind Folio's back, and the
 * operators' service (pause, unpause, trigger, spec edit, backfill) reaches Temporal and is audited.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config/config.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type Job } from '../../core/db/models.js';
import { SchedulesService } from '../../src/schedules/schedules.service.js';
import { documentKey } from '../../core/storage/storage.js';
import { ScheduleIds, documentWorkflowId } from '../../core/contracts.js';
import { type JobStatus } from '../../core/lifecycle.js';
import {
  folderStore,
  harnessEnv,
  startStack,
  uniqueTaskQueue,
  type FolioProcess,
  type Stack,
} from '../support/stack.js';

const DAY = 24 * 60 * 60 * 1000;

describe('schedules', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const models = initAppModels(db);
  /** The workers' schedules; the worker processes are started (and restarted) by the tests below. */
  const schedulesEnv = {
    SCHEDULES_UPSERT: 'true',
    CLEANUP_CRON: '15 4 * * *',
    RETENTION_DAYS: '7',
    RECONCILE_CRON: '*/10 * * * *',
    RECONCILE_GRACE_SECONDS: '1',
    // The test puts files in the folder itself; test/activities/maintenance.test.ts runs the same activities on the bucket.
    ...folderStore(),
  };
  let stack: Stack;
  /** What a worker of this file runs with: its schedules and the stack's task queue. */
  let workerEnv: NodeJS.ProcessEnv;
  let connection: Connection;
  let client: Client;
  let worker: FolioProcess | undefined;

  before(async () => {
    stack = await startStack({ name: 'schedules', env: schedulesEnv, api: false });
    workerEnv = stack.env;
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await stack?.stop();
    await connection.close();
    await db.close();
  });

  async function restartWorker(extra: Record<string, string> = {}): Promise<string> {
    await worker?.stop();
    worker = await stack.startWorker(extra);
    await worker.waitForOutput(/Schedules: created/, 30_000);
    return worker.output.join('');
  }

  async function describeArgs(scheduleId: string) {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const action = d.action as { args?: unknown[]; taskQueue?: string; workflowType?: string };
    return { d, args: action.args?.[0], taskQueue: action.taskQueue, workflowType: action.workflowType };
  }

  it('creates the declared schedules at start with the configured spec; a second start changes nothing', async () => {
    await restartWorker();
    const cleanup = await describeArgs(ScheduleIds.cleanupExpiredJobs);
    assert.equal(cleanup.workflowType, 'cleanupExpiredJobsWorkflow');
    assert.deepEqual(cleanup.args, { retentionDays: 7 });
    assert.equal(cleanup.taskQueue, stack.taskQueue);
    const calendar = cleanup.d.spec.calendars?.[0];
    assert.deepEqual(
      [calendar?.hour, calendar?.minute],
      [[{ start: 4, end: 4, step: 1 }], [{ start: 15, end: 15, step: 1 }]],
    );
    const reconcile = await describeArgs(ScheduleIds.reconcileJobs);
    assert.deepEqual(reconcile.args, { graceSeconds: 1 });

    const second = await restartWorker();
    assert.match(second, /created \[\], updated \[\], unchanged \[cleanup-expired-jobs, reconcile-jobs\]/);
    const ids: string[] = [];
    for await (const s of client.schedule.list()) ids.push(s.scheduleId);
    assert.equal(ids.filter((id) => id === ScheduleIds.cleanupExpiredJobs).length, 1, 'never duplicated');

    const third = await restartWorker({ RETENTION_DAYS: '9' });
    assert.match(third, /updated \[cleanup-expired-jobs\]/, 'a configuration change is applied');
    assert.deepEqual((await describeArgs(ScheduleIds.cleanupExpiredJobs)).args, { retentionDays: 9 });
    await restartWorker();
  });

  async function makeJob(status: JobStatus, finishedDaysAgo: number | null, withFile: boolean): Promise<Job> {
    const id = randomUUID();
    const storageKey = documentKey(id);
    if (withFile) {
      fs.mkdirSync(path.join(env.STORAGE_DIR!, 'documents'), { recursive: true });
      fs.writeFileSync(path.join(env.STORAGE_DIR!, storageKey), '%PDF-1.7 test');
    }
    const finishedAt = finishedDaysAgo === null ? null : new Date(Date.now() - finishedDaysAgo * DAY);
    const job = await models.Job.create({
      id,
      status,
      step: finishedAt ? 'done' : 'processing-pages',
      filename: 'fixture.pdf',
      contentType: 'application/pdf',
      sizeBytes: 13,
      sha256: '0'.repeat(64),
      storageKey,
      options: { ocrMode: 'auto', languages: ['eng'] },
      workflowId: documentWorkflowId(id),
      finishedAt,
    });
    await models.JobPage.create({ jobId: id, pageNumber: 1, status: 'done', method: 'ocr', text: 'kept' });
    return job;
  }

  async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('cleanup, when triggered, removes exactly the expired files and archives exactly those jobs', async () => {
    const expired = [await makeJob('completed', 20, true), await makeJob('failed', 10, true)];
    const recent = await makeJob('completed', 2, true);
    const running = await makeJob('processing', null, true);
    const service = new SchedulesService(client, models, loadConfig({ ...env, ...workerEnv }));
    await service.trigger('test-operator', ScheduleIds.cleanupExpiredJobs);

    await waitFor(async () => {
      const rows = await models.Job.findAll({ where: { id: expired.map((j) => j.id) } });
      return rows.every((r) => r.archivedAt !== null);
    }, 'expired jobs archived');
    for (const job of expired) {
      assert.equal(fs.existsSync(path.join(env.STORAGE_DIR!, job.storageKey)), false, 'file removed');
      const row = await models.Job.findByPk(job.id);
      assert.equal(row?.status, job.status, 'row kept with its status');
      assert.equal(await models.JobPage.count({ where: { jobId: job.id } }), 1, 'results kept');
    }
    for (const job of [recent, running]) {
      assert.ok(fs.existsSync(path.join(env.STORAGE_DIR!, job.storageKey)), 'newer file kept');
      assert.equal((await models.Job.findByPk(job.id))?.archivedAt, null);
    }
    const view = await service.get(ScheduleIds.cleanupExpiredJobs);
    assert.ok(view.lastRun, 'the run is visible on the schedule');
    const result = (await client.workflow.getHandle(view.lastRun.workflowId).result()) as {
      archived: number;
      filesRemoved: number;
    };
    assert.ok(result.archived >= 2 && result.filesRemoved >= 2, JSON.stringify(result));
    const audit = await models.ScheduleAudit.findAll({
      where: { scheduleId: ScheduleIds.cleanupExpiredJobs, action: 'trigger' },
    });
    assert.equal(audit.at(-1)?.actor, 'test-operator');
  });

  it('reconcile sets a job whose workflow was terminated, or never existed, to failed with a code', async () => {
    const terminated = await makeJob('processing', null, false);
    const missing = await makeJob('queued', null, false);
    const running = await makeJob('processing', null, false);
    // Workflows on a queue no worker polls: they stay open until terminated.
    const idle = uniqueTaskQueue('idle');
    for (const job of [terminated, running]) {
      await client.workflow.start('documentWorkflow', {
        taskQueue: idle,
        workflowId: job.workflowId,
        args: [{ jobId: job.id, storageKey: job.storageKey, options: job.options }],
      });
    }
    await client.workflow.getHandle(terminated.workflowId).terminate('behind Folio’s back');
    await new Promise((r) => setTimeout(r, 1500)); // past the 1 s grace

    const service = new SchedulesService(client, models, loadConfig({ ...env, ...workerEnv }));
    await service.trigger('test-operator', ScheduleIds.reconcileJobs);
    await waitFor(async () => (await models.Job.findByPk(missing.id))?.status === 'failed', 'reconciled');
    await waitFor(async () => (await models.Job.findByPk(terminated.id))?.status === 'failed', 'reconciled');
    assert.equal((await models.Job.findByPk(terminated.id))?.errorCode, 'WORKFLOW_TERMINATED');
    assert.equal((await models.Job.findByPk(missing.id))?.errorCode, 'WORKFLOW_MISSING');
    assert.equal((await models.Job.findByPk(running.id))?.status, 'processing', 'a running workflow is left alone');
    await client.workflow.getHandle(running.workflowId).terminate('test cleanup');
    await running.update({ status: 'failed', step: 'done' });
  });

  it('pause, unpause, trigger, spec and argument edits and backfill reach Temporal and are audited', async () => {
    const service = new SchedulesService(client, models, loadConfig({ ...env, ...workerEnv }));
    const id = ScheduleIds.reconcileJobs;
    let view = await service.pause('ops@example.org', id, 'maintenance window');
    assert.equal(view.paused, true);
    let d = await client.schedule.getHandle(id).describe();
    assert.deepEqual([d.state.paused, d.state.note], [true, 'maintenance window']);
    view = await service.unpause('ops@example.org', id, 'back');
    assert.equal((await client.schedule.getHandle(id).describe()).state.paused, false);

    view = await service.update('ops@example.org', id, { cron: '7 * * * *', args: { graceSeconds: 600 } });
    d = await client.schedule.getHandle(id).describe();
    assert.deepEqual(d.spec.calendars?.[0]?.minute, [{ start: 7, end: 7, step: 1 }]);
    assert.deepEqual((d.action as { args?: unknown[] }).args?.[0], { graceSeconds: 600 });
    assert.equal(view.cron, '7 * * * *');
    await assert.rejects(service.update('ops@example.org', id, { args: { graceSeconds: -1 } }), /graceSeconds/);
    await assert.rejects(
      service.create('ops@example.org', {
        scheduleId: 'rm-rf',
        workflowType: 'shellWorkflow',
        cron: '* * * * *',
        args: {},
      }),
      /workflowType must be one of/,
    );

    const before = (await client.schedule.getHandle(id).describe()).info.numActionsTaken;
    await service.backfill('ops@example.org', id, new Date(Date.now() - 3 * 3600_000), new Date(Date.now() - 3600_000));
    await waitFor(
      async () => (await client.schedule.getHandle(id).describe()).info.numActionsTaken >= before + 2,
      'backfilled runs',
    );

    // An operator's edit survives a restart; only a configuration change overrides it.
    const out = await restartWorker();
    assert.match(out, /unchanged \[cleanup-expired-jobs, reconcile-jobs\]/);
    assert.deepEqual((await describeArgs(id)).args, { graceSeconds: 600 });

    const actions = (await models.ScheduleAudit.findAll({ where: { scheduleId: id }, order: [['id', 'ASC']] })).map(
      (a) => a.action,
    );
    for (const a of ['trigger', 'pause', 'unpause', 'update', 'backfill'])
      assert.ok(actions.includes(a), `${a} audited`);
  });
});
