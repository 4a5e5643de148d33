import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { SEED_STATUSES, SEED_STATUS_OF } from '../../core/lifecycle.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { JobListRow } from '../jobs/jobs-list.service.js';
import { ApiError } from '../common/errors.js';
import { JOB_SOURCES, MergedJobsService, type MergedJobRow } from './merged-jobs.service.js';
import { queryValidation } from '../common/validation.js';
import { SeedJobsQueryDto } from './seed.dto.js';
import { jobIdPipe } from '../common/pipes.js';

/** A job id of either system: Folio's are UUIDs; the previous service's legacy_jobs.job_id is varchar(64). */
const ANY_JOB_ID = /^[\w.:-]{1,64}$/;
const FOLIO_JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row of the merged list in the old field names, with the system it came from. */
function mergedJob(r: MergedJobRow): Record<string, unknown> {
  return {
    job_id: r.job_id,
    filename: r.filename,
    status: r.status,
    current_step: r.current_step,
    page_count: r.page_count,
    error_message: r.error_message,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    source: r.source,
  };
}

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
    source: 'folio',
  };
}

class SeedJobView {
  @ApiProperty({ description: "Folio's job id (a UUID), or the previous service's for a legacy row" })
  job_id!: string;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty({ enum: SEED_STATUSES, description: 'A legacy row shows the status its table holds' })
  status!: string;
  @ApiProperty({ nullable: true, type: String }) current_step!: string | null;
  @ApiProperty({ nullable: true, type: Number }) page_count!: number | null;
  @ApiProperty({ nullable: true, type: String }) error_message!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({
    enum: JOB_SOURCES,
    description: 'Which system the job is from: Folio, or a legacy_jobs row it did not create',
  })
  source!: string;
}

class SeedJobListView {
  @ApiProperty({ type: [SeedJobView] }) jobs!: SeedJobView[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

class SeedJobDetailView extends SeedJobView {
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'null for a legacy row' }) pages_total!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'null for a legacy row' }) pages_done!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'null for a legacy row' }) pages_failed!: number | null;
}

/**
 * The seed design's job routes, kept for its clients: snake_case bodies, seed status names, and the jobs of
 * both systems while clients move over (MergedJobsService; docs/legacy.md).
 */
@ApiTags('seed-compatible')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('api/v1/jobs')
export class SeedJobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly merged: MergedJobsService,
  ) {}

  @Get()
  @ApiOkResponse({ type: SeedJobListView })
  @ApiErrors(400)
  async index(
    @Req() req: AuthedRequest,
    @Query(queryValidation) query: SeedJobsQueryDto,
  ): Promise<Record<string, unknown>> {
    const q = query.toMergedQuery();
    const page = await this.merged.list(q, req.principal);
    return { jobs: page.rows.map(mergedJob), total: page.total, limit: q.limit, offset: q.offset };
  }

  @Get(':job_id')
  @ApiOkResponse({ type: SeedJobDetailView })
  @ApiErrors(403, 404)
  async show(@Req() req: AuthedRequest, @Param('job_id') raw: string): Promise<Record<string, unknown>> {
    // Legacy rows have no owner: only an admin key reads them (as in the list); a client key keeps the UUID rule.
    if (req.principal.role !== 'admin' || FOLIO_JOB_ID.test(raw)) {
      const id = (await jobIdPipe.transform(raw, { type: 'param' })) as string;
      try {
        return await this.showFolio(req, id);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'JOB_NOT_FOUND' && req.principal.role === 'admin')) throw err;
      }
    }
    const row = ANY_JOB_ID.test(raw) ? await this.merged.legacyRow(raw) : undefined;
    if (!row) throw new ApiError('JOB_NOT_FOUND', `No job of Folio or of the previous service has the id ${raw}.`);
    return { ...mergedJob(row), progress: row.progress ?? 0, pages_total: null, pages_done: null, pages_failed: null };
  }

  private async showFolio(req: AuthedRequest, id: string): Promise<Record<string, unknown>> {
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
