/**
 * Faults inside the worker, on the real Temporal server and PostgreSQL: a worker process SIGKILLed three
 * times in one document (a fresh one started each time), and an OCR engine that throws or hangs on one
 * page. Nothing finished is lost, no page is stored twice, and a bad page fails alone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import type {
  OcrEngine,
  OcrOptions,
  OcrResult,
  OpenOptions,
  DrawOptions,
  DrawnPage,
} from '../../activities/adapters/types.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import type { PagePlan } from '../../core/contracts.js';
import { corpusPath } from '../support/corpus.js';
import { repeatFirstPage, syntheticPageText, syntheticTextPdf } from '../support/synthetic.js';
import { characterErrorRate } from '../support/text-metrics.js';
import {
  getResult,
  harnessEnv,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type Stack,
} from '../support/stack.js';
import { DelegatingPdf } from '../support/engines.js';

/** Remembers which page each rendered image is, so the OCR stand-in below can misbehave on one page. */
class PageTaggingPdf extends DelegatingPdf {
  readonly pageOf = new WeakMap<Uint8Array, number>();
  override async draw(p: string, n: number, o: DrawOptions & OpenOptions): Promise<DrawnPage> {
    const page = await this.inner.draw(p, n, o);
    this.pageOf.set(page.pgm, n);
    return page;
  }
}

/** The real OCR engine, except on one page, where it throws or never answers (ignoring cancellation too). */
class FaultyOcr implements OcrEngine {
  readonly calls = new Map<number, number>();
  private readonly hung: (() => void)[] = [];
  constructor(
    private readonly inner: OcrEngine,
    private readonly pdf: PageTaggingPdf,
    private readonly badPage: number,
    private readonly fault: 'throw' | 'hang',
  ) {}
  async recognize(image: Uint8Array, options: OcrOptions): Promise<OcrResult> {
    const page = this.pdf.pageOf.get(image) ?? 0;
    this.calls.set(page, (this.calls.get(page) ?? 0) + 1);
    if (page !== this.badPage) return this.inner.recognize(image, options);
    if (this.fault === 'throw') throw new Error('simulated OCR engine crash');
    // When released, it answers as if it had just finished: a late result the activity must not record.
    return new Promise<OcrResult>((resolve) =>
      this.hung.push(() => resolve({ text: 'late answer of a timed-out attempt', confidence: 90, words: [] })),
    );
  }
  availableLanguages() {
    return this.inner.availableLanguages();
  }
  /** Ends the hung calls (late, after their attempts timed out), so the worker can shut down. */
  release() {
    for (const r of this.hung.splice(0)) r();
  }
  close() {
    this.release();
    return Promise.resolve();
  }
}

describe('worker faults', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const models: AppModels = initAppModels(db);
  const stacks: Stack[] = [];

  after(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
    await db.close();
  });

  it('completes a document whose worker is SIGKILLed three times, storing every page once', async () => {
    // Short page heartbeats: the pages a dead worker held are retried 10 s after the kill, not 30 s.
    const workerEnv = { OCR_WORKERS: '1', WORKER_MAX_ACTIVITIES: '2', PAGE_HEARTBEAT_SECONDS: '10' };
    const stack = await startStack({ name: 'kill3', worker: workerEnv });
    stacks.push(stack);
    let worker = stack.workers[0]!;

    const pages = 6;
    const kills = 3;
    const res = await stack.submit({
      name: 'six-scans.pdf',
      bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), pages),
    });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };

    // Each kill lands once one more page is stored than at the last kill: the rest are in flight or queued.
    const killedAt: number[] = [];
    const status = await stack.waitForJob(jobId, 280_000, async (s) => {
      if (killedAt.length >= kills || s.progress.pagesDone < killedAt.length + 1) return;
      assert.ok(s.progress.pagesDone < pages, 'the kill lands mid-document');
      killedAt.push(s.progress.pagesDone);
      await worker.kill();
      worker = await stack.startWorker(workerEnv);
    });
    assert.equal(killedAt.length, kills, `killed at ${killedAt.join(', ')} pages done`);
    assert.equal(status.status, 'completed', JSON.stringify(status.error));

    const rows = await models.JobPage.findAll({ where: { jobId }, order: [['pageNumber', 'ASC']] });
    assert.deepEqual(
      rows.map((r) => [r.pageNumber, r.status]),
      Array.from({ length: pages }, (_, i) => [i + 1, 'done']),
    );
    assert.ok(
      rows.some((r) => r.attempts >= 2),
      `some page was taken over from a killed worker: attempts ${rows.map((r) => r.attempts).join(', ')}`,
    );
    const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
    const result = await stack.getResult(jobId);
    assert.equal(result.pages.length, pages);
    for (const page of result.pages) {
      // Stored once: each page's text is the page, not two attempts' text appended.
      assert.ok(characterErrorRate(page.text, truth) < 0.03, `page ${page.number}`);
    }
    console.log(
      `# worker killed at ${killedAt.join(', ')} of ${pages} pages done; attempts ${rows.map((r) => r.attempts).join(', ')}`,
    );
  });

  describe('an OCR engine that misbehaves on one page', () => {
    const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });
    const ocr = new TesseractEngine({ workers: 1 });
    let stack: Stack;
    let api: ApiProcess;
    let faulty: FaultyOcr | undefined;

    before(async () => {
      stack = await startStack({ name: 'ocr-faults' });
      stacks.push(stack);
      api = stack.api;
    });
    after(async () => {
      faulty?.release();
      await stack?.inProcessWorker?.stop();
      await Promise.all([pdf.close(), ocr.close()]);
    });

    async function run(fault: 'throw' | 'hang', plan: Partial<PagePlan>) {
      faulty?.release();
      await stack.inProcessWorker?.stop();
      const tagging = new PageTaggingPdf(pdf);
      faulty = new FaultyOcr(ocr, tagging, 2, fault);
      await stack.startInProcessWorker({ pdf: tagging, ocr: faulty, plan });
      const res = await submit(
        api.url,
        { name: `${fault}.pdf`, bytes: await syntheticTextPdf(3) },
        { ocrMode: 'force' },
      );
      assert.equal(res.status, 202);
      const { jobId } = (await res.json()) as { jobId: string };
      const status = await waitForJob(api.url, jobId, 120_000);
      return { jobId, status, calls: faulty.calls };
    }

    async function assertOthersDone(jobId: string) {
      const result = await getResult(api.url, jobId);
      assert.deepEqual(
        result.pages.map((p) => [p.number, p.method]),
        [
          [1, 'ocr'],
          [3, 'ocr'],
        ],
      );
      for (const page of result.pages) {
        assert.ok(characterErrorRate(page.text.trim(), syntheticPageText(page.number, 3)) < 0.1, page.text);
      }
    }

    it('throws: the page is retried, then fails alone as PAGE_FAILED', async () => {
      const { jobId, status, calls } = await run('throw', { pageMaxAttempts: 3 });
      assert.equal(status.status, 'partial');
      assert.deepEqual(status.error && [status.error.code, status.error.page], ['PAGE_FAILED', 2]);
      assert.equal(calls.get(2), 3, 'the bad page was tried pageMaxAttempts times');
      assert.equal(calls.get(1), 1);
      assert.equal(calls.get(3), 1);
      const page2 = status.pages.find((p) => p.number === 2)!;
      assert.deepEqual([page2.status, page2.error?.code, page2.attempts], ['failed', 'PAGE_FAILED', 3]);
      await assertOthersDone(jobId);
    });

    it('hangs: the attempt times out, is retried, then the page fails alone as PAGE_TIMEOUT', async () => {
      const { jobId, status, calls } = await run('hang', { pageMaxAttempts: 2, pageTimeoutSeconds: 4 });
      assert.equal(status.status, 'partial');
      assert.deepEqual(status.error && [status.error.code, status.error.page], ['PAGE_TIMEOUT', 2]);
      assert.equal(calls.get(2), 2, 'the hung page was tried pageMaxAttempts times');
      const page2 = status.pages.find((p) => p.number === 2)!;
      assert.deepEqual([page2.status, page2.error?.code, page2.attempts], ['failed', 'PAGE_TIMEOUT', 2]);
      await assertOthersDone(jobId);
      // A hung call that ends after its attempt timed out records nothing: the page stays failed.
      faulty!.release();
      await new Promise((r) => setTimeout(r, 500));
      const row = await models.JobPage.findOne({ where: { jobId, pageNumber: 2 } });
      assert.equal(row?.status, 'failed');
    });
  });
});
