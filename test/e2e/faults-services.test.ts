/**
 * Faults of the services around Folio, on real processes: PostgreSQL and the Temporal dev server stopped
 * and restarted mid-run (a pair of this file's own, so the restarts never touch other test files), and the
 * API killed with SIGKILL at three points of an upload, after which reconciliation leaves no job row
 * without its file, no file without its job, and no job without its workflow.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import { documentKey } from '../../core/storage/storage.js';
import type { ReconcileJobsOutput } from '../../core/contracts.js';
import type { reconcileJobsWorkflow } from '../../workflows/maintenance.js';
import { corpusPath } from '../support/corpus.js';
import { startOwnServices, type OwnServices } from '../support/own-services.js';
import { repeatFirstPage, syntheticPageText, syntheticTextPdf } from '../support/synthetic.js';
import { characterErrorRate } from '../support/text-metrics.js';
import {
  authHeaders,
  getResult,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type FolioProcess,
  type Stack,
} from '../support/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every stored upload under the storage folder, finished or not, as storage keys. */
function storedUploads(storageDir: string): string[] {
  const dir = path.join(storageDir, 'documents');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => `documents/${f}`)
    .sort();
}

describe('service faults', () => {
  let services: OwnServices;
  let db: ReturnType<typeof createSequelize>;
  let models: AppModels;
  let connection: Connection;
  let client: Client;
  /** Every Folio process of this file: this file's services, short page heartbeats; started as each test needs. */
  let stack: Stack;
  const scan = corpusPath('scanned/tess-phototest.pdf');
  const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');

  before(async () => {
    services = await startOwnServices('faults-services');
    stack = await startStack({
      name: 'svc-faults',
      env: { ...services.env, PAGE_HEARTBEAT_SECONDS: '10' },
      api: false,
    });
    db = createSequelize(services.env.APP_DATABASE_URL!, 2, 'app');
    models = initAppModels(db);
    connection = await Connection.connect({ address: services.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await stack?.stop();
    await connection?.close();
    await db?.close();
    await services?.stop();
  });

  function worker(extra: NodeJS.ProcessEnv = {}): Promise<FolioProcess> {
    return stack.startWorker({ OCR_WORKERS: '2', WORKER_MAX_ACTIVITIES: '2', ...extra });
  }

  function api(extra: NodeJS.ProcessEnv = {}): Promise<ApiProcess> {
    return stack.startApi(extra);
  }

  /** Every page of a finished scan job once, in order, each the page's text and not two attempts' text. */
  async function assertScanPages(apiUrl: string, jobId: string, pages: number): Promise<void> {
    const rows = await models.JobPage.findAll({ where: { jobId }, order: [['pageNumber', 'ASC']] });
    assert.deepEqual(
      rows.map((r) => [r.pageNumber, r.status]),
      Array.from({ length: pages }, (_, i) => [i + 1, 'done']),
    );
    const result = await getResult(apiUrl, jobId);
    assert.equal(result.pages.length, pages);
    for (const page of result.pages) {
      assert.ok(characterErrorRate(page.text, truth) < 0.03, `page ${page.number}`);
    }
  }

  it('PostgreSQL stopped and restarted mid-run: the API answers 503, activities wait and every page lands once', async () => {
    const w = await worker();
    const folio = await api();
    const open = await api({ API_AUTH: 'disabled' });
    const pages = 4;
    const res = await submit(folio.url, { name: 'scan.pdf', bytes: await repeatFirstPage(scan, pages) });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };

    let outage: { doneAtStop: number; doneAtRestart: number } | undefined;
    const status = await waitForJob(folio.url, jobId, 240_000, async (s) => {
      if (outage || s.progress.pagesDone < 1) return;
      await services.stopPostgres();
      const doneAtStop = s.progress.pagesDone;
      const filesBefore = storedUploads(services.storageDir);

      // Every route that reads the DB says 503 with a stable code and when to come back, rather than hang.
      for (const route of [`/v1/jobs/${jobId}`, '/v1/jobs', `/v1/jobs/${jobId}/result`]) {
        const started = Date.now();
        const r = await fetch(`${folio.url}${route}`, { headers: authHeaders(folio.url) });
        const body = (await r.json()) as { error: { code: string } };
        assert.equal(r.status, 503, route);
        assert.equal(body.error.code, 'DATABASE_UNAVAILABLE', route);
        assert.ok(Number(r.headers.get('retry-after')) > 0, route);
        console.log(`# DB down: ${route} answered 503 in ${Date.now() - started} ms`);
      }
      // An upload while the DB is down: refused at the key check (auth on), or after the body (auth off)
      // with its stored file removed again.
      for (const target of [folio.url, open.url]) {
        const r = await submit(target, { name: 'while-down.pdf', bytes: await syntheticTextPdf(1) });
        assert.equal(r.status, 503);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'DATABASE_UNAVAILABLE');
        assert.ok(r.headers.get('retry-after'));
      }
      assert.deepEqual(storedUploads(services.storageDir), filesBefore, 'no upload left behind');
      const ready = await fetch(`${folio.url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.ok(ready.headers.get('retry-after'));

      // Long enough for the running pages to reach their DB writes while it is down.
      await sleep(6_000);
      await services.startPostgres();
      const back = await models.Job.findByPk(jobId);
      outage = { doneAtStop, doneAtRestart: (await models.JobPage.count({ where: { jobId, status: 'done' } })) ?? 0 };
      assert.ok(back, 'the job row survived the restart');
    });
    assert.ok(outage, 'the outage happened mid-document');
    assert.ok(
      outage.doneAtRestart < pages,
      `pages were still to be written after the restart: ${JSON.stringify(outage)}`,
    );
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    await assertScanPages(folio.url, jobId, pages);
    // Activities waited for the database inside their attempt (query retry), so no attempt was spent on it.
    const rows = await models.JobPage.findAll({ where: { jobId } });
    assert.deepEqual(
      rows.map((r) => r.attempts),
      Array.from({ length: pages }, () => 1),
    );
    assert.equal(w.child.exitCode, null, 'the worker lived through the outage');
  });

  it('Temporal dev server stopped and restarted mid-run: every document completes', async () => {
    const w = await worker();
    const folio = await api();
    const pages = 3;
    const jobIds: string[] = [];
    for (const name of ['first.pdf', 'second.pdf']) {
      const res = await submit(folio.url, { name, bytes: await repeatFirstPage(scan, pages) }, { ocrMode: 'force' });
      assert.equal(res.status, 202);
      jobIds.push(((await res.json()) as { jobId: string }).jobId);
    }
    let restarted = false;
    await waitForJob(folio.url, jobIds[0]!, 240_000, async (s) => {
      if (restarted || s.progress.pagesDone < 1) return;
      restarted = true;
      assert.ok(s.progress.pagesDone < pages, 'the restart lands mid-document');
      await services.stopTemporal();
      await sleep(3_000);
      await services.startTemporal();
    });
    assert.ok(restarted);
    // A document submitted after the restart: the API's client reconnected.
    const late = await submit(folio.url, { name: 'late.pdf', bytes: await syntheticTextPdf(2) });
    assert.equal(late.status, 202, await late.clone().text());
    jobIds.push(((await late.json()) as { jobId: string }).jobId);

    for (const jobId of jobIds) {
      const status = await waitForJob(folio.url, jobId, 240_000);
      assert.equal(status.status, 'completed', `${jobId}: ${JSON.stringify(status.error)}`);
    }
    await assertScanPages(folio.url, jobIds[0]!, pages);
    await assertScanPages(folio.url, jobIds[1]!, pages);
    const lateResult = await getResult(folio.url, jobIds[2]!);
    assert.deepEqual(
      lateResult.pages.map((p) => p.text.trim()),
      [syntheticPageText(1, 2), syntheticPageText(2, 2)],
    );
    assert.equal(w.child.exitCode, null, 'the worker reconnected instead of exiting');
  });

  it('Temporal down when a document arrives: accepted, kept queued, started by the reconciler once it is back', async (t) => {
    await worker();
    const folio = await api();
    await services.stopTemporal();
    let res: Response;
    const sent = Date.now();
    try {
      res = await submit(folio.url, { name: 'during-outage.pdf', bytes: await syntheticTextPdf(2) });
      t.diagnostic(`answered in ${Date.now() - sent} ms with Temporal down`);
    } finally {
      await services.startTemporal();
    }
    // Stored and recorded, so accepted: a busy or absent Temporal never turns away a document.
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    const row = await models.Job.findByPk(jobId);
    assert.equal(row?.status, 'queued');
    await assert.rejects(client.workflow.getHandle(row.workflowId).describe(), WorkflowNotFoundError);
    await sleep(1_500);
    const run = await reconcile('temporal-outage');
    assert.deepEqual(
      run.reconciled.filter((r) => r.jobId === jobId).map((r) => r.code),
      ['WORKFLOW_STARTED'],
    );
    const status = await waitForJob(folio.url, jobId, 120_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    const result = await getResult(folio.url, jobId);
    assert.deepEqual(
      result.pages.map((p) => p.text.trim()),
      [syntheticPageText(1, 2), syntheticPageText(2, 2)],
    );
  });

  it('API killed mid-upload at three points: reconciliation leaves no orphan file, row or workflow', async () => {
    await worker();
    const bytes = await syntheticTextPdf(3);

    // 1. Killed while the body streams: an unfinished write, no job.
    const streaming = await api();
    const jobsBefore = await models.Job.count();
    const partial = await new Promise<string>((resolve, reject) => {
      const boundary = 'folio-fault-boundary';
      const req = http.request(`${streaming.url}/v1/documents`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...authHeaders(streaming.url) },
      });
      req.on('error', () => undefined);
      req.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.pdf"\r\n` +
          `Content-Type: application/pdf\r\n\r\n`,
      );
      req.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      const deadline = Date.now() + 30_000;
      const look = () => {
        const found = storedUploads(services.storageDir).find((k) => k.includes('.partial-'));
        if (found) {
          void streaming.kill().then(() => {
            req.destroy();
            resolve(found);
          });
        } else if (Date.now() > deadline) reject(new Error('no unfinished upload appeared'));
        else setTimeout(look, 50);
      };
      look();
    });
    assert.equal(await models.Job.count(), jobsBefore, 'no job row for the cut upload');

    // 2. Killed after the file was stored, before its job row: a file without a job.
    const storedOnly = await pausedUpload('upload-stored');
    assert.ok(storedUploads(services.storageDir).includes(documentKey(storedOnly)));
    assert.equal(await models.Job.findByPk(storedOnly), null);

    // 3. Killed after the job row, before its workflow: a queued job with no workflow.
    const rowOnly = await pausedUpload('job-recorded');
    assert.equal((await models.Job.findByPk(rowOnly))?.status, 'queued');
    await assert.rejects(client.workflow.getHandle(`document-${rowOnly}`).describe(), WorkflowNotFoundError);

    // The reconcile schedule's workflow, run now with a short grace: the orphans go, the job gets its workflow.
    await sleep(1_500);
    const first = await reconcile('first');
    assert.deepEqual(
      first.reconciled.map((r) => [r.jobId, r.code]),
      [[rowOnly, 'WORKFLOW_STARTED']],
    );
    assert.equal(first.orphanUploadsRemoved, 2);
    const remaining = storedUploads(services.storageDir);
    assert.ok(!remaining.includes(partial), 'the unfinished write is gone');
    assert.ok(!remaining.includes(documentKey(storedOnly)), 'the file without a job is gone');
    const folio = await api();
    const status = await waitForJob(folio.url, rowOnly, 120_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    const result = await getResult(folio.url, rowOnly);
    assert.deepEqual(
      result.pages.map((p) => p.text.trim()),
      [1, 2, 3].map((n) => syntheticPageText(n, 3)),
    );

    // Idempotent: a second run finds nothing more to do.
    const second = await reconcile('second');
    assert.deepEqual(second.reconciled, []);
    assert.equal(second.orphanUploadsRemoved, 0);

    // Over everything this file did (outages included): each job has its file and its workflow, each file its job.
    const jobs = await models.Job.findAll();
    assert.deepEqual(
      jobs.map((j) => j.storageKey).sort(),
      storedUploads(services.storageDir),
      'files and job rows match one to one',
    );
    for (const job of jobs) {
      const described = await client.workflow.getHandle(job.workflowId).describe();
      assert.equal(described.status.name, 'COMPLETED', job.id);
    }
  });

  /** Uploads to an API told to stall at `point`, SIGKILLs it there, and returns the stalled job's id. */
  async function pausedUpload(point: 'upload-stored' | 'job-recorded'): Promise<string> {
    const stalled = await api({ FAULT_PAUSE_AT: point });
    const pending = submit(stalled.url, { name: `${point}.pdf`, bytes: await syntheticTextPdf(3) }).catch(
      () => undefined,
    );
    const marker = new RegExp(`FAULT_PAUSE_AT ${point}: job ([0-9a-f-]{36})`);
    await stalled.waitForOutput(marker, 30_000);
    await stalled.kill();
    assert.equal(await pending, undefined, 'the client got no answer');
    return marker.exec(stalled.output.join(''))![1]!;
  }

  async function reconcile(name: string): Promise<ReconcileJobsOutput> {
    return client.workflow.execute<typeof reconcileJobsWorkflow>('reconcileJobsWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `${stack.taskQueue}-reconcile-${name}`,
      args: [{ graceSeconds: 1 }],
    });
  }
});
