/**
 * Page failures through the real workflow on the real Temporal server: a transient fault is retried and
 * the document completes; a permanent one leaves the document partial with that page's error and every
 * other page's text. These runs' histories are the replay fixtures of test/workflows/replay.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { InputError, type OpenOptions, type PageText, type PdfEngine } from '../../activities/adapters/types.js';
import { documentWorkflowId } from '../../core/contracts.js';
import { corpusPath } from '../support/corpus.js';
import {
  authHeaders,
  getResult,
  recordHistoryFixture,
  repoRoot,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type Stack,
} from '../support/stack.js';
import { DelegatingPdf } from '../support/engines.js';

/** A PDF engine that fails chosen pages: `remaining` failures each, then behaves. */
class FaultyPdf extends DelegatingPdf {
  readonly calls = new Map<number, number>();
  constructor(
    inner: PdfEngine,
    private readonly faults: Map<number, { remaining: number; error: () => Error }>,
  ) {
    super(inner);
  }
  override async extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    this.calls.set(n, (this.calls.get(n) ?? 0) + 1);
    const fault = this.faults.get(n);
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      throw fault.error();
    }
    return this.inner.extractText(p, n, o);
  }
}

const doc = corpusPath('born-digital/pdfjs-tracemonkey.pdf');
/** The replay fixtures these runs refresh (FOLIO_RECORD_HISTORIES=1 npm test -- pipeline). */
const fixturesDir = path.join(repoRoot, 'test/fixtures/histories');

describe('page failures', () => {
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });
  const ocr = new TesseractEngine({ workers: 1 });
  const workflowIds: string[] = [];
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    stack = await startStack({ name: 'faults' });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
    await Promise.all([pdf.close(), ocr.close()]);
    // FOLIO_RECORD_HISTORIES=1 refreshes the committed replay fixtures (test/workflows/replay.test.ts) from these runs.
    if (process.env.FOLIO_RECORD_HISTORIES) {
      workflowIds.forEach((id, i) => recordHistoryFixture(id, path.join(fixturesDir, `document-${i + 1}.json`)));
    }
  });

  async function run(faulty: FaultyPdf, pages: string, maxAttempts = 3) {
    await stack.inProcessWorker?.stop();
    await stack.startInProcessWorker({ pdf: faulty, ocr, plan: { pageMaxAttempts: maxAttempts } });
    const res = await submit(api.url, doc, { pages });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    workflowIds.push(documentWorkflowId(jobId));
    return { jobId, status: await waitForJob(api.url, jobId, 120_000) };
  }

  it('retries a transient page failure and completes the document', async () => {
    const faulty = new FaultyPdf(
      pdf,
      new Map([[2, { remaining: 1, error: () => new Error('simulated transient read error') }]]),
    );
    const { jobId, status } = await run(faulty, '1-3');
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    assert.equal(status.progress.pagesDone, 3);
    const page2 = status.pages.find((p) => p.number === 2)!;
    assert.equal(page2.attempts, 2, 'page 2 was retried once');
    assert.equal(status.pages.find((p) => p.number === 1)!.attempts, 1);
    const result = await getResult(api.url, jobId);
    assert.deepEqual(
      result.pages.map((p) => p.number),
      [1, 2, 3],
    );
    assert.ok(result.pages.every((p) => p.method === 'text-layer' && p.text.length > 500));
  });

  it('fails a page permanently with its code and keeps every other page', async () => {
    const faulty = new FaultyPdf(
      pdf,
      new Map([[3, { remaining: 100, error: () => new InputError('PAGE_UNREADABLE', 'Page 3 cannot be parsed.') }]]),
    );
    const { jobId, status } = await run(faulty, '2-5');
    assert.equal(status.status, 'partial');
    assert.deepEqual(status.error && { code: status.error.code, page: status.error.page }, {
      code: 'PAGE_UNREADABLE',
      page: 3,
    });
    assert.equal(faulty.calls.get(3), 1, 'a non-retryable failure is not retried');
    const result = await getResult(api.url, jobId);
    assert.deepEqual(
      result.pages.map((p) => p.number),
      [2, 4, 5],
    );
    assert.deepEqual(
      result.failedPages.map((p) => [p.number, p.error.code]),
      [[3, 'PAGE_UNREADABLE']],
    );
    const txt = await fetch(`${api.url}/v1/jobs/${jobId}/result?format=txt`, { headers: authHeaders(api.url) }).then(
      (r) => r.text(),
    );
    assert.equal(txt.split('\f').length, 3, 'three finished pages separated by form feeds');
  });

  it('fails a page whose transient errors outlast its retries, and keeps the rest', async () => {
    const faulty = new FaultyPdf(pdf, new Map([[1, { remaining: 100, error: () => new Error('disk on fire') }]]));
    const { status } = await run(faulty, '1-2', 2);
    assert.equal(status.status, 'partial');
    assert.equal(faulty.calls.get(1), 2, 'tried exactly pageMaxAttempts times');
    const page1 = status.pages.find((p) => p.number === 1)!;
    assert.equal(page1.status, 'failed');
    assert.equal(page1.error?.code, 'PAGE_FAILED');
    assert.equal(status.pages.find((p) => p.number === 2)!.status, 'done');
  });
});
