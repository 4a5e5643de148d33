/**
 * The document activities (activities/document.ts) in @temporalio/testing's MockActivityEnvironment, on the
 * real PostgreSQL of the harness and the real pdf.js engine: inspect records the selected pages and refuses
 * what no retry can fix (TOO_MANY_PAGES before a page is opened, PAGE_RANGE_INVALID, PDF_CORRUPT,
 * FILE_MISSING, the password failures) as non-retryable failures; checkDocumentPassword answers rather than
 * fails; recordPageFailure counts a page once; updateJob and finalizeDocument move the job as the workflow
 * decides, never backwards.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { Registry } from 'prom-client';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import type { InspectOptions, OcrEngine, PdfEngine, PdfInspection } from '../../activities/adapters/types.js';
import { createActivities } from '../../activities/index.js';
import { createPageMetrics } from '../../activities/page-metrics.js';
import type { PagePlan } from '../../core/contracts.js';
import type { Job } from '../../core/db/models.js';
import { generateSecretKey, parseSecretKey, seal } from '../../core/sealed-secret.js';
import { acceptJob, metricValue, mockActivity, openActivityTestBed } from '../support/activities.js';
import { corpusPath } from '../support/corpus.js';

const bed = await openActivityTestBed('document-activities');
const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
after(async () => {
  await pdf.close();
  await bed.close();
});

/** The document activities never read a page: an OCR engine that says so if asked. */
const noOcr: OcrEngine = {
  recognize: () => Promise.reject(new Error('the document activities do not OCR')),
  availableLanguages: () => ['eng'],
  close: () => Promise.resolve(),
};
const plan: PagePlan = {
  window: 3,
  pagesPerChild: 40,
  pageTimeoutSeconds: 90,
  pageMaxAttempts: 4,
  heartbeatTimeoutSeconds: 20,
};
const secretKey = parseSecretKey(generateSecretKey())!;

function documentActivities(
  options: { maxPages?: number; secretKey?: Buffer | null; pdf?: PdfEngine; heartbeatIntervalMs?: number } = {},
) {
  const registry = new Registry();
  const activities = createActivities({
    models: bed.models,
    storage: bed.storage,
    pdf: options.pdf ?? pdf,
    ocr: noOcr,
    metrics: createPageMetrics(registry),
    documentSecretKey: options.secretKey === null ? undefined : (options.secretKey ?? secretKey),
    settings: {
      dpi: 300,
      renderMaxPixels: 40_000_000,
      maxPages: options.maxPages ?? 500,
      plan,
      ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    },
  });
  return { ...activities, registry };
}

const tracemonkey = corpusPath('born-digital/pdfjs-tracemonkey.pdf');
const locked = corpusPath('encrypted/pdfjs-pr6531_1.pdf');
const lockedPassword = 'asdfasdf';

/** The call failed with a non-retryable ApplicationFailure of this type; its message is returned. */
async function refused(call: Promise<unknown>, type: string): Promise<string> {
  let message = '';
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, type, err.message);
    assert.equal(err.nonRetryable, true);
    message = err.message;
    return true;
  });
  return message;
}

async function pageRows(job: Job) {
  const rows = await bed.models.JobPage.findAll({ where: { jobId: job.id }, order: [['pageNumber', 'ASC']] });
  return rows.map((r) => ({ number: r.pageNumber, status: r.status, width: r.width, height: r.height }));
}

describe('inspectDocument', () => {
  const { inspectDocument } = documentActivities();

  it('records one pending row per selected page, with its size, and returns the pages and the plan', async () => {
    const job = await acceptJob(bed, tracemonkey);
    const input = { jobId: job.id, storageKey: job.storageKey, pages: '9,2-4' };
    const out = await mockActivity().run(inspectDocument, input);
    assert.deepEqual(out, { pageCount: 14, encrypted: false, pageNumbers: [2, 3, 4, 9], plan });
    const rows = await pageRows(job);
    assert.deepEqual(
      rows.map((r) => [r.number, r.status]),
      [
        [2, 'pending'],
        [3, 'pending'],
        [4, 'pending'],
        [9, 'pending'],
      ],
    );
    assert.ok(
      rows.every((r) => r.width === 612 && r.height === 792),
      JSON.stringify(rows[0]),
    );
    await job.reload();
    assert.deepEqual([job.pageCount, job.pagesSelected, job.encrypted], [14, 4, false]);
    // Run again (a retried inspect): the same rows, nothing doubled.
    await mockActivity().run(inspectDocument, input);
    assert.equal((await pageRows(job)).length, 4);
  });

  it('heartbeats while it works, so a lost or dead attempt is retried within its heartbeat timeout', async () => {
    // A slow engine: the inspection takes 300 ms, beating every 50 ms meanwhile.
    const slow = new Proxy(pdf, {
      get(target, prop, receiver) {
        if (prop !== 'inspect') return Reflect.get(target, prop, receiver) as unknown;
        return async (path: string, options?: InspectOptions): Promise<PdfInspection> => {
          await new Promise((r) => setTimeout(r, 300));
          return target.inspect(path, options);
        };
      },
    });
    const { inspectDocument: beating, checkDocumentPassword } = documentActivities({
      pdf: slow,
      heartbeatIntervalMs: 50,
    });
    const job = await acceptJob(bed, tracemonkey);
    const input = { jobId: job.id, storageKey: job.storageKey };
    const inspecting = mockActivity();
    await inspecting.run(beating, input);
    const checking = mockActivity();
    assert.deepEqual(await checking.run(checkDocumentPassword, { ...input, password: seal(secretKey, job.id, 'x') }), {
      opens: true,
    });
    for (const { heartbeats } of [inspecting, checking]) {
      assert.ok(heartbeats.length >= 3, `${heartbeats.length} heartbeats in 300 ms at one per 50 ms`);
    }
  });

  it('refuses a document over MAX_PAGES with TOO_MANY_PAGES, from the count alone, recording no page', async () => {
    const { inspectDocument: limited } = documentActivities({ maxPages: 100 });
    const job = await acceptJob(bed, corpusPath('huge/pdfjs-freeculture.pdf'));
    const message = await refused(
      mockActivity().run(limited, { jobId: job.id, storageKey: job.storageKey }),
      'TOO_MANY_PAGES',
    );
    assert.match(message, /has 352 pages; this service accepts at most 100/);
    assert.deepEqual(await pageRows(job), []);
  });

  it('refuses a page selection beyond the document with PAGE_RANGE_INVALID, recording no page', async () => {
    const job = await acceptJob(bed, tracemonkey);
    const message = await refused(
      mockActivity().run(inspectDocument, { jobId: job.id, storageKey: job.storageKey, pages: '2,15' }),
      'PAGE_RANGE_INVALID',
    );
    assert.match(message, /has 14 page/);
    assert.deepEqual(await pageRows(job), []);
  });

  it('refuses a corrupt file with PDF_CORRUPT and a file gone from storage with FILE_MISSING', async () => {
    const corrupt = await acceptJob(bed, corpusPath('corrupt/ocrmypdf-invalid.pdf'));
    await refused(
      mockActivity().run(inspectDocument, { jobId: corrupt.id, storageKey: corrupt.storageKey }),
      'PDF_CORRUPT',
    );
    const gone = await acceptJob(bed, null);
    const message = await refused(
      mockActivity().run(inspectDocument, { jobId: gone.id, storageKey: gone.storageKey }),
      'FILE_MISSING',
    );
    assert.match(message, /upload it again/);
  });

  it('opens an encrypted document with its sealed password, and refuses it without one or with a wrong one', async () => {
    const job = await acceptJob(bed, locked);
    const base = { jobId: job.id, storageKey: job.storageKey };
    await refused(mockActivity().run(inspectDocument, base), 'PDF_PASSWORD_REQUIRED');
    await refused(
      mockActivity().run(inspectDocument, { ...base, password: seal(secretKey, job.id, 'wrong') }),
      'PDF_PASSWORD_INCORRECT',
    );
    const out = await mockActivity().run(inspectDocument, {
      ...base,
      password: seal(secretKey, job.id, lockedPassword),
    });
    assert.deepEqual([out.pageCount, out.encrypted, out.pageNumbers], [1, true, [1]]);
  });

  it('refuses a password sealed under another key, or on a worker without a key', async () => {
    const job = await acceptJob(bed, locked);
    const otherKey = parseSecretKey(generateSecretKey())!;
    const base = { jobId: job.id, storageKey: job.storageKey };
    const mismatch = await refused(
      mockActivity().run(inspectDocument, { ...base, password: seal(otherKey, job.id, lockedPassword) }),
      'PASSWORD_KEY_MISMATCH',
    );
    assert.match(mismatch, /another DOCUMENT_SECRET_KEY/);
    // Sealed for another job: the same refusal (the seal binds the job id).
    await refused(
      mockActivity().run(inspectDocument, { ...base, password: seal(secretKey, 'another-job', lockedPassword) }),
      'PASSWORD_KEY_MISMATCH',
    );
    const { inspectDocument: keyless } = documentActivities({ secretKey: null });
    await refused(
      mockActivity().run(keyless, { ...base, password: seal(secretKey, job.id, lockedPassword) }),
      'PASSWORD_KEY_MISSING',
    );
  });
});

describe('checkDocumentPassword', () => {
  const { checkDocumentPassword } = documentActivities();

  it('answers whether a sealed password opens the document; a wrong one is an answer, not a failure', async () => {
    const job = await acceptJob(bed, locked);
    const check = (password: string) =>
      mockActivity().run(checkDocumentPassword, {
        jobId: job.id,
        storageKey: job.storageKey,
        password: seal(secretKey, job.id, password),
      });
    assert.deepEqual(await check(lockedPassword), { opens: true });
    const wrong = await check('not it');
    assert.equal(wrong.opens, false);
    assert.ok(!wrong.opens);
    assert.equal(wrong.code, 'PDF_PASSWORD_INCORRECT');
    assert.match(wrong.message, /does not open the document.*keeps waiting/);
  });
});

describe('recordPageFailure', () => {
  it('marks the page failed and counts it once, however often it is called', async () => {
    const { recordPageFailure, registry } = documentActivities();
    const job = await acceptJob(bed, tracemonkey);
    await bed.jobs.recordInspection(job.id, {
      pageCount: 2,
      encrypted: false,
      pages: [
        { number: 1, width: 612, height: 792 },
        { number: 2, width: 612, height: 792 },
      ],
    });
    const failure = { jobId: job.id, pageNumber: 1, code: 'PAGE_TIMEOUT', message: 'The page did not finish in time.' };
    const first = mockActivity();
    await first.run(recordPageFailure, failure);
    // The activity retried after its update landed (the worker died before reporting it).
    const again = mockActivity({ attempt: 2 });
    await again.run(recordPageFailure, failure);

    assert.equal(await metricValue(registry, 'folio_pages_failed_total', { code: 'PAGE_TIMEOUT' }), 1);
    assert.deepEqual(first.messages(), ['Page failed']);
    assert.deepEqual(again.messages(), []);
    const row = await bed.models.JobPage.findOne({ where: { jobId: job.id, pageNumber: 1 } });
    assert.deepEqual([row?.status, row?.errorCode, row?.errorMessage], ['failed', 'PAGE_TIMEOUT', failure.message]);

    // A page read meanwhile stays read.
    await bed.jobs.pageRead(
      { jobId: job.id, pageNumber: 2 },
      { method: 'text-layer', text: 'read', confidence: 100, words: [], renderDpi: null, hasTextLayer: true },
      1,
      5,
    );
    await mockActivity().run(recordPageFailure, { ...failure, pageNumber: 2 });
    assert.equal((await bed.models.JobPage.findOne({ where: { jobId: job.id, pageNumber: 2 } }))?.status, 'done');
    assert.equal(await metricValue(registry, 'folio_pages_failed_total'), 1);
  });
});

describe('updateJob and finalizeDocument', () => {
  const { updateJob, finalizeDocument } = documentActivities();

  async function jobWithPages(statuses: ('done' | 'failed' | 'pending' | 'processing')[]): Promise<Job> {
    const job = await acceptJob(bed, tracemonkey);
    await bed.jobs.recordInspection(job.id, {
      pageCount: statuses.length,
      encrypted: false,
      pages: statuses.map((_, i) => ({ number: i + 1, width: 612, height: 792 })),
    });
    for (const [i, status] of statuses.entries()) {
      await bed.models.JobPage.update(
        {
          status,
          errorCode: status === 'failed' ? 'PAGE_UNREADABLE' : null,
          errorMessage: status === 'failed' ? `Page ${i + 1} is bad.` : null,
        },
        { where: { jobId: job.id, pageNumber: i + 1 } },
      );
    }
    return job;
  }

  it('moves an active job as the workflow decides, and never moves a finished one', async () => {
    const job = await acceptJob(bed, tracemonkey);
    await mockActivity().run(updateJob, { jobId: job.id, status: 'processing', step: 'inspecting' });
    await job.reload();
    assert.deepEqual([job.status, job.step], ['processing', 'inspecting']);
    assert.ok(job.startedAt);
    await mockActivity().run(updateJob, {
      jobId: job.id,
      status: 'failed',
      step: 'done',
      error: { code: 'PDF_CORRUPT', message: 'Broken.' },
    });
    await job.reload();
    assert.deepEqual([job.status, job.errorCode, job.errorMessage], ['failed', 'PDF_CORRUPT', 'Broken.']);
    assert.ok(job.finishedAt);
    // A late retry of the first update: the failed job stays failed.
    await mockActivity({ attempt: 2 }).run(updateJob, { jobId: job.id, status: 'processing', step: 'inspecting' });
    await job.reload();
    assert.deepEqual([job.status, job.step], ['failed', 'done']);
  });

  it('derives the end from the pages: completed, partial with the first failed page, failed', async () => {
    const cases = [
      [['done', 'done'], { status: 'completed', pagesDone: 2, pagesFailed: 0 }],
      [['done', 'failed', 'failed'], { status: 'partial', pagesDone: 1, pagesFailed: 2 }],
      [['failed'], { status: 'failed', pagesDone: 0, pagesFailed: 1 }],
    ] as const;
    for (const [statuses, expected] of cases) {
      const job = await jobWithPages([...statuses]);
      assert.deepEqual(await mockActivity().run(finalizeDocument, { jobId: job.id }), expected);
      await job.reload();
      assert.deepEqual([job.status, job.step], [expected.status, 'done']);
      if (expected.pagesFailed > 0) {
        const firstFailed = (statuses as readonly string[]).indexOf('failed') + 1;
        assert.deepEqual([job.errorCode, job.errorPage], ['PAGE_UNREADABLE', firstFailed]);
        assert.match(
          job.errorMessage ?? '',
          new RegExp(`${expected.pagesFailed} page\\(s\\) failed; page ${firstFailed}`),
        );
      } else {
        assert.equal(job.errorCode, null);
      }
    }
  });

  it('cancelled: pages that never ran are skipped, finished pages keep their state', async () => {
    const job = await jobWithPages(['done', 'failed', 'processing', 'pending']);
    assert.deepEqual(await mockActivity().run(finalizeDocument, { jobId: job.id, cancelled: true }), {
      status: 'cancelled',
      pagesDone: 1,
      pagesFailed: 1,
    });
    assert.deepEqual(
      (await pageRows(job)).map((r) => r.status),
      ['done', 'failed', 'skipped', 'skipped'],
    );
    await job.reload();
    assert.deepEqual([job.status, job.errorCode], ['cancelled', null]);
  });
});
