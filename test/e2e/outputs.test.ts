/**
 * GET /v1/jobs/{id}/result in every format through a real API and worker, for a scan (OCR) and a born-digital
 * file (text layer): each format parsed back and checked against the JSON result of the same job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels } from '../../core/db/models.js';
import { ALTO_NAMESPACE } from '../../core/outputs/alto.js';
import { corpusPath } from '../support/corpus.js';
import {
  authHeaders,
  getResult,
  harnessEnv,
  startStack,
  submit,
  waitForJob,
  type JobResultBody,
  type Stack,
} from '../support/stack.js';

interface ResultWord {
  text: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}

describe('result formats over HTTP', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const { JobPage } = initAppModels(db);
  let stack: Stack;
  const jobs: Record<'scan' | 'text', { id: string; name: string; json: JobResultBody }> = {} as never;

  before(async () => {
    stack = await startStack({ name: 'outputs', worker: true });
    const files = {
      scan: { file: 'scanned/tess-phototest.pdf', fields: {} },
      text: { file: 'born-digital/ocrmypdf-tagged.pdf', fields: { pages: '1-2' } },
    };
    for (const [key, { file, fields }] of Object.entries(files) as [keyof typeof files, (typeof files)['scan']][]) {
      const res = await submit(stack.api.url, corpusPath(file), fields);
      assert.equal(res.status, 202);
      const { jobId } = (await res.json()) as { jobId: string };
      assert.equal((await waitForJob(stack.api.url, jobId, 180_000)).status, 'completed', file);
      jobs[key] = {
        id: jobId,
        name: file
          .split('/')
          .pop()!
          .replace(/\.pdf$/, ''),
        json: await getResult(stack.api.url, jobId),
      };
    }
  });
  after(async () => {
    await stack?.stop();
    await db.close();
  });

  async function fetchFormat(key: 'scan' | 'text', format: string): Promise<{ res: Response; body: string }> {
    const res = await fetch(`${stack.api.url}/v1/jobs/${jobs[key].id}/result?format=${format}`, {
      headers: authHeaders(stack.api.url),
    });
    return { res, body: await res.text() };
  }

  /** The file name of an `attachment` Content-Disposition, quoted or not. */
  function attachmentName(res: Response): string | undefined {
    return /^attachment; filename="?([^"]+)"?$/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  }

  function words(key: 'scan' | 'text'): string[][] {
    return jobs[key].json.pages.map((p) => (p.words as ResultWord[]).map((w) => w.text));
  }

  function parse(text: string) {
    const problems: string[] = [];
    const doc = new DOMParser({
      onError: (level, message) => void problems.push(`${level}: ${message}`),
    }).parseFromString(text, 'application/xml');
    assert.deepEqual(problems, []);
    return doc;
  }

  function byClass(root: Element, cls: string): Element[] {
    return Array.from(root.getElementsByTagName('*')).filter((e) => e.getAttribute('class') === cls);
  }

  it('stores the layout of both kinds of page: lines for every word, the image of the scan', async () => {
    for (const key of ['scan', 'text'] as const) {
      const rows = await JobPage.findAll({ where: { jobId: jobs[key].id } });
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.ok(row.layout, `${key} page ${row.pageNumber} has a layout`);
        assert.ok(row.layout.lines.length > 0);
        assert.ok(row.words!.every((w) => w.line !== undefined && row.layout!.lines[w.line] !== undefined));
        if (key === 'scan') assert.ok(row.layout.image && row.layout.image.dpi > 0 && row.layout.image.width > 0);
        else {
          assert.equal(row.layout.image, null);
          // pdf.js's lines: one for each line of the page's text.
          assert.equal(row.layout.lines.length, row.text!.split('\n').filter((l) => l.trim() !== '').length);
        }
      }
    }
  });

  for (const key of ['scan', 'text'] as const) {
    it(`${key}: hOCR with its type and file name, a page per page, the JSON result's words`, async () => {
      const { res, body } = await fetchFormat(key, 'hocr');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/vnd\.hocr\+html; charset=utf-8$/);
      assert.equal(attachmentName(res), `${jobs[key].name}.hocr`);
      const html = parse(body).documentElement!;
      const pages = byClass(html, 'ocr_page');
      assert.equal(pages.length, jobs[key].json.pages.length);
      assert.deepEqual(
        pages.map((p) => byClass(p, 'ocrx_word').map((w) => w.textContent)),
        words(key),
      );
      for (const page of pages) {
        const [, , , w, h] = /bbox (\d+) (\d+) (\d+) (\d+)/.exec(page.getAttribute('title')!)!.map(Number);
        for (const word of byClass(page, 'ocrx_word')) {
          const [, x0, y0, x1, y1] = /bbox (\d+) (\d+) (\d+) (\d+)/.exec(word.getAttribute('title')!)!.map(Number);
          assert.ok(x0! <= x1! && x1! <= w! && y0! <= y1! && y1! <= h!, 'inside the page');
        }
      }
    });

    it(`${key}: ALTO v4 with its type and file name, the JSON result's words as CONTENT`, async () => {
      const { res, body } = await fetchFormat(key, 'alto');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/xml; charset=utf-8');
      assert.equal(attachmentName(res), `${jobs[key].name}.alto.xml`);
      const root = parse(body).documentElement!;
      assert.equal(root.namespaceURI, ALTO_NAMESPACE);
      const pages = Array.from(root.getElementsByTagName('Page'));
      assert.deepEqual(
        pages.map((p) => Number(p.getAttribute('PHYSICAL_IMG_NR'))),
        jobs[key].json.pages.map((p) => p.number),
      );
      assert.deepEqual(
        pages.map((p) => Array.from(p.getElementsByTagName('String')).map((s) => s.getAttribute('CONTENT'))),
        words(key),
      );
    });

    it(`${key}: TSV with tesseract's header, page_num the PDF page, words in pixels of the page`, async () => {
      const { res, body } = await fetchFormat(key, 'tsv');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/tab-separated-values; charset=utf-8');
      assert.equal(attachmentName(res), `${jobs[key].name}.tsv`);
      const [header, ...rows] = body.trimEnd().split('\n');
      assert.equal(
        header,
        'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext',
      );
      const cells = rows.map((r) => r.split('\t'));
      assert.ok(cells.every((c) => c.length === 12));
      assert.deepEqual(
        cells.filter((c) => c[0] === '1').map((c) => Number(c[1])),
        jobs[key].json.pages.map((p) => p.number),
      );
      const json = jobs[key].json.pages;
      assert.deepEqual(
        json.map((p) => cells.filter((c) => c[0] === '5' && Number(c[1]) === p.number).map((c) => c[11])),
        words(key),
      );
      // The first word's box is the JSON's (PDF points) at the page's resolution, to the pixel.
      const first = json[0]!.words[0] as ResultWord;
      const row = cells
        .find((c) => c[0] === '5')!
        .slice(6, 10)
        .map(Number);
      const dpi =
        key === 'text' ? 300 : Number(/scan_res (\d+(?:\.\d+)?)/.exec((await fetchFormat(key, 'hocr')).body)![1]);
      const px = (pt: number) => (pt * dpi) / 72;
      assert.ok(
        Math.abs(row[0]! - px(first.bbox.x0)) <= 1 && Math.abs(row[1]! - px(first.bbox.y0)) <= 1,
        `${row.join(' ')} vs ${JSON.stringify(first.bbox)} at ${dpi} dpi`,
      );
    });
  }

  it('a 1,000-page result streams page by page, every page once and in order (read in batches from the database)', async () => {
    // The text job's page 2, stored again as pages 3–1000 of the same job.
    const [page] = await JobPage.findAll({ where: { jobId: jobs.text.id, pageNumber: 2 } });
    const p = page!;
    const copies = Array.from({ length: 998 }, (_, i) => ({
      jobId: p.jobId,
      pageNumber: i + 3,
      status: p.status,
      method: p.method,
      width: p.width,
      height: p.height,
      text: p.text,
      confidence: p.confidence,
      words: p.words,
      layout: p.layout,
      attempts: p.attempts,
    }));
    await JobPage.bulkCreate(copies);
    const res = await fetch(`${stack.api.url}/v1/jobs/${jobs.text.id}/result?format=tsv`, {
      headers: authHeaders(stack.api.url),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null, 'streamed, not measured up front');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const pages = (await res.text())
      .split('\n')
      .filter((r) => r.startsWith('1\t'))
      .map((r) => Number(r.split('\t')[1]));
    assert.deepEqual(
      pages,
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
  });

  it('txt and json as before; an unknown format is 400 INVALID_QUERY naming the formats', async () => {
    const txt = await fetchFormat('scan', 'txt');
    assert.equal(txt.res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(txt.body, jobs.scan.json.pages.map((p) => p.text).join('\n\f'));
    const bad = await fetchFormat('scan', 'docx');
    assert.equal(bad.res.status, 400);
    const { error } = JSON.parse(bad.body) as { error: { code: string; message: string } };
    assert.equal(error.code, 'INVALID_QUERY');
    assert.match(error.message, /json, txt, hocr, alto, tsv/);
  });
});
