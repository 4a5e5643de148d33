/**
 * Durability on real processes: a worker killed with SIGKILL in the middle of a document is replaced
 * and the document completes with every page stored once; a document longer than one workflow history
 * should hold runs its pages in child workflows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { documentWorkflowId } from '../../core/contracts.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import { characterErrorRate } from '../support/text-metrics.js';
import { corpusPath } from '../support/corpus.js';
import { repeatFirstPage, syntheticPageText, syntheticTextPdf } from '../support/synthetic.js';
import fs from 'node:fs';
import { harnessEnv, startStack, type Stack } from '../support/stack.js';

describe('durability', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const models: AppModels = initAppModels(db);
  let connection: Connection;
  let client: Client;
  const stacks: Stack[] = [];

  before(async () => {
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
    await connection.close();
    await db.close();
  });

  it('completes a document whose worker is killed mid-way, storing every page once', { timeout: 300_000 }, async () => {
    // Short heartbeats so the pages the dead worker held are retried soon after the kill.
    const workerEnv = { OCR_WORKERS: '1', WORKER_MAX_ACTIVITIES: '2' };
    const stack = await startStack({ name: 'kill', worker: workerEnv });
    stacks.push(stack);
    let worker = stack.workers[0]!;

    const pages = 6;
    const bytes = await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), pages);
    const res = await stack.submit({ name: 'six-scans.pdf', bytes });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };

    // Kill the worker as soon as the first page is stored: the others are in flight or queued.
    let killed = false;
    const status = await stack.waitForJob(jobId, 240_000, async (s) => {
      if (!killed && s.progress.pagesDone >= 1) {
        killed = true;
        assert.ok(s.progress.pagesDone < pages, 'the kill lands mid-document');
        await worker.kill();
        worker = await stack.startWorker(workerEnv);
      }
    });
    assert.ok(killed, 'the worker was killed');
    assert.equal(status.status, 'completed', JSON.stringify(status.error));

    const rows = await models.JobPage.findAll({ where: { jobId }, order: [['pageNumber', 'ASC']] });
    assert.deepEqual(
      rows.map((r) => r.pageNumber),
      [1, 2, 3, 4, 5, 6],
      'one row per page',
    );
    assert.ok(
      rows.some((r) => r.attempts >= 2),
      'some page was taken over from the killed worker',
    );
    const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
    const result = await stack.getResult(jobId);
    for (const page of result.pages) {
      // Stored once: each page's text is the page, not two attempts' text appended.
      assert.ok(characterErrorRate(page.text, truth) < 0.03, `page ${page.number}`);
    }
  });

  it('runs a long document in child workflows and completes every page', { timeout: 300_000 }, async () => {
    const stack = await startStack({ name: 'long', worker: { PAGES_PER_CHILD_WORKFLOW: '40', PAGE_WINDOW: '8' } });
    stacks.push(stack);

    const total = 130;
    const res = await stack.submit({ name: 'long.pdf', bytes: await syntheticTextPdf(total) });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await stack.waitForJob(jobId, 240_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    assert.equal(status.progress.pagesDone, total);

    const result = await stack.getResult(jobId);
    assert.equal(result.pages.length, total);
    for (const page of result.pages) {
      assert.equal(page.method, 'text-layer');
      assert.equal(page.text.trim(), syntheticPageText(page.number, total));
    }
    // 130 pages in slices of 40: four children, each a workflow of its own in Temporal.
    const parent = documentWorkflowId(jobId);
    const children: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'pageRangeWorkflow'` })) {
      if (wf.workflowId.startsWith(parent)) children.push(wf.workflowId);
    }
    assert.deepEqual(children.sort(), [
      `${parent}-pages-1-40`,
      `${parent}-pages-121-130`,
      `${parent}-pages-41-80`,
      `${parent}-pages-81-120`,
    ]);
    const history = await client.workflow.getHandle(parent).fetchHistory();
    assert.ok((history.events?.length ?? 0) < 100, `parent history stays short: ${history.events?.length} events`);
  });
});
