/**
 * The render step of the page pipeline: at what resolution a page is drawn for OCR, and which pages are
 * refused rather than misread. Policy only; the drawing is the PDF engine's (adapters/).
 */
import {
  InputError,
  type DrawnContent,
  type PageGeometry,
  type PdfEngine,
  type QuarterTurn,
  type RenderedPage,
} from './adapters/types.js';

/** Below this resolution print is too coarse for OCR: such a page is refused rather than misread. */
export const MIN_RENDER_DPI = 50;
/** A scan of lower resolution than this is still drawn at it: tesseract reads small type better enlarged. */
export const MIN_SCAN_DPI = 150;
/** A scan's own resolution is used only when it saves at least this share of the resolution asked for. */
const SCAN_SCALE_MARGIN = 0.9;

/** What the render step is asked for. */
export interface RenderRequest {
  /** The resolution OCR wants (OCR_DPI): the most a page is drawn at. */
  dpi: number;
  /** Largest width × height in pixels (RENDER_MAX_PIXELS): a larger page is drawn at a lower resolution. */
  maxPixels: number;
  /** A clockwise quarter turn on top of the page's /Rotate (a page scanned sideways, turned upright). */
  rotation?: QuarterTurn;
  password?: string;
  signal?: AbortSignal;
  /**
   * Whether the page has text of its own. Asked only of a page drawn from images alone at their own
   * resolution (a scan with text keeps the resolution asked for); the pipeline answers from the text layer
   * it read (or reads it then, once).
   */
  hasText(): Promise<boolean>;
}

/**
 * Draws a page for OCR: at the resolution asked, lowered to fit the pixel cap; a scan at its own resolution
 * when lower (drawing a 150 dpi image at 300 dpi adds pixels for OCR to work through, and no detail). The
 * engine settles the resolution from the page's content before drawing it, so a page is drawn once.
 * Refuses a page that would fall below MIN_RENDER_DPI under the cap, and one whose image the engine left out
 * for its size (it would read as blank), with PAGE_TOO_LARGE.
 */
export async function renderForOcr(
  pdf: PdfEngine,
  path: string,
  pageNumber: number,
  request: RenderRequest,
): Promise<RenderedPage> {
  const { password, signal, rotation } = request;
  const geometry = await pdf.geometry(path, pageNumber, { password, signal });
  const scale = fitScale(geometry, request.dpi / 72, request.maxPixels);
  if (isTooCoarse(geometry, scale)) {
    const inches = `${round(geometry.width / 72)} × ${round(geometry.height / 72)} inches`;
    throw new InputError(
      'PAGE_TOO_LARGE',
      `Page ${pageNumber} is ${inches}: rendering it within the ${request.maxPixels}-pixel limit would need a resolution below ${MIN_RENDER_DPI} dpi, too coarse to read. Re-export the page at its real size.`,
    );
  }
  const drawn = await pdf.draw(path, pageNumber, {
    scale,
    rotation,
    password,
    signal,
    rescale: (content) => drawingScale(content, geometry, scale),
  });
  if (isBlank(drawn.pgm, drawn.width * drawn.height) && (await dropsLargeImage(pdf, path, pageNumber, signal))) {
    throw new InputError(
      'PAGE_TOO_LARGE',
      `Page ${pageNumber} holds an image of more than ${pdf.maxImagePixels} pixels, beyond what this service decodes. Scan or export the page at a lower resolution.`,
    );
  }
  // Whether the scan has text of its own is asked only of a scan drawn at its own resolution, after it was
  // drawn: such a page (an earlier OCR's invisible layer) is rare, and is drawn again at the one asked.
  if (drawn.scale !== scale && (await request.hasText())) {
    const again = await pdf.draw(path, pageNumber, { scale, rotation, password, signal });
    return { pgm: again.pgm, width: again.width, height: again.height, dpi: round(scale * 72) };
  }
  return { pgm: drawn.pgm, width: drawn.width, height: drawn.height, dpi: round(drawn.scale * 72) };
}

/**
 * The scale a page is drawn at, from what a drawing at the scale asked holds: a scan at its own resolution
 * when that saves enough of the one asked, anything else at the one asked.
 */
export function drawingScale(content: DrawnContent, page: Pick<PageGeometry, 'userUnit'>, asked: number): number {
  if (!isScan(content)) return asked;
  const own = scanScale(content, page);
  return own !== undefined && savesEnough(own, asked) ? own : asked;
}

/** Whether drawing a scan at its own scale instead of the one asked saves enough to be worth it. */
export function savesEnough(own: number, asked: number): boolean {
  return own < asked * SCAN_SCALE_MARGIN;
}

/** The largest scale up to `wanted` whose whole-pixel canvas stays within `maxPixels`. */
export function fitScale(page: Pick<PageGeometry, 'width' | 'height'>, wanted: number, maxPixels: number): number {
  const pixels = (scale: number): number =>
    Math.max(1, Math.floor(page.width * scale)) * Math.max(1, Math.floor(page.height * scale));
  if (pixels(wanted) <= maxPixels) return wanted;
  return Math.sqrt(maxPixels / (page.width * page.height));
}

/**
 * Whether print drawn at `scale` is too coarse to read. /UserUnit enlarges the whole page, content included
 * (a poster drawn at 1/10 scale): what must stay legible is the detail per unit the content was drawn in, so
 * the floor applies before that factor.
 */
export function isTooCoarse(page: Pick<PageGeometry, 'userUnit'>, scale: number): boolean {
  return scale * page.userUnit * 72 < MIN_RENDER_DPI;
}

/** A page drawn from images alone: no path, no glyph (vector art and text keep the resolution asked for). */
export function isScan(content: DrawnContent): boolean {
  return !content.vector && content.finestImageScale !== undefined;
}

/** The scale a scan is read at: its finest image 1:1, never below MIN_SCAN_DPI. */
export function scanScale(content: DrawnContent, page: Pick<PageGeometry, 'userUnit'>): number | undefined {
  if (content.finestImageScale === undefined) return undefined;
  return Math.max(content.finestImageScale, MIN_SCAN_DPI / 72 / page.userUnit);
}

/** Whether every pixel of a PGM is white: nothing was drawn. */
export function isBlank(pgm: Uint8Array, pixels: number): boolean {
  for (let i = pgm.length - pixels; i < pgm.length; i++) if (pgm[i] !== 255) return false;
  return true;
}

/** Whether the page draws an image the engine leaves out for its size. */
async function dropsLargeImage(
  pdf: PdfEngine,
  path: string,
  pageNumber: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return (await pdf.largestImagePixels(path, pageNumber, { signal })) > pdf.maxImagePixels;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
