import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { BatchesController } from './batches.controller.js';
import { BatchesService } from './batches.service.js';

@Module({
  imports: [DocumentsModule, JobsModule],
  controllers: [BatchesController],
  providers: [BatchesService],
})
export class BatchesModule {}
