import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobControlService } from './job-control.service.js';

@Module({
  controllers: [JobsController],
  providers: [JobsService, JobControlService],
  exports: [JobsService, JobControlService],
})
export class JobsModule {}
