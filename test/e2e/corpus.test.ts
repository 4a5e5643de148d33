/**
 * The corpus end to end through the HTTP API, the Temporal workflow and a real worker: every manifest
 * entry of the categories the core pipeline owns gets the outcome its `expected` field describes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { characterErrorRate, wordRecall } from '../support/text-metrics.js';
import { corpusPath, expectedKind, loadManifest, type CorpusEntry } from '../support/corpus.js';
import {
  getResult,
  startApi,
  startWorker,
  submit,
  uniqueTaskQueue,
  waitForJob,
  type FolioProcess,
} from '../support/stack.js';

/** Upper CER bounds for OCR through Folio (pdf.js render at 300 dpi → tesseract.js), measured here with headroom. */
const CER_BOUNDS: Record<string, number> = {
  'scanned/tess-phototest.pdf': 0.01, // measured 0.000
  'scanned/tess-eurotext.pdf': 0.03, // 0.019 (eng model on a multilingual page)
  'scanned/tess-8071_093.3B.pdf': 0.11, // 0.094 (zone transcription)
  'scanned/tess-8087_054.3B.pdf': 0.09, // 0.076
  'scanned/scribe-multicol_05.pdf': 0.025, // 0.014
  'scanned/scribe-filing_01.pdf': 0.01, // 0.004
  'scanned/scribe-receipt_03.pdf': 0.01, // 0.002
  'scanned/ocrmypdf-linn.pdf': 0.02, // 0.009 (approximate reference)
  'scanned/ocrmypdf-skew.pdf': 0.13, // 0.101 (skewed scan, approximate reference)
};
/** Column-major truth makes CER meaningless for this table; word recall is checked instead. */
const RECALL_BOUNDS: Record<string, number> = { 'scanned/scribe-table_02.pdf': 0.9 }; // measured 0.979

/** Per-page decisions the manifest's `partial:` reasons spell out for mixed documents. */
const PAGE_METHODS: Record<string, Record<number, string>> = {
  'mixed/derived-tagged-plus-scan.pdf': { 1: 'text-layer', 2: 'ocr', 3: 'text-layer' },
  'mixed/ocrmypdf-multipage.pdf': { 1: 'ocr', 3: 'ocr', 4: 'text-layer', 5: 'ocr', 6: 'ocr' },
};

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

const CATEGORIES = new Set(['scanned', 'born-digital', 'mixed', 'encrypted', 'corrupt', 'not-pdf']);
const entries = loadManifest().filter((e) => CATEGORIES.has(e.category));

describe('corpus through the API', () => {
  let api: FolioProcess & { url: string };
  let worker: FolioProcess;
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });

  before(async () => {
    const queue = uniqueTaskQueue('corpus');
    [api, worker] = await Promise.all([
      startApi({ TEMPORAL_TASK_QUEUE: queue }),
      startWorker({ TEMPORAL_TASK_QUEUE: queue }),
    ]);
  });
  after(async () => {
    await Promise.all([api?.stop(), worker?.stop(), pdf.close()]);
  });

  it('covers every entry of its categories in the manifest', () => {
    assert.ok(entries.length >= 50, `only ${entries.length} entries`);
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
    if (entry.category === 'not-pdf' || res.status !== 202) {
      // Checked by content at the edge: no job is created.
      const body = (await res.json()) as { error: { code: string; message: string } };
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
    if (kind === 'partial') {
      // No single right answer: any clean, finished outcome with an explained failure.
      assert.ok(['completed', 'partial', 'failed'].includes(status.status), where);
      if (status.status !== 'completed') assert.ok(status.error?.code, where);
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
    if (entry.groundTruth) {
      const truth = fs.readFileSync(corpusPath(entry.groundTruth), 'utf8');
      const cer = characterErrorRate(text, truth);
      const recall = wordRecall(text, truth);
      console.log(`  OCR ${entry.file}: CER ${(cer * 100).toFixed(2)} %, word recall ${(recall * 100).toFixed(1)} %`);
      const cerBound = CER_BOUNDS[entry.file];
      const recallBound = RECALL_BOUNDS[entry.file];
      assert.ok(cerBound !== undefined || recallBound !== undefined, `no accuracy bound set for ${entry.file}`);
      if (cerBound !== undefined) assert.ok(cer <= cerBound, `${entry.file}: CER ${cer.toFixed(4)} > ${cerBound}`);
      if (recallBound !== undefined)
        assert.ok(recall >= recallBound, `${entry.file}: recall ${recall.toFixed(3)} < ${recallBound}`);
    }
  }
});
