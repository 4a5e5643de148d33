/**
 * The searchable PDF: the original document with an invisible text layer over each page that was read by
 * OCR, built once per job after its pages, as OCRmyPDF's output is. Write the layer page by page from the
 * stored words (adapters/text-layer-pdf.ts) → lay it over the OCR'd pages with qpdf (adapters/qpdf.ts) →
 * store it under the job's derived key. Pages read from their own text layer, and pages that failed, are
 * left exactly as they are. Memory stays flat with the document's length: the words are read a batch of
 * pages at a time and neither this process nor qpdf holds the document.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BuildSearchablePdfInput, BuildSearchablePdfOutput } from '../core/contracts.js';
import type { JobStore } from '../core/job-store.js';
import { searchablePdfKey, type DocumentStorage } from '../core/storage/storage.js';
import { overlayTextLayer } from './adapters/qpdf.js';
import { TextLayerPdfWriter } from './adapters/text-layer-pdf.js';
import { asFailure, type PasswordOpener } from './common.js';

/** SEARCHABLE_PDF, QPDF_PATH and GLYPHLESS_FONT_PATH. */
export interface SearchablePdfSettings {
  enabled: boolean;
  qpdf: string;
  glyphlessFont: string;
}

export interface SearchablePdfActivityDeps {
  jobs: JobStore;
  storage: DocumentStorage;
  openPassword: PasswordOpener;
  settings: SearchablePdfSettings;
}

/** Pages whose words are read from the database at once. */
const PAGE_BATCH = 50;

export function createSearchablePdfActivities(deps: SearchablePdfActivityDeps) {
  const { jobs, storage, settings } = deps;

  /** Builds the job's searchable PDF and stores it under searchablePdfKey(jobId); a retry overwrites it. */
  async function buildSearchablePdf(input: BuildSearchablePdfInput): Promise<BuildSearchablePdfOutput> {
    if (!settings.enabled) return { built: false, reason: 'disabled' };
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'folio-searchable-'));
    try {
      const original = await storage.localPath(input.storageKey);
      const password = deps.openPassword(input.jobId, input.password);
      const layerPath = path.join(workDir, 'layer.pdf');
      const onto = await writeTextLayer(input.jobId, layerPath, signal);
      let result = original;
      if (onto.length > 0) {
        result = path.join(workDir, 'searchable.pdf');
        const beat = setInterval(() => ctx.heartbeat({ step: 'overlay', pages: onto.length }), 5_000);
        try {
          await overlayTextLayer(settings.qpdf, {
            original,
            password,
            layer: layerPath,
            onto,
            output: result,
            workDir,
            signal,
          });
        } finally {
          clearInterval(beat);
        }
      }
      // No OCR'd page: the document is as searchable as it gets, and is its own searchable PDF.
      const key = searchablePdfKey(input.jobId);
      const stored = await storage.put(key, createReadStream(result));
      ctx.log.info('Searchable PDF built', { pagesWithTextLayer: onto.length, bytes: stored.bytes });
      return { built: true, storageKey: key, bytes: stored.bytes, pagesWithTextLayer: onto.length };
    } catch (err) {
      throw asFailure(err);
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  /** Writes the text layer of every OCR'd page that has words; returns those pages' numbers, ascending. */
  async function writeTextLayer(jobId: string, layerPath: string, signal: AbortSignal): Promise<number[]> {
    const font = await fs.readFile(settings.glyphlessFont).catch((err: unknown) => {
      throw new Error(
        `The glyphless font is missing at ${settings.glyphlessFont} (${String(err)}): run bash scripts/install-qpdf.sh, or set GLYPHLESS_FONT_PATH`,
      );
    });
    const writer = await TextLayerPdfWriter.create(layerPath, font);
    const onto: number[] = [];
    try {
      let after = 0;
      for (;;) {
        signal.throwIfAborted();
        const batch = await jobs.ocrPagesAfter(jobId, after, PAGE_BATCH);
        for (const page of batch) {
          if (page.words.length === 0 || !(page.width > 0 && page.height > 0)) continue;
          await writer.addPage(page);
          onto.push(page.pageNumber);
        }
        Context.current().heartbeat({ step: 'text-layer', pages: onto.length });
        if (batch.length < PAGE_BATCH) break;
        after = batch[batch.length - 1]!.pageNumber;
      }
      await writer.close();
      return onto;
    } catch (err) {
      writer.destroy();
      throw err;
    }
  }

  return { buildSearchablePdf };
}
