/**
 * The render step's policy (activities/page-render.ts) on the real PDF engine and the corpus: the resolution a
 * page is drawn at for OCR — the pixel cap, a scan at its own resolution, the resolution kept where text or
 * vector art shares the page, the /UserUnit floor — and the pages refused with PAGE_TOO_LARGE rather than
 * misread. Its pure decisions are checked on their own below. The engine's own calls are tested in
 * adapters/pdfjs.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import type { DrawnPage, DrawOptions, OpenOptions } from '../../activities/adapters/types.js';
import {
  MIN_RENDER_DPI,
  MIN_SCAN_DPI,
  drawingScale,
  fitScale,
  isBlank,
  isScan,
  isTooCoarse,
  renderForOcr,
  savesEnough,
  scanScale,
} from '../../activities/page-render.js';
import { corpusPath as corpusFile } from '../support/corpus.js';
import { DelegatingPdf } from '../support/engines.js';
import { DPI, MAX_PIXELS, assertSanePgm, hasInk, rejectsWith, renderPage } from '../support/rendering.js';

const engine = new PdfjsEngine({ threads: 2, maxHeapMb: 512, taskTimeoutMs: 20_000 });
after(() => engine.close());

/** The real engine, counting the pages it is asked to draw. */
class CountingPdf extends DelegatingPdf {
  draws = 0;
  /** The exact scale of the last drawing (a RenderedPage's dpi is rounded). */
  scale = 0;
  override async draw(path: string, pageNumber: number, options: DrawOptions & OpenOptions): Promise<DrawnPage> {
    this.draws++;
    const page = await this.inner.draw(path, pageNumber, options);
    this.scale = page.scale;
    return page;
  }
}

/** The render step on a counting engine: the page and how many drawings it took. */
async function renderCounting(file: string, dpi = DPI, hasText = false) {
  const pdf = new CountingPdf(engine);
  const page = await renderForOcr(pdf, file, 1, {
    dpi,
    maxPixels: MAX_PIXELS,
    hasText: () => Promise.resolve(hasText),
  });
  return { page, draws: pdf.draws, scale: pdf.scale };
}

const pixelsOf = (page: { pgm: Uint8Array }) => Buffer.from(page.pgm);

describe('render policy on the PDF engine', () => {
  it('lowers the resolution of a huge page to stay under the pixel cap', async () => {
    const page = await renderPage(engine, corpusFile('huge/ocrmypdf-enormous.pdf'), 1, {
      dpi: DPI,
      maxPixels: MAX_PIXELS,
    });
    assert.ok(page.dpi < DPI && page.dpi >= 50, `dpi ${page.dpi}`);
    assert.ok(page.width * page.height <= MAX_PIXELS);
    assertSanePgm(page, 2160, 2160);
    assert.ok(hasInk(page), 'the 9000 × 9000 px scan was not drawn');
  });

  it('fails a page whose image is beyond the decode limit instead of returning it blank', async () => {
    // One 35000 × 35000 px image: pdf.js leaves it out silently, which would read as an empty page.
    const error = await rejectsWith(
      renderPage(engine, corpusFile('huge/ocrmypdf-hugemono.pdf'), 1, { dpi: DPI, maxPixels: MAX_PIXELS }),
      'PAGE_TOO_LARGE',
    );
    assert.match(error.message, /Page 1 holds an image/);
  });

  it('reads a page made of one scan at the resolution of the scan, between 150 dpi and the one asked', async () => {
    const at = async (file: string, dpi: number) => {
      const page = await renderPage(engine, corpusFile(file), 1, { dpi, maxPixels: MAX_PIXELS });
      return [page.dpi, page.width, page.height];
    };
    // A 1200 × 1461 px scan at 150 dpi: drawn 1:1 instead of at 2400 × 2922.
    assert.deepEqual(await at('scanned/scribe-multicol_05.pdf', DPI), [150, 1200, 1461]);
    // A 96 dpi scan is enlarged to 150 dpi, not to 300.
    assert.deepEqual(await at('scanned/scribe-table_02.pdf', DPI), [150, 1495, 479]);
    // A 300 dpi scan stays at 300 dpi; and no page is drawn finer than asked.
    assert.deepEqual(await at('scanned/ocrmypdf-linn.pdf', DPI), [300, 2550, 3300]);
    assert.deepEqual(await at('scanned/ocrmypdf-linn.pdf', 200), [200, 1700, 2200]);
    // Turned for OCR, the same resolution.
    const turned = await renderPage(engine, corpusFile('scanned/scribe-multicol_05.pdf'), 1, {
      dpi: DPI,
      maxPixels: MAX_PIXELS,
      rotation: 90,
    });
    assert.deepEqual([turned.dpi, turned.width, turned.height], [150, 1461, 1200]);
  });

  it('keeps the resolution asked for on a page where a scan shares the page with text or vector art', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'folio-render-dpi-'));
    try {
      const jpg = await readFile(corpusFile('scanned/scribe-multicol_05.jpg'));
      const make = async (extra: 'text' | 'rectangle' | 'none') => {
        const doc = await PDFDocument.create();
        const image = await doc.embedJpg(jpg);
        // 1200 × 1461 px drawn at 150 dpi.
        const page = doc.addPage([576, 701.28]);
        page.drawImage(image, { x: 0, y: 0, width: 576, height: 701.28 });
        if (extra === 'text') {
          page.drawText('Caption', { x: 20, y: 20, size: 8, font: await doc.embedFont(StandardFonts.Helvetica) });
        }
        if (extra === 'rectangle') page.drawRectangle({ x: 20, y: 20, width: 100, height: 2, color: rgb(0, 0, 0) });
        const file = path.join(dir, `${extra}.pdf`);
        await writeFile(file, await doc.save());
        return (await renderPage(engine, file, 1, { dpi: DPI, maxPixels: MAX_PIXELS })).dpi;
      };
      assert.equal(await make('none'), 150);
      assert.equal(await make('text'), DPI);
      assert.equal(await make('rectangle'), DPI);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws a scan below the resolution asked once, at its own, as a plain drawing at it reads', async () => {
    for (const [file, dpi] of [
      ['scanned/scribe-multicol_05.pdf', 150],
      ['scanned/tess-phototest.pdf', 200],
      ['scanned/scribe-filing_01.pdf', 235],
      ['scanned/scribe-table_02.pdf', MIN_SCAN_DPI],
    ] as const) {
      const { page, draws, scale } = await renderCounting(corpusFile(file));
      assert.deepEqual([Math.round(page.dpi), draws], [dpi, 1], file);
      const plain = await engine.draw(corpusFile(file), 1, { scale });
      assert.ok(pixelsOf(page).equals(pixelsOf(plain)), `${file}: not the drawing at ${page.dpi} dpi`);
    }
    // A scan at the resolution asked, and a born-digital page: one drawing, at the resolution asked.
    for (const file of ['scanned/ocrmypdf-linn.pdf', 'born-digital/ocrmypdf-tagged.pdf']) {
      const { page, draws } = await renderCounting(corpusFile(file));
      assert.deepEqual([page.dpi, draws], [DPI, 1], file);
    }
  });

  it('draws a scan that has text of its own at the resolution asked', async () => {
    // The one case drawn twice: whether the scan has text is asked once it is known to be a scan.
    const { page, draws } = await renderCounting(corpusFile('scanned/scribe-multicol_05.pdf'), DPI, true);
    assert.deepEqual([page.dpi, page.width, page.height, draws], [DPI, 2400, 2922, 2]);
  });

  it('reads a scan that covers part of the page at the resolution of the scan', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'folio-render-part-'));
    try {
      const doc = await PDFDocument.create();
      const image = await doc.embedJpg(await readFile(corpusFile('scanned/scribe-multicol_05.jpg')));
      // 1200 × 1461 px at 150 dpi in the lower left of a letter page; and the same, squeezed to 100 dpi across.
      doc.addPage([612, 792]).drawImage(image, { x: 18, y: 36, width: 576, height: 701.28 });
      doc.addPage([612, 792]).drawImage(image, { x: 0, y: 36, width: 576, height: 467.52 });
      const file = path.join(dir, 'part.pdf');
      await writeFile(file, await doc.save());
      const { page, draws } = await renderCounting(file);
      assert.deepEqual([page.dpi, page.width, page.height, draws], [150, 1275, 1650, 1]);
      assert.ok(hasInk(page));
      // The finer direction decides: 1461 px down 6.49 inches is 225 dpi.
      const pdf = new CountingPdf(engine);
      const squeezed = await renderForOcr(pdf, file, 2, {
        dpi: DPI,
        maxPixels: MAX_PIXELS,
        hasText: () => Promise.resolve(false),
      });
      assert.deepEqual([squeezed.dpi, pdf.draws], [225, 1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('caps the render of a /UserUnit 10 poster and keeps its content', async () => {
    const inspection = await engine.inspect(corpusFile('huge/ocrmypdf-poster.pdf'));
    // /UserUnit 10 makes the 1800 × 3600 pt MediaBox 18000 × 36000 pt.
    assert.deepEqual([inspection.pages[0]?.width, inspection.pages[0]?.height], [18000, 36000]);
    const page = await renderPage(engine, corpusFile('huge/ocrmypdf-poster.pdf'), 1, {
      dpi: DPI,
      maxPixels: MAX_PIXELS,
    });
    // 18 dpi of the enlarged page is 180 dpi of the page as drawn: legible, and within the cap.
    assertSanePgm(page, 18000, 36000, 5);
    assert.ok(hasInk(page));
  });

  it('refuses a page that would fall below 50 dpi under the cap', async () => {
    const error = await rejectsWith(
      renderPage(engine, corpusFile('huge/ocrmypdf-enormous.pdf'), 1, { dpi: DPI, maxPixels: 1_000_000 }),
      'PAGE_TOO_LARGE',
    );
    assert.match(error.message, /Page 1 is 30 × 30 inches/);
  });

  it('asks whether a scan has text of its own, and keeps the resolution asked for when it has', async () => {
    const file = corpusFile('scanned/scribe-multicol_05.pdf');
    const asked: boolean[] = [];
    const render = (answer: boolean) =>
      renderForOcr(engine, file, 1, {
        dpi: DPI,
        maxPixels: MAX_PIXELS,
        hasText: () => (asked.push(answer), Promise.resolve(answer)),
      });
    // A scan with a text layer of its own (an earlier OCR) keeps 300 dpi; without, its own 150 dpi.
    assert.equal((await render(true)).dpi, DPI);
    assert.equal((await render(false)).dpi, 150);
    assert.deepEqual(asked, [true, false]);
    // A born-digital page is vector content: its text is never asked for.
    asked.length = 0;
    const vector = await renderForOcr(engine, corpusFile('born-digital/ocrmypdf-tagged.pdf'), 1, {
      dpi: 150,
      maxPixels: MAX_PIXELS,
      hasText: () => (asked.push(true), Promise.resolve(true)),
    });
    assert.equal(vector.dpi, 150);
    assert.deepEqual(asked, []);
  });
});

describe('render policy decisions', () => {
  it('fitScale keeps the scale asked for under the cap and lowers it to fit above', () => {
    const letter = { width: 612, height: 792 };
    assert.equal(fitScale(letter, DPI / 72, MAX_PIXELS), DPI / 72);
    // 30 × 30 inches at 300 dpi is 81 megapixels: lowered to what 40 megapixels allow, ~211 dpi.
    const square = { width: 2160, height: 2160 };
    const scale = fitScale(square, DPI / 72, MAX_PIXELS);
    assert.ok(Math.abs(scale * 72 - 210.82) < 0.01, `${scale * 72} dpi`);
    assert.ok(Math.floor(square.width * scale) * Math.floor(square.height * scale) <= MAX_PIXELS);
  });

  it('isTooCoarse applies the 50 dpi floor to the page as drawn, before /UserUnit enlarges it', () => {
    assert.equal(MIN_RENDER_DPI, 50);
    assert.equal(isTooCoarse({ userUnit: 1 }, 49.9 / 72), true);
    assert.equal(isTooCoarse({ userUnit: 1 }, 50 / 72), false);
    // A /UserUnit 10 poster at 5 dpi of its enlarged size is 50 dpi of its content.
    assert.equal(isTooCoarse({ userUnit: 10 }, 5 / 72), false);
    assert.equal(isTooCoarse({ userUnit: 10 }, 4.9 / 72), true);
  });

  it('isScan: images alone, no path and no glyph', () => {
    assert.equal(isScan({ vector: false, finestImageScale: 2 }), true);
    assert.equal(isScan({ vector: true, finestImageScale: 2 }), false);
    assert.equal(isScan({ vector: false, finestImageScale: undefined }), false);
  });

  it('scanScale reads a scan 1:1, never below 150 dpi of its content', () => {
    assert.equal(MIN_SCAN_DPI, 150);
    assert.equal(scanScale({ vector: false, finestImageScale: 300 / 72 }, { userUnit: 1 }), 300 / 72);
    assert.equal(scanScale({ vector: false, finestImageScale: 96 / 72 }, { userUnit: 1 }), 150 / 72);
    assert.equal(scanScale({ vector: false, finestImageScale: 1 }, { userUnit: 10 }), 1);
    assert.equal(scanScale({ vector: true, finestImageScale: undefined }, { userUnit: 1 }), undefined);
  });

  it('drawingScale lowers a scan to its own scale only when that saves enough, and nothing else', () => {
    const asked = DPI / 72;
    const page = { userUnit: 1 };
    assert.equal(drawingScale({ vector: false, finestImageScale: 150 / 72 }, page, asked), 150 / 72);
    assert.equal(drawingScale({ vector: false, finestImageScale: 96 / 72 }, page, asked), MIN_SCAN_DPI / 72);
    // 280 dpi saves less than a tenth of 300: drawn at 300.
    assert.equal(drawingScale({ vector: false, finestImageScale: 280 / 72 }, page, asked), asked);
    assert.equal(drawingScale({ vector: true, finestImageScale: 150 / 72 }, page, asked), asked);
    assert.equal(drawingScale({ vector: false, finestImageScale: undefined }, page, asked), asked);
    assert.equal(savesEnough(269 / 72, asked), true);
    assert.equal(savesEnough(271 / 72, asked), false);
  });

  it('isBlank looks at the pixels only, not the PGM header', () => {
    const pgm = (pixels: number[]) => new Uint8Array([...Buffer.from('P5\n2 1\n255\n'), ...pixels]);
    assert.equal(isBlank(pgm([255, 255]), 2), true);
    assert.equal(isBlank(pgm([255, 254]), 2), false);
  });
});
