import { Controller, Get, Headers, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { SEED_STATUSES, SEED_STATUS_OF } from '../../core/lifecycle.js';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { checkIdempotencyKey, DocumentsService } from '../documents/documents.service.js';
import { UploadDocumentBody } from '../documents/documents.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { jobError, PageResultView, toPlainText, toResultView } from '../jobs/jobs.views.js';
import { jobIdPipe } from '../common/pipes.js';

class ExtractSubmittedView {
  @ApiProperty({ format: 'uuid' }) task_id!: string;
  @ApiProperty({ example: 'pending' }) status!: string;
  @ApiProperty() message!: string;
}

class ExtractResultView {
  @ApiProperty() text!: string;
  @ApiProperty({ type: [PageResultView] }) pages!: PageResultView[];
  @ApiProperty({ type: [Number] }) failed_pages!: number[];
}

class ExtractStatusView {
  @ApiProperty({ format: 'uuid' }) task_id!: string;
  @ApiProperty({ enum: SEED_STATUSES }) status!: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiPropertyOptional({ type: ExtractResultView }) result?: ExtractResultView;
  @ApiPropertyOptional() error_message?: string;
}

/** The seed design's routes, kept so its clients keep working. */
@ApiTags('seed-compatible')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('extract')
export class ExtractController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly jobs: JobsService,
  ) {}

  @Post('pdf')
  @HttpCode(202)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadDocumentBody })
  @ApiAcceptedResponse({ type: ExtractSubmittedView })
  @ApiErrors(400, 413, 415, 422, 503)
  async extract(
    @Req() req: AuthedRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ExtractSubmittedView> {
    const { job } = await this.documents.submit(req, req.principal, checkIdempotencyKey(idempotencyKey));
    res.setHeader('Location', `/extract/status/${job.id}`);
    return { task_id: job.id, status: 'pending', message: 'PDF accepted for processing.' };
  }

  @Get('status/:taskId')
  @ApiOkResponse({ type: ExtractStatusView })
  @ApiErrors(403, 404)
  async status(
    @Req() req: AuthedRequest,
    @Param('taskId', jobIdPipe) taskId: string,
  ): Promise<Record<string, unknown>> {
    const job = await this.jobs.getFor(req.principal, taskId);
    const pages = await this.jobs.pageResults(job.id);
    const status = SEED_STATUS_OF[job.status];
    const progress = this.jobs.percent(job, this.jobs.counts(job, pages));
    if (job.status === 'completed' || job.status === 'partial') {
      const view = toResultView(job, pages);
      return {
        task_id: job.id,
        status,
        progress,
        result: { text: toPlainText(pages), pages: view.pages, failed_pages: view.failedPages },
      };
    }
    if (job.status === 'failed' || job.status === 'cancelled' || job.status === 'needs_password') {
      return { task_id: job.id, status, progress, error_message: jobError(job)?.message ?? job.status };
    }
    return { task_id: job.id, status, progress };
  }
}
