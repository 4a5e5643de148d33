/**
 * The maintenance activities (activities/maintenance.ts) in @temporalio/testing's MockActivityEnvironment,
 * on the real PostgreSQL of the harness, a storage folder of this file's own (and, for cleanup and the sweep, the
 * harness's bucket under a prefix of its own) and a Temporal dev server of its own (test/support/temporal.ts): reconcileJobs sets jobs whose workflow is missing or ended behind Folio's
 * back to their true end and starts the workflow a queued job never got; cleanup archives expired jobs in
 * batches; the sweep removes uploads no job owns. The jobs here are dated decades back, and each call is
 * bounded to that age, so the other test files' jobs in the shared DB are never touched.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OcrEngine, PdfEngine } from '../../activities/adapters/types.js';
import { createActivities } from '../../activities/index.js';
import { createPageMetrics } from '../../activities/page-metrics.js';
import type { WebhookDeliveryWorkflowInput, WebhookPayload } from '../../core/contracts.js';
import type { Job } from '../../core/db/models.js';
import type { JobStatus } from '../../core/lifecycle.js';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createStorage } from '../../core/storage/create-storage.js';
import { documentKey, DOCUMENTS_PREFIX, PARTIAL_MARK, searchablePdfKey } from '../../core/storage/storage.js';
import { loadConfig } from '../../src/config/config.js';
import { harnessEnv } from '../support/harness.js';
import { startDocumentWorkflow, type DocumentRunSettings } from '../../core/workflow-client.js';
import { acceptJob, mockActivity, openActivityTestBed, type ActivityTestBed } from '../support/activities.js';
import { corpusPath } from '../support/corpus.js';
import { startTestTemporal } from '../support/temporal.js';

const bed = await openActivityTestBed('maintenance-activities');
after(() => bed.close());

/** The maintenance activities open no document: engines that say so if asked. */
const refuse = () => Promise.reject(new Error('maintenance opens no document'));
const noPdf: PdfEngine = {
  maxImagePixels: 0,
  inspect: refuse,
  extractText: refuse,
  geometry: refuse,
  draw: refuse,
  largestImagePixels: refuse,
  close: () => Promise.resolve(),
};
const noOcr: OcrEngine = { recognize: refuse, availableLanguages: () => [], close: () => Promise.resolve() };

const YEAR_S = 365 * 24 * 3600;
/** Dates these jobs back: far older than anything another test file writes. */
const LONG_AGO = new Date('2000-01-01T00:00:00Z');
const doc = corpusPath('born-digital/ocrmypdf-tagged.pdf');

function maintenance(temporal?: TestWorkflowEnvironment, run?: DocumentRunSettings, storage = bed.storage) {
  return createActivities({
    models: bed.models,
    storage,
    pdf: noPdf,
    ocr: noOcr,
    metrics: createPageMetrics(new Registry()),
    temporal: temporal?.client,
    settings: {
      dpi: 300,
      renderMaxPixels: 40_000_000,
      maxPages: 100,
      plan: { window: 1, pagesPerChild: 10, pageTimeoutSeconds: 60, pageMaxAttempts: 1 },
      run,
    },
  });
}

/** A job in `status`, last updated (and, when finished, finished) long ago. */
async function oldJob(status: JobStatus, file: string | null = doc, on: ActivityTestBed = bed): Promise<Job> {
  const job = await acceptJob(on, file);
  const finished = !['queued', 'processing', 'needs_password'].includes(status);
  // Raw SQL: Sequelize would stamp updated_at with now.
  await bed.db.query(
    `UPDATE jobs SET status = :status, step = :step, updated_at = :at, finished_at = :finished WHERE id = :id`,
    {
      replacements: {
        id: job.id,
        status,
        step: finished ? 'done' : status === 'queued' ? 'queued' : 'processing-pages',
        at: LONG_AGO,
        finished: finished ? LONG_AGO : null,
      },
    },
  );
  await job.reload();
  return job;
}

describe('reconcileJobs', () => {
  const run: DocumentRunSettings = { taskQueue: 'reconcile-tests', passwordWaitSeconds: 30 };
  let temporal: TestWorkflowEnvironment;
  before(async () => {
    temporal = await startTestTemporal();
  });
  after(() => temporal?.teardown());

  it('refuses to run without a Temporal client', async () => {
    const { reconcileJobs } = maintenance();
    await assert.rejects(mockActivity().run(reconcileJobs, { graceSeconds: 60 }), /without a Temporal client/);
  });

  it('ends jobs whose workflow is missing or ended outside Folio, starts the one a queued job never got, and leaves running ones alone', async () => {
    const { reconcileJobs } = maintenance(temporal, run);
    const missing = await oldJob('processing');
    const waiting = await oldJob('needs_password');
    const neverStarted = await oldJob('queued');
    const queuedWithoutFile = await oldJob('queued', null);
    const running = await oldJob('processing');
    const terminated = await oldJob('processing');
    const recent = await acceptJob(bed, doc);
    for (const job of [running, terminated, recent]) {
      await startDocumentWorkflow(temporal.client, job, run);
    }
    await temporal.client.workflow.getHandle(terminated.workflowId).terminate('terminated by an operator');
    // The terminated job's client asked for webhooks: the reconciler sends the job.failed its workflow never did.
    // (Raw SQL: Sequelize would stamp updated_at with now, and the job would be within its grace.)
    await bed.db.query('UPDATE jobs SET callback_url = :url WHERE id = :id', {
      replacements: { url: 'https://example.com/hooks/folio', id: terminated.id },
    });

    // Older than 20 years: only this file's jobs.
    const out = await mockActivity().run(reconcileJobs, { graceSeconds: 20 * YEAR_S });
    assert.equal(out.checked, 6, 'the recent job is within its grace');
    const byJob = new Map(out.reconciled.map((r) => [r.jobId, [r.status, r.code]]));
    assert.deepEqual(byJob.get(missing.id), ['failed', 'WORKFLOW_MISSING']);
    assert.deepEqual(byJob.get(waiting.id), ['failed', 'WORKFLOW_MISSING']);
    assert.deepEqual(byJob.get(queuedWithoutFile.id), ['failed', 'WORKFLOW_MISSING']);
    assert.deepEqual(byJob.get(neverStarted.id), ['queued', 'WORKFLOW_STARTED']);
    assert.deepEqual(byJob.get(terminated.id), ['failed', 'WORKFLOW_TERMINATED']);
    assert.equal(byJob.has(running.id), false);
    assert.equal(byJob.size, 5);

    await missing.reload();
    assert.deepEqual([missing.status, missing.step, missing.errorCode], ['failed', 'done', 'WORKFLOW_MISSING']);
    assert.match(missing.errorMessage ?? '', /submit the document again/);
    assert.ok(missing.finishedAt);
    await terminated.reload();
    assert.deepEqual([terminated.status, terminated.errorCode], ['failed', 'WORKFLOW_TERMINATED']);
    // Its job.failed delivery, under a webhook-id derived from the job (a repeated reconcile starts the same one).
    const digest = createHash('sha256').update(`job.failed/reconcile:${terminated.id}`).digest('hex').slice(0, 32);
    const delivery = temporal.client.workflow.getHandle(`webhook-msg_${digest}`);
    const { events } = await delivery.fetchHistory();
    const [arg] = events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const input = JSON.parse(Buffer.from(arg!.data!).toString('utf8')) as WebhookDeliveryWorkflowInput;
    assert.deepEqual(
      [input.webhookId, input.jobId, input.url, input.payload.type],
      [`msg_${digest}`, terminated.id, 'https://example.com/hooks/folio', 'job.failed'],
    );
    assert.deepEqual((input.payload as WebhookPayload).data.error, {
      code: 'WORKFLOW_TERMINATED',
      message: 'The workflow was terminated outside Folio.',
    });
    assert.equal((input.payload as WebhookPayload).data.links.self, `/v1/jobs/${terminated.id}`);
    await delivery.terminate('test over');
    await running.reload();
    assert.equal(running.status, 'processing');

    // The started workflow is the job's own, with the input the API would have given it.
    const started = temporal.client.workflow.getHandle(neverStarted.workflowId);
    const described = await started.describe();
    assert.deepEqual(
      [described.type, described.status.name, described.taskQueue],
      ['documentWorkflow', 'RUNNING', run.taskQueue],
    );
    await neverStarted.reload();
    assert.equal(neverStarted.status, 'queued');

    // Run again: the started workflow now runs, so nothing more is done; the ended jobs are no longer active.
    const again = await mockActivity().run(reconcileJobs, { graceSeconds: 20 * YEAR_S });
    assert.deepEqual(again.reconciled, []);
    await started.terminate('test over');
    await temporal.client.workflow.getHandle(running.workflowId).terminate('test over');
    await temporal.client.workflow.getHandle(recent.workflowId).terminate('test over');
  });

  it("ends the batch of a job it ended when that was the batch's last document, and announces it once", async () => {
    const { reconcileJobs } = maintenance(temporal, run);
    const done = await oldJob('completed');
    const lost = await oldJob('processing');
    const batchId = randomUUID();
    const webhook = { url: 'https://example.com/hooks/folio', retryInitialMs: 100, retryMaxMs: 200 };
    await bed.models.Batch.create({
      id: batchId,
      apiKeyId: null,
      options: done.options,
      callbackUrl: webhook.url,
      webhook,
      fileCount: 2,
      sealedAt: new Date(),
    });
    await bed.models.BatchDocument.bulkCreate(
      [done, lost].map((j, position) => ({
        batchId,
        position,
        fileName: j.filename,
        jobId: j.id,
        errorCode: null,
        errorMessage: null,
      })),
    );
    const out = await mockActivity().run(reconcileJobs, { graceSeconds: 20 * YEAR_S });
    assert.deepEqual(
      out.reconciled.filter((r) => r.jobId === lost.id).map((r) => r.code),
      ['WORKFLOW_MISSING'],
    );
    const batch = await bed.models.Batch.findByPk(batchId);
    assert.ok(batch?.endedAt);
    assert.equal(batch.endedBy, `reconcile:${lost.id}`);
    // Its batch.completed delivery, under a webhook-id derived from the batch and the decision (a retried
    // reconcile starts the same workflow, a no-op).
    const digest = createHash('sha256').update(`${batchId}/reconcile:${lost.id}`).digest('hex').slice(0, 32);
    const delivery = temporal.client.workflow.getHandle(`webhook-msg_${digest}`);
    const described = await delivery.describe();
    assert.deepEqual([described.type, described.taskQueue], ['webhookDeliveryWorkflow', run.taskQueue]);
    await delivery.terminate('test over');
    // Finished now, as far as the retention cleanup below can tell: its counts are of its own jobs.
    await bed.db.query('UPDATE jobs SET finished_at = now() WHERE id IN (:ids)', {
      replacements: { ids: [done.id, lost.id] },
    });
  });
});

describe('cleanupExpiredJobsBatch', () => {
  it('archives finished jobs past their retention in batches, removing their files; rows stay', async () => {
    const { cleanupExpiredJobsBatch } = maintenance();
    const withFile = await oldJob('completed');
    const withoutFile = await oldJob('failed', null);
    const active = await oldJob('processing');
    const size = (await fs.stat(path.join(bed.storageDir, withFile.storageKey))).size;
    // Retention of 20 years: only jobs finished before 2006.
    const retentionDays = 20 * 365;

    const first = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays, limit: 1 });
    const second = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays, limit: 1 });
    const third = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays, limit: 1 });
    assert.deepEqual(
      [first, second, third].map((b) => b.archived),
      [1, 1, 0],
    );
    assert.equal(first.filesRemoved + second.filesRemoved, 1);
    assert.equal(first.bytesFreed + second.bytesFreed, size);
    assert.equal(await bed.storage.exists(withFile.storageKey), false);
    for (const job of [withFile, withoutFile]) {
      await job.reload();
      assert.ok(job.archivedAt, `${job.status} job archived`);
    }
    await active.reload();
    assert.equal(active.archivedAt, null);
    assert.equal(await bed.storage.exists(active.storageKey), true);
  });
});

describe('cleanupExpiredJobsBatch with a per-job retention date', () => {
  it('keeps a job whose retainUntil is ahead however old it is, and archives one whose date has passed however recent', async () => {
    const { cleanupExpiredJobsBatch } = maintenance();
    const kept = await oldJob('completed');
    await kept.update({ retainUntil: new Date(Date.now() + YEAR_S * 1000) });
    const due = await acceptJob(bed, doc);
    // Finished just now, but its own date passed an hour ago.
    await bed.db.query(
      `UPDATE jobs SET status = 'completed', step = 'done', finished_at = now(), retain_until = now() - interval '1 hour' WHERE id = :id`,
      { replacements: { id: due.id } },
    );
    const out = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays: 20 * 365, limit: 50 });
    assert.ok(out.archived >= 1);
    await kept.reload();
    await due.reload();
    assert.equal(kept.archivedAt, null, 'kept past the schedule retention by its own date');
    assert.equal(await bed.storage.exists(kept.storageKey), true);
    assert.ok(due.archivedAt, 'archived at its own date, before the schedule retention');
    assert.equal(await bed.storage.exists(due.storageKey), false);
  });
});

describe('sweepOrphanUploads', () => {
  it('removes uploads older than the grace that no job owns, and unfinished writes; keeps owned and recent ones', async () => {
    const { sweepOrphanUploads } = maintenance();
    const owned = await oldJob('completed');
    const dir = path.join(bed.storageDir, 'documents');
    const orphan = documentKey('00000000-0000-4000-8000-00000000a001');
    const recentOrphan = documentKey('00000000-0000-4000-8000-00000000a002');
    const partial = 'documents/00000000-0000-4000-8000-00000000a003.pdf.partial-1234';
    for (const key of [orphan, recentOrphan, partial]) await fs.writeFile(path.join(bed.storageDir, key), '%PDF-1.7');
    for (const key of [owned.storageKey, orphan, partial]) {
      await fs.utimes(path.join(bed.storageDir, key), LONG_AGO, LONG_AGO);
    }

    const out = await mockActivity().run(sweepOrphanUploads, { graceSeconds: 3600 });
    assert.deepEqual(out.removed.sort(), [orphan, partial].sort());
    const left = await fs.readdir(dir);
    for (const key of [owned.storageKey, recentOrphan]) assert.ok(left.includes(path.basename(key)), `${key} kept`);
    for (const key of [orphan, partial]) assert.ok(!left.includes(path.basename(key)), `${key} removed`);
  });
});

describe('cleanup and the orphan sweep on the bucket', () => {
  const config = loadConfig(harnessEnv()).storage;
  if (config.kind !== 's3') throw new Error('the harness keeps documents in its bucket: STORAGE_URL=s3://…');
  // A prefix of this file's own: the sweep lists only this file's objects.
  const location = { ...config, prefix: `maintenance-test-${randomUUID().slice(0, 8)}/` };
  const bucket = createStorage({ ...location, cache: { dir: path.join(bed.storageDir, 'cache'), maxBytes: 1 << 26 } });
  const onBucket: ActivityTestBed = { ...bed, storage: bucket };
  const s3 = new S3Client({ endpoint: location.endpoint, region: location.region, forcePathStyle: true });
  after(() => s3.destroy());

  it("cleanup removes an expired job's document and searchable PDF from the bucket and counts their bytes", async () => {
    const { cleanupExpiredJobsBatch } = maintenance(undefined, undefined, bucket);
    const expired = await oldJob('completed', doc, onBucket);
    const result = await bucket.put(searchablePdfKey(expired.id), Readable.from([Buffer.from('%PDF-1.7 result')]));
    const bytes = (await bucket.sizeOf(expired.storageKey))! + result.bytes;
    const out = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays: 20 * 365, limit: 50 });
    // Other expired jobs of this file keep their files in the folder: only this job's are in the bucket.
    assert.equal(out.filesRemoved, 2);
    assert.equal(out.bytesFreed, bytes);
    assert.equal(await bucket.exists(expired.storageKey), false);
    assert.equal(await bucket.exists(searchablePdfKey(expired.id)), false);
    await expired.reload();
    assert.ok(expired.archivedAt);
  });

  it('the sweep removes objects no job owns and aborts unfinished multipart uploads; owned ones stay', async () => {
    const { sweepOrphanUploads } = maintenance(undefined, undefined, bucket);
    const owned = await oldJob('completed', doc, onBucket);
    const orphan = documentKey(randomUUID());
    await bucket.put(orphan, Readable.from([Buffer.from('%PDF-1.7 orphan')]));
    const cut = documentKey(randomUUID());
    // What an API killed mid-upload leaves behind in a bucket.
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: location.bucket, Key: `${location.prefix}${cut}` }),
    );
    // The bucket's clock cannot be set back: a grace of 1 s, and a wait past it.
    await new Promise((r) => setTimeout(r, 1500));
    const out = await mockActivity().run(sweepOrphanUploads, { graceSeconds: 1 });
    assert.deepEqual(out.removed.sort(), [orphan, `${cut}${PARTIAL_MARK}${UploadId}`].sort());
    const left: string[] = [];
    for await (const entry of bucket.list(DOCUMENTS_PREFIX)) left.push(entry.key);
    assert.deepEqual(left, [owned.storageKey], 'only the owned document is left, no unfinished upload');
  });
});
