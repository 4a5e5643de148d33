/**
 * The piscina worker behind PdfjsEngine: every pdf.js call runs here, in a thread with its own heap limit,
 * so a hostile file that makes pdf.js grow without bound costs one thread, never the process.
 * Problems that lie in the file come back as `{ ok: false, code, message }` (errors lose their class and
 * fields when they cross the thread boundary); anything else is thrown and left to the retry policy.
 */
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { OPS, getDocument, type PDFDocumentProxy, type PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, type PDFObject } from 'pdf-lib';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { InputFailureCode } from '../../core/failures.js';
import { isUsableText } from './text-quality.js';
import { readText, tidy } from './pdfjs-text.js';
import type { DrawnContent, DrawnPage, PageGeometry, PageInfo, PageText, PdfInspection, QuarterTurn } from './types.js';

export type ThreadTask =
  | { op: 'inspect'; path: string; password?: string; maxPages?: number }
  | { op: 'extractText'; path: string; pageNumber: number; password?: string }
  | { op: 'geometry'; path: string; pageNumber: number; password?: string }
  | {
      op: 'draw';
      path: string;
      pageNumber: number;
      password?: string;
      scale: number;
      rotation: QuarterTurn;
      /** Where to send what a drawing at `scale` holds and receive the scale to draw at (a `Rescale` exchange). */
      rescale?: MessagePort;
    }
  | { op: 'largestImage'; path: string; pageNumber: number };

export type ThreadReply<T> = { ok: true; value: T } | { ok: false; code: InputFailureCode; message: string };

/**
 * The exchange on a draw's `rescale` port: the thread sends the content a drawing at the scale asked holds;
 * the caller answers with the scale to draw at, or with none to stop the draw (its chooser failed).
 */
export type Rescale = { content: DrawnContent } | { scale: number | undefined };

/** Open documents kept per thread: page activities for one file arrive one after another. */
const CACHED_DOCUMENTS = 2;
/**
 * Larger images are left out of the render. A decoded image lives outside the thread's heap limit, and
 * pdf.js draws it through a canvas of its full size: a 35000 × 35000 px scan needs ~5 GB, which skia
 * refuses anyway. 100 Mpx still takes a 9000 × 9000 px colour scan of a poster.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;
const PARSER_ERRORS = new Set(['InvalidPDFException', 'UnknownErrorException', 'FormatError', 'MissingPDFException']);
/** The long side of the canvas a page is looked at on before it is drawn (look): a few dpi, enough to see every path. */
const LOOK_PIXELS = 256;
/** Rows read back from the canvas at a time, so the RGBA copy stays small on a huge page. */
const READBACK_ROWS = 256;

const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

/** A problem with the input, turned into a reply by `handle`. */
class InputProblem extends Error {
  constructor(
    readonly code: InputFailureCode,
    message: string,
  ) {
    super(message);
  }
}

interface CanvasAndContext {
  canvas: { width: number; height: number } | null;
  context: PixelSource | null;
}

interface PixelSource {
  getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
}

interface CanvasFactory {
  create(width: number, height: number): CanvasAndContext;
  destroy(canvasAndContext: CanvasAndContext): void;
}

/** The piscina entry point. */
export default async function handle(task: ThreadTask): Promise<unknown> {
  try {
    switch (task.op) {
      case 'inspect':
        return {
          ok: true,
          value: await inspect(task.path, task.password, task.maxPages),
        } satisfies ThreadReply<PdfInspection>;
      case 'extractText':
        return {
          ok: true,
          value: await extractText(task.path, task.pageNumber, task.password),
        } satisfies ThreadReply<PageText>;
      case 'geometry':
        return {
          ok: true,
          value: await geometry(task.path, task.pageNumber, task.password),
        } satisfies ThreadReply<PageGeometry>;
      case 'draw': {
        const page = await drawPage(task);
        // Hand the pixels to the main thread without a copy.
        return move({
          [transferableSymbol]: [page.pgm.buffer],
          [valueSymbol]: { ok: true, value: page } satisfies ThreadReply<DrawnPage>,
        });
      }
      case 'largestImage':
        return {
          ok: true,
          value: await largestImagePixels(task.path, task.pageNumber),
        } satisfies ThreadReply<number>;
    }
  } catch (error) {
    if (error instanceof InputProblem) {
      return { ok: false, code: error.code, message: error.message } satisfies ThreadReply<never>;
    }
    throw error;
  }
}

async function inspect(path: string, password: string | undefined, maxPages = Infinity): Promise<PdfInspection> {
  const doc = await openDocument(path, password);
  requirePages(doc);
  const metadata = await doc.getMetadata();
  // pdf.js reports the security handler of an /Encrypt dictionary here, also for owner-password-only files.
  const info = metadata.info as { EncryptFilterName?: string | null };
  const pages: PageInfo[] = [];
  // Over the limit, the count is the answer: no page is opened.
  if (doc.numPages > maxPages) return { pageCount: doc.numPages, encrypted: info.EncryptFilterName != null, pages };
  for (let number = 1; number <= doc.numPages; number++) {
    pages.push(await inspectPage(doc, number));
  }
  return { pageCount: doc.numPages, encrypted: info.EncryptFilterName != null, pages };
}

/**
 * A page's size and turn. A page that cannot be parsed is reported as 0 × 0 rather than failing the whole
 * document: the page activity then fails alone, with PAGE_UNREADABLE. Whether a page has a text layer is
 * the page activity's question, answered once when it reads the page: asking it here too would read every
 * born-digital page twice (it was half the time of a text-layer document).
 */
async function inspectPage(doc: PDFDocumentProxy, number: number): Promise<PageInfo> {
  let page: PDFPageProxy;
  try {
    page = await doc.getPage(number);
  } catch {
    return { number, width: 0, height: 0, rotation: 0 };
  }
  try {
    const { width, height } = page.getViewport({ scale: 1 });
    return { number, width: round(width), height: round(height), rotation: page.rotate };
  } finally {
    page.cleanup();
  }
}

async function extractText(path: string, pageNumber: number, password: string | undefined): Promise<PageText> {
  const doc = await openDocument(path, password);
  const page = await openPage(doc, pageNumber);
  try {
    const content = await page.getTextContent().catch((error: unknown) => {
      throw unreadable(pageNumber, error);
    });
    const { text, words } = readText(content, page.getViewport({ scale: 1 }));
    return { text: tidy(text), words, usable: isUsableText(text), hasAnyText: text.trim() !== '' };
  } finally {
    page.cleanup();
  }
}

async function geometry(path: string, pageNumber: number, password: string | undefined): Promise<PageGeometry> {
  const doc = await openDocument(path, password);
  const page = await openPage(doc, pageNumber);
  try {
    const { width, height } = page.getViewport({ scale: 1 });
    return { width, height, userUnit: page.userUnit };
  } finally {
    page.cleanup();
  }
}

async function drawPage({
  path,
  pageNumber,
  password,
  scale,
  rotation,
  rescale,
}: Extract<ThreadTask, { op: 'draw' }>): Promise<DrawnPage> {
  const doc = await openDocument(path, password);
  const page = await openPage(doc, pageNumber);
  const turn = (page.rotate + rotation) % 360;
  try {
    if (!rescale) return await draw(doc, page, pageNumber, scale, turn);
    // pdf.js keeps a page's operator list and decoded images until cleanup(), so the drawing after the look
    // reuses both: the page is parsed and its images decoded once.
    const content = await look(doc, page, pageNumber, scale, turn);
    return await draw(doc, page, pageNumber, await settle(rescale, content), turn);
  } finally {
    page.cleanup();
    rescale?.close();
  }
}

/**
 * What a drawing at `scale` holds, without drawing it: the page drawn small (pdf.js leaves out what falls
 * outside the canvas, so the canvas must cover the page) with every operation and transform of the real
 * drawing. An image drawn straight onto the page is not painted at all (pdf.js would convert all its pixels
 * first): its size and the transform it would be drawn with give its own scale exactly, however small.
 */
async function look(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  pageNumber: number,
  scale: number,
  rotation: number,
): Promise<DrawnContent> {
  const full = page.getViewport({ scale: 1, rotation });
  const small = Math.min(scale, LOOK_PIXELS / Math.max(full.width, full.height));
  const viewport = page.getViewport({ scale: small, rotation });
  const factory = doc.canvasFactory as CanvasFactory;
  const target = factory.create(Math.max(1, Math.floor(viewport.width)), Math.max(1, Math.floor(viewport.height)));
  try {
    const context = target.context as unknown as Drawing | null;
    if (!context) throw new Error('pdf.js canvas factory returned no 2D context');
    // An image pdf.js paints here (in a group, under a soft mask, an image mask) was reduced to this small
    // size first, so its estimate would be far too low: it counts as needing the scale asked, as drawn today.
    const content = watchDrawing(context, () => scale);
    // Once pdf.js may be drawing on a canvas of its own (a group, a soft mask) or hiding content, this canvas's
    // transform no longer says where an image lands: from there on images are painted, and watched.
    let straight = true;
    const operationsFilter = (index: number, list: OperatorList): boolean => {
      const fn = list.fnArray[index];
      const args = list.argsArray[index];
      if (straight && drawsElsewhere(fn, args)) straight = false;
      if (!straight) return true;
      const size = imageSize(fn, args);
      if (!size) return true;
      noteImage(content, small, size.width, size.height, context.getTransform());
      return false;
    };
    await render(page, pageNumber, target, viewport, operationsFilter);
    return content;
  } finally {
    factory.destroy(target);
  }
}

/** pdf.js's operator list as a render's operationsFilter sees it. */
interface OperatorList {
  fnArray: number[];
  argsArray: unknown[];
}

/** Operations after which pdf.js may draw on another canvas than the page's, or leave content out. */
function drawsElsewhere(fn: number | undefined, args: unknown): boolean {
  switch (fn) {
    case OPS.beginGroup:
    case OPS.beginAnnotation:
      return true;
    case OPS.beginMarkedContentProps:
      return Array.isArray(args) && args[0] === 'OC';
    case OPS.setGState:
      return Array.isArray(args) && (args[0] as [string, unknown][]).some(([key, value]) => key === 'SMask' && value);
    default:
      return false;
  }
}

/** The pixel size of an image an operation draws through the current transform's unit square, if it is one. */
function imageSize(fn: number | undefined, args: unknown): { width: number; height: number } | undefined {
  if (!Array.isArray(args)) return undefined;
  if (fn === OPS.paintImageXObject) return { width: Number(args[1]), height: Number(args[2]) };
  if (fn === OPS.paintInlineImageXObject) {
    const image = args[0] as { width: number; height: number };
    return { width: image.width, height: image.height };
  }
  return undefined;
}

/** Sends the caller what the page holds and waits for the scale to draw it at. */
async function settle(port: MessagePort, content: DrawnContent): Promise<number> {
  port.postMessage({ content } satisfies Rescale);
  const [reply] = (await once(port, 'message')) as [Rescale];
  if (!('scale' in reply) || reply.scale === undefined) throw new Error('The caller stopped the drawing');
  return reply.scale;
}

/** Renders the page at `scale` into a grayscale PGM, noting what was drawn. */
async function draw(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  pageNumber: number,
  scale: number,
  rotation: number,
): Promise<DrawnPage> {
  const viewport = page.getViewport({ scale, rotation });
  const width = Math.max(1, Math.floor(viewport.width));
  const height = Math.max(1, Math.floor(viewport.height));
  // The document's own factory: a second copy of @napi-rs/canvas in the process crashes it.
  const factory = doc.canvasFactory as CanvasFactory;
  const target = factory.create(width, height);
  try {
    const context = target.context;
    if (!context) throw new Error('pdf.js canvas factory returned no 2D context');
    const content = watchDrawing(
      context as unknown as Drawing,
      (sourcePixels, devicePixels) => (scale * sourcePixels) / devicePixels,
    );
    await render(page, pageNumber, target, viewport);
    return { pgm: toPgm(context, width, height), width, height, scale, content };
  } finally {
    factory.destroy(target);
  }
}

/** Renders the page onto a canvas on a white background. */
async function render(
  page: PDFPageProxy,
  pageNumber: number,
  target: CanvasAndContext,
  viewport: ReturnType<PDFPageProxy['getViewport']>,
  operationsFilter?: (index: number, list: OperatorList) => boolean,
): Promise<void> {
  const parameters = {
    canvasContext: target.context,
    canvas: target.canvas,
    viewport,
    background: 'white',
    operationsFilter,
  };
  await page.render(parameters as unknown as Parameters<PDFPageProxy['render']>[0]).promise.catch((error: unknown) => {
    throw unreadable(pageNumber, error);
  });
}

/** The parts of a 2D context a render draws through. */
interface Drawing {
  drawImage(image: { width: number; height: number }, ...rest: number[]): void;
  fill(...args: unknown[]): void;
  stroke(...args: unknown[]): void;
  fillText(...args: unknown[]): void;
  strokeText(...args: unknown[]): void;
  getTransform(): { a: number; b: number; c: number; d: number };
}

/**
 * Watches one context while pdf.js draws on it: any path or glyph makes the page vector; each image's
 * source pixels against the device pixels it covers give (`ownScale`) the scale at which it would be drawn 1:1. pdf.js
 * hands over images already reduced when they are drawn much smaller, and masks at device size, so the
 * estimate errs high (towards the resolution asked for), never low.
 */
function watchDrawing(
  context: Drawing,
  ownScale: (sourcePixels: number, devicePixels: number) => number,
): DrawnContent {
  const drawn: DrawnContent = { vector: false, finestImageScale: undefined };
  const drawImage = context.drawImage.bind(context);
  context.drawImage = (image, ...rest) => {
    const [sw, , dw] =
      rest.length >= 8
        ? [rest[2]!, 0, rest[6]!]
        : rest.length >= 4
          ? [image.width, 0, rest[2]!]
          : [image.width, 0, image.width];
    const { a, b } = context.getTransform();
    const devicePixels = Math.abs(dw) * Math.hypot(a, b);
    if (sw > 0 && devicePixels >= 1) note(drawn, ownScale(sw, devicePixels));
    drawImage(image, ...rest);
  };
  for (const name of ['fill', 'stroke', 'fillText', 'strokeText'] as const) {
    const original = context[name].bind(context);
    context[name] = (...args: unknown[]) => {
      drawn.vector = true;
      original(...args);
    };
  }
  return drawn;
}

/**
 * Notes an image of `width` × `height` pixels drawn onto the unit square of `transform` (device pixels per
 * unit of the page drawn at `scale`): the scale at which its finer direction would be drawn 1:1.
 */
function noteImage(
  drawn: DrawnContent,
  scale: number,
  width: number,
  height: number,
  transform: { a: number; b: number; c: number; d: number },
): void {
  const across = Math.hypot(transform.a, transform.b);
  const down = Math.hypot(transform.c, transform.d);
  if (!(width > 0 && height > 0 && across >= 1 && down >= 1)) return;
  // The canvas keeps its transform in single precision: rounded up to a millionth, a scan drawn 1:1 at this
  // scale keeps its last column and row.
  note(drawn, Math.ceil(scale * Math.max(width / across, height / down) * 1e6) / 1e6);
}

function note(drawn: DrawnContent, own: number): void {
  drawn.finestImageScale = Math.max(drawn.finestImageScale ?? 0, own);
}

/**
 * Pixels of the largest image the page draws, read from the file's structure with pdf-lib, which parses
 * objects without decoding any stream. pdf.js checks an image's size before decoding it (so nothing huge is
 * allocated) and drops one over MAX_IMAGE_PIXELS without an error; this is how a caller tells such a page
 * from a blank one. 0 when there are none, or for a structure pdf-lib cannot follow (pdf.js repaired it).
 */
async function largestImagePixels(path: string, pageNumber: number): Promise<number> {
  try {
    const doc = await PDFDocument.load(await readFile(path), { ignoreEncryption: true, updateMetadata: false });
    const page = doc.getPages()[pageNumber - 1];
    return page === undefined ? 0 : largestImage(page.node.Resources(), new Set());
  } catch {
    return 0;
  }
}

/** Walks a resource dictionary's XObjects, into forms, once per object. */
function largestImage(resources: PDFDict | undefined, seen: Set<PDFObject>): number {
  const xobjects = resources?.lookupMaybe(PDFName.of('XObject'), PDFDict);
  let largest = 0;
  for (const [, value] of xobjects?.entries() ?? []) {
    const stream = resources?.context.lookup(value);
    if (!(stream instanceof PDFRawStream) || seen.has(stream)) continue;
    seen.add(stream);
    const dict = stream.dict;
    const subtype = dict.lookupMaybe(PDFName.of('Subtype'), PDFName);
    if (subtype === PDFName.of('Image')) {
      const width = dict.lookupMaybe(PDFName.of('Width'), PDFNumber)?.asNumber() ?? 0;
      const height = dict.lookupMaybe(PDFName.of('Height'), PDFNumber)?.asNumber() ?? 0;
      largest = Math.max(largest, width * height);
    } else if (subtype === PDFName.of('Form')) {
      largest = Math.max(largest, largestImage(dict.lookupMaybe(PDFName.of('Resources'), PDFDict), seen));
    }
  }
  return largest;
}

/** Reads the canvas back in bands and converts it to an 8-bit grayscale binary PGM (P5). */
function toPgm(context: PixelSource, width: number, height: number): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  // A fresh buffer of its own, so it can be transferred (Buffer.alloc may hand out a slice of a shared pool).
  const pgm = new Uint8Array(header.length + width * height);
  pgm.set(header);
  let out = header.length;
  for (let top = 0; top < height; top += READBACK_ROWS) {
    const rows = Math.min(READBACK_ROWS, height - top);
    const rgba = context.getImageData(0, top, width, rows).data;
    for (let i = 0; i < rgba.length; i += 4) {
      // Rec. 601 luma in fixed point; the white background makes the canvas opaque.
      pgm[out++] = (77 * (rgba[i] ?? 0) + 150 * (rgba[i + 1] ?? 0) + 29 * (rgba[i + 2] ?? 0)) >> 8;
    }
  }
  return pgm;
}

function requirePages(doc: PDFDocumentProxy): void {
  if (doc.numPages === 0) {
    throw new InputProblem(
      'PDF_NO_PAGES',
      'The PDF has no pages. Check that the right file was uploaded, or re-export it.',
    );
  }
}

async function openPage(doc: PDFDocumentProxy, pageNumber: number): Promise<PDFPageProxy> {
  requirePages(doc);
  if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
    throw new RangeError(`Page ${pageNumber} does not exist: the document has ${doc.numPages} pages`);
  }
  try {
    return await doc.getPage(pageNumber);
  } catch (error) {
    throw unreadable(pageNumber, error);
  }
}

/** Classifies an error from pdf.js while reading one page. */
function unreadable(pageNumber: number, error: unknown): InputProblem {
  const detail = error instanceof Error ? error.message : String(error);
  // Allocation failures: a typed array beyond what the thread can get, or a canvas skia cannot create.
  if (error instanceof RangeError || /skia surface/i.test(detail)) {
    return new InputProblem(
      'PAGE_RESOURCE_LIMIT',
      `Page ${pageNumber} needs more memory to draw than is available (${detail}). Reduce its image sizes and re-export it.`,
    );
  }
  return new InputProblem(
    'PAGE_UNREADABLE',
    `Page ${pageNumber} cannot be read (${detail}); the page is damaged. Re-export or re-scan the document.`,
  );
}

interface CachedDocument {
  key: string;
  doc: Promise<PDFDocumentProxy>;
}

/** Most recently used last. */
const documents: CachedDocument[] = [];

/**
 * Opens a document, or reuses one of the last few this thread opened for the same file and password.
 * The key includes size and modification time so a replaced file is parsed again.
 */
async function openDocument(path: string, password: string | undefined): Promise<PDFDocumentProxy> {
  const info = await stat(path);
  const key = JSON.stringify([path, info.size, info.mtimeMs, password ?? null]);
  const index = documents.findIndex((entry) => entry.key === key);
  if (index >= 0) {
    const [entry] = documents.splice(index, 1);
    if (entry) {
      documents.push(entry);
      return entry.doc;
    }
  }
  const entry = { key, doc: load(path, info.size, password) };
  documents.push(entry);
  while (documents.length > CACHED_DOCUMENTS) {
    const evicted = documents.shift();
    void evicted?.doc.then((doc) => doc.loadingTask.destroy()).catch(() => undefined);
  }
  entry.doc.catch(() => {
    const at = documents.indexOf(entry);
    if (at >= 0) documents.splice(at, 1);
  });
  return entry.doc;
}

async function load(path: string, size: number, password: string | undefined): Promise<PDFDocumentProxy> {
  if (size === 0) {
    throw new InputProblem(
      'PDF_CORRUPT',
      'The file is empty (0 bytes). Upload it again; the upload may have been interrupted.',
    );
  }
  // A wrong password is retried without one: a file with only an owner password opens without it.
  // (pdf.js itself applies SASLprep to AES-256 revision 6 passwords.)
  const attempts = password === undefined ? [undefined] : [password, undefined];
  let lastError: unknown;
  for (const attempt of attempts) {
    // Read for every attempt: pdf.js may take over the buffer it is given.
    const bytes = await readFile(path);
    try {
      return await parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), attempt);
    } catch (error) {
      if (!isPasswordError(error, 'incorrect')) {
        // Without a password, a file that needs one means the supplied password was wrong.
        throw attempt === undefined && password !== undefined && isPasswordError(error, 'needed')
          ? classifyOpenError(lastError)
          : classifyOpenError(error);
      }
      lastError = error;
    }
  }
  throw classifyOpenError(lastError);
}

async function parse(data: Uint8Array, password: string | undefined): Promise<PDFDocumentProxy> {
  const loading = getDocument({ ...documentOptions(password), data });
  try {
    return await loading.promise;
  } catch (error) {
    // A failed open still holds pdf.js's worker-side state; a long-lived thread sees many of them.
    await loading.destroy().catch(() => undefined);
    throw error;
  }
}

/**
 * How every document is opened. Nothing in a file is ever executed or fetched: no XFA, no system fonts;
 * fonts, cMaps and decoders come from the installed package. pdf.js 5.7+ has no eval path at all (PostScript
 * functions are compiled to WebAssembly from a parsed program, not to JavaScript source), so there is no
 * eval switch to turn off. pdf.js's core has no scripting (that lives in the viewer's separate sandbox,
 * never loaded here) and loads nothing but these folders.
 */
function documentOptions(password: string | undefined) {
  return {
    password,
    enableXfa: false,
    useSystemFonts: false,
    standardFontDataUrl: `${pdfjsRoot}/standard_fonts/`,
    cMapUrl: `${pdfjsRoot}/cmaps/`,
    cMapPacked: true,
    wasmUrl: `${pdfjsRoot}/wasm/`,
    maxImageSize: MAX_IMAGE_PIXELS,
    verbosity: 0,
  };
}

function isPasswordError(error: unknown, kind: 'needed' | 'incorrect'): boolean {
  if (!(error instanceof Error) || error.name !== 'PasswordException') return false;
  // pdf.js PasswordResponses: 1 = NEED_PASSWORD, 2 = INCORRECT_PASSWORD.
  const code = (error as Error & { code?: unknown }).code;
  return code === (kind === 'needed' ? 1 : 2);
}

function classifyOpenError(error: unknown): unknown {
  if (isPasswordError(error, 'needed')) {
    return new InputProblem(
      'PDF_PASSWORD_REQUIRED',
      'The PDF is protected by a password. Supply the password in the `password` field.',
    );
  }
  if (isPasswordError(error, 'incorrect')) {
    return new InputProblem(
      'PDF_PASSWORD_INCORRECT',
      'The password is incorrect. Check it and supply it again in the `password` field.',
    );
  }
  // pdf.js's own exceptions: the parser gave up on the file (errors from its worker arrive as Unknown…).
  if (error instanceof Error && PARSER_ERRORS.has(error.name)) {
    return new InputProblem(
      'PDF_CORRUPT',
      `The file is not a readable PDF (${error.message}). It is damaged, truncated or of another type; re-export it as PDF and upload it again.`,
    );
  }
  return error;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
