import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { ExtractController } from './extract.controller.js';
import { SeedJobsController } from './seed-jobs.controller.js';
import { MergedJobsService } from './merged-jobs.service.js';

/**
 * The previous service's routes (/extract, /api/v1/jobs), kept so its clients keep working: its field names
 * and status vocabulary over the same services as /v1.
 */
@Module({
  imports: [DocumentsModule, JobsModule],
  controllers: [ExtractController, SeedJobsController],
  providers: [MergedJobsService],
})
export class SeedModule {}
