import { Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { DocumentsModule } from '../documents/documents.module.js';
import { createUploadStore } from '../../core/uploads/upload-store.js';
import { ResumableUploads, UPLOAD_STORE } from './resumable-uploads.service.js';
import { UploadsController } from './uploads.controller.js';

/** Resumable uploads (tus) at /v1/uploads. */
@Module({
  imports: [DocumentsModule],
  controllers: [UploadsController],
  providers: [
    { provide: UPLOAD_STORE, inject: [CONFIG], useFactory: (c: Config) => createUploadStore(c.uploads) },
    ResumableUploads,
  ],
})
export class UploadsModule {}
