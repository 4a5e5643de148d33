import { Controller, Get, Headers, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { checkIdempotencyKey, DocumentsService } from './documents.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobLinksView, PageResultView, jobError } from '../jobs/jobs.views.js';
import { toPlainText, toResultView } from '../jobs/jobs.views.js';
import { uuid } from '../jobs/jobs.controller.js';

class SubmittedView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ example: 'queued' }) status!: string;
  @ApiProperty({ type: JobLinksView }) links!: JobLinksView;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Set when a live job of yours had the same content and options: this document joined it.',
  })
  duplicateOf?: string;
  @ApiPropertyOptional({ description: 'True when the Idempotency-Key was used before: the same job is returned.' })
  idempotentReplay?: boolean;
}

const uploadBody = {
  schema: {
    type: 'object',
    required: ['file'],
    properties: {
      file: { type: 'string', format: 'binary', description: 'The PDF (checked by content, not by name)' },
      ocrMode: { type: 'string', enum: ['auto', 'force', 'skip'], default: 'auto' },
      languages: { type: 'string', example: 'eng', description: 'Model codes joined by "+"' },
      pages: { type: 'string', example: '1-3,7', description: 'Pages to read; all by default' },
      password: {
        type: 'string',
        format: 'password',
        maxLength: 1024,
        description:
          'The user password of an encrypted PDF. Sealed (AES-256-GCM) at once, never stored or logged in clear. ' +
          'Without it (or with a wrong one) such a job waits in `needs_password` for POST /v1/jobs/{id}/password.',
      },
    },
  },
};

/** Document submission: the upload streams to storage and a workflow starts; the answer is 202. */
@ApiTags('documents')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly jobs: JobsService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiConsumes('multipart/form-data')
  @ApiBody(uploadBody)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat it to get the same job back' })
  @ApiAcceptedResponse({ type: SubmittedView, headers: { Location: { description: 'The job' } } })
  @ApiErrors(400, 413, 415, 503)
  async submit(
    @Req() req: AuthedRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmittedView> {
    const { job, duplicateOf, replayed } = await this.documents.submit(
      req,
      req.principal,
      checkIdempotencyKey(idempotencyKey),
    );
    const links = this.jobs.links(job);
    res.setHeader('Location', links.self);
    res.setHeader('Retry-After', '2');
    return {
      jobId: job.id,
      status: job.status,
      links,
      ...(duplicateOf ? { duplicateOf } : {}),
      ...(replayed ? { idempotentReplay: true } : {}),
    };
  }
}

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
  @ApiProperty({ enum: ['pending', 'processing', 'completed', 'failed', 'cancelled'] }) status!: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiPropertyOptional({ type: ExtractResultView }) result?: ExtractResultView;
  @ApiPropertyOptional() error_message?: string;
}

/** Seed status names, kept for its clients. */
export const seedStatus: Record<string, string> = {
  queued: 'pending',
  processing: 'processing',
  // Still in progress for a seed client; the job's error says a password is needed.
  needs_password: 'processing',
  completed: 'completed',
  partial: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

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
  @ApiBody(uploadBody)
  @ApiAcceptedResponse({ type: ExtractSubmittedView })
  @ApiErrors(400, 413, 415, 503)
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
  async status(@Req() req: AuthedRequest, @Param('taskId', uuid) taskId: string): Promise<Record<string, unknown>> {
    const job = await this.jobs.getFor(req.principal, taskId);
    const pages = await this.jobs.pageResults(job.id);
    const status = seedStatus[job.status] ?? job.status;
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
