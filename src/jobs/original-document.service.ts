import path from 'node:path';
import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { NotFoundInStorage, type DocumentStorage } from '../../core/storage/storage.js';
import type { Job } from '../../core/db/models.js';
import { ApiError } from '../common/errors.js';
import { STORAGE } from '../storage/storage.module.js';
import { contentDisposition } from './searchable-pdf.service.js';

/** File name extensions of the document types, for an original uploaded without a name. */
const EXTENSIONS: Record<string, string> = {
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/tiff': '.tiff',
  'image/webp': '.webp',
};

/** GET /v1/jobs/{id}/document: the stored original of a job, as it was uploaded. */
@Injectable()
export class OriginalDocumentService {
  constructor(@Inject(STORAGE) private readonly storage: DocumentStorage) {}

  /** The original streamed from storage, with its type (by content), length and uploaded name. */
  async send(job: Job): Promise<StreamableFile> {
    const archived = () =>
      new ApiError(
        'DOCUMENT_ARCHIVED',
        `Job ${job.id} is archived: its document was removed after the retention period (RETENTION_DAYS). Its results stay; submit the document again to get it read anew.`,
        { archivedAt: job.archivedAt?.toISOString() },
      );
    if (job.archivedAt) throw archived();
    try {
      const { stream, bytes } = await this.storage.read(job.storageKey);
      const type = job.contentType ?? 'application/pdf';
      return new StreamableFile(stream, { type, length: bytes, disposition: contentDisposition(originalName(job)) });
    } catch (err) {
      if (!(err instanceof NotFoundInStorage)) throw err;
      // Archived between the read of the row and the read of the file.
      if (job.archivedAt || (await job.reload()).archivedAt) throw archived();
      throw new ApiError('DOCUMENT_NOT_FOUND', `Job ${job.id}'s document is missing from storage.`);
    }
  }
}

/** The uploaded file's own name (without any path the client sent); `job-<id>.<ext>` when it had none. */
export function originalName(job: Pick<Job, 'id' | 'filename' | 'contentType'>): string {
  const name = path.basename((job.filename ?? '').replace(/\\/g, '/'));
  return name || `job-${job.id}${EXTENSIONS[job.contentType ?? 'application/pdf'] ?? ''}`;
}
