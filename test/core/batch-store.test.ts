/**
 * Batches on a real PostgreSQL with the migrations applied: a batch's status from its documents, its counts,
 * and the decision that it ended — made once when its last documents end together, found again by the same
 * caller (a retried activity), never made before the batch is sealed, made again after it is reopened.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BatchStore, batchStatusOf } from '../../core/batch-store.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import type { JobStatus } from '../../core/lifecycle.js';
import { harnessEnv } from '../support/stack.js';

const counts = (c: Partial<Record<'completed' | 'partial' | 'failed' | 'cancelled' | 'inFlight', number>>) => {
  const full = { completed: 0, partial: 0, failed: 0, cancelled: 0, inFlight: 0, ...c };
  return { total: full.completed + full.partial + full.failed + full.cancelled + full.inFlight, ...full };
};

describe('batchStatusOf', () => {
  const sealed = { sealed: true, cancelled: false };
  it('is in progress while a document is in flight or the batch is still being recorded', () => {
    assert.equal(batchStatusOf(counts({ completed: 2, inFlight: 1 }), sealed), 'in_progress');
    assert.equal(batchStatusOf(counts({ completed: 2 }), { sealed: false, cancelled: false }), 'in_progress');
    assert.equal(batchStatusOf(counts({ inFlight: 1 }), { sealed: true, cancelled: true }), 'in_progress');
  });
  it('then says how its documents ended', () => {
    assert.equal(batchStatusOf(counts({ completed: 3 }), sealed), 'completed');
    assert.equal(batchStatusOf(counts({ completed: 2, failed: 1 }), sealed), 'partial');
    assert.equal(batchStatusOf(counts({ partial: 1 }), sealed), 'partial');
    assert.equal(batchStatusOf(counts({ failed: 2, cancelled: 1 }), sealed), 'failed');
    assert.equal(batchStatusOf(counts({}), sealed), 'failed');
    assert.equal(batchStatusOf(counts({ completed: 1, cancelled: 1 }), { sealed: true, cancelled: true }), 'cancelled');
  });
});

describe('BatchStore on PostgreSQL', () => {
  const db = createSequelize(harnessEnv().APP_DATABASE_URL!, 8, 'app');
  let models: AppModels;
  let store: BatchStore;

  before(() => {
    models = initAppModels(db);
    store = new BatchStore(models);
  });
  after(() => db.close());

  /** A sealed (or not) batch of jobs in the given statuses, with a callback URL. */
  async function batchOf(statuses: JobStatus[], sealed = true): Promise<{ batchId: string; jobIds: string[] }> {
    const batchId = randomUUID();
    const webhook = { url: 'https://example.com/hook', retryInitialMs: 100, retryMaxMs: 200 };
    await models.Batch.create({
      id: batchId,
      apiKeyId: null,
      options: { ocrMode: 'auto', languages: ['eng'] },
      callbackUrl: webhook.url,
      webhook,
      fileCount: statuses.length + 1,
      sealedAt: sealed ? new Date() : null,
    });
    const jobIds: string[] = [];
    for (const [position, status] of statuses.entries()) {
      const id = randomUUID();
      await models.Job.create({
        id,
        status,
        step: 'queued',
        filename: `${position}.pdf`,
        sizeBytes: 1,
        sha256: randomUUID().replaceAll('-', '').padEnd(64, '0'),
        storageKey: `documents/${id}`,
        options: { ocrMode: 'auto', languages: ['eng'] },
        workflowId: `document-${id}`,
        pagesSelected: 2,
        batchId,
      });
      await models.BatchDocument.create({
        batchId,
        position,
        fileName: `${position}.pdf`,
        jobId: id,
        errorCode: null,
        errorMessage: null,
      });
      jobIds.push(id);
    }
    await models.BatchDocument.create({
      batchId,
      position: statuses.length,
      fileName: 'notes.txt',
      jobId: null,
      errorCode: 'NOT_PDF',
      errorMessage: 'not a PDF',
    });
    return { batchId, jobIds };
  }

  it('counts documents by state, refused files apart, and pages', async () => {
    const { batchId, jobIds } = await batchOf(['completed', 'processing', 'failed']);
    await models.JobPage.bulkCreate([
      { jobId: jobIds[0]!, pageNumber: 1, status: 'done' },
      { jobId: jobIds[0]!, pageNumber: 2, status: 'done' },
      { jobId: jobIds[1]!, pageNumber: 1, status: 'done' },
      { jobId: jobIds[1]!, pageNumber: 2, status: 'processing' },
      { jobId: jobIds[2]!, pageNumber: 1, status: 'failed' },
    ]);
    assert.deepEqual(await store.summary(batchId), {
      documents: { total: 3, completed: 1, partial: 0, failed: 1, cancelled: 0, inFlight: 1 },
      rejected: 1,
      pages: { total: 6, done: 3, failed: 1 },
    });
  });

  it('ends a batch exactly once when its last documents end together', async () => {
    const { batchId, jobIds } = await batchOf(['processing', 'processing', 'processing']);
    assert.deepEqual(await store.concludeFor(jobIds[0]!, `run-early-${batchId}`), [], 'others are in flight');
    await models.Job.update({ status: 'completed' }, { where: { batchId } });
    // Every document's end asks at once; one wins.
    const answers = await Promise.all(jobIds.map((id, i) => store.concludeFor(id, `run-${i}-${batchId}`)));
    const winners = answers.flatMap((a, i) => a.map((b) => ({ i, b })));
    assert.equal(winners.length, 1, JSON.stringify(answers));
    const { i, b } = winners[0]!;
    assert.equal(b.batchId, batchId);
    assert.equal(b.webhook?.url, 'https://example.com/hook');
    assert.equal(b.payload.data.status, 'completed');
    assert.deepEqual(b.payload.data.documents, {
      total: 3,
      completed: 3,
      partial: 0,
      failed: 0,
      cancelled: 0,
      inFlight: 0,
    });
    // The winner asking again (its activity retried) finds its batch again; the others still find nothing.
    assert.deepEqual(
      (await store.concludeFor(jobIds[i]!, `run-${i}-${batchId}`)).map((x) => x.batchId),
      [batchId],
    );
    assert.deepEqual(await store.concludeFor(jobIds[(i + 1) % 3]!, `run-other-${batchId}`), []);
  });

  it('never ends an unsealed batch; sealing ends it at once when its documents have all ended', async () => {
    const { batchId, jobIds } = await batchOf(['completed', 'failed'], false);
    assert.deepEqual(await store.concludeFor(jobIds[1]!, `run-${batchId}`), []);
    const sealed = await store.sealAndConclude(batchId, `api-${batchId}`);
    assert.equal(sealed?.payload.data.status, 'partial');
    assert.equal(await store.sealAndConclude(batchId, `api-again-${batchId}`), null, 'ended once');
    // Reopened for a retry-failed: it ends again, once, when sealed with nothing in flight.
    await store.reopen(batchId);
    assert.equal((await models.Batch.findByPk(batchId))?.endedAt, null);
    await models.Job.update({ status: 'processing' }, { where: { id: jobIds[1]! } });
    assert.equal(await store.sealAndConclude(batchId, `api-retry-${batchId}`), null, 'a retried document is in flight');
    await models.Job.update({ status: 'completed' }, { where: { id: jobIds[1]! } });
    const again = await store.concludeFor(jobIds[1]!, `run-retry-${batchId}`);
    assert.deepEqual(
      again.map((x) => x.payload.data.status),
      ['completed'],
    );
  });
});
