/**
 * Job control with a real worker (real pdf.js and tesseract.js, a pdf engine that can fail chosen pages):
 * cancel mid-OCR keeps finished pages and stops running ones; retry re-runs only failed pages in new
 * workflow runs; Idempotency-Key and content dedupe (also while the first job runs); SSE progress.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import {
  InputError,
  type OcrEngine,
  type OcrOptions,
  type OpenOptions,
  type PageText,
} from '../../activities/adapters/types.js';
import { documentWorkflowId, retryWorkflowId } from '../../core/contracts.js';
import { corpusPath } from '../support/corpus.js';
import { repeatFirstPage, syntheticTextPdf } from '../support/synthetic.js';
import {
  createApiKey,
  harnessEnv,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type JobStatusBody,
  type Stack,
} from '../support/stack.js';
import { DelegatingPdf } from '../support/engines.js';

/** Fails chosen pages' text extraction `remaining` times with a permanent error, then behaves. */
class FaultyPdf extends DelegatingPdf {
  readonly faults = new Map<number, number>();
  override extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    const remaining = this.faults.get(n) ?? 0;
    if (remaining > 0) {
      this.faults.set(n, remaining - 1);
      return Promise.reject(new InputError('PAGE_UNREADABLE', `Page ${n} cannot be parsed (simulated).`));
    }
    return this.inner.extractText(p, n, o);
  }
}

/** Real OCR, optionally after a long pause that only the activity's cancellation signal cuts short. */
class SlowOcr implements OcrEngine {
  delayMs = 0;
  aborted = 0;
  constructor(private readonly inner: OcrEngine) {}
  async recognize(image: Uint8Array, options: OcrOptions) {
    if (this.delayMs > 0) {
      await sleep(this.delayMs, undefined, { signal: options.signal }).catch((err: unknown) => {
        this.aborted++;
        throw err;
      });
    }
    return this.inner.recognize(image, options);
  }
  availableLanguages() {
    return this.inner.availableLanguages();
  }
  close() {
    return this.inner.close();
  }
}

interface Submitted {
  jobId: string;
  status: string;
  duplicateOf?: string;
  idempotentReplay?: boolean;
}

describe('job control: cancel, retry, dedupe, events', () => {
  const env = harnessEnv();
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
  const faulty = new FaultyPdf(pdf);
  const ocr = new TesseractEngine({ workers: 1 });
  const slowOcr = new SlowOcr(ocr);
  let stack: Stack;
  let api: ApiProcess;
  let connection: Connection;
  let temporal: Client;
  let key: string;
  const tracemonkey = corpusPath('born-digital/pdfjs-tracemonkey.pdf');

  const headers = (k = key) => ({ authorization: `Bearer ${k}` });
  const post = (path: string, body?: unknown, k = key) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { ...headers(k), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const status = async (jobId: string): Promise<JobStatusBody> =>
    (await (await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: headers() })).json()) as JobStatusBody;
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  before(async () => {
    stack = await startStack({
      name: 'control',
      api: { SSE_POLL_MS: '100' },
      inProcessWorker: { pdf: faulty, ocr: slowOcr, plan: { window: 2 } },
    });
    api = stack.api;
    key = api.key!;
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    temporal = new Client({ connection });
  });
  after(async () => {
    await stack?.stop();
    await Promise.all([pdf.close(), ocr.close(), connection?.close()]);
  });

  describe('dedupe and cancel', () => {
    let first: Submitted;
    let scan: Uint8Array;

    it('joins a duplicate submitted while the first job is still running, and says so', async () => {
      scan = await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 6);
      const res = await submit(api.url, { name: 'six-scans.pdf', bytes: scan }, { ocrMode: 'force' });
      assert.equal(res.status, 202);
      first = (await res.json()) as Submitted;
      assert.equal(first.duplicateOf, undefined);
      const again = (await (
        await submit(api.url, { name: 'copy.pdf', bytes: scan }, { ocrMode: 'force' })
      ).json()) as Submitted;
      const now = await status(first.jobId);
      assert.ok(['queued', 'processing'].includes(now.status), `first still running (${now.status})`);
      assert.equal(again.jobId, first.jobId);
      assert.equal(again.duplicateOf, first.jobId);
      const other = (await (
        await submit(api.url, { name: 'six-scans.pdf', bytes: scan }, { ocrMode: 'force', pages: '1' })
      ).json()) as Submitted;
      assert.notEqual(other.jobId, first.jobId, 'other options are other work');
      assert.equal((await post(`/v1/jobs/${other.jobId}/cancel`)).status, 202);
    });

    it('cancels mid-OCR: running pages stop at their heartbeat, finished pages are kept, the job ends cancelled', async () => {
      // Cancel as soon as the first page is done, while others are being read.
      let s = await status(first.jobId);
      for (let i = 0; i < 600 && s.progress.pagesDone < 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        s = await status(first.jobId);
      }
      assert.ok(s.progress.pagesDone >= 1 && s.status === 'processing', JSON.stringify(s.progress));
      // From now on a page's OCR takes a minute unless its activity is cancelled: pages in flight must be stopped.
      slowOcr.delayMs = 60_000;
      await sleep(1500);
      const cancelledAt = Date.now();
      const res = await post(`/v1/jobs/${first.jobId}/cancel`);
      assert.equal(res.status, 202);
      const end = await waitForJob(api.url, first.jobId, 60_000);
      const tookMs = Date.now() - cancelledAt;
      console.log(`# cancelled with ${end.progress.pagesDone} of 6 pages done; job ended ${tookMs} ms after cancel`);
      assert.equal(end.status, 'cancelled');
      assert.ok(end.progress.pagesDone >= 1 && end.progress.pagesDone < 6, `${end.progress.pagesDone} pages done`);
      assert.ok(end.pages.every((p) => p.status === 'done' || p.status === 'skipped'));
      const result = (await (
        await fetch(`${api.url}/v1/jobs/${first.jobId}/result`, { headers: headers() })
      ).json()) as { pages: { text: string }[] };
      assert.equal(result.pages.length, end.progress.pagesDone, 'finished pages keep their text');
      assert.ok(result.pages.every((p) => p.text.length > 50));

      // The page activities in flight were cancelled through their heartbeats, not left to finish.
      const history = await temporal.workflow.getHandle(documentWorkflowId(first.jobId)).fetchHistory();
      // EventType 16 is ACTIVITY_TASK_CANCELED: the activity itself acknowledged (heartbeat → abort → throw).
      const types = (history.events ?? []).map((e) => String(e.eventType));
      const cancelled = types.filter((t) => /ACTIVITY_TASK_CANCELED$|^16$/.test(t)).length;
      assert.ok(cancelled >= 1, `activity cancellations in history: ${types.join(',')}`);
      assert.ok(slowOcr.aborted >= 1, 'the OCR call saw the abort');
      assert.ok(tookMs < 20_000, `stopped in ${tookMs} ms, not after the minute-long OCR`);
      slowOcr.delayMs = 0;
      // And nothing keeps writing pages afterwards.
      await sleep(3000);
      assert.equal((await status(first.jobId)).progress.pagesDone, end.progress.pagesDone);

      const again = await post(`/v1/jobs/${first.jobId}/cancel`);
      assert.equal(again.status, 409);
      assert.equal(await codeOf(again), 'JOB_FINISHED');
    });

    it('does not join a cancelled job: the same document starts new work', async () => {
      const res = (await (
        await submit(api.url, { name: 'six-scans.pdf', bytes: scan }, { ocrMode: 'force' })
      ).json()) as Submitted;
      assert.notEqual(res.jobId, first.jobId);
      assert.equal(res.duplicateOf, undefined);
      assert.equal((await post(`/v1/jobs/${res.jobId}/cancel`)).status, 202);
      assert.equal((await waitForJob(api.url, res.jobId, 60_000)).status, 'cancelled');
    });

    it('lets two identical concurrent submissions make one job', async () => {
      const bytes = await syntheticTextPdf(3);
      const both = await Promise.all(
        [1, 2].map(async () => (await (await submit(api.url, { name: 'same.pdf', bytes })).json()) as Submitted),
      );
      assert.equal(both[0]!.jobId, both[1]!.jobId);
      assert.equal(both.filter((s) => s.duplicateOf === both[0]!.jobId).length, 1);
      assert.equal((await waitForJob(api.url, both[0]!.jobId, 60_000)).status, 'completed');
      const later = (await (await submit(api.url, { name: 'same.pdf', bytes })).json()) as Submitted;
      assert.equal(later.duplicateOf, both[0]!.jobId, 'a completed job is joined too');
    });
  });

  describe('idempotency', () => {
    it('returns the same job for a repeated Idempotency-Key, per API key, also when racing', async () => {
      const a = await syntheticTextPdf(1);
      const b = await syntheticTextPdf(2);
      const k = `order-${Date.now()}`;
      const one = (await (
        await submit(api.url, { name: 'a.pdf', bytes: a }, {}, '/v1/documents', { 'idempotency-key': k })
      ).json()) as Submitted;
      const two = (await (
        await submit(api.url, { name: 'b.pdf', bytes: b }, {}, '/v1/documents', { 'idempotency-key': k })
      ).json()) as Submitted;
      assert.equal(two.jobId, one.jobId);
      assert.equal(two.idempotentReplay, true);
      const otherClient = await createApiKey('idempotency other', 'client');
      const three = (await (
        await submit(api.url, { name: 'a.pdf', bytes: a }, {}, '/v1/documents', {
          'idempotency-key': k,
          authorization: `Bearer ${otherClient.key}`,
        })
      ).json()) as Submitted;
      assert.notEqual(three.jobId, one.jobId, 'keys are per client');

      const k2 = `race-${Date.now()}`;
      const raced = await Promise.all(
        [a, b].map(
          async (bytes) =>
            (await (
              await submit(api.url, { name: 'r.pdf', bytes }, { pages: '1' }, '/v1/documents', {
                'idempotency-key': k2,
              })
            ).json()) as Submitted,
        ),
      );
      assert.equal(raced[0]!.jobId, raced[1]!.jobId);
      const bad = await submit(api.url, { name: 'a.pdf', bytes: a }, {}, '/v1/documents', {
        'idempotency-key': 'x'.repeat(201),
      });
      assert.equal(bad.status, 400);
      assert.equal(await codeOf(bad), 'IDEMPOTENCY_KEY_INVALID');
    });
  });

  describe('retry', () => {
    it('re-runs only the failed pages in a new workflow run, optionally with another OCR mode', async () => {
      faulty.faults.set(7, 2);
      const res = await submit(api.url, tracemonkey, { pages: '6-9' });
      const { jobId } = (await res.json()) as Submitted;
      const partial = await waitForJob(api.url, jobId, 120_000);
      assert.equal(partial.status, 'partial');
      assert.equal(partial.error?.page, 7);

      const outside = await post(`/v1/jobs/${jobId}/retry`, { pages: '1-6' });
      assert.equal(outside.status, 409);
      assert.equal(await codeOf(outside), 'NO_FAILED_PAGES');
      assert.equal((await post(`/v1/jobs/${jobId}/retry`, { ocrMode: 'sometimes' })).status, 400);

      // First retry: the page fails again (one fault left); the job is partial again, run retry-1.
      const r1 = await post(`/v1/jobs/${jobId}/retry`, { pages: '7-' });
      assert.equal(r1.status, 202);
      const started1 = (await r1.json()) as { pages: number[]; workflowId: string; status: string };
      assert.deepEqual(started1.pages, [7]);
      assert.equal(started1.workflowId, retryWorkflowId(jobId, 1));
      assert.equal(started1.status, 'processing');
      const again = await waitForJob(api.url, jobId, 120_000);
      assert.equal(again.status, 'partial');
      assert.equal(again.pages.find((p) => p.number === 7)?.status, 'failed');

      // Second retry with OCR forced: extractText is not called, the page is read by OCR; job completed.
      const r2 = await post(`/v1/jobs/${jobId}/retry`, { ocrMode: 'force' });
      assert.equal(((await r2.json()) as { workflowId: string }).workflowId, retryWorkflowId(jobId, 2));
      const done = await waitForJob(api.url, jobId, 180_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.equal(done.error, null);
      assert.deepEqual(
        done.pages.map((p) => [p.number, p.status, p.method]),
        [
          [6, 'done', 'text-layer'],
          [7, 'done', 'ocr'],
          [8, 'done', 'text-layer'],
          [9, 'done', 'text-layer'],
        ],
        'only page 7 was run again',
      );
      // Every run stays inspectable in Temporal.
      // The job row is finished by the run's last activity, a moment before the run itself closes.
      for (const id of [documentWorkflowId(jobId), retryWorkflowId(jobId, 1), retryWorkflowId(jobId, 2)]) {
        const handle = temporal.workflow.getHandle(id);
        await handle.result();
        assert.equal((await handle.describe()).status.name, 'COMPLETED', id);
      }
      assert.match(done.links.workflow, new RegExp(`${retryWorkflowId(jobId, 2)}$`));

      const finished = await post(`/v1/jobs/${jobId}/retry`);
      assert.equal(finished.status, 409);
      assert.equal(await codeOf(finished), 'JOB_NOT_RETRYABLE');
    });

    it('answers 409 NO_FAILED_PAGES for a document that failed as a whole', async () => {
      const res = await submit(api.url, corpusPath('corrupt/ocrmypdf-invalid.pdf'));
      const { jobId } = (await res.json()) as Submitted;
      const failed = await waitForJob(api.url, jobId, 60_000);
      assert.equal(failed.status, 'failed');
      const retry = await post(`/v1/jobs/${jobId}/retry`);
      assert.equal(retry.status, 409);
      assert.equal(await codeOf(retry), 'NO_FAILED_PAGES');
    });
  });

  describe('events', () => {
    it('streams page and progress events as pages finish and ends with the final status', async () => {
      const res = await submit(api.url, { name: 'events.pdf', bytes: await syntheticTextPdf(4) });
      const { jobId } = (await res.json()) as Submitted;
      const stream = await fetch(`${api.url}/v1/jobs/${jobId}/events`, { headers: headers() });
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
      const text = await stream.text(); // the server closes the stream after `end`
      const events = text
        .split('\n\n')
        .filter((block) => block.trim())
        .map((block) => {
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          return { type, data: data ? (JSON.parse(data) as Record<string, unknown>) : undefined };
        });
      const pages = events.filter((e) => e.type === 'page').map((e) => e.data?.number);
      assert.deepEqual([...pages].sort(), [1, 2, 3, 4]);
      assert.ok(events.some((e) => e.type === 'progress'));
      const last = events[events.length - 1]!;
      assert.equal(last.type, 'end');
      assert.equal(last.data?.status, 'completed');
      assert.equal(last.data?.pagesDone, 4);

      const stranger = await createApiKey('events stranger', 'client');
      const forbidden = await fetch(`${api.url}/v1/jobs/${jobId}/events`, { headers: headers(stranger.key) });
      assert.equal(forbidden.status, 403);
      assert.equal((await fetch(`${api.url}/v1/jobs/${jobId}/events`)).status, 401);
    });
  });
});
