import path from 'node:path';
import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { NotFoundInStorage, searchablePdfKey, type DocumentStorage } from '../../core/storage/storage.js';
import type { Job } from '../../core/db/models.js';
import { ApiError } from '../common/errors.js';
import { STORAGE } from '../storage/storage.module.js';
import { JobsService } from './jobs.service.js';

/** GET /v1/jobs/{id}/result?format=pdf: the searchable PDF a worker built and stored for a finished job. */
@Injectable()
export class SearchablePdfService {
  constructor(
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    private readonly jobs: JobsService,
  ) {}

  /** The stored PDF, streamed with its length and a file name after the original's. */
  async send(job: Job): Promise<StreamableFile> {
    if (!this.jobs.isFinished(job)) {
      throw new ApiError(
        'JOB_NOT_FINISHED',
        `Job ${job.id} is ${job.status}; its searchable PDF is built after its pages. Ask again once the job has finished.`,
        undefined,
        { 'Retry-After': '2' },
      );
    }
    try {
      const { stream, bytes } = await this.storage.read(searchablePdfKey(job.id));
      return new StreamableFile(stream, {
        type: 'application/pdf',
        length: bytes,
        disposition: contentDisposition(searchablePdfName(job.filename)),
      });
    } catch (err) {
      if (!(err instanceof NotFoundInStorage)) throw err;
      throw new ApiError(
        'SEARCHABLE_PDF_UNAVAILABLE',
        job.archivedAt
          ? `Job ${job.id} is archived: its files were removed after the retention period. Submit the document again.`
          : `Job ${job.id} has no searchable PDF: no page was read, the build failed (see the worker's log), it is ` +
              'switched off (SEARCHABLE_PDF=false), or the job finished before searchable PDFs existed. Submit the document again.',
      );
    }
  }
}

/**
 * The original's name with `.searchable.pdf` for its extension (a PDF's or an image's); `document.searchable.pdf`
 * without one.
 */
export function searchablePdfName(original: string | null): string {
  const base = path.basename(original ?? '').replace(/\.(pdf|png|jpe?g|tiff?|webp)$/i, '');
  return `${base || 'document'}.searchable.pdf`;
}

/** An attachment header any client reads: an ASCII fallback name and the exact one in RFC 5987 form. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
