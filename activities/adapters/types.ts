/**
 * The seams between page activities and the engines that read PDFs and images.
 * Activities depend on these interfaces only; src/worker.ts wires the real adapters,
 * and tests may swap one for a deliberate fault.
 */
import type { PageLayout, Word } from '../../core/contracts.js';
import type { InputFailureCode } from '../../core/failures.js';

export type { Word } from '../../core/contracts.js';

/** A permanent problem with the input, raised by an adapter with a stable code. */
export class InputError extends Error {
  constructor(
    readonly code: InputFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
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
  /** True when the page has any text of its own, usable or not (an invisible OCR layer counts). */
  hasAnyText: boolean;
}

/** A page's size and turn as the engine draws it at scale 1. */
export interface PageGeometry {
  /** Size in PDF points after /Rotate and /UserUnit. */
  width: number;
  height: number;
  /** /UserUnit: how many points one unit of the page's content stands for (1 on almost every page). */
  userUnit: number;
}

/** What a drawing of a page contained, as far as the resolution it needs goes. */
export interface DrawnContent {
  /** Paths or glyphs were drawn: shapes whose edges get finer with every pixel. */
  vector: boolean;
  /** The scale at which the finest image drawn has one of its pixels per device pixel; undefined without images. */
  finestImageScale: number | undefined;
}

/** A page drawn to 8-bit grayscale, as a binary PGM (P5) file ready for the OCR engine. */
export interface DrawnPage {
  pgm: Uint8Array;
  width: number;
  height: number;
  /** The scale it was drawn at: the one asked, or the one `rescale` settled on. */
  scale: number;
  content: DrawnContent;
}

/** A page rendered for OCR: the drawing and the resolution it was drawn at. */
export interface RenderedPage {
  pgm: Uint8Array;
  width: number;
  height: number;
  /** The resolution actually used: lower than asked when the pixel cap applied, a scan's own when lower. */
  dpi: number;
}

export interface DrawOptions {
  /** Device pixels per PDF point of the page (after /UserUnit): 300 dpi is 300 / 72. */
  scale: number;
  /** A clockwise quarter turn on top of the page's /Rotate, to draw content that was scanned turned upright. */
  rotation?: QuarterTurn;
  /**
   * Settles the scale from what a drawing at `scale` holds, before the page is drawn: the engine looks at the
   * page's content at `scale` without drawing its pixels, then draws it once at the scale returned, parsing
   * the page and decoding its images once for both. Synchronous and pure: it runs while the engine waits.
   */
  rescale?: (content: DrawnContent) => number;
}

export interface OpenOptions {
  password?: string;
  signal?: AbortSignal;
}

export interface InspectOptions extends OpenOptions {
  /** Over this many pages only the count is returned, with no page opened. */
  maxPages?: number;
}

/**
 * Reads PDFs: engine calls only, no policy (at what resolution to read a page, what to refuse: see
 * activities/page-render.ts). Every call names the file by a local path; the engine may cache open documents.
 */
export interface PdfEngine {
  /** Images larger than this many pixels are left out of a drawing (the engine never decodes them). */
  readonly maxImagePixels: number;
  inspect(path: string, options?: InspectOptions): Promise<PdfInspection>;
  extractText(path: string, pageNumber: number, options?: OpenOptions): Promise<PageText>;
  geometry(path: string, pageNumber: number, options?: OpenOptions): Promise<PageGeometry>;
  draw(path: string, pageNumber: number, options: DrawOptions & OpenOptions): Promise<DrawnPage>;
  /** Pixels of the largest image the page draws, read from the file's structure without decoding; 0 if unknown. */
  largestImagePixels(path: string, pageNumber: number, options?: OpenOptions): Promise<number>;
  close(): Promise<void>;
}

export interface OcrResult {
  text: string;
  /** Mean word confidence, 0–100. */
  confidence: number;
  words: Word[];
  /** Blocks, paragraphs and lines in the image's pixels (`image` null: the caller knows the image); words' `line` index its lines. */
  layout?: PageLayout;
}

export interface OcrOptions {
  languages: string[];
  dpi: number;
  /** Straighten a page skewed by a few degrees before reading it (default true). */
  deskew?: boolean;
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
  /** The script of the page's text as OSD names it (Latin, Hangul, Han, Cyrillic, …); absent when none was found. */
  script?: string;
  /** How far that script leads the next one. */
  scriptConfidence?: number;
}

/** Recognises text in an image. Implementations keep a pool of engines and reuse them across calls. */
export interface OcrEngine {
  recognize(image: Uint8Array, options: OcrOptions): Promise<OcrResult>;
  /** Detects the page orientation; engines without it leave pages as rendered. */
  detectOrientation?(image: Uint8Array, options: Pick<OcrOptions, 'dpi' | 'signal'>): Promise<Orientation>;
  /** Language codes whose models are installed. */
  availableLanguages(): string[];
  close(): Promise<void>;
}

/** One image of an image document (a frame of a multi-page TIFF), as the reader sees it: upright. */
export interface ImageFrame {
  /** Pixels after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** The resolution the file declares, in dots per inch; undefined when it declares none. */
  density: number | undefined;
}

export interface ImageInspection {
  /** Frames in the file: one page each. */
  pageCount: number;
  /** Each frame's size; empty when `pageCount` is over the `maxPages` asked for (only the count is read). */
  frames: ImageFrame[];
}

export interface ImageDrawOptions {
  /** The scale the frame is decoded at: 1 for its own pixels, less to shrink it. */
  scale: number;
  /** A clockwise quarter turn on top of the EXIF orientation (text scanned turned, read upright). */
  rotation?: QuarterTurn;
  signal?: AbortSignal;
}

/**
 * Reads PNG, JPEG, TIFF and WebP documents: engine calls only (at what scale to read a frame, what to refuse:
 * see activities/image-render.ts). Pages are numbered from 1, one per frame.
 */
export interface ImageEngine {
  /** Frames of more than this many pixels are never decoded (the decoder's own input limit). */
  readonly maxInputPixels: number;
  inspect(path: string, options?: { maxPages?: number; signal?: AbortSignal }): Promise<ImageInspection>;
  frame(path: string, pageNumber: number, options?: { signal?: AbortSignal }): Promise<ImageFrame>;
  /** The frame scaled, flattened onto white, upright, turned and converted to an 8-bit grayscale PGM. */
  draw(path: string, pageNumber: number, options: ImageDrawOptions): Promise<Omit<RenderedPage, 'dpi'>>;
  /** The frame as a PDF image XObject, upright and at its own pixels, for the searchable PDF of an image. */
  pdfImage(path: string, pageNumber: number, options?: { signal?: AbortSignal }): Promise<PdfImage>;
}

/**
 * An image encoded as a PDF image XObject's stream: a JPEG's own bytes (DCTDecode) where the file's JPEG can
 * be shown as it is, else the pixels losslessly compressed (FlateDecode, with PNG row predictors when
 * `predictor` is set).
 */
export interface PdfImage {
  width: number;
  height: number;
  colorSpace: 'DeviceGray' | 'DeviceRGB';
  bitsPerComponent: 1 | 8 | 16;
  filter: 'DCTDecode' | 'FlateDecode';
  /** The rows carry PNG filter bytes: /DecodeParms << /Predictor 15 /Colors /BitsPerComponent /Columns >>. */
  predictor?: { colors: number };
  data: Buffer;
}
