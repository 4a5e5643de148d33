import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { modelFile } from '../../../core/languages.js';
import { PdfjsEngine } from '../../../activities/adapters/pdfjs.js';
import { createWorker, OEM, PSM } from 'tesseract.js';
import { TesseractEngine, wordsOfTsv } from '../../../activities/adapters/tesseract.js';
import { InputError, type OcrResult } from '../../../activities/adapters/types.js';
import { characterErrorRate, wordRecall } from '../../support/text-metrics.js';
import { renderForOcr } from '../../../activities/page-render.js';

// Compiled to dist/test/activities/adapters/, four levels below the repository root.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const corpusDir = process.env.FOLIO_CORPUS_DIR ?? path.resolve(repoRoot, '../shared/corpus');

interface ManifestEntry {
  file: string;
  category: string;
  groundTruth: string | null;
  originalImage?: string | null;
}

/**
 * Measured with the best_int model (tesseract.js 7, PSM 3, 2 workers), plus headroom; tessdata_fast, the
 * default since issue 12, reads every page within the same bounds (eurotext 0.024, 8087 0.078, the rest
 * within 0.002 of best_int). UNLV truth covers
 * text zones only and the linn text is approximate; the table truth is column-major, so its CER says
 * little and word recall is checked instead.
 */
const BOUNDS: Record<string, { maxCer: number } | { minRecall: number }> = {
  'scanned/tess-phototest.pdf': { maxCer: 0.01 }, // measured 0.000
  'scanned/tess-eurotext.pdf': { maxCer: 0.03 }, // 0.019
  'scanned/tess-8071_093.3B.pdf': { maxCer: 0.11 }, // 0.094
  'scanned/tess-8087_054.3B.pdf': { maxCer: 0.09 }, // 0.076
  'scanned/scribe-multicol_05.pdf': { maxCer: 0.015 }, // 0.008
  'scanned/scribe-filing_01.pdf': { maxCer: 0.01 }, // 0.004
  'scanned/scribe-receipt_03.pdf': { maxCer: 0.01 }, // 0.002
  'scanned/scribe-table_02.pdf': { minRecall: 0.87 }, // recall 0.907 (CER 0.690)
  'scanned/ocrmypdf-linn.pdf': { maxCer: 0.02 }, // 0.009
};

const english = { languages: ['eng'], dpi: 300 };

async function corpusFile(relative: string): Promise<Buffer> {
  return readFile(path.join(corpusDir, relative));
}

/** img2pdf wrapped each original at its dpi: the image's width in pixels over the page's width in inches. */
async function wrapperDpi(pdfFile: string): Promise<number> {
  const pdf = (await corpusFile(pdfFile)).toString('latin1');
  const box = /\/MediaBox\s*\[\s*([\d.]+)\s+[\d.]+\s+([\d.]+)/.exec(pdf);
  const width = /\/Width\s+(\d+)/.exec(pdf);
  assert.ok(box && width, `${pdfFile}: no /MediaBox or image /Width`);
  return Math.round(Number(width[1]) / ((Number(box[2]) - Number(box[1])) / 72));
}

function assertWellFormed(result: OcrResult, label: string): void {
  assert.ok(result.confidence >= 0 && result.confidence <= 100, `${label}: confidence ${result.confidence}`);
  for (const { text, bbox, confidence } of result.words) {
    assert.ok(text.trim() !== '', `${label}: blank word`);
    assert.ok(bbox.x0 < bbox.x1 && bbox.y0 < bbox.y1, `${label}: box ${JSON.stringify(bbox)} of "${text}"`);
    assert.ok(confidence >= 0 && confidence <= 100, `${label}: confidence ${confidence} of "${text}"`);
  }
}

/** Debian's tessdata_fast models, installed by npm test's bootstrap (scripts/install-languages.sh). */
const fastModels = path.join(repoRoot, '.tools/tessdata');

for (const [model, options] of [
  ['tessdata_fast (the default)', { tessdataDir: fastModels }],
  ['best_int', {}],
] as const) {
  describe(`TesseractEngine on ${model}`, () => {
    let engine: TesseractEngine;
    before(() => {
      engine = new TesseractEngine({ workers: 2, ...options });
    });
    after(() => engine.close());
    it('reads every scanned original with ground truth within its measured bounds', () => readsWithinBounds(engine));
  });
}

async function readsWithinBounds(engine: TesseractEngine): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(corpusDir, 'manifest.json'), 'utf8')) as ManifestEntry[];
  const entries = manifest.filter(
    (entry): entry is ManifestEntry & { groundTruth: string; originalImage: string } =>
      entry.category === 'scanned' &&
      entry.groundTruth !== null &&
      typeof entry.originalImage === 'string' &&
      existsSync(path.join(corpusDir, entry.originalImage)),
  );
  assert.ok(entries.length > 0, `no scanned originals with ground truth in ${corpusDir}`);

  // The pool bounds the fan-out to its two workers.
  const rows = await Promise.all(
    entries.map(async (entry) => {
      const [image, truth, dpi] = await Promise.all([
        corpusFile(entry.originalImage),
        corpusFile(entry.groundTruth),
        wrapperDpi(entry.file),
      ]);
      const result = await engine.recognize(image, { languages: ['eng'], dpi });
      assertWellFormed(result, entry.file);
      const reference = truth.toString('utf8');
      return {
        file: entry.file,
        image: path.extname(entry.originalImage),
        dpi,
        cer: characterErrorRate(result.text, reference),
        recall: wordRecall(result.text, reference),
        confidence: result.confidence,
      };
    }),
  );
  console.table(
    rows.map((row) => ({
      ...row,
      cer: row.cer.toFixed(3),
      recall: row.recall.toFixed(3),
      confidence: row.confidence.toFixed(1),
    })),
  );

  for (const row of rows) {
    const bound = BOUNDS[row.file];
    assert.ok(bound, `${row.file}: no bound set; measure it and add one`);
    if ('maxCer' in bound) {
      assert.ok(row.cer < bound.maxCer, `${row.file}: CER ${row.cer.toFixed(4)} ≥ ${bound.maxCer}`);
    } else {
      assert.ok(row.recall > bound.minRecall, `${row.file}: word recall ${row.recall.toFixed(4)} ≤ ${bound.minRecall}`);
    }
  }
}

describe('TesseractEngine', () => {
  let engine: TesseractEngine;

  before(() => {
    engine = new TesseractEngine({ workers: 2 });
  });

  after(async () => {
    await engine.close();
  });

  it('shares two workers across a concurrent batch of four pages', async () => {
    const files = [
      'scanned/tess-phototest.tif',
      'scanned/tess-eurotext.tif',
      'scanned/scribe-receipt_03.png',
      'scanned/scribe-table_02.png',
    ];
    const images = await Promise.all(files.map(corpusFile));
    const results = await Promise.all(images.map((image) => engine.recognize(image, english)));
    for (const [i, result] of results.entries()) {
      assert.notEqual(result.text.trim(), '', `${files[i]}: no text`);
      assert.ok(result.words.length > 0, `${files[i]}: no words`);
    }
    assert.equal(engine.workersStarted, 2);
  });

  it('reads a blank PGM as no text with confidence 0', async () => {
    const pgm = Buffer.concat([Buffer.from('P5\n200 100\n255\n', 'ascii'), Buffer.alloc(200 * 100, 255)]);
    const result = await engine.recognize(pgm, english);
    assert.deepEqual(result, {
      text: '',
      confidence: 0,
      words: [],
      layout: { blocks: [], paragraphs: [], lines: [], image: null },
    });
  });

  it('tells which clockwise turn puts a page upright, and leaves a blank page as it is', async () => {
    const cases: [string, number][] = [
      ['scanned/tess-phototest.tif', 0],
      ['rotated/tess-phototest-rotated-L.png', 90], // text running bottom to top
      ['rotated/tess-phototest-rotated-180.png', 180],
      ['rotated/tess-phototest-rotated-R.png', 270], // text running top to bottom
    ];
    for (const [file, turn] of cases) {
      const found = await engine.detectOrientation(await corpusFile(file), { dpi: 200 });
      assert.equal(found.turn, turn, `${file}: ${JSON.stringify(found)}`);
      assert.ok(found.confidence >= 7, `${file}: ${JSON.stringify(found)}`);
    }
    const blank = Buffer.concat([Buffer.from('P5\n200 100\n255\n', 'ascii'), Buffer.alloc(200 * 100, 255)]);
    assert.deepEqual(await engine.detectOrientation(blank, { dpi: 300 }), { turn: 0, confidence: 0 });
  });

  it('classifies an image it cannot decode as unreadable, and carries on', async () => {
    await assert.rejects(
      engine.recognize(Buffer.from('not an image'), english),
      (error: unknown) => error instanceof InputError && error.code === 'PAGE_UNREADABLE',
    );
    const result = await engine.recognize(await corpusFile('scanned/tess-phototest.tif'), { ...english, dpi: 200 });
    assert.match(result.text, /quick brown/);
  });

  it('lists the installed languages and refuses any other', async () => {
    const installed = engine.availableLanguages();
    assert.ok(installed.includes('eng'));
    assert.ok(!installed.includes('osd'));
    const image = await corpusFile('scanned/tess-phototest.tif');
    await assert.rejects(
      engine.recognize(image, { languages: ['eng', 'xyz'], dpi: 200 }),
      (error: unknown) =>
        error instanceof InputError &&
        error.code === 'OCR_LANGUAGE_UNAVAILABLE' &&
        error.message.includes('xyz') &&
        error.message.includes('eng'),
    );
  });
});

describe('TesseractEngine with OCR_TESSDATA_DIR', () => {
  let dir: string;
  let engine: TesseractEngine;

  before(async () => {
    // An operator's folder: an uncompressed English model (the package's, unpacked) next to the orientation
    // model, which is not a reading language, and a gzipped copy that the uncompressed file wins over.
    dir = await mkdtemp(path.join(tmpdir(), 'folio-tessdata-test-'));
    const packaged = modelFile('eng');
    await writeFile(path.join(dir, 'eng.traineddata'), gunzipSync(await readFile(packaged.file)));
    await copyFile(packaged.file, path.join(dir, 'eng.traineddata.gz'));
    await writeFile(path.join(dir, 'osd.traineddata'), '');
    engine = new TesseractEngine({ workers: 1, tessdataDir: dir });
  });

  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the folder's languages and reads with its uncompressed model", async () => {
    assert.deepEqual(engine.availableLanguages(), ['eng']);
    assert.deepEqual(modelFile('eng', { tessdataDir: dir }), { file: path.join(dir, 'eng.traineddata'), gzip: false });
    const [image, truth] = await Promise.all([
      corpusFile('scanned/tess-phototest.tif'),
      corpusFile('scanned/tess-phototest.gt.txt'),
    ]);
    const result = await engine.recognize(image, { languages: ['eng'], dpi: 200 });
    assertWellFormed(result, 'phototest');
    const cer = characterErrorRate(result.text, truth.toString('utf8'));
    assert.ok(cer < 0.01, `CER ${cer.toFixed(4)}`);
  });

  it('refuses a language the folder does not hold', async () => {
    const image = await corpusFile('scanned/tess-phototest.tif');
    await assert.rejects(
      engine.recognize(image, { languages: ['deu'], dpi: 200 }),
      (error: unknown) => error instanceof InputError && error.code === 'OCR_LANGUAGE_UNAVAILABLE',
    );
  });
});

describe('TesseractEngine deskew', () => {
  it('straightens a skewed scan by default, and reads it as it is with deskew off', async () => {
    const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
    const straight = new TesseractEngine({ workers: 1 });
    const asIs = new TesseractEngine({ workers: 1 });
    try {
      const page = await renderForOcr(pdf, path.join(corpusDir, 'scanned/ocrmypdf-skew.pdf'), 1, {
        dpi: 300,
        maxPixels: 50_000_000,
        hasText: () => Promise.resolve(false),
      });
      // The skew page is the linn page turned a few degrees; the linn truth is its text.
      const truth = (await corpusFile('scanned/ocrmypdf-linn.ref.txt')).toString('utf8');
      const options = { languages: ['eng'], dpi: page.dpi };
      const [deskewed, skewed] = await Promise.all([
        straight.recognize(page.pgm, options),
        asIs.recognize(page.pgm, { ...options, deskew: false }),
      ]);
      const [good, bad] = [characterErrorRate(deskewed.text, truth), characterErrorRate(skewed.text, truth)];
      assert.ok(good < 0.02, `deskewed CER ${good.toFixed(4)}`);
      assert.ok(bad > good + 0.02, `as-is CER ${bad.toFixed(4)} against deskewed ${good.toFixed(4)}`);
    } finally {
      await Promise.all([pdf.close(), straight.close(), asIs.close()]);
    }
  });
});

describe('TesseractEngine cancellation', () => {
  let engine: TesseractEngine;

  before(() => {
    engine = new TesseractEngine({ workers: 1 });
  });

  after(async () => {
    await engine.close();
  });

  it('drops a job aborted while it waits for a worker', async () => {
    const [page, small] = await Promise.all([
      corpusFile('scanned/tess-8071_093.3B.tif'),
      corpusFile('scanned/tess-phototest.tif'),
    ]);
    const running = engine.recognize(page, english);
    const controller = new AbortController();
    const queued = engine.recognize(small, { ...english, signal: controller.signal });
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await assert.rejects(queued, (error: unknown) => error === reason);
    assert.notEqual((await running).text.trim(), '');
    assert.equal(engine.workersStarted, 1);
  });

  it('terminates and replaces a worker aborted mid-recognition, and stays usable', async () => {
    const [page, small] = await Promise.all([
      corpusFile('scanned/tess-8071_093.3B.tif'),
      corpusFile('scanned/tess-phototest.tif'),
    ]);
    await engine.recognize(small, { ...english, dpi: 200 }); // the worker is warm: the next job starts at once
    const startedBefore = engine.workersStarted;
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const aborted = engine.recognize(page, { ...english, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 300);
    await assert.rejects(aborted, (error: unknown) => error === reason);

    const after = await engine.recognize(small, { ...english, dpi: 200 });
    assert.match(after.text, /quick brown/);
    assert.equal(engine.workersStarted, startedBefore + 1);
  });
});

describe('TesseractEngine worker bounds', () => {
  it('replaces a worker after maxPagesPerWorker pages, and the fresh one reads as well', async () => {
    const engine = new TesseractEngine({ workers: 1, maxPagesPerWorker: 2 });
    try {
      const image = await corpusFile('scanned/tess-phototest.tif');
      const texts: string[] = [];
      const started: number[] = [];
      for (let i = 0; i < 5; i++) {
        texts.push((await engine.recognize(image, { ...english, dpi: 200 })).text);
        started.push(engine.workersStarted);
      }
      // Pages 1–2 on the first worker, 3–4 on the second, 5 on a third.
      assert.deepEqual(started, [1, 1, 2, 2, 3]);
      assert.match(texts[0]!, /quick brown/);
      for (const text of texts) assert.equal(text, texts[0]);
    } finally {
      await engine.close();
    }
  });

  it('detects orientation with one worker per four OCR workers by default, also after a replacement', async () => {
    const engine = new TesseractEngine({ workers: 2, maxPagesPerWorker: 2 });
    try {
      const image = await corpusFile('rotated/tess-phototest-rotated-L.png');
      const found = await Promise.all([1, 2, 3].map(() => engine.detectOrientation(image, { dpi: 200 })));
      for (const orientation of found) assert.equal(orientation.turn, 90, JSON.stringify(orientation));
      // Three pages through one orientation worker bounded at two: a second one read the third.
      assert.equal(engine.workersStarted, 2);
    } finally {
      await engine.close();
    }
  });

  it('refuses a bound that is not a positive integer', () => {
    assert.throws(() => new TesseractEngine({ workers: 1, maxPagesPerWorker: 0 }), RangeError);
    assert.throws(() => new TesseractEngine({ workers: 1, orientationWorkers: 1.5 }), RangeError);
  });
});

describe('TesseractEngine.close', () => {
  for (const [when, delay] of [
    ['while its worker starts', 0],
    ['mid-recognition', 1500],
  ] as const) {
    it(`rejects a call ${when} and refuses new ones`, async () => {
      const engine = new TesseractEngine({ workers: 1 });
      const pending = engine.recognize(await corpusFile('scanned/tess-8071_093.3B.tif'), english);
      const rejected = assert.rejects(pending, /closed/);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await engine.close();
      await rejected;
      await assert.rejects(engine.recognize(Buffer.alloc(0), english), /closed/);
    });
  }
});

describe('words from tesseract TSV', () => {
  it('are the words of the blocks tree — same text, boxes and (rounded) confidences — on a dense scan', async () => {
    const worker = await createWorker(['eng'], OEM.LSTM_ONLY, {
      langPath: fastModels,
      gzip: false,
      cacheMethod: 'none',
    });
    try {
      await worker.setParameters({ tessedit_pageseg_mode: PSM.AUTO, user_defined_dpi: '300', debug_file: '/dev/null' });
      const image = await corpusFile('scanned/tess-8087_054.3B.tif');
      const { data } = await worker.recognize(image, {}, { text: true, blocks: true, tsv: true });
      const tree = (data.blocks ?? [])
        .flatMap((block) => block.paragraphs)
        .flatMap((paragraph) => paragraph.lines)
        .flatMap((line) => line.words)
        .filter((word) => word.text.trim() !== '');
      const words = wordsOfTsv(data.tsv ?? '');
      assert.ok(words.length > 500, `only ${words.length} words`);
      assert.deepEqual(
        words.map(({ text, bbox }) => ({ text, bbox })),
        tree.map(({ text, bbox: { x0, y0, x1, y1 } }) => ({ text, bbox: { x0, y0, x1, y1 } })),
      );
      // The tree truncates confidences to whole numbers; TSV keeps two decimals (rounded).
      words.forEach((word, i) => {
        const whole = tree[i]!.confidence;
        assert.ok(
          word.confidence >= whole && word.confidence <= whole + 1,
          `${word.text}: ${word.confidence} / ${whole}`,
        );
      });
    } finally {
      await worker.terminate();
    }
  });

  it('skips the page, block, paragraph and line rows and blank words, keeps a tab inside a word, and numbers the lines', () => {
    const tsv = [
      '1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t',
      '4\t1\t1\t1\t1\t0\t10\t10\t80\t12\t-1\t',
      '5\t1\t1\t1\t1\t1\t10\t10\t30\t12\t91.456\tHello',
      '5\t1\t1\t1\t1\t2\t45\t10\t5\t12\t95\t ',
      '5\t1\t1\t1\t1\t3\t55\t11\t35\t11\t88\ta\tb',
      '5\t1\t1\t1\t2\t1\t10\t30\t30\t12\t90\tnext',
    ].join('\n');
    assert.deepEqual(wordsOfTsv(tsv), [
      { text: 'Hello', bbox: { x0: 10, y0: 10, x1: 40, y1: 22 }, confidence: 91.46, line: 0 },
      { text: 'a\tb', bbox: { x0: 55, y0: 11, x1: 90, y1: 22 }, confidence: 88, line: 0 },
      { text: 'next', bbox: { x0: 10, y0: 30, x1: 40, y1: 42 }, confidence: 90, line: 1 },
    ]);
  });
});
