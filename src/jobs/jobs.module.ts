import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobsListService } from './jobs-list.service.js';
import { JobControlService } from './job-control.service.js';
import { JobEventsService } from './job-events.service.js';
import { SearchablePdfService } from './searchable-pdf.service.js';
import { JobResultsService } from './job-results.service.js';
import { OriginalDocumentService } from './original-document.service.js';
import { JobPriorityService } from './job-priority.service.js';
import { JobEditsService } from './job-edits.service.js';

@Module({
  controllers: [JobsController],
  providers: [
    JobsService,
    JobsListService,
    JobControlService,
    JobEventsService,
    SearchablePdfService,
    JobResultsService,
    OriginalDocumentService,
    JobPriorityService,
    JobEditsService,
  ],
  exports: [JobsService, JobsListService, JobControlService, JobResultsService, JobPriorityService, JobEditsService],
})
export class JobsModule {}
