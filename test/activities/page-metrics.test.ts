/**
 * Page metrics on the failure paths, through the real workflow on the real Temporal server: a page that
 * fails once and is retried, and a page that fails for good, are counted as such.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { InputError, type OpenOptions, type PageText } from '../../activities/adapters/types.js';
import { createPageMetrics } from '../../activities/page-metrics.js';
import { corpusPath } from '../support/corpus.js';
import { startStack, submit, waitForJob, type ApiProcess, type Stack } from '../support/stack.js';
import { DelegatingPdf } from '../support/engines.js';

/** Reads real text layers, except that page 1 fails once (transient) and page 2 always (permanent). */
class FailingPages extends DelegatingPdf {
  private page1Failed = false;
  override async extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    if (n === 1 && !this.page1Failed) {
      this.page1Failed = true;
      throw new Error('simulated transient read error');
    }
    if (n === 2) throw new InputError('PAGE_UNREADABLE', 'Page 2 cannot be parsed.');
    return this.inner.extractText(p, n, o);
  }
}

describe('page metrics on failures', () => {
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });
  const ocr = new TesseractEngine({ workers: 1 });
  const registry = new Registry();
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    stack = await startStack({
      name: 'page-metrics',
      inProcessWorker: { pdf: new FailingPages(pdf), ocr, metrics: createPageMetrics(registry) },
    });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
    await Promise.all([pdf.close(), ocr.close()]);
  });

  async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = registry.getSingleMetric(name);
    assert.ok(metric, `${name} is not registered`);
    const { values } = await metric.get();
    const found = values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return found.reduce((n, v) => n + v.value, 0);
  }

  it('counts failed attempts, retries and pages that failed for good', async () => {
    const res = await submit(api.url, corpusPath('born-digital/pdfjs-tracemonkey.pdf'), { pages: '1-3' });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await waitForJob(api.url, jobId, 120_000);
    assert.equal(status.status, 'partial');

    // Page 1: an error, then done on its retry; page 2: one non-retryable error; page 3: done.
    assert.equal(await value('folio_pages_total', { method: 'text-layer', outcome: 'done' }), 2);
    assert.equal(await value('folio_pages_total', { method: 'text-layer', outcome: 'error' }), 2);
    assert.equal(await value('folio_pages_total', { outcome: 'cancelled' }), 0);
    assert.equal(await value('folio_pages_total', { method: 'ocr' }), 0);
    assert.equal(await value('folio_page_retries_total'), 1);
    assert.equal(await value('folio_pages_failed_total', { code: 'PAGE_UNREADABLE' }), 1);
    assert.equal(await value('folio_pages_failed_total'), 1);
    assert.equal(await value('folio_pages_in_flight'), 0);
    assert.equal(await value('folio_page_duration_seconds', { method: 'text-layer', le: '+Inf' }), 4);
  });
});
