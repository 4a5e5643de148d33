import { Controller, Get, Header, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { JobsService } from './jobs.service.js';
import { JobResultView, JobView, toJobView, toPlainText, toResultView } from './jobs.views.js';
import { ApiError } from '../common/errors.js';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError('JOB_NOT_FOUND', 'Job ids are UUIDs; this one is not.'),
});

/** Status and results of submitted documents. */
@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: JobView })
  async status(@Param('id', uuid) id: string, @Res({ passthrough: true }) res: Response): Promise<JobView> {
    const job = await this.jobs.get(id);
    const pages = await this.jobs.pageStates(id);
    if (!this.jobs.isFinished(job)) res.setHeader('Retry-After', '2');
    return toJobView(this.jobs, job, pages);
  }

  @Get(':id/result')
  @Header('Cache-Control', 'no-store')
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'txt'] })
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({ type: JobResultView, description: 'Pages finished so far; complete once the job is finished.' })
  async result(
    @Param('id', uuid) id: string,
    @Query('format') format: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResultView | string> {
    if (format !== undefined && format !== 'json' && format !== 'txt') {
      throw new ApiError('BAD_REQUEST', 'format must be "json" or "txt".');
    }
    const job = await this.jobs.get(id);
    const pages = await this.jobs.pageResults(id);
    if (format === 'txt') {
      res.type('text/plain; charset=utf-8');
      return toPlainText(pages);
    }
    return toResultView(job, pages);
  }
}
