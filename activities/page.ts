/**
 * The page activity: one page through the pipeline, as OCRmyPDF's is a list of named phases over one small
 * per-page object. Read the text layer → decide → render → deskew and recognise → (only when that read is
 * weak or sideways) orient and read again turned → record. Each step is a function below; each decision a
 * named predicate; the engines' calls are in adapters/.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Box, PageLanguages, PageLayout, ProcessPageInput, ProcessPageOutput, Word } from '../core/contracts.js';
import { AUTO_LANGUAGES, languagesForScript, mixedScriptLanguages } from '../core/languages.js';
import { layoutOfWords } from '../core/outputs/layout.js';
import type { JobStore, PageRead } from '../core/job-store.js';
import type { OcrMode, ReadMethod } from '../core/lifecycle.js';
import type { ImageMediaType } from '../core/document-type.js';
import type { DocumentStorage } from '../core/storage/storage.js';
import type {
  ImageEngine,
  OcrEngine,
  OcrResult,
  Orientation,
  PageText,
  PdfEngine,
  QuarterTurn,
  RenderedPage,
} from './adapters/types.js';
import { asFailure, imageTypeOfFile, localCopy, withHeartbeat, type PasswordOpener } from './common.js';
import { renderImageForOcr } from './image-render.js';
import type { PageMetrics, PagePhase } from './page-metrics.js';
import { renderForOcr } from './page-render.js';

/** How pages are read (the OCR part of the configuration). */
export interface PageSettings {
  /** The resolution pages are rendered at for OCR (OCR_DPI); scans are read at their own when lower. */
  dpi: number;
  /** RENDER_MAX_PIXELS: larger pages are rendered at a lower resolution. */
  renderMaxPixels: number;
  /**
   * Turn pages scanned sideways or upside down upright before OCR, when orientation detection leads by at
   * least `minConfidence`. Absent: pages are read as rendered.
   */
  orientation?: { minConfidence: number };
  /** Straighten slightly skewed scans before reading them (OCR_DESKEW; default true). */
  deskew?: boolean;
  /** How often a long page activity reports liveness. */
  heartbeatIntervalMs?: number;
  /**
   * DEFAULT_LANGUAGES: what `languages=auto` reads a page in when OSD finds no script on it, or one no
   * installed language is written in (default `eng`).
   */
  defaultLanguages?: string[];
}

export interface PageActivityDeps {
  jobs: JobStore;
  storage: DocumentStorage;
  pdf: PdfEngine;
  /** Decodes the pages of image documents (PNG, JPEG, TIFF frames, WebP) instead of pdf.js. */
  images: ImageEngine;
  ocr: OcrEngine;
  metrics: PageMetrics;
  openPassword: PasswordOpener;
  settings: PageSettings;
}

// Decisions.

/** Whether the document can have a text layer: a PDF can; an image is pixels only, always read by OCR. */
export function canHaveTextLayer(imageType: ImageMediaType | undefined): boolean {
  return imageType === undefined;
}

/** Whether the page's own text layer is read first: always, unless the client forced OCR. */
export function readsTextLayerFirst(mode: OcrMode): boolean {
  return mode !== 'force';
}

/** Whether the text layer is the page's answer: it holds real text, or the client asked for no OCR. */
export function hasUsableTextLayer(mode: OcrMode, layer: PageText): boolean {
  return mode === 'skip' || layer.usable;
}

/** Below this mean word confidence a read is weak: on the corpus, upright pages read at 91–96, turned ones at 35–41. */
export const WEAK_READ_CONFIDENCE = 60;
/** Text lines steeper than this ran across the page: it was read sideways. */
const SIDEWAYS_DEGREES = 45;

/**
 * Whether to ask which way the page's text runs, after reading it as rendered: only when that read is weak
 * or its lines run sideways. An upright page — nearly every page — is read once, with no detection.
 */
export function needsOrientation(settings: PageSettings, ocr: OcrEngine, read: OcrResult): boolean {
  if (settings.orientation === undefined || ocr.detectOrientation === undefined) return false;
  return read.confidence < WEAK_READ_CONFIDENCE || Math.abs(lineAngle(read.words)) > SIDEWAYS_DEGREES;
}

/** Of two reads of one page, the one to keep: the more confident. */
export function betterRead(first: OcrResult, second: OcrResult): 'first' | 'second' {
  return second.confidence > first.confidence ? 'second' : 'first';
}

/**
 * The angle of the page's text lines in degrees (0: horizontal), the median over lines of three words or
 * more of the least-squares slope of their words' baselines; 0 without such lines.
 */
export function lineAngle(words: Word[]): number {
  const lines = new Map<number, { x: number; y: number }[]>();
  for (const w of words) {
    if (w.line === undefined) continue;
    const points = lines.get(w.line) ?? [];
    points.push({ x: (w.bbox.x0 + w.bbox.x1) / 2, y: w.bbox.y1 });
    lines.set(w.line, points);
  }
  const angles: { angle: number; weight: number }[] = [];
  for (const points of lines.values()) {
    if (points.length < 3) continue;
    const mx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
    const my = points.reduce((sum, p) => sum + p.y, 0) / points.length;
    const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
    const sxy = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
    if (sxx > 0) angles.push({ angle: (Math.atan(sxy / sxx) * 180) / Math.PI, weight: points.length });
  }
  angles.sort((a, b) => a.angle - b.angle);
  const total = angles.reduce((sum, a) => sum + a.weight, 0);
  let seen = 0;
  for (const a of angles) {
    seen += a.weight;
    if (seen >= total / 2) return a.angle;
  }
  return 0;
}

/** Whether each page's languages are picked from the script detected on it (`languages=auto`). */
export function picksLanguagesByScript(languages: readonly string[]): boolean {
  return languages.length === 1 && languages[0] === AUTO_LANGUAGES;
}

/**
 * Below this mean word confidence a page read in its detected script's languages may hold another script:
 * a Korean page with English sentences, detected as Latin, read under it in English and at 91 in eng+kor+rus;
 * generated pages in one script read at 93–97 in theirs (test/activities/page-languages.test.ts).
 */
export const MIXED_SCRIPT_CONFIDENCE = 80;

/** Whether a languages=auto page is read again in the languages of every installed script. */
export function mayMixScripts(languages: PageLanguages, read: OcrResult): boolean {
  return languages.auto && languages.fallback === undefined && read.confidence < MIXED_SCRIPT_CONFIDENCE;
}

/** Whether a detected orientation is sure enough to turn the page for. */
export function isConfidentTurn(found: Orientation, settings: PageSettings): boolean {
  return found.turn !== 0 && found.confidence >= (settings.orientation?.minConfidence ?? Infinity);
}

/** Whether to straighten a slightly skewed page before reading it. */
export function needsDeskew(settings: PageSettings): boolean {
  return settings.deskew ?? true;
}

/** One page on its way through the pipeline. */
interface PageWork {
  input: ProcessPageInput;
  path: string;
  /** The image format of an image document; undefined for a PDF. */
  imageType: ImageMediaType | undefined;
  password: string | undefined;
  signal: AbortSignal;
  /** The page's text layer, read at most once, when a step first asks for it. */
  textLayer(): Promise<PageText>;
  /** Times one step into the phase metrics. */
  phase<T>(name: PagePhase, work: () => Promise<T>): Promise<T>;
  /** The method this attempt is on so far: a failure is counted against the path it failed in. */
  method: ReadMethod;
}

export function createPageActivities(deps: PageActivityDeps) {
  const { jobs, storage, pdf, ocr, metrics, settings } = deps;
  const heartbeatIntervalMs = settings.heartbeatIntervalMs ?? 5_000;

  /** Reads one page — its own text layer where it has real text (per ocrMode), else render and OCR — and records it. */
  async function processPage(input: ProcessPageInput): Promise<ProcessPageOutput> {
    const startedMs = performance.now();
    const { attempt } = Context.current().info;
    const log = Context.current().log;
    const key = { jobId: input.jobId, pageNumber: input.pageNumber };
    const progress: { method: ReadMethod } = { method: input.options.ocrMode === 'force' ? 'ocr' : 'text-layer' };
    const ended = metrics.started();
    if (attempt > 1) metrics.retried();
    try {
      // The DB writes are inside the heartbeat too: with the database restarting they wait (see
      // createSequelize's waitForDatabase) while the attempt stays alive, instead of timing out.
      const read = await withHeartbeat(heartbeatIntervalMs, async (signal) => {
        await jobs.pageStarted(key, attempt);
        // Held until the page is read: the engines open the file at each step.
        const copy = await localCopy(storage, input.storageKey);
        try {
          const work = await begin(input, copy.path, signal, progress);
          const result = await readPage(work);
          // Work that finished just as the job was cancelled is not recorded: the job is being finalized.
          signal.throwIfAborted();
          await jobs.pageRead(key, result, attempt, Math.round(performance.now() - startedMs));
          return result;
        } finally {
          await copy.release();
        }
      });
      const seconds = since(startedMs);
      metrics.attemptEnded(read.method, 'done', seconds);
      log.info('Page read', {
        method: read.method,
        characters: read.text.length,
        confidence: read.confidence,
        durationMs: Math.round(seconds * 1000),
      });
      return { pageNumber: input.pageNumber, method: read.method, characters: read.text.length };
    } catch (err) {
      const { method } = progress;
      if (err instanceof CancelledFailure || Context.current().cancellationSignal.aborted) {
        metrics.attemptEnded(method, 'cancelled', since(startedMs));
        log.info('Page attempt cancelled', { method });
        throw err;
      }
      const failure = asFailure(err);
      metrics.attemptEnded(method, 'error', since(startedMs));
      log.warn('Page attempt failed', {
        method,
        code: failure instanceof ApplicationFailure ? failure.type : undefined,
        error: failure instanceof Error ? failure.message : String(failure),
      });
      throw failure;
    } finally {
      ended();
    }
  }

  async function begin(
    input: ProcessPageInput,
    path: string,
    signal: AbortSignal,
    progress: { method: ReadMethod },
  ): Promise<PageWork> {
    const imageType = await imageTypeOfFile(path);
    // An image has no password: one sent with it is never opened.
    const password = imageType ? undefined : deps.openPassword(input.jobId, input.password);
    const phase = <T>(name: PagePhase, work: () => Promise<T>) => timed((t) => metrics.phase(name, t), work);
    let layer: Promise<PageText> | undefined;
    const work: PageWork = {
      input,
      path,
      imageType,
      password,
      signal,
      textLayer: () =>
        (layer ??= phase('text-layer', () => pdf.extractText(path, input.pageNumber, { password, signal }))),
      phase,
      get method() {
        return progress.method;
      },
      set method(method) {
        progress.method = method;
      },
    };
    return work;
  }

  /** The pipeline. */
  async function readPage(work: PageWork): Promise<PageRead> {
    const { ocrMode } = work.input.options;
    let layer: PageText | undefined;
    if (canHaveTextLayer(work.imageType) && readsTextLayerFirst(ocrMode)) {
      layer = await work.textLayer();
      if (hasUsableTextLayer(ocrMode, layer)) return fromTextLayer(layer);
    }
    work.method = 'ocr';
    let image = await render(work);
    const chosen = await chooseLanguages(work, image);
    const { detected } = chosen;
    let { languages } = chosen;
    let result = await recognise(work, image, languages.used);
    if (mayMixScripts(languages, result)) {
      // OSD names only the leading script: words of another one read weakly. Read again in every installed
      // script's language and keep the more confident read.
      const wider = mixedScriptLanguages(
        languages.used,
        ocr.availableLanguages(),
        settings.defaultLanguages ?? ['eng'],
      );
      if (wider.length > languages.used.length) {
        const again = await recognise(work, image, wider);
        if (betterRead(result, again) === 'second')
          [result, languages] = [again, { ...languages, used: wider, mixed: true }];
      }
    }
    let turn: QuarterTurn = 0;
    if (needsOrientation(settings, ocr, result)) {
      const found = await orient(work, image, detected);
      if (found !== 0) {
        // Drawn again turned, rather than the bitmap rotated: same cost as a render, no second copy; at the
        // resolution the first render settled on.
        const turned = await render(work, { dpi: image.dpi, rotation: found });
        const again = await recognise(work, turned, languages.used);
        if (betterRead(result, again) === 'second') [image, result, turn] = [turned, again, found];
      }
    }
    return {
      method: 'ocr',
      text: result.text,
      confidence: result.confidence,
      words: result.words.map((w) => ({ ...w, bbox: toPageBox(w.bbox, image, turn) })),
      layout: toPageLayout(result, image, turn),
      // The column holds whole dpi; a capped render has a fractional one.
      renderDpi: Math.round(image.dpi),
      hasTextLayer: layer?.usable ?? null,
      languages,
    };
  }

  /**
   * Languages: the client's, or with `languages=auto` those of the script OSD detects on the page (one
   * detection, which also gives the page's orientation should the read turn out weak).
   */
  async function chooseLanguages(
    work: PageWork,
    image: RenderedPage,
  ): Promise<{ languages: PageLanguages; detected?: Orientation }> {
    const requested = work.input.options.languages;
    if (!picksLanguagesByScript(requested)) return { languages: { used: requested, auto: false } };
    const defaults = settings.defaultLanguages ?? ['eng'];
    if (ocr.detectOrientation === undefined) {
      return { languages: { used: defaults, auto: true, script: null, fallback: 'this OCR engine detects no script' } };
    }
    const detected = await detect(work, image);
    const choice = languagesForScript(detected.script, ocr.availableLanguages(), defaults);
    return {
      detected,
      languages: {
        used: choice.languages,
        auto: true,
        script: detected.script ?? null,
        scriptConfidence: detected.script === undefined ? null : (detected.scriptConfidence ?? null),
        ...(choice.fallback === undefined ? {} : { fallback: choice.fallback }),
      },
    };
  }

  /** Render: the page drawn for OCR, at the resolution page-render.ts settles on. */
  function render(work: PageWork, at: { dpi?: number; rotation?: QuarterTurn } = {}): Promise<RenderedPage> {
    if (work.imageType) {
      // An image is decoded rather than drawn; its scale follows from its own pixels alone.
      return work.phase('render', () =>
        renderImageForOcr(deps.images, work.path, work.input.pageNumber, {
          dpi: settings.dpi,
          maxPixels: settings.renderMaxPixels,
          rotation: at.rotation,
          signal: work.signal,
        }),
      );
    }
    return work.phase('render', () =>
      renderForOcr(pdf, work.path, work.input.pageNumber, {
        dpi: at.dpi ?? settings.dpi,
        maxPixels: settings.renderMaxPixels,
        rotation: at.rotation,
        password: work.password,
        signal: work.signal,
        // A page that cannot give its text is taken to have some: it keeps the resolution asked for.
        hasText: () =>
          work.textLayer().then(
            (t) => t.hasAnyText,
            () => true,
          ),
      }),
    );
  }

  /** Orientation and script detection (tesseract's OSD) on the page as rendered. */
  function detect(work: PageWork, image: RenderedPage): Promise<Orientation> {
    return work.phase('orientation', () => ocr.detectOrientation!(image.pgm, { dpi: image.dpi, signal: work.signal }));
  }

  /**
   * Orient: the clockwise turn that makes the page's text upright, or 0 when detection is not sure; from the
   * detection made for the page's languages when there was one.
   */
  async function orient(work: PageWork, image: RenderedPage, detected?: Orientation): Promise<QuarterTurn> {
    const found = detected ?? (await detect(work, image));
    return isConfidentTurn(found, settings) ? found.turn : 0;
  }

  /** Deskew and recognise: the engine straightens a slightly skewed page as it reads it. */
  function recognise(work: PageWork, image: RenderedPage, languages: string[]): Promise<OcrResult> {
    const options = {
      languages,
      dpi: image.dpi,
      deskew: needsDeskew(settings),
      signal: work.signal,
    };
    return work.phase('ocr', () => ocr.recognize(image.pgm, options));
  }

  return { processPage };
}

/** A page answered by its own text layer: its words on pdf.js's lines, grouped into paragraphs. */
function fromTextLayer(layer: PageText): PageRead {
  const { words, layout } = layoutOfWords(layer.words);
  return {
    method: 'text-layer',
    text: layer.text,
    confidence: 100,
    words,
    layout,
    renderDpi: null,
    hasTextLayer: layer.usable,
  };
}

/**
 * A word box from a page image in PDF points of the page as it is displayed (after /Rotate), like the
 * text layer's, whatever resolution the page was rendered at and whichever way it was turned to be read.
 */
export function toPageBox(
  bbox: Word['bbox'],
  image: { width: number; height: number; dpi: number },
  turn: QuarterTurn,
): Word['bbox'] {
  const toPoints = 72 / image.dpi;
  const { width: w, height: h } = image;
  // Undo the clockwise turn: where each corner of the upright image lay on the page as displayed.
  const back = (x: number, y: number): [number, number] =>
    turn === 90 ? [y, w - x] : turn === 180 ? [w - x, h - y] : turn === 270 ? [h - y, x] : [x, y];
  const [ax, ay] = back(bbox.x0, bbox.y0);
  const [bx, by] = back(bbox.x1, bbox.y1);
  return {
    x0: round2(Math.min(ax, bx) * toPoints),
    y0: round2(Math.min(ay, by) * toPoints),
    x1: round2(Math.max(ax, bx) * toPoints),
    y1: round2(Math.max(ay, by) * toPoints),
  };
}

/**
 * An OCR read's layout in the same space as its words (toPageBox), with the image it was read from as the
 * page is displayed: a page turned a quarter to be read is that image turned back. The layout of the words'
 * lines when the engine gave none.
 */
export function toPageLayout(
  read: OcrResult,
  image: { width: number; height: number; dpi: number },
  turn: QuarterTurn,
): PageLayout {
  const sideways = turn === 90 || turn === 270;
  const shown = {
    width: sideways ? image.height : image.width,
    height: sideways ? image.width : image.height,
    dpi: image.dpi,
  };
  const layout = read.layout ?? layoutOfWords(read.words).layout;
  const box = (b: Box) => toPageBox(b, image, turn);
  return {
    blocks: layout.blocks.map((b) => ({ ...b, bbox: box(b.bbox) })),
    paragraphs: layout.paragraphs.map((p) => ({ ...p, bbox: box(p.bbox) })),
    lines: layout.lines.map((l) => ({ ...l, bbox: box(l.bbox) })),
    image: shown,
  };
}

/** Seconds since `startedMs`. */
function since(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

/** Runs one timed step of a page attempt and records its duration, whether it succeeds or not. */
async function timed<T>(record: (seconds: number) => void, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    record(since(started));
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
