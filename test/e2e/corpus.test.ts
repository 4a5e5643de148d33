/**
 * The corpus end to end through the HTTP API, the Temporal workflow and a real worker: every manifest
 * entry gets the outcome its `expected` field describes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { degrees, PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import type { Word } from '../../activities/adapters/types.js';
import { characterErrorRate, wordRecall } from '../support/text-metrics.js';
import { corpusPath, expectedKind, loadManifest, type CorpusEntry } from '../support/corpus.js';
import { CER_BOUNDS, RECALL_BOUNDS, TRUTH_PER_PAGE } from '../support/ocr-bounds.js';
import { imageTypeOf } from '../../core/document-type.js';
import { getResult, startStack, submit, waitForJob, type ApiProcess, type Stack } from '../support/stack.js';

/** Per-page decisions the manifest's `partial:` reasons spell out for mixed documents. */
const PAGE_METHODS: Record<string, Record<number, string>> = {
  'mixed/derived-tagged-plus-scan.pdf': { 1: 'text-layer', 2: 'ocr', 3: 'text-layer' },
  'mixed/ocrmypdf-multipage.pdf': { 1: 'ocr', 3: 'ocr', 4: 'text-layer', 5: 'ocr', 6: 'ocr' },
};

/**
 * Where a `partial:` reason allows "reject with a limit error", the code it must be. The corpus stack runs
 * with MAX_PAGES below freeculture's 352 pages (processing all of them belongs in bench/, not CI).
 */
const LIMIT_CODES: Record<string, string> = {
  'huge/pdfjs-freeculture.pdf': 'TOO_MANY_PAGES',
  // A 35000 × 35000 px image: over the decode limit, the page fails instead of coming back blank.
  'huge/ocrmypdf-hugemono.pdf': 'PAGE_TOO_LARGE',
};
const MAX_PAGES = 300;

/** The stable codes a `reject:` reason maps to. */
function rejectCodes(expected: string): string[] {
  if (/password required/.test(expected)) return ['PDF_PASSWORD_REQUIRED'];
  if (/invalid PDF|truncated/.test(expected)) return ['PDF_CORRUPT'];
  if (/no pages/.test(expected)) return ['PDF_NO_PAGES'];
  if (/cannot be parsed/.test(expected)) return ['PAGE_UNREADABLE'];
  if (/empty file/.test(expected)) return ['EMPTY_FILE'];
  if (/not a PDF/.test(expected)) return ['NOT_PDF'];
  throw new Error(`no code known for ${expected}`);
}

const entries = loadManifest();
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
/** Outcomes seen, per category, for the report at the end. */
const outcomes = new Map<string, Map<string, number>>();

function record(entry: CorpusEntry, outcome: string): void {
  const counts = outcomes.get(entry.category) ?? new Map<string, number>();
  counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  outcomes.set(entry.category, counts);
}

describe('corpus through the API', () => {
  let stack: Stack;
  let api: ApiProcess;
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });

  before(async () => {
    stack = await startStack({ name: 'corpus', worker: { MAX_PAGES: String(MAX_PAGES) } });
    api = stack.api;
  });
  after(async () => {
    await Promise.all([stack?.stop(), pdf.close()]);
    const report = [...outcomes].map(
      ([category, counts]) => `${category}: ${JSON.stringify(Object.fromEntries(counts))}`,
    );
    console.log(`  corpus outcomes by category\n    ${report.join('\n    ')}`);
  });

  it('covers every entry in the manifest', () => {
    assert.ok(entries.length >= 79, `only ${entries.length} entries`);
  });

  it('never runs a document script nor calls out because of one (synthetic)', { timeout: 240_000 }, async () => {
    // A listener the document's scripts and actions point at: any request to it is a script that ran.
    const hits: string[] = [];
    const listener: Server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
      const doc = await PDFDocument.create();
      const font = await doc.embedFont(StandardFonts.Helvetica);
      doc.addPage([300, 200]).drawText('Folio script canary', { x: 20, y: 100, size: 12, font });
      const script = [
        `app.launchURL("${url}/launch", true);`,
        `this.submitForm("${url}/submit");`,
        `this.getURL("${url}/get");`,
        `this.getField("x").value = "changed";`,
      ].join('\n');
      const context = doc.context;
      doc.catalog.set(
        PDFName.of('OpenAction'),
        context.obj({
          Type: 'Action',
          S: 'JavaScript',
          JS: PDFString.of(script),
          Next: context.obj({ S: 'URI', URI: PDFString.of(`${url}/uri`) }),
        }),
      );
      doc
        .getPage(0)
        .node.set(PDFName.of('AA'), context.obj({ O: context.obj({ S: 'JavaScript', JS: PDFString.of(script) }) }));
      const res = await submit(api.url, { name: 'scripted.pdf', bytes: await doc.save() });
      assert.equal(res.status, 202, await res.clone().text());
      const { jobId } = (await res.json()) as { jobId: string };
      const status = await waitForJob(api.url, jobId, 200_000);
      assert.equal(status.status, 'completed', JSON.stringify(status.error));
      const [page] = (await getResult(api.url, jobId)).pages;
      assert.equal(page?.text, 'Folio script canary');
      // The listener does record requests: only this one, the test's own, reached it.
      await fetch(`${url}/control`);
      assert.deepEqual(hits, ['GET /control']);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('reads a page scanned a quarter turn off upright (synthetic)', { timeout: 240_000 }, async () => {
    // The phototest scan drawn turned 90° clockwise inside the page's content: no /Rotate to tell.
    const source = await PDFDocument.load(fs.readFileSync(corpusPath('scanned/tess-phototest.pdf')));
    const out = await PDFDocument.create();
    const [embedded] = await out.embedPdf(source, [0]);
    assert.ok(embedded);
    const page = out.addPage([embedded.height, embedded.width]);
    page.drawPage(embedded, { x: 0, y: embedded.width, rotate: degrees(-90) });
    const res = await submit(api.url, { name: 'quarter-turn.pdf', bytes: await out.save() });
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await waitForJob(api.url, jobId, 200_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    const result = await getResult(api.url, jobId);
    const [only] = result.pages;
    assert.ok(only);
    assert.equal(only.method, 'ocr');
    const cer = characterErrorRate(only.text, fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8'));
    console.log(`  OCR quarter-turn phototest: CER ${(cer * 100).toFixed(2)} %`);
    assert.ok(cer <= 0.01, `CER ${cer.toFixed(4)}`);
    // Boxes stay in the page's own frame (landscape page, text running down it), not the upright image's.
    const words = only.words as Word[];
    for (const word of words) {
      assert.ok(word.bbox.x1 <= embedded.height + 1 && word.bbox.y1 <= embedded.width + 1, JSON.stringify(word));
    }
    const tall = words.filter((w) => w.text.length >= 4);
    assert.ok(tall.length > 10);
    assert.ok(
      tall.every((w) => w.bbox.y1 - w.bbox.y0 > w.bbox.x1 - w.bbox.x0),
      'words do not run down the page',
    );
  });

  for (const entry of entries) {
    it(`${entry.file} → ${entry.expected}`, { timeout: 240_000 }, async () => {
      await checkEntry(entry);
    });
  }

  async function checkEntry(entry: CorpusEntry): Promise<void> {
    const kind = expectedKind(entry.expected);
    // A file that needs a user password comes with it (waiting for one is test/e2e/passwords.test.ts's subject).
    const res = await submit(api.url, corpusPath(entry.file), {
      password: entry.requiresPassword ? entry.password : undefined,
    });
    if (entry.category === 'not-pdf' && imageTypeOf(fs.readFileSync(corpusPath(entry.file)).subarray(0, 16))) {
      // A PNG or TIFF renamed .pdf: typed by content, it is an image document now, read as one page by OCR.
      assert.equal(res.status, 202, await res.clone().text());
      const { jobId } = (await res.json()) as { jobId: string };
      const status = await waitForJob(api.url, jobId, 200_000);
      record(entry, `read as an image: ${status.status}`);
      assert.equal(status.status, 'completed', JSON.stringify(status.error));
      const result = await getResult(api.url, jobId);
      assert.deepEqual(
        result.pages.map((p) => [p.number, p.method]),
        [[1, 'ocr']],
      );
      assert.ok(result.pages[0]!.text.trim().length > 0, `${entry.file}: no text read`);
      return;
    }
    if (entry.category === 'not-pdf' || res.status !== 202) {
      // Checked by content at the edge: no job is created.
      const body = (await res.json()) as { error: { code: string; message: string } };
      record(entry, `rejected ${res.status} ${body.error.code}`);
      assert.equal(kind, 'reject');
      assert.ok(rejectCodes(entry.expected).includes(body.error.code), `${res.status} ${JSON.stringify(body)}`);
      assert.ok(res.status === 415 || res.status === 400, `status ${res.status}`);
      assert.ok(body.error.message.length > 10);
      return;
    }
    assert.equal(res.status, 202, await res.clone().text());
    assert.match(res.headers.get('location') ?? '', /^\/v1\/jobs\//);
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await waitForJob(api.url, jobId, 200_000);
    const where = `${entry.file}: ${JSON.stringify({ status: status.status, error: status.error })}`;
    record(entry, status.error?.code ? `${status.status} ${status.error.code}` : status.status);
    if (entry.requiresPassword) {
      // Its `reject: password required` describes the file without its password.
      assert.equal(status.status, 'completed', where);
      assert.equal(status.progress.pagesTotal, entry.pages, where);
      return;
    }

    if (kind === 'reject') {
      const codes = rejectCodes(entry.expected);
      if (codes.includes('PAGE_UNREADABLE')) {
        // The page is at fault, not the document: the job fails with that page named.
        assert.ok(status.status === 'failed' || status.status === 'partial', where);
        assert.equal(status.error?.code, 'PAGE_UNREADABLE', where);
        assert.equal(status.error?.page, 1, where);
      } else {
        assert.equal(status.status, 'failed', where);
        assert.ok(codes.includes(status.error?.code ?? ''), where);
      }
      assert.ok((status.error?.message.length ?? 0) > 10, where);
      return;
    }
    const limitCode = LIMIT_CODES[entry.file];
    if (limitCode) {
      assert.equal(status.status, 'failed', where);
      assert.equal(status.error?.code, limitCode, where);
      assert.ok((status.error?.message.length ?? 0) > 10, where);
      if (limitCode === 'TOO_MANY_PAGES') {
        // Refused from the count alone: no page was opened or recorded.
        assert.match(status.error?.message ?? '', new RegExp(`${entry.pages} pages.*at most ${MAX_PAGES}`), where);
        assert.equal(status.pages.length, 0, where);
      } else {
        assert.equal(status.error?.page, 1, where);
      }
      return;
    }
    if (kind === 'partial') {
      // No single right answer: any clean, finished outcome with an explained failure.
      assert.ok(['completed', 'partial', 'failed'].includes(status.status), where);
      if (status.status !== 'completed') assert.ok(status.error?.code, where);
      if (entry.tags.includes('resource-exhaustion') && status.status !== 'completed') {
        assert.match(status.error?.code ?? '', /^PAGE_(RESOURCE_LIMIT|TOO_LARGE|UNREADABLE)$/, where);
      }
      if (/blank page/.test(entry.expected) && status.status === 'completed') {
        // Nothing on the page, and nothing a script could have put there.
        const result = await getResult(api.url, jobId);
        for (const page of result.pages) assert.equal(page.text.trim(), '', `${where} page ${page.number}`);
      }
      if (entry.groundTruth) {
        // The content is known (the poster is the linn page): read it within the render limits.
        assert.equal(status.status, 'completed', where);
        checkOcrText(entry, await getResult(api.url, jobId));
      }
      const wanted = PAGE_METHODS[entry.file];
      if (wanted) {
        const methods = Object.fromEntries(status.pages.map((p) => [p.number, p.method]));
        for (const [page, method] of Object.entries(wanted))
          assert.equal(methods[page], method, `${where} page ${page}`);
      }
      return;
    }

    assert.equal(status.status, 'completed', where);
    assert.equal(status.progress.percent, 100);
    if (entry.pages !== null) assert.equal(status.progress.pagesTotal, entry.pages, where);
    const result = await getResult(api.url, jobId);
    assert.equal(result.pages.length, status.progress.pagesTotal);
    if (kind === 'text-layer') {
      assert.ok(
        result.pages.some((p) => p.method === 'text-layer' && p.text.trim().length > 0),
        where,
      );
      if (entry.tags.includes('cjk')) {
        // With pdf.js's cMaps from the installed package, not a handful of punctuation marks.
        const cjk = result.pages.map((p) => p.text.match(CJK)?.length ?? 0).reduce((a, b) => a + b, 0);
        assert.ok(cjk > 300, `${where}: ${cjk} CJK characters`);
      }
      if (entry.category === 'born-digital') {
        // Exactly the text layer, page by page, where the page has real text; a page whose "text" is
        // unmapped glyphs (TAMReview's pages 2–22: spaces, control characters and stray punctuation)
        // is read by OCR instead, which is what a reader of that page wants.
        for (const page of result.pages) {
          const direct = await pdf.extractText(corpusPath(entry.file), page.number);
          const label = `${entry.file} page ${page.number}`;
          assert.equal(page.method, direct.usable ? 'text-layer' : 'ocr', label);
          if (direct.usable) assert.equal(page.text, direct.text, label);
        }
        for (const page of result.pages.filter((p) => p.method === 'ocr')) {
          assert.ok(page.words.length > 10, `${entry.file} page ${page.number}: OCR found no text`);
        }
      }
      return;
    }
    // kind === 'ocr'
    for (const page of result.pages) {
      assert.equal(page.method, 'ocr', `${entry.file} page ${page.number}`);
      assert.ok(page.words.length > 0 && page.confidence > 0, `${entry.file} page ${page.number} has no words`);
    }
    const text = result.pages.map((p) => p.text).join('\n');
    assert.ok(text.trim().length > 0, where);
    checkOcrText(entry, result);
  }

  /** OCR accuracy against the entry's ground truth, where it has one. */
  function checkOcrText(entry: CorpusEntry, result: Awaited<ReturnType<typeof getResult>>): void {
    if (!entry.groundTruth) return;
    const truth = fs.readFileSync(corpusPath(entry.groundTruth), 'utf8');
    const texts = TRUTH_PER_PAGE.has(entry.file)
      ? result.pages.map((p) => ({ label: `${entry.file} page ${p.number}`, text: p.text }))
      : [{ label: entry.file, text: result.pages.map((p) => p.text).join('\n') }];
    for (const { label, text } of texts) {
      const cer = characterErrorRate(text, truth);
      const recall = wordRecall(text, truth);
      console.log(`  OCR ${label}: CER ${(cer * 100).toFixed(2)} %, word recall ${(recall * 100).toFixed(1)} %`);
      const cerBound = CER_BOUNDS[entry.file];
      const recallBound = RECALL_BOUNDS[entry.file];
      assert.ok(cerBound !== undefined || recallBound !== undefined, `no accuracy bound set for ${entry.file}`);
      if (cerBound !== undefined) assert.ok(cer <= cerBound, `${label}: CER ${cer.toFixed(4)} > ${cerBound}`);
      if (recallBound !== undefined)
        assert.ok(recall >= recallBound, `${label}: recall ${recall.toFixed(3)} < ${recallBound}`);
    }
  }
});
