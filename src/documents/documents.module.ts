import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { DocumentsController, ExtractController } from './documents.controller.js';
import { DocumentsService } from './documents.service.js';

@Module({ imports: [JobsModule], controllers: [DocumentsController, ExtractController], providers: [DocumentsService] })
export class DocumentsModule {}
