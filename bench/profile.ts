/**
 * Where a scanned page's time goes, one page at a time on one thread (no queueing, no orchestration): the
 * render, orientation detection and OCR as Folio's worker runs them, against the native tesseract CLI on
 * the very same page image. This is the profile behind the scanned-throughput ratios.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PdfjsEngine } from '../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../activities/adapters/tesseract.js';
import { renderForOcr } from '../activities/page-render.js';
import { DEBIAN_TESSDATA } from './baselines.js';
import { run, type ScannedPage } from './lib.js';

/** Seconds of each step summed over the pages, divided by the page count. */
export type PhaseProfile = Record<string, number>;

async function timed<T>(sums: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    sums[name] = (sums[name] ?? 0) + (performance.now() - started) / 1000;
  }
}

export async function profilePages(pages: ScannedPage[], bestIntDir: string, dir: string): Promise<PhaseProfile> {
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 1024, taskTimeoutMs: 300_000 });
  const best = new TesseractEngine({ workers: 1 });
  const fast = new TesseractEngine({ workers: 1, tessdataDir: DEBIAN_TESSDATA });
  // The render step as the page activity runs it (scans at their own resolution), text layer included.
  const render = (file: string) =>
    renderForOcr(pdf, file, 1, {
      dpi: 300,
      maxPixels: 50_000_000,
      hasText: () => pdf.extractText(file, 1).then((t) => t.hasAnyText),
    });
  const sums: Record<string, number> = {};
  const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
  try {
    // Each engine reads one page first, untimed: models load on first use.
    const first = await render(pages[0]!.path);
    await Promise.all([
      best.recognize(first.pgm, { languages: ['eng'], dpi: first.dpi }),
      fast.recognize(first.pgm, { languages: ['eng'], dpi: first.dpi }),
      best.detectOrientation(first.pgm, { dpi: first.dpi }),
    ]);
    for (const [index, page] of pages.entries()) {
      const image = await timed(sums, 'render', () => render(page.path));
      const options = { languages: ['eng'], dpi: image.dpi };
      await timed(sums, 'orientation', () => best.detectOrientation(image.pgm, { dpi: image.dpi }));
      await timed(sums, 'ocrBestInt', () => best.recognize(image.pgm, options));
      await timed(sums, 'ocrFast', () => fast.recognize(image.pgm, options));
      // What deskewing costs: the same engine without rotateAuto.
      await timed(sums, 'ocrBestIntWithoutDeskew', () => best.recognize(image.pgm, { ...options, deskew: false }));
      const file = path.join(dir, `profile-${index}.pgm`);
      fs.writeFileSync(file, image.pgm);
      const cli = (tessdata: string) =>
        run(
          'tesseract',
          [
            file,
            'stdout',
            '--tessdata-dir',
            tessdata,
            '--oem',
            '1',
            '--psm',
            '3',
            '--dpi',
            String(image.dpi),
            '-l',
            'eng',
          ],
          { env, maxBuffer: 16 * 1024 * 1024 },
        );
      await timed(sums, 'nativeBestInt', () => cli(bestIntDir));
      await timed(sums, 'nativeFast', () => cli(DEBIAN_TESSDATA));
      fs.rmSync(file, { force: true });
    }
  } finally {
    await Promise.all([pdf.close(), best.close(), fast.close()]);
  }
  return Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, sum / pages.length]));
}
