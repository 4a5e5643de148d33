/**
 * What Folio's OCR path is compared against, on the same pages and cores: OCRmyPDF (one multi-page PDF,
 * -j <cores>, sidecar text only) and the native tesseract CLI (one process per core, OMP_THREAD_LIMIT=1,
 * each page rasterised by poppler's pdftoppm as grayscale at the resolution Folio reads it at: the scan's
 * own, between 150 and 300 dpi).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { inLanes, run, type ScannedPage } from './lib.js';

/** One timed pass of an engine over the pages: the text of each page, in order. */
export interface EnginePass {
  seconds: number;
  texts: string[];
}

/** Debian's tesseract-ocr-eng model (tessdata_fast). */
export const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

/** A tessdata folder holding the model Folio's workers load (@tesseract.js-data/eng, 4.0.0_best_int), unpacked. */
export function bestIntTessdata(dir: string): string {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('@tesseract.js-data/eng/package.json'));
  const out = path.join(dir, 'tessdata-best_int');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'eng.traineddata'),
    gunzipSync(fs.readFileSync(path.join(pkg, '4.0.0_best_int', 'eng.traineddata.gz'))),
  );
  return out;
}

/** All pages as one PDF, in order: OCRmyPDF parallelises over the pages of one file. */
export async function combinedPdf(pages: ScannedPage[], file: string): Promise<void> {
  const out = await PDFDocument.create();
  for (const page of pages) {
    const source = await PDFDocument.load(fs.readFileSync(page.path));
    for (const copied of await out.copyPages(source, source.getPageIndices())) out.addPage(copied);
  }
  fs.writeFileSync(file, await out.save());
}

export async function ocrmypdf(combined: string, pageCount: number, cores: number, dir: string): Promise<EnginePass> {
  const sidecar = path.join(dir, 'ocrmypdf-sidecar.txt');
  const started = performance.now();
  await run(
    'ocrmypdf',
    ['-q', '-j', String(cores), '--force-ocr', '--output-type', 'none', '--sidecar', sidecar, combined, '-'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  // The sidecar separates pages with a form feed.
  const texts = fs.readFileSync(sidecar, 'utf8').split('\f').slice(0, pageCount);
  if (texts.length !== pageCount) throw new Error(`ocrmypdf sidecar has ${texts.length} pages, not ${pageCount}`);
  return { seconds, texts };
}

export async function nativeTesseract(
  pages: ScannedPage[],
  cores: number,
  tessdata: string,
  dir: string,
): Promise<EnginePass> {
  const texts: string[] = new Array<string>(pages.length).fill('');
  const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
  const started = performance.now();
  await inLanes(
    pages.map((page, index) => ({ page, index })),
    cores,
    async ({ page, index }) => {
      const prefix = path.join(dir, `native-${index}`);
      const dpi = String(await scanDpi(page.path));
      await run('pdftoppm', ['-r', dpi, '-gray', '-singlefile', page.path, prefix]);
      const { stdout } = await run(
        'tesseract',
        [`${prefix}.pgm`, 'stdout', '--tessdata-dir', tessdata, '--oem', '1', '--psm', '3', '--dpi', dpi, '-l', 'eng'],
        { env, maxBuffer: 16 * 1024 * 1024 },
      );
      texts[index] = stdout;
      fs.rmSync(`${prefix}.pgm`, { force: true });
    },
  );
  return { seconds: (performance.now() - started) / 1000, texts };
}

/**
 * The resolution Folio renders a scanned page at (see the render in activities/adapters/pdfjs-thread.ts):
 * its finest image's own, at least 150 and at most 300 dpi; 300 without images. From `pdfimages -list`.
 */
export async function scanDpi(file: string): Promise<number> {
  const { stdout } = await run('pdfimages', ['-f', '1', '-l', '1', '-list', file]);
  // Columns: page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio.
  const finest = stdout
    .split('\n')
    .slice(2)
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells.length >= 14)
    .map((cells) => Math.max(Number(cells[12]), Number(cells[13])))
    .filter((ppi) => Number.isFinite(ppi) && ppi > 0);
  if (finest.length === 0) return 300;
  return Math.min(300, Math.max(150, Math.round(Math.max(...finest))));
}
