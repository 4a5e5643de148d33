import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWorker, OEM, PSM, type Page, type Worker as TesseractWorker } from 'tesseract.js';
import {
  InputError,
  type OcrEngine,
  type OcrOptions,
  type OcrResult,
  type Orientation,
  type QuarterTurn,
  type Word,
} from './types.js';
import type { Box, PageLayout } from '../../core/contracts.js';
import { encloseChildren } from '../../core/outputs/layout.js';
import {
  installCommand,
  installedLanguages,
  modelFile,
  packageScope,
  type PackagedModel,
} from '../../core/languages.js';
import { WorkerPool } from './worker-pool.js';

/** Which model folder of the @tesseract.js-data packages to load. */
export type TesseractModel = PackagedModel;

export interface TesseractEngineOptions {
  /** Workers per language set; each is a thread with its own model (+110–150 MB). */
  workers: number;
  /**
   * `best_int` (default): the package's LSTM-only file. `default`: its legacy+LSTM file, whose LSTM network
   * is the same, so text and speed match while each worker holds ~90 MB more.
   */
  model?: TesseractModel;
  /**
   * A folder of `<code>.traineddata[.gz]` files to read instead of the packages (OCR_TESSDATA_DIR), e.g.
   * Debian's tesseract-ocr-eng, whose tessdata_fast model read 27 % faster than best_int in the bench profile.
   */
  tessdataDir?: string;
  /**
   * Orientation-detection workers (each ~90 MB). Default: one per four OCR workers, rounded up; detection
   * takes a small fraction of a page's OCR time, so one keeps up with several OCR workers.
   */
  orientationWorkers?: number;
  /**
   * Pages a worker handles before it is replaced by a fresh one (default: never). A worker's WASM heap
   * grows to its largest page and never shrinks, so this bounds what a long run can leave behind.
   */
  maxPagesPerWorker?: number;
}

/**
 * Tesseract's orientation model, from the npm package (never a CDN). Orientation detection runs on the
 * legacy classifier, so it needs that model file and tesseract.js's legacy core, not the LSTM-only one.
 */
const OSD_FOLDER = path.join(packageScope() ?? '', 'osd', '4.0.0');

/** OCR with tesseract.js: one lazily created pool of worker threads per language set. */
export class TesseractEngine implements OcrEngine {
  private readonly pools = new Map<string, WorkerPool<TesseractWorker>>();
  private orientationPool: WorkerPool<TesseractWorker> | undefined;
  private languages: string[] | undefined;
  private started = 0;
  private closed = false;

  constructor(private readonly options: TesseractEngineOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
    }
    for (const [name, value] of [
      ['orientationWorkers', options.orientationWorkers],
      ['maxPagesPerWorker', options.maxPagesPerWorker],
    ] as const) {
      if (value !== undefined && !(value === Infinity || (Number.isInteger(value) && value >= 1))) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
  }

  /** Worker threads started so far, replacements included: lets callers see that the pools are reused. */
  get workersStarted(): number {
    return this.started;
  }

  availableLanguages(): string[] {
    this.languages ??= installedLanguages(this.options);
    return [...this.languages];
  }

  /**
   * Reads an image. With `deskew` (default true) tesseract.js's rotateAuto first straightens a page skewed
   * by a few degrees (a layout pass to find the text's angle, 11–13 % of a page's OCR time).
   */
  async recognize(image: Uint8Array, { languages, dpi, deskew = true, signal }: OcrOptions): Promise<OcrResult> {
    signal?.throwIfAborted();
    if (this.closed) throw new Error('TesseractEngine is closed');
    const codes = [...new Set(languages)];
    let available = this.availableLanguages();
    // A model installed since the list was read (scripts/install-languages.sh) is read without a restart.
    if (codes.some((code) => !available.includes(code))) {
      this.languages = undefined;
      available = this.availableLanguages();
    }
    const missing = codes.filter((code) => !available.includes(code));
    if (codes.length === 0 || missing.length > 0) {
      throw new InputError(
        'OCR_LANGUAGE_UNAVAILABLE',
        `OCR language ${missing.join('+') || '(none given)'} is not installed on this worker; installed: ${available.join(', ')}` +
          (missing.length > 0 ? `. Install it with \`${installCommand(missing, this.options)}\`.` : ''),
      );
    }
    const key = codes.join('+');
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new WorkerPool(this.options.workers, () => this.startWorker(codes), this.options.maxPagesPerWorker);
      this.pools.set(key, pool);
    }
    // The image's size stands for its cost: the largest waiting page is read first (see WorkerPool.run).
    return pool.run(signal, (worker) => recognizeWith(worker, image, dpi, deskew), image.byteLength);
  }

  async detectOrientation(
    image: Uint8Array,
    { dpi, signal }: Pick<OcrOptions, 'dpi' | 'signal'>,
  ): Promise<Orientation> {
    signal?.throwIfAborted();
    if (this.closed) throw new Error('TesseractEngine is closed');
    this.orientationPool ??= new WorkerPool(
      this.options.orientationWorkers ?? Math.ceil(this.options.workers / 4),
      () => {
        this.started += 1;
        return startOrientationWorker();
      },
      this.options.maxPagesPerWorker,
    );
    return this.orientationPool.run(signal, (worker) => detectWith(worker, image, dpi));
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values(), ...(this.orientationPool ? [this.orientationPool] : [])];
    await Promise.all(pools.map((pool) => pool.close()));
    this.pools.clear();
    this.orientationPool = undefined;
  }

  private async startWorker(codes: string[]): Promise<TesseractWorker> {
    this.started += 1;
    const files = codes.map((code) => ({ code, ...modelFile(code, this.options) }));
    // One worker reads all its models either gzipped or not.
    const gzip = files[0]?.gzip ?? true;
    if (files.some((f) => f.gzip !== gzip)) {
      throw new Error(`The models of ${codes.join('+')} mix .traineddata and .traineddata.gz files; use one form.`);
    }
    const [first, ...others] = files;
    if (first !== undefined && others.length === 0) {
      return startWorker(codes, path.dirname(first.file), gzip);
    }
    // tesseract.js reads every language from one langPath folder, so several languages get a folder of
    // links; the worker holds the models in memory once it has started.
    const folder = await mkdtemp(path.join(tmpdir(), 'folio-tessdata-'));
    try {
      await Promise.all(files.map((f) => symlink(f.file, path.join(folder, path.basename(f.file)))));
      return await startWorker(codes, folder, gzip);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }
}

async function startWorker(codes: string[], langPath: string, gzip: boolean): Promise<TesseractWorker> {
  const worker = await createSettled(codes, OEM.LSTM_ONLY, { langPath, gzip });
  try {
    await worker.setParameters({
      // The CLI's automatic page segmentation; tesseract.js would assume a single block.
      tessedit_pageseg_mode: PSM.AUTO,
      // Tesseract's diagnostics ("Detected 9 diacritics") would otherwise go to stdout.
      debug_file: '/dev/null',
    });
  } catch (error) {
    await worker.terminate();
    throw new Error(`tesseract.js rejected its parameters: ${String(error)}`);
  }
  return worker;
}

async function startOrientationWorker(): Promise<TesseractWorker> {
  const worker = await createSettled(['osd'], OEM.TESSERACT_ONLY, {
    langPath: OSD_FOLDER,
    gzip: true,
    legacyCore: true,
    legacyLang: true,
  });
  try {
    await worker.setParameters({ debug_file: '/dev/null' });
  } catch (error) {
    await worker.terminate();
    throw new Error(`tesseract.js rejected its parameters: ${String(error)}`);
  }
  return worker;
}

/** createWorker with the options every Folio worker needs, failing rather than hanging when a model is bad. */
async function createSettled(
  codes: string[],
  oem: OEM,
  options: { langPath: string; gzip: boolean; legacyCore?: boolean; legacyLang?: boolean },
): Promise<TesseractWorker> {
  let ready = false;
  let failed: (reason: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  // Without an errorHandler tesseract.js throws job failures from its message listener (an uncaught
  // exception), and a model that fails to initialise never settles createWorker's promise: race it.
  const created = createWorker(codes, oem, {
    ...options,
    // The default cache reads ./<lang>.traineddata before langPath and silently wins.
    cacheMethod: 'none',
    errorHandler: (error: unknown) => {
      if (!ready) failed(new Error(`tesseract.js could not start for ${codes.join('+')}: ${String(error)}`));
    },
  });
  const worker = await Promise.race([created, failure]);
  ready = true;
  return worker;
}

/** tesseract.js's orientation_degrees is the clockwise turn that puts the text upright. */
const UPRIGHT_TURNS: Record<number, QuarterTurn> = { 0: 0, 90: 90, 180: 180, 270: 270 };

async function detectWith(worker: TesseractWorker, image: Uint8Array, dpi: number): Promise<Orientation> {
  await worker.setParameters({ user_defined_dpi: String(Math.round(dpi)) });
  let data: Awaited<ReturnType<TesseractWorker['detect']>>['data'];
  try {
    ({ data } = await worker.detect(Buffer.from(image.buffer, image.byteOffset, image.byteLength)));
  } catch (error) {
    throw new Error(`tesseract.js orientation detection failed: ${String(error)}`);
  }
  // No text to judge by (a blank or pictorial page): read it as it is.
  const script = data.script ? { script: data.script, scriptConfidence: data.script_confidence ?? 0 } : {};
  if (data.orientation_degrees === null) return { turn: 0, confidence: 0, ...script };
  return {
    turn: UPRIGHT_TURNS[data.orientation_degrees] ?? 0,
    confidence: data.orientation_confidence ?? 0,
    ...script,
  };
}

async function recognizeWith(
  worker: TesseractWorker,
  image: Uint8Array,
  dpi: number,
  deskew: boolean,
): Promise<OcrResult> {
  // A PGM carries no resolution, and tesseract's fallback of 70 dpi misjudges the text size.
  await worker.setParameters({ user_defined_dpi: String(Math.round(dpi)) });
  const page = await recognizePage(worker, Buffer.from(image.buffer, image.byteOffset, image.byteLength), deskew);
  const { words, layout } = readTsv(page.tsv ?? '');
  const confidence = words.length === 0 ? 0 : words.reduce((sum, word) => sum + word.confidence, 0) / words.length;
  return { text: page.text, confidence, words, layout };
}

/**
 * The words of tesseract's TSV output (level 5 rows: left, top, width, height, confidence, text), in reading
 * order, each with the index of its text line. TSV rather than tesseract.js's blocks tree: the same boxes and
 * confidences, and building the tree's JavaScript objects for every symbol cost 12 % of a page's OCR time
 * (measured, fast model, 6 scans).
 */
export function wordsOfTsv(tsv: string): Word[] {
  return readTsv(tsv).words;
}

/**
 * Tesseract's TSV as words and their layout: the blocks, paragraphs and lines of its levels 2–4 with their
 * boxes, in the image's pixels. Blank words are left out, and so are lines, paragraphs and blocks left with
 * no word; each box is widened to enclose its children's should tesseract's not.
 */
export function readTsv(tsv: string): { words: Word[]; layout: PageLayout } {
  const words: Word[] = [];
  const layout: PageLayout = { blocks: [], paragraphs: [], lines: [], image: null };
  // The boxes of levels 2–4 by their numbers, taken when the level's first word comes.
  const boxes = new Map<string, Box>();
  let blockKey = '';
  let paragraphKey = '';
  let lineKey = '';
  for (const row of tsv.split('\n')) {
    const cells = row.split('\t');
    if (cells.length < 12) continue;
    const level = cells[0];
    const [left, top, width, height, conf] = cells.slice(6, 11).map(Number) as [number, number, number, number, number];
    const bbox = { x0: left, y0: top, x1: left + width, y1: top + height };
    if (level === '2' || level === '3' || level === '4') {
      boxes.set(`${level}:${cells.slice(2, Number(level) + 1).join('.')}`, bbox);
      continue;
    }
    if (level !== '5') continue;
    const text = cells.slice(11).join('\t');
    if (text.trim() === '') continue;
    const [block, paragraph, line] = [cells.slice(2, 3), cells.slice(2, 4), cells.slice(2, 5)].map((c) => c.join('.'));
    if (block !== blockKey) {
      blockKey = block!;
      layout.blocks.push({ bbox: boxes.get(`2:${block}`) ?? { ...bbox } });
    }
    if (paragraph !== paragraphKey) {
      paragraphKey = paragraph!;
      layout.paragraphs.push({ bbox: boxes.get(`3:${paragraph}`) ?? { ...bbox }, block: layout.blocks.length - 1 });
    }
    // Block, paragraph and line number: a new combination is the next text line in reading order.
    if (line !== lineKey) {
      lineKey = line!;
      layout.lines.push({ bbox: boxes.get(`4:${line}`) ?? { ...bbox }, paragraph: layout.paragraphs.length - 1 });
    }
    const confidence = Math.round(conf * 100) / 100;
    words.push({ text, bbox, confidence, line: layout.lines.length - 1 });
  }
  encloseChildren(words, layout);
  return { words, layout };
}

async function recognizePage(worker: TesseractWorker, image: Buffer, deskew: boolean): Promise<Page> {
  try {
    // Text and TSV (each word's box and confidence); no other output.
    // rotateAuto straightens a skewed scan (a few degrees) by tesseract's own line angle before reading;
    // quarter turns are the orientation detection's job. Word boxes are then in the straightened image.
    const { data } = await worker.recognize(image, { rotateAuto: deskew }, { text: true, tsv: true });
    return data;
  } catch (error) {
    // Job failures arrive as strings; this one means leptonica could not decode the image.
    const message = String(error);
    if (message.includes('Error attempting to read image')) {
      throw new InputError('PAGE_UNREADABLE', `OCR could not read the page image: ${message}`);
    }
    throw new Error(`tesseract.js recognition failed: ${message}`);
  }
}
