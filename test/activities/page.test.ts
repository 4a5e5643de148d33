/**
 * The page activity (activities/page.ts) in @temporalio/testing's MockActivityEnvironment, on the real
 * PostgreSQL of the harness and the real engines (pdf.js, tesseract.js); a stand-in PDF engine only where a
 * fault or a count is needed. A text-layer page against an OCR page, the OCR modes, the text layer read once,
 * attempts and retries recorded, heartbeats while it works, cancellation honoured and a late result dropped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { Registry } from 'prom-client';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { InputError, type OpenOptions, type PageText, type PdfEngine } from '../../activities/adapters/types.js';
import { createActivities } from '../../activities/index.js';
import { createPageMetrics } from '../../activities/page-metrics.js';
import type { ProcessPageInput } from '../../core/contracts.js';
import type { Job, JobPage } from '../../core/db/models.js';
import type { OcrMode } from '../../core/lifecycle.js';
import { acceptJob, metricValue, mockActivity, openActivityTestBed } from '../support/activities.js';
import { corpusPath } from '../support/corpus.js';
import { DelegatingPdf } from '../support/engines.js';
import { formFanOutPdf } from '../support/synthetic.js';
import { characterErrorRate } from '../support/text-metrics.js';

/** The real engine, counting the text-layer reads. */
class CountingPdf extends DelegatingPdf {
  textReads = 0;
  override extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    this.textReads++;
    return this.inner.extractText(p, n, o);
  }
}

const bed = await openActivityTestBed('page-activity');
const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
const ocr = new TesseractEngine({ workers: 1 });
after(async () => {
  await Promise.all([pdf.close(), ocr.close()]);
  await bed.close();
});

const tagged = corpusPath('born-digital/ocrmypdf-tagged.pdf');
const phototest = corpusPath('scanned/tess-phototest.pdf');

describe('processPage', () => {
  /** The page activity over `engine`, with its own metrics; heartbeats every 50 ms. */
  function pageActivity(engine: PdfEngine = pdf) {
    const registry = new Registry();
    const { processPage } = createActivities({
      models: bed.models,
      storage: bed.storage,
      pdf: engine,
      ocr,
      metrics: createPageMetrics(registry),
      settings: {
        dpi: 300,
        renderMaxPixels: 40_000_000,
        heartbeatIntervalMs: 50,
        maxPages: 100,
        plan: { window: 2, pagesPerChild: 500, pageTimeoutSeconds: 60, pageMaxAttempts: 3 },
      },
    });
    return {
      processPage,
      registry,
      metric: (name: string, labels?: Record<string, string>) => metricValue(registry, name, labels),
    };
  }

  /** A job with `file` stored and its page rows pending, as inspect leaves them. */
  async function inspected(file: string, ocrMode: OcrMode = 'auto', pages = [1]): Promise<Job> {
    const job = await acceptJob(bed, file, { ocrMode });
    await bed.jobs.recordInspection(job.id, {
      pageCount: Math.max(...pages),
      encrypted: false,
      pages: pages.map((number) => ({ number, width: 612, height: 792 })),
    });
    return job;
  }

  function input(job: Job, pageNumber: number): ProcessPageInput {
    return { jobId: job.id, pageNumber, storageKey: job.storageKey, options: job.options };
  }

  async function row(job: Job, pageNumber: number): Promise<JobPage> {
    const found = await bed.models.JobPage.findOne({ where: { jobId: job.id, pageNumber } });
    assert.ok(found, `page ${pageNumber} has a row`);
    return found;
  }

  it('reads a born-digital page from its text layer and records it', async () => {
    const counting = new CountingPdf(pdf);
    const { processPage, metric } = pageActivity(counting);
    const job = await inspected(tagged, 'auto', [2]);
    const { run, messages } = mockActivity();
    const out = await run(processPage, input(job, 2));

    assert.deepEqual(out, { pageNumber: 2, method: 'text-layer', characters: 'Page 2 Heading\nBody text.'.length });
    const page = await row(job, 2);
    assert.deepEqual(
      [page.status, page.method, page.text, page.confidence, page.renderDpi, page.hasTextLayer, page.attempts],
      ['done', 'text-layer', 'Page 2 Heading\nBody text.', 100, null, true, 1],
    );
    assert.deepEqual(
      page.words?.map((w) => w.text),
      ['Page', '2', 'Heading', 'Body', 'text.'],
    );
    assert.equal(counting.textReads, 1);
    assert.equal(await metric('folio_pages_total', { method: 'text-layer', outcome: 'done' }), 1);
    assert.equal(await metric('folio_page_phase_duration_seconds', { phase: 'render', le: '+Inf' }), 0);
    assert.equal(await metric('folio_pages_in_flight'), 0);
    assert.deepEqual(messages(), ['Page read']);
  });

  it('reads a scanned page by OCR, reading its text layer once, and heartbeats while it works', async () => {
    const counting = new CountingPdf(pdf);
    const { processPage, metric } = pageActivity(counting);
    const job = await inspected(phototest);
    const { run, heartbeats } = mockActivity();
    const out = await run(processPage, input(job, 1));

    assert.equal(out.method, 'ocr');
    const page = await row(job, 1);
    assert.deepEqual([page.status, page.method, page.hasTextLayer, page.attempts], ['done', 'ocr', false, 1]);
    const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
    assert.ok(characterErrorRate(page.text ?? '', truth) < 0.05, page.text ?? '');
    assert.ok((page.confidence ?? 0) > 50);
    assert.ok(page.renderDpi !== null && page.renderDpi >= 150 && page.renderDpi <= 300, `${page.renderDpi} dpi`);
    // The render step asks whether this scan has text of its own: answered from the read already made.
    assert.equal(counting.textReads, 1, 'the text layer is read once');
    assert.ok(heartbeats.length >= 2, `${heartbeats.length} heartbeats`);
    assert.equal(await metric('folio_pages_total', { method: 'ocr', outcome: 'done' }), 1);
    for (const phase of ['text-layer', 'render', 'ocr']) {
      assert.equal(await metric('folio_page_phase_duration_seconds', { phase, le: '+Inf' }), 1, phase);
    }
  });

  it('ocrMode force: OCR without reading the text layer; skip: the text layer even when it is empty', async () => {
    const counting = new CountingPdf(pdf);
    const { processPage } = pageActivity(counting);
    const forced = await inspected(tagged, 'force', [2]);
    assert.equal((await mockActivity().run(processPage, input(forced, 2))).method, 'ocr');
    const page = await row(forced, 2);
    assert.match(page.text ?? '', /Body text/);
    assert.equal(page.hasTextLayer, null, 'never read');
    assert.equal(counting.textReads, 0);

    const skipped = await inspected(phototest, 'skip');
    assert.deepEqual(await mockActivity().run(processPage, input(skipped, 1)), {
      pageNumber: 1,
      method: 'text-layer',
      characters: 0,
    });
    assert.equal((await row(skipped, 1)).text, '');
  });

  it('records the attempt it is, and counts a retry', async () => {
    const { processPage, metric } = pageActivity();
    const job = await inspected(tagged, 'auto', [1]);
    await mockActivity({ attempt: 3 }).run(processPage, input(job, 1));
    assert.equal((await row(job, 1)).attempts, 3);
    assert.equal(await metric('folio_page_retries_total'), 1);
  });

  it('fails with the engine’s code, not retryable, and records nothing; a missing file is FILE_MISSING', async () => {
    const unreadable = new (class extends DelegatingPdf {
      override extractText(): Promise<PageText> {
        return Promise.reject(new InputError('PAGE_UNREADABLE', 'Page 1 cannot be parsed.'));
      }
    })(pdf);
    const { processPage, metric } = pageActivity(unreadable);
    const job = await inspected(tagged);
    const { run, messages } = mockActivity();
    await assert.rejects(run(processPage, input(job, 1)), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.deepEqual(
        [err.type, err.nonRetryable, err.message],
        ['PAGE_UNREADABLE', true, 'Page 1 cannot be parsed.'],
      );
      return true;
    });
    const page = await row(job, 1);
    assert.deepEqual([page.status, page.attempts], ['processing', 1], 'started, never read');
    assert.equal(await metric('folio_pages_total', { method: 'text-layer', outcome: 'error' }), 1);
    assert.deepEqual(messages(), ['Page attempt failed']);

    const gone = await acceptJob(bed, null);
    await assert.rejects(
      mockActivity().run(pageActivity().processPage, input(gone, 1)),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'FILE_MISSING' && err.nonRetryable,
    );
  });

  it('honours cancellation: the render running in pdf.js stops, nothing is recorded, the attempt counts as cancelled', async () => {
    // This page's drawing never ends on its own (a billion fills from a few kilobytes); only the abort stops it.
    const { processPage, metric } = pageActivity();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-endless-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const endless = path.join(dir, 'form-fan-out.pdf');
    fs.writeFileSync(endless, await formFanOutPdf());
    const job = await inspected(endless, 'force');
    const { env, run, heartbeats, messages } = mockActivity();
    const running = run(processPage, input(job, 1));
    while (heartbeats.length < 3) await sleep(20);
    const cancelledAt = Date.now();
    env.cancel();
    await assert.rejects(running);
    assert.ok(Date.now() - cancelledAt < 5000, 'stopped at once');
    assert.equal((await row(job, 1)).status, 'processing');
    assert.equal(await metric('folio_pages_total', { method: 'ocr', outcome: 'cancelled' }), 1);
    assert.equal(await metric('folio_pages_in_flight'), 0);
    assert.deepEqual(messages(), ['Page attempt cancelled']);
    // The engine replaced the stopped thread: the next page reads.
    const next = await inspected(tagged, 'auto', [2]);
    assert.equal((await mockActivity().run(processPage, input(next, 2))).method, 'text-layer');
  });

  it('drops a result that arrives after the attempt was cancelled', async () => {
    // An engine that finishes its read whatever the signal says.
    const deaf = new (class extends DelegatingPdf {
      override async extractText(p: string, n: number): Promise<PageText> {
        await sleep(300);
        return this.inner.extractText(p, n);
      }
    })(pdf);
    const { processPage } = pageActivity(deaf);
    const job = await inspected(tagged, 'auto', [2]);
    const { env, run } = mockActivity();
    const running = run(processPage, input(job, 2));
    await sleep(100);
    env.cancel();
    await assert.rejects(running);
    await sleep(400);
    assert.equal((await row(job, 2)).status, 'processing', 'the late text was not recorded');
  });
});
