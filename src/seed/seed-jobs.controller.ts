import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { SEED_STATUSES, SEED_STATUS_OF } from '../../core/lifecycle.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobsListService, type JobListRow } from '../jobs/jobs-list.service.js';
import { queryValidation } from '../common/validation.js';
import { SeedJobsQueryDto } from './seed.dto.js';
import { jobIdPipe } from '../common/pipes.js';

function seedJob(
  r: Pick<JobListRow, 'id' | 'filename' | 'status' | 'step' | 'error_message' | 'page_count'> & {
    created_at: Date;
    updated_at: Date;
  },
): Record<string, unknown> {
  return {
    job_id: r.id,
    filename: r.filename,
    status: SEED_STATUS_OF[r.status],
    current_step: r.step,
    page_count: r.page_count,
    error_message: r.error_message,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

class SeedJobView {
  @ApiProperty({ format: 'uuid' }) job_id!: string;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty({ enum: SEED_STATUSES }) status!: string;
  @ApiProperty() current_step!: string;
  @ApiProperty({ nullable: true, type: Number }) page_count!: number | null;
  @ApiProperty({ nullable: true, type: String }) error_message!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

class SeedJobListView {
  @ApiProperty({ type: [SeedJobView] }) jobs!: SeedJobView[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

class SeedJobDetailView extends SeedJobView {
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty() pages_total!: number;
  @ApiProperty() pages_done!: number;
  @ApiProperty() pages_failed!: number;
}

/** The seed design's job routes, kept for its clients: snake_case bodies, seed status names. */
@ApiTags('seed-compatible')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('api/v1/jobs')
export class SeedJobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly list: JobsListService,
  ) {}

  @Get()
  @ApiOkResponse({ type: SeedJobListView })
  @ApiErrors(400)
  async index(
    @Req() req: AuthedRequest,
    @Query(queryValidation) query: SeedJobsQueryDto,
  ): Promise<Record<string, unknown>> {
    const q = query.toQuery();
    const page = await this.list.list(q, req.principal);
    return { jobs: page.rows.map(seedJob), total: page.total, limit: q.limit, offset: q.offset };
  }

  @Get(':job_id')
  @ApiOkResponse({ type: SeedJobDetailView })
  @ApiErrors(403, 404)
  async show(@Req() req: AuthedRequest, @Param('job_id', jobIdPipe) id: string): Promise<Record<string, unknown>> {
    const { job, pages } = await this.jobs.statusFor(req.principal, id);
    const counts = this.jobs.counts(job, pages);
    return {
      ...seedJob({
        id: job.id,
        filename: job.filename,
        status: job.status,
        step: job.step,
        error_message: job.errorMessage,
        page_count: job.pageCount,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
      }),
      progress: this.jobs.percent(job, counts),
      pages_total: counts.total,
      pages_done: counts.done,
      pages_failed: counts.failed,
    };
  }
}
