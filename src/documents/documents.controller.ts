import { Controller, Headers, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { checkIdempotencyKey, DocumentsService } from './documents.service.js';
import { UploadDocumentBody } from './documents.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobLinksView } from '../jobs/jobs.views.js';

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
  @ApiOperation({
    summary: 'Submit a PDF or an image (PNG, JPEG, TIFF, WebP) to be read',
    description:
      'The file is typed by its content, never by its name or declared type. A PDF is read page by page (its ' +
      'own text layer or OCR); an image is one page (a multi-page TIFF one page per frame), always read by OCR, ' +
      'upright by its EXIF orientation and at its own resolution. Anything else is refused with 415 NOT_PDF, ' +
      'whose details list the accepted types.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadDocumentBody })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat it to get the same job back' })
  @ApiAcceptedResponse({ type: SubmittedView, headers: { Location: { description: 'The job' } } })
  @ApiErrors(400, 413, 415, 422, 503)
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
