/**
 * Scale-out: two worker processes on one task queue share the pages of a single document. Each worker holds
 * one activity at a time, so while one OCRs a page the next can only go to the other; the workflow
 * history's ActivityTaskStarted events name the worker that took each page. They share no folder: the
 * document is in the harness's bucket, each worker keeps its copy in a cache folder of its own, and the folder
 * store each is told of (STORAGE_DIR) is never made.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { documentWorkflowId } from '../../core/contracts.js';
import { corpusPath } from '../support/corpus.js';
import {
  harnessEnv,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type FolioProcess,
  type Stack,
} from '../support/stack.js';
import { repeatFirstPage } from '../support/synthetic.js';

/** The identity of the worker that started each processPage activity, by page number. */
async function pageWorkers(client: Client, workflowId: string): Promise<Map<number, string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const pageOfScheduled = new Map<string, number>();
  const workers = new Map<number, string>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'processPage') {
      const payload = scheduled.input?.payloads?.[0]?.data;
      const input = JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as { pageNumber: number };
      pageOfScheduled.set(String(event.eventId), input.pageNumber);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const page = pageOfScheduled.get(String(started.scheduledEventId));
      if (page !== undefined) workers.set(page, started.identity ?? '');
    }
  }
  return workers;
}

describe('scale-out', () => {
  const oneAtATime = { OCR_WORKERS: '1', WORKER_MAX_ACTIVITIES: '1' };
  /** Each worker's own folders: its cache, and a folder store it must not use. */
  const folders = [0, 1].map(() => {
    const dir = path.join(harnessEnv().FOLIO_TEST_TMP!, `scale-out-${randomUUID().slice(0, 8)}`);
    return { STORAGE_CACHE_DIR: path.join(dir, 'cache'), STORAGE_DIR: path.join(dir, 'storage') };
  });
  let stack: Stack;
  let api: ApiProcess;
  let workers: FolioProcess[] = [];
  let connection: Connection;
  let client: Client;

  before(async () => {
    connection = await Connection.connect({ address: harnessEnv().TEMPORAL_ADDRESS });
    client = new Client({ connection });
    assert.match(harnessEnv().STORAGE_URL ?? '', /^s3:\/\//, 'the harness keeps documents in its bucket');
    stack = await startStack({ name: 'scale', worker: folders.map((f) => ({ ...oneAtATime, ...f })) });
    [api, workers] = [stack.api, stack.workers];
  });
  after(async () => {
    await stack?.stop();
    await connection?.close();
  });

  it('two workers take pages of the same document', async () => {
    const pages = 4;
    const bytes = await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), pages);
    const res = await submit(api.url, { name: 'scale-out.pdf', bytes });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await waitForJob(api.url, jobId, 5 * 60_000);
    assert.equal(status.status, 'completed');
    assert.deepEqual(
      status.pages.map((p) => [p.number, p.method]),
      Array.from({ length: pages }, (_, i) => [i + 1, 'ocr']),
    );

    const byPage = await pageWorkers(client, documentWorkflowId(jobId));
    assert.deepEqual([...byPage.keys()].sort(), [1, 2, 3, 4]);
    // The SDK's default identity is <pid>@<host>: each page was taken by one of the two processes, and both took some.
    const identities = workers.map((w) => `${w.child.pid}@${os.hostname()}`).sort();
    assert.deepEqual([...new Set(byPage.values())].sort(), identities);
    for (const f of folders) {
      // No document, result or unfinished upload went through a folder: the folder store is never made.
      assert.equal(fs.existsSync(f.STORAGE_DIR), false, `no worker used a folder store (${f.STORAGE_DIR})`);
      assert.ok(fs.existsSync(f.STORAGE_CACHE_DIR), 'each worker had its cache folder');
    }
  });
});
