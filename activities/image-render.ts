/**
 * The render step of the page pipeline for image documents (PNG, JPEG, TIFF frames, WebP): at what scale a
 * frame is decoded for OCR and which frames are refused. Policy only; the decoding is the image engine's.
 */
import {
  InputError,
  type ImageEngine,
  type ImageFrame,
  type QuarterTurn,
  type RenderedPage,
} from './adapters/types.js';
import { MIN_RENDER_DPI } from './page-render.js';

/** The resolution an image is taken to have when it declares none: text scanned for reading is near 300 dpi. */
export const DEFAULT_IMAGE_DPI = 300;

/** What the image render step is asked for. */
export interface ImageRenderRequest {
  /** OCR_DPI: an image of higher resolution is shrunk to it (more pixels add no detail OCR uses). */
  dpi: number;
  /** RENDER_MAX_PIXELS: a larger frame is shrunk to fit. */
  maxPixels: number;
  rotation?: QuarterTurn;
  signal?: AbortSignal;
}

/** The resolution a frame's pixels stand for: the one it declares, else DEFAULT_IMAGE_DPI. */
export function imageDpi(frame: Pick<ImageFrame, 'density'>): number {
  return frame.density ?? DEFAULT_IMAGE_DPI;
}

/** A frame's page size in points: its pixels at its own resolution (the size its words' boxes are given in). */
export function imagePageSize(frame: ImageFrame): { width: number; height: number } {
  const toPoints = 72 / imageDpi(frame);
  return { width: frame.width * toPoints, height: frame.height * toPoints };
}

/**
 * The scale a frame is decoded at: its own pixels, shrunk when finer than OCR_DPI or over the pixel cap. Never
 * enlarged, unlike a coarse scan in a PDF: told its own resolution (even a screen's 72 or 96 dpi), tesseract
 * read the corpus images 1:1 as well as or better than enlarged (scribe-multicol_05.jpg: CER 0.7 % at 72 dpi
 * 1:1, 2.2 % enlarged to 150 dpi, 6.5 % 1:1 but told 300 dpi).
 */
export function imageScale(frame: ImageFrame, dpi: number, maxPixels: number): number {
  return Math.min(1, dpi / imageDpi(frame), Math.sqrt(maxPixels / (frame.width * frame.height)));
}

/**
 * Decodes one frame for OCR, upright (EXIF orientation), at the scale imageScale settles on. Refuses with
 * PAGE_TOO_LARGE a frame over the decoder's input limit (it is never decoded) and one the cap would shrink
 * below MIN_RENDER_DPI.
 */
export async function renderImageForOcr(
  images: ImageEngine,
  path: string,
  pageNumber: number,
  request: ImageRenderRequest,
): Promise<RenderedPage> {
  const frame = await images.frame(path, pageNumber, { signal: request.signal });
  const pixels = frame.width * frame.height;
  if (pixels > images.maxInputPixels) {
    throw new InputError(
      'PAGE_TOO_LARGE',
      `Page ${pageNumber} is a ${frame.width} × ${frame.height} image (${pixels} pixels); this service decodes images of at most ${images.maxInputPixels} pixels. Scan or export it at a lower resolution.`,
    );
  }
  const scale = imageScale(frame, request.dpi, request.maxPixels);
  const dpi = imageDpi(frame) * scale;
  if (dpi < MIN_RENDER_DPI) {
    throw new InputError(
      'PAGE_TOO_LARGE',
      `Page ${pageNumber} is a ${frame.width} × ${frame.height} image: shrinking it within the ${request.maxPixels}-pixel limit would leave ${Math.round(dpi)} dpi, too coarse to read. Scan or export it at a lower resolution or a smaller size.`,
    );
  }
  const drawn = await images.draw(path, pageNumber, { scale, rotation: request.rotation, signal: request.signal });
  return { ...drawn, dpi: Math.round(dpi * 100) / 100 };
}
