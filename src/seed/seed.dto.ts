/** What the previous service's job list accepts, checked and documented by one class. */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { SEED_STATUSES, type SeedStatus } from '../../core/lifecycle.js';
import { IntegerQueryParam } from '../common/validation.js';
import { MAX_LIMIT } from '../jobs/jobs.dto.js';
import type { JobSort } from '../jobs/jobs-list.service.js';
import type { MergedJobsQuery } from './merged-jobs.service.js';

/** The seed's column names for `order_by`, and our sort each stands for. */
const SEED_SORTS: Record<string, JobSort> = {
  created_at: 'created',
  updated_at: 'updated',
  status: 'status',
  duration: 'duration',
  page_count: 'pageCount',
};
const ORDER_BY = Object.keys(SEED_SORTS).flatMap((column) => [column, `-${column}`]);
const MAX_OFFSET = 1_000_000;

/** GET /api/v1/jobs's query string. */
export class SeedJobsQueryDto {
  @ApiPropertyOptional({ enum: SEED_STATUSES })
  @IsOptional()
  @IsIn(SEED_STATUSES, { message: `status must be one of ${SEED_STATUSES.join(', ')}` })
  status?: SeedStatus;

  @IntegerQueryParam('limit', { min: 0, max: MAX_LIMIT, default: 20 })
  limit: number = 20;

  @IntegerQueryParam('offset', { min: 0, max: MAX_OFFSET, default: 0 })
  offset: number = 0;

  @ApiPropertyOptional({
    enum: ORDER_BY,
    default: '-created_at',
    description: 'A column; "-" in front for descending',
  })
  @IsOptional()
  @IsIn(ORDER_BY, {
    message: `order_by must be one of ${Object.keys(SEED_SORTS).join(', ')}, "-" in front for descending`,
  })
  order_by: string = '-created_at';

  /** The merged list's query (Folio's jobs and the legacy rows), a limit of 0 reading as 1. */
  toMergedQuery(): MergedJobsQuery {
    const desc = this.order_by.startsWith('-');
    return {
      ...(this.status === undefined ? {} : { status: this.status }),
      sort: SEED_SORTS[desc ? this.order_by.slice(1) : this.order_by]!,
      order: desc ? 'desc' : 'asc',
      limit: Math.max(1, this.limit),
      offset: this.offset,
    };
  }
}
