/**
 * A finished (or running) job's result in the format asked for, as GET /v1/jobs/{id}/result and the panel's
 * job page both serve it: the JSON view, plain text, hOCR/ALTO/TSV streamed a page at a time from the stored
 * rows, or the searchable PDF streamed from storage.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { Injectable, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import type { Job } from '../../core/db/models.js';
import {
  isPageFormat,
  PAGE_FORMATS,
  type OutputDocument,
  type OutputFormat,
  type ResultFormat,
  type StoredPage,
} from '../../core/outputs/formats.js';
import { JobsService } from './jobs.service.js';
import { type JobResultView, toPlainText, toResultView } from './jobs.views.js';
import { SearchablePdfService } from './searchable-pdf.service.js';

@Injectable()
export class JobResultsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly searchablePdf: SearchablePdfService,
  ) {}

  /** The body to answer with; headers (type, download name) are set on `res`. */
  async respond(job: Job, format: ResultFormat, res: Response): Promise<JobResultView | string | StreamableFile> {
    // The searchable PDF is built by the worker and stored: streamed from storage.
    if (format === 'pdf') return this.searchablePdf.send(job);
    // Formats made from the stored pages, streamed a page at a time.
    if (isPageFormat(format)) {
      const output = PAGE_FORMATS[format];
      res.attachment(resultFileName(job, output.extension));
      res.type(output.contentType);
      const doc = { filename: job.filename, pageCount: job.pagesSelected ?? 0 };
      return new StreamableFile(Readable.from(renderPages(output, doc, this.jobs.storedPages(job.id))));
    }
    const pages = await this.jobs.pageResults(job.id);
    if (format === 'txt') {
      res.type('text/plain; charset=utf-8');
      return toPlainText(pages);
    }
    return toResultView(job, pages);
  }
}

/** A result's file name: the uploaded file's, its extension replaced by the format's (`scan.pdf` → `scan.hocr`). */
export function resultFileName(job: Pick<Job, 'id' | 'filename'>, extension: string): string {
  const base = path.basename(job.filename ?? '').replace(/\.[^.]*$/, '');
  return `${base || `job-${job.id}`}${extension}`;
}

/** A document in a page format: its head, each page as it is read from the database, its tail. */
async function* renderPages(
  output: OutputFormat,
  doc: OutputDocument,
  pages: AsyncIterable<StoredPage>,
): AsyncGenerator<string> {
  yield output.head(doc);
  for await (const page of pages) yield output.page(page);
  yield output.tail(doc);
}
