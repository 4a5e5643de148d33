/**
 * The panel's links to a job's results: the same formats as GET /v1/jobs/{id}/result (JobResultsService),
 * for a signed-in operator instead of an API key. The panel's router (mounted in front at /admin) has
 * already redirected a request without a panel session to the sign-in page; this checks the session again
 * rather than rely on the order of the routers.
 */
import { Controller, Get, Header, Param, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiError } from '../common/errors.js';
import { jobIdPipe } from '../common/pipes.js';
import { queryValidation } from '../common/validation.js';
import { JobResultsService } from '../jobs/job-results.service.js';
import { ResultQueryDto } from '../jobs/jobs.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { JobResultView } from '../jobs/jobs.views.js';

/** The panel's root path (AdminJS's rootPath). */
export const PANEL_ROOT = '/admin';

/** Where the panel serves a job's results (under its root path), for the job page's links. */
export function panelResultPath(rootPath: string, jobId: string): string {
  return `${rootPath}/jobs/${jobId}/result`;
}

@ApiExcludeController()
@Controller(`${PANEL_ROOT.slice(1)}/jobs`)
export class PanelResultsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly results: JobResultsService,
  ) {}

  @Get(':id/result')
  @Header('Cache-Control', 'no-store')
  async result(
    @Req() req: Request,
    @Param('id', jobIdPipe) id: string,
    @Query(queryValidation) { format }: ResultQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResultView | string | StreamableFile> {
    const session = (req as Request & { session?: { adminUser?: unknown } }).session;
    if (!session?.adminUser) throw new ApiError('UNAUTHORIZED', 'Sign in to the panel first.');
    return this.results.respond(await this.jobs.get(id), format, res);
  }
}
