/**
 * The searchable PDF: the original document with an invisible text layer over each page that was read by
 * OCR, built once per job after its pages, as OCRmyPDF's output is. Write the layer page by page from the
 * stored words (adapters/text-layer-pdf.ts) → lay it over the OCR'd pages with qpdf (adapters/qpdf.ts) →
 * store it under the job's derived key. Pages read from their own text layer, and pages that failed, are
 * left exactly as they are. Memory stays flat with the document's length: the words are read a batch of
 * pages at a time and neither this process nor qpdf holds the document.
 *
 * An image upload has no pages to lay a layer over: its searchable PDF is written directly, a page per frame
 * at the frame's own size and resolution, the image under its words (a JPEG's own bytes where it needs no
 * turn, else the pixels losslessly), one frame in memory at a time.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BuildSearchablePdfInput, BuildSearchablePdfOutput } from '../core/contracts.js';
import type { JobStore, OcrPageWords } from '../core/job-store.js';
import { searchablePdfKey, type DocumentStorage } from '../core/storage/storage.js';
import { overlayTextLayer } from './adapters/qpdf.js';
import { TextLayerPdfWriter } from './adapters/text-layer-pdf.js';
import { InputError, type ImageEngine } from './adapters/types.js';
import { asFailure, imageTypeOfFile, localCopy, type PasswordOpener } from './common.js';
import { imagePageSize } from './image-render.js';

/** SEARCHABLE_PDF, QPDF_PATH and GLYPHLESS_FONT_PATH. */
export interface SearchablePdfSettings {
  enabled: boolean;
  qpdf: string;
  glyphlessFont: string;
}

export interface SearchablePdfActivityDeps {
  jobs: JobStore;
  storage: DocumentStorage;
  images: ImageEngine;
  openPassword: PasswordOpener;
  settings: SearchablePdfSettings;
}

/** Pages whose words are read from the database at once. */
const PAGE_BATCH = 20;

export function createSearchablePdfActivities(deps: SearchablePdfActivityDeps) {
  const { jobs, storage, settings } = deps;

  /** Builds the job's searchable PDF and stores it under searchablePdfKey(jobId); a retry overwrites it. */
  async function buildSearchablePdf(input: BuildSearchablePdfInput): Promise<BuildSearchablePdfOutput> {
    if (!settings.enabled) return { built: false, reason: 'disabled' };
    const ctx = Context.current();
    const copy = await localCopy(storage, input.storageKey);
    const original = copy.path;
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'folio-searchable-')).catch(async (err: unknown) => {
      await copy.release();
      throw err;
    });
    try {
      const request: SearchablePdfRequest = {
        original,
        password: deps.openPassword(input.jobId, input.password),
        pages: ocrPages(jobs, input.jobId),
        workDir,
        tools: settings,
        signal: ctx.cancellationSignal,
        progress: (step, pages) => ctx.heartbeat({ step, pages }),
      };
      const built =
        (await imageTypeOfFile(original)) === undefined
          ? await writeSearchablePdf(request)
          : await writeImageSearchablePdf(request, deps.images, (page, err) => {
              ctx.log.warn('Searchable PDF: image page left blank', { page, error: err.message });
            });
      const key = searchablePdfKey(input.jobId);
      const stored = await storage.put(key, createReadStream(built.path));
      ctx.log.info('Searchable PDF built', { pagesWithTextLayer: built.pagesWithTextLayer, bytes: stored.bytes });
      return { built: true, storageKey: key, bytes: stored.bytes, pagesWithTextLayer: built.pagesWithTextLayer };
    } catch (err) {
      throw asFailure(err);
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
      await copy.release();
    }
  }

  return { buildSearchablePdf };
}

/** The job's OCR'd pages with their words, read from the database PAGE_BATCH pages at a time. */
async function* ocrPages(jobs: JobStore, jobId: string): AsyncIterable<OcrPageWords> {
  let after = 0;
  for (;;) {
    const batch = await jobs.ocrPagesAfter(jobId, after, PAGE_BATCH);
    yield* batch;
    if (batch.length < PAGE_BATCH) return;
    after = batch[batch.length - 1]!.pageNumber;
  }
}

export interface SearchablePdfRequest {
  original: string;
  password?: string;
  /** The OCR'd pages, ascending; pages without words are left as they are. */
  pages: AsyncIterable<OcrPageWords> | Iterable<OcrPageWords>;
  /** A private folder for the layer and the result; the caller removes it. */
  workDir: string;
  tools: Pick<SearchablePdfSettings, 'qpdf' | 'glyphlessFont'>;
  signal?: AbortSignal;
  /** Called as the build goes (every PAGE_BATCH pages of the layer, every 5 s of qpdf): heartbeats. */
  progress?: (step: 'text-layer' | 'overlay' | 'image-pages', pages: number) => void;
}

/**
 * The searchable PDF as a file in `workDir` (or the original itself when no page has words: a document
 * read from its own text layer is already as searchable as it gets).
 */
export async function writeSearchablePdf(
  request: SearchablePdfRequest,
): Promise<{ path: string; pagesWithTextLayer: number }> {
  const { original, password, workDir, tools, signal, progress } = request;
  const layer = path.join(workDir, 'layer.pdf');
  const onto = await writeTextLayer(request.pages, layer, tools.glyphlessFont, signal, progress);
  if (onto.length === 0) return { path: original, pagesWithTextLayer: 0 };
  const output = path.join(workDir, 'searchable.pdf');
  const beat = setInterval(() => progress?.('overlay', onto.length), 5_000);
  try {
    await overlayTextLayer(tools.qpdf, { original, password, layer, onto, output, workDir, signal });
  } finally {
    clearInterval(beat);
  }
  return { path: output, pagesWithTextLayer: onto.length };
}

/**
 * The searchable PDF of an image upload, as a file in `workDir`: a page per frame, the size the frame's words
 * were measured in, its image with the words over it. A frame that cannot be decoded (its page failed too)
 * becomes a blank page of its size, so the pages keep their numbers.
 */
export async function writeImageSearchablePdf(
  request: SearchablePdfRequest,
  images: ImageEngine,
  onBlankPage?: (pageNumber: number, err: InputError) => void,
): Promise<{ path: string; pagesWithTextLayer: number }> {
  const { original, workDir, tools, signal, progress } = request;
  const { pageCount, frames } = await images.inspect(original, { signal });
  const output = path.join(workDir, 'searchable.pdf');
  const writer = await TextLayerPdfWriter.create(output, await glyphlessFont(tools.glyphlessFont));
  const { pages } = request;
  const words = (Symbol.asyncIterator in pages ? pages : toAsync(pages))[Symbol.asyncIterator]();
  let next = await words.next();
  let pagesWithTextLayer = 0;
  try {
    for (let number = 1; number <= pageCount; number++) {
      signal?.throwIfAborted();
      while (!next.done && next.value.pageNumber < number) next = await words.next();
      const read = !next.done && next.value.pageNumber === number ? next.value.words : [];
      const size = imagePageSize(frames[number - 1]!);
      const image = await images.pdfImage(original, number, { signal }).catch((err: unknown) => {
        if (!(err instanceof InputError) || signal?.aborted) throw err;
        onBlankPage?.(number, err);
        return undefined;
      });
      await writer.addPage({ ...size, words: read }, image);
      if (read.length > 0) pagesWithTextLayer++;
      if (number % PAGE_BATCH === 0) progress?.('image-pages', number);
    }
    await writer.close();
    return { path: output, pagesWithTextLayer };
  } catch (err) {
    writer.destroy();
    throw err;
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async view of a plain list
async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** The glyphless font's file; missing, an error naming the install script. */
async function glyphlessFont(fontPath: string): Promise<Buffer> {
  return fs.readFile(fontPath).catch((err: unknown) => {
    throw new Error(
      `The glyphless font is missing at ${fontPath} (${String(err)}): run bash scripts/install-qpdf.sh, or set GLYPHLESS_FONT_PATH`,
    );
  });
}

/** Writes the text layer of every page that has words; returns those pages' numbers, ascending. */
async function writeTextLayer(
  pages: SearchablePdfRequest['pages'],
  layerPath: string,
  fontPath: string,
  signal: AbortSignal | undefined,
  progress: SearchablePdfRequest['progress'],
): Promise<number[]> {
  const writer = await TextLayerPdfWriter.create(layerPath, await glyphlessFont(fontPath));
  const onto: number[] = [];
  try {
    for await (const page of pages) {
      signal?.throwIfAborted();
      if (page.words.length === 0 || !(page.width > 0 && page.height > 0)) continue;
      await writer.addPage(page);
      onto.push(page.pageNumber);
      if (onto.length % PAGE_BATCH === 0) progress?.('text-layer', onto.length);
    }
    await writer.close();
    return onto;
  } catch (err) {
    writer.destroy();
    throw err;
  }
}
