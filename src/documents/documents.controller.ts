import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DocumentsService } from './documents.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobLinksView, jobError } from '../jobs/jobs.views.js';
import { toPlainText, toResultView } from '../jobs/jobs.views.js';

class SubmittedView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ example: 'queued' }) status!: string;
  @ApiProperty({ type: JobLinksView }) links!: JobLinksView;
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
    },
  },
};

/** Document submission: the upload streams to storage and a workflow starts; the answer is 202. */
@ApiTags('documents')
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
  @ApiAcceptedResponse({ type: SubmittedView, headers: { Location: { description: 'The job' } } })
  async submit(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SubmittedView> {
    const job = await this.documents.submit(req);
    const links = this.jobs.links(job);
    res.setHeader('Location', links.self);
    res.setHeader('Retry-After', '2');
    return { jobId: job.id, status: job.status, links };
  }
}

class ExtractSubmittedView {
  @ApiProperty({ format: 'uuid' }) task_id!: string;
  @ApiProperty({ example: 'pending' }) status!: string;
  @ApiProperty() message!: string;
}

/** Seed status names, kept for its clients. */
const seedStatus: Record<string, string> = {
  queued: 'pending',
  processing: 'processing',
  completed: 'completed',
  partial: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The seed design's routes, kept so its clients keep working. */
@ApiTags('seed-compatible')
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
  async extract(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ExtractSubmittedView> {
    const job = await this.documents.submit(req);
    res.setHeader('Location', `/extract/status/${job.id}`);
    return { task_id: job.id, status: 'pending', message: 'PDF accepted for processing.' };
  }

  @Get('status/:taskId')
  async status(@Param('taskId') taskId: string): Promise<Record<string, unknown>> {
    const job = await this.jobs.get(taskId);
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
    if (job.status === 'failed' || job.status === 'cancelled') {
      return { task_id: job.id, status, progress, error_message: jobError(job)?.message ?? job.status };
    }
    return { task_id: job.id, status, progress };
  }
}
