/**
 * The searchable PDF's cost: time to build it, peak RSS of the process that builds it (and of its qpdf
 * child), and its size against the original, for a 10-page scan and a long one (default 1,000 pages).
 *
 *   npm run build && node dist/bench/searchable-pdf.js [--pages 10,1000]
 *
 * The 10-page document is ten different scanned corpus pages; the long one is copies of it joined by qpdf
 * (each copy's images stored again, as in a real long scan). Each page's words come from native tesseract on
 * that page (TSV, 300 dpi), so the text layer is what OCR gives; the build is the activity's own
 * (writeSearchablePdf), each size in a fresh process so its peak RSS is its own. Then each corpus scan's original
 * image as an image upload's searchable PDF (writeImageSearchablePdf): its size against the image's. Needs qpdf
 * (.tools/qpdf), tesseract and poppler-utils (pdftoppm, pdfinfo). `npm run bench -- --only searchable` runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { SharpImageEngine } from '../activities/adapters/sharp-image.js';
import { imageDpi } from '../activities/image-render.js';
import { writeImageSearchablePdf, writeSearchablePdf } from '../activities/searchable-pdf.js';
import type { Word } from '../core/contracts.js';
import type { OcrPageWords } from '../core/job-store.js';
import { corpusPath, loadManifest } from '../test/support/corpus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const qpdf = path.join(root, '.tools/qpdf/bin/qpdf');
const font = path.join(root, '.tools/qpdf/share/pdf.ttf');
const PAGES = [
  'scanned/tess-8071_093.3B.pdf',
  'scanned/tess-8087_054.3B.pdf',
  'scanned/tess-phototest.pdf',
  'scanned/tess-eurotext.pdf',
  'scanned/scribe-multicol_05.pdf',
  'scanned/scribe-filing_01.pdf',
  'scanned/scribe-receipt_03.pdf',
  'scanned/scribe-table_02.pdf',
  'scanned/ocrmypdf-linn.pdf',
  'scanned/ocrmypdf-skew.pdf',
];

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '10,1000' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

/** The searchable PDF of an image upload against the image. */
interface ImageMeasured {
  file: string;
  format: string;
  seconds: number;
  originalBytes: number;
  searchableBytes: number;
  overheadPercent: number;
}

interface Measured {
  pages: number;
  seconds: number;
  /** Peak RSS of the building process (node), MB. */
  peakRssMb: number;
  /** Peak RSS of qpdf, MB. */
  qpdfPeakRssMb: number;
  originalBytes: number;
  /** The text layer alone, as written before qpdf lays it over the pages. */
  layerBytes: number;
  searchableBytes: number;
  overheadPercent: number;
}

if (args.child) await child(Number(args.child), args.dir!);
else await main();

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-searchable-'));
  try {
    // Ten distinct scanned pages, and each page's words as OCR gives them.
    const ten = path.join(dir, 'ten.pdf');
    execFileSync(qpdf, ['--empty', '--pages', ...PAGES.map((p) => corpusPath(p)), '--', ten]);
    const words: OcrPageWords[] = PAGES.map((file, i) => ({ pageNumber: i + 1, ...ocrWords(corpusPath(file), dir) }));
    fs.writeFileSync(path.join(dir, 'words.json'), JSON.stringify(words));
    // qpdf, timed by GNU time for its peak RSS.
    const timedQpdf = path.join(dir, 'qpdf-timed');
    fs.writeFileSync(
      timedQpdf,
      `#!/bin/sh\nexec /usr/bin/time -f %M -a -o "${path.join(dir, 'qpdf-rss')}" "${qpdf}" "$@"\n`,
      { mode: 0o755 },
    );

    const results: Measured[] = [];
    for (const total of (args.pages ?? '10').split(',').map(Number)) {
      const doc = path.join(dir, `doc-${total}.pdf`);
      if (total === 10) fs.copyFileSync(ten, doc);
      else {
        const copies = Array.from({ length: Math.ceil(total / 10) }, (_, i) => {
          const copy = path.join(dir, `copy-${i}.pdf`);
          fs.copyFileSync(ten, copy);
          return copy;
        });
        execFileSync(qpdf, ['--empty', '--pages', ...copies, '--', doc]);
        copies.forEach((c) => fs.rmSync(c));
      }
      fs.rmSync(path.join(dir, 'qpdf-rss'), { force: true });
      const run = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', String(total), '--dir', dir],
        {
          encoding: 'utf8',
          env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '1048576' },
        },
      );
      if (run.status !== 0) throw new Error(`the ${total}-page build failed: ${run.stderr}`);
      const measured = JSON.parse(run.stdout) as Measured;
      measured.qpdfPeakRssMb = Math.round(Number(fs.readFileSync(path.join(dir, 'qpdf-rss'), 'utf8').trim()) / 1024);
      results.push(measured);
      console.error(JSON.stringify(measured));
    }
    const images = await imageUploads(dir);
    for (const image of images) console.error(JSON.stringify(image));
    const [first, ...rest] = results;
    for (const r of rest) {
      console.error(
        `${r.pages} pages against ${first!.pages}: build ${(r.seconds / first!.seconds).toFixed(1)}× the time, ` +
          `peak RSS ${(r.peakRssMb / first!.peakRssMb).toFixed(2)}× (qpdf ${(r.qpdfPeakRssMb / first!.qpdfPeakRssMb).toFixed(2)}×)`,
      );
    }
    const out = path.join(
      root,
      'bench/results',
      `searchable-pdf-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
    fs.writeFileSync(
      out,
      JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version }, results, images }, null, 2),
    );
    console.log(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One build of the `total`-page document, in this process: its time, peak RSS and sizes as JSON on stdout. */
async function child(total: number, dir: string): Promise<void> {
  const words = JSON.parse(fs.readFileSync(path.join(dir, 'words.json'), 'utf8')) as OcrPageWords[];
  function* pages(): Iterable<OcrPageWords> {
    for (let n = 1; n <= total; n++) yield { ...words[(n - 1) % words.length]!, pageNumber: n };
  }
  const workDir = fs.mkdtempSync(path.join(dir, 'work-'));
  const original = path.join(dir, `doc-${total}.pdf`);
  const started = performance.now();
  const built = await writeSearchablePdf({
    original,
    pages: pages(),
    workDir,
    tools: { qpdf: path.join(dir, 'qpdf-timed'), glyphlessFont: font },
  });
  const seconds = (performance.now() - started) / 1000;
  const originalBytes = fs.statSync(original).size;
  const searchableBytes = fs.statSync(built.path).size;
  const measured: Measured = {
    pages: total,
    seconds: Math.round(seconds * 100) / 100,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    qpdfPeakRssMb: 0,
    originalBytes,
    layerBytes: fs.statSync(path.join(workDir, 'layer.pdf')).size,
    searchableBytes,
    overheadPercent: Math.round(((searchableBytes - originalBytes) / originalBytes) * 1000) / 10,
  };
  process.stdout.write(JSON.stringify(measured));
}

/**
 * Every corpus scan's original image (PNG, JPEG, TIFF) as an image upload's searchable PDF: each image's words
 * from native tesseract on the image itself at its own resolution, the build the activity's own
 * (writeImageSearchablePdf with the worker's image engine); its size against the image's.
 */
async function imageUploads(dir: string): Promise<ImageMeasured[]> {
  const images = new SharpImageEngine({ maxInputPixels: 100_000_000 });
  const measured: ImageMeasured[] = [];
  for (const entry of loadManifest().filter((e) => e.originalImage)) {
    const file = corpusPath(entry.originalImage!);
    const meta = await sharp(file).metadata();
    const words = tsvWords(file, imageDpi({ density: meta.density }));
    const workDir = fs.mkdtempSync(path.join(dir, 'image-'));
    const started = performance.now();
    const built = await writeImageSearchablePdf(
      {
        original: file,
        pages: [{ pageNumber: 1, width: 0, height: 0, words }],
        workDir,
        tools: { qpdf, glyphlessFont: font },
      },
      images,
    );
    const seconds = (performance.now() - started) / 1000;
    const originalBytes = fs.statSync(file).size;
    const searchableBytes = fs.statSync(built.path).size;
    measured.push({
      file: entry.originalImage!,
      format: meta.format ?? 'unknown',
      seconds: Math.round(seconds * 1000) / 1000,
      originalBytes,
      searchableBytes,
      overheadPercent: Math.round(((searchableBytes - originalBytes) / originalBytes) * 1000) / 10,
    });
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return measured;
}

/** The page's size in points and its words from native tesseract (TSV) on a 300-dpi render, in points. */
function ocrWords(file: string, dir: string): { width: number; height: number; words: Word[] } {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const size = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(info)!;
  const image = path.join(dir, 'page');
  execFileSync('pdftoppm', ['-r', '300', '-gray', '-png', '-singlefile', file, image]);
  return { width: Number(size[1]), height: Number(size[2]), words: tsvWords(`${image}.png`, 300) };
}

/** Native tesseract's words on an image of `dpi`, boxes in points. */
function tsvWords(image: string, dpi: number): Word[] {
  const tsv = execFileSync('tesseract', [image, '-', '--dpi', String(dpi), 'tsv'], {
    encoding: 'utf8',
    env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const toPoints = 72 / dpi;
  const words: Word[] = [];
  const lines = new Map<string, number>();
  for (const row of tsv.trim().split('\n').slice(1)) {
    const [level, , block, par, line, , left, top, width, height, conf, text] = row.split('\t');
    if (level !== '5' || !text?.trim()) continue;
    const key = `${block}.${par}.${line}`;
    if (!lines.has(key)) lines.set(key, lines.size);
    words.push({
      text: text.trim(),
      bbox: {
        x0: Number(left) * toPoints,
        y0: Number(top) * toPoints,
        x1: (Number(left) + Number(width)) * toPoints,
        y1: (Number(top) + Number(height)) * toPoints,
      },
      confidence: Number(conf),
      line: lines.get(key),
    });
  }
  return words;
}
