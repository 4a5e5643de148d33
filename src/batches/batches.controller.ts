import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { batchIdPipe } from '../common/pipes.js';
import { queryValidation } from '../common/validation.js';
import { BatchesService } from './batches.service.js';
import {
  BatchCancelView,
  BatchQueryDto,
  BatchResultsQueryDto,
  BatchRetryBody,
  BatchRetryView,
  BatchSubmittedView,
  BatchView,
  UploadBatchBody,
} from './batches.dto.js';

/** Batches: several documents in one upload, followed, cancelled, retried and downloaded together. */
@ApiTags('batches')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('v1/batches')
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit several PDFs or images at once, with shared options',
    description:
      'Each part named "file" is streamed to storage in turn and checked exactly as POST /v1/documents checks ' +
      'its file (type by content, size limit, dedupe, the in-flight cap); each accepted file becomes a job ' +
      'with a workflow of its own. A refused file is listed with its error and the others go on. When no file ' +
      "is accepted the request fails: with the files' common code, else 422 BATCH_NO_VALID_FILES. At most " +
      'MAX_BATCH_FILES files (400 BATCH_TOO_MANY_FILES).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadBatchBody })
  @ApiAcceptedResponse({ type: BatchSubmittedView, headers: { Location: { description: 'The batch' } } })
  @ApiErrors(400, 413, 415, 422, 503)
  async submit(@Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): Promise<BatchSubmittedView> {
    const submitted = await this.batches.submit(req, req.principal);
    res.setHeader('Location', submitted.links.self);
    return submitted;
  }

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: BatchView })
  @ApiErrors(400, 403, 404)
  async status(
    @Req() req: AuthedRequest,
    @Param('id', batchIdPipe) id: string,
    @Query(queryValidation) query: BatchQueryDto,
  ): Promise<BatchView> {
    return this.batches.view(req.principal, id, { limit: query.limit, offset: query.offset });
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: BatchCancelView })
  @ApiErrors(403, 404, 409)
  async cancel(@Req() req: AuthedRequest, @Param('id', batchIdPipe) id: string): Promise<BatchCancelView> {
    return this.batches.cancel(req.principal, id);
  }

  @Post(':id/retry-failed')
  @HttpCode(202)
  @ApiBody({ type: BatchRetryBody, required: false })
  @ApiAcceptedResponse({ type: BatchRetryView })
  @ApiErrors(400, 403, 404, 409, 503)
  async retryFailed(
    @Req() req: AuthedRequest,
    @Param('id', batchIdPipe) id: string,
    @Body() body: BatchRetryBody = {},
  ): Promise<BatchRetryView> {
    return this.batches.retryFailed(req.principal, id, body?.ocrMode);
  }

  @Get(':id/results')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('application/zip')
  @ApiOkResponse({
    description:
      "A ZIP, streamed, with one text file per document (named after its upload, .txt): each document's pages " +
      'read so far, as GET /v1/jobs/{id}/result?format=txt gives them.',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiErrors(400, 403, 404)
  async results(
    @Req() req: AuthedRequest,
    @Param('id', batchIdPipe) id: string,
    @Query(queryValidation) _query: BatchResultsQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    return this.batches.results(req.principal, id, res);
  }
}
