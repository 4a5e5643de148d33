/**
 * The seams between page activities and the engines that read PDFs and images.
 * Activities depend on these interfaces only; src/worker.ts wires the real adapters,
 * and tests may swap one for a deliberate fault.
 */

/** Stable codes for problems that lie in the input itself: retrying will not help. */
export type InputErrorCode =
  | 'PDF_PASSWORD_REQUIRED'
  | 'PDF_PASSWORD_INCORRECT'
  | 'PDF_CORRUPT'
  | 'PDF_NO_PAGES'
  | 'PAGE_UNREADABLE'
  | 'PAGE_TOO_LARGE'
  | 'PAGE_RESOURCE_LIMIT'
  | 'OCR_LANGUAGE_UNAVAILABLE';

/** A permanent problem with the input, raised by an adapter with a stable code. */
export class InputError extends Error {
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** One word with its box, top-left origin: PDF points from the text layer, pixels of the image from OCR (activities convert those to points). */
export interface Word {
  text: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  /** 0–100; 100 for text-layer words. */
  confidence: number;
}

export interface PageInfo {
  number: number;
  /** Size in PDF points after /Rotate and /UserUnit. */
  width: number;
  height: number;
  rotation: number;
}

export interface PdfInspection {
  pageCount: number;
  encrypted: boolean;
  pages: PageInfo[];
}

export interface PageText {
  text: string;
  words: Word[];
  /** True when the page's text layer holds real, mapped text worth returning instead of OCR. */
  usable: boolean;
}

/** A page rendered to 8-bit grayscale, as a binary PGM (P5) file ready for the OCR engine. */
export interface RenderedPage {
  pgm: Uint8Array;
  width: number;
  height: number;
  /** The resolution actually used: lower than asked when the pixel cap applied. */
  dpi: number;
}

export interface RenderOptions {
  dpi: number;
  /** Largest width × height in pixels; the page is rendered at a lower dpi to fit, never above it. */
  maxPixels: number;
  /** A clockwise quarter turn on top of the page's /Rotate, to draw content that was scanned turned upright. */
  rotation?: QuarterTurn;
  signal?: AbortSignal;
}

export interface OpenOptions {
  password?: string;
  signal?: AbortSignal;
}

export interface InspectOptions extends OpenOptions {
  /** Over this many pages only the count is returned, with no page opened. */
  maxPages?: number;
}

/** Reads PDFs. Every call names the file by a local path; the engine may cache open documents. */
export interface PdfEngine {
  inspect(path: string, options?: InspectOptions): Promise<PdfInspection>;
  extractText(path: string, pageNumber: number, options?: OpenOptions): Promise<PageText>;
  render(path: string, pageNumber: number, options: RenderOptions & OpenOptions): Promise<RenderedPage>;
  close(): Promise<void>;
}

export interface OcrResult {
  text: string;
  /** Mean word confidence, 0–100. */
  confidence: number;
  words: Word[];
}

export interface OcrOptions {
  languages: string[];
  dpi: number;
  signal?: AbortSignal;
}

/** A clockwise turn in degrees. */
export type QuarterTurn = 0 | 90 | 180 | 270;

/** Which way the text on a page image runs, as tesseract's orientation and script detection sees it. */
export interface Orientation {
  /** The clockwise turn that makes the text upright. */
  turn: QuarterTurn;
  /** How far the best orientation leads the next one; 0 when no text was found to judge by. */
  confidence: number;
}

/** Recognises text in an image. Implementations keep a pool of engines and reuse them across calls. */
export interface OcrEngine {
  recognize(image: Uint8Array, options: OcrOptions): Promise<OcrResult>;
  /** Detects the page orientation; engines without it leave pages as rendered. */
  detectOrientation?(image: Uint8Array, options: Omit<OcrOptions, 'languages'>): Promise<Orientation>;
  /** Language codes whose models are installed. */
  availableLanguages(): string[];
  close(): Promise<void>;
}
